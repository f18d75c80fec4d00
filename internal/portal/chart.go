package portal

import (
	"fmt"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
)

// Chart is a stacked bar chart of per-day figures, drawn as SVG by the
// chart template: one bar a day, one coloured segment a series.
type Chart struct {
	Label  string // accessible name
	Width  int
	Height int
	Max    int64
	Bars   []Bar
	Ticks  []Tick
	Legend []LegendItem
	Empty  bool
}

// Bar is one segment.
type Bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// Tick is an x-axis label.
type Tick struct {
	X     float64
	Label string
}

// LegendItem names a series' colour.
type LegendItem struct {
	Name  string
	Class string
}

const (
	chartW, chartH = 760, 240
	chartLeft      = 48
	chartBottom    = 24
	chartColours   = 12 // one per provider: .c0 … .c11 in portal.css
)

// newChart draws value(series) for each series over days.
func newChart(label string, days []time.Time, series []accounting.Series, value func(accounting.Series) []int64) Chart {
	c := Chart{Label: label, Width: chartW, Height: chartH}
	totals := make([]int64, len(days))
	for _, s := range series {
		for i, v := range value(s) {
			totals[i] += v
		}
	}
	for _, t := range totals {
		c.Max = max(c.Max, t)
	}
	c.Empty = c.Max == 0
	plotH := float64(chartH - chartBottom - 8)
	slot := float64(chartW-chartLeft) / float64(max(len(days), 1))
	every := max(1, len(days)/8)
	for i, d := range days {
		if i%every == 0 {
			c.Ticks = append(c.Ticks, Tick{X: chartLeft + slot*float64(i) + slot/2, Label: d.Format("Jan 2")})
		}
	}
	if c.Empty {
		return c
	}
	base := make([]float64, len(days))
	for k, s := range series {
		class := fmt.Sprintf("c%d", k%chartColours)
		vals := value(s)
		if sum(vals) == 0 {
			continue
		}
		c.Legend = append(c.Legend, LegendItem{Name: s.API, Class: class})
		for i, v := range vals {
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(c.Max)
			base[i] += h
			c.Bars = append(c.Bars, Bar{X: chartLeft + slot*float64(i) + slot*0.1, Y: float64(chartH-chartBottom) - base[i], W: slot * 0.8, H: h,
				Class: class, Title: fmt.Sprintf("%s %s: %d", days[i].Format(time.DateOnly), s.API, v)})
		}
	}
	return c
}

func sum(vs []int64) int64 {
	var t int64
	for _, v := range vs {
		t += v
	}
	return t
}
