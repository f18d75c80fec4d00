package lookup

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// Context is an indicator's context merged from the providers that
// answered: each field with the provider it came from.
type Context struct {
	ASN             *Sourced[int]
	ASOwner         *Sourced[string]
	Country         *Sourced[string]
	Network         *Sourced[string]
	Registrar       *Sourced[string]
	RegisteredAt    *Sourced[time.Time]
	FirstSeen       *Sourced[time.Time] // the earliest first sighting of any provider
	LastSeen        *Sourced[time.Time] // the latest sighting of any provider
	Tags            []Label
	MalwareFamilies []Label
}

// Sourced is a context value and the provider that gave it.
type Sourced[T any] struct {
	Value  T
	Source string
}

// Label is a tag or family and every provider that gave it.
type Label struct {
	Value   string
	Sources []string
}

// maxLabels bounds the tags and families one context lists.
const maxLabels = 25

// ContextOf merges the context of the OK results. Ownership fields (ASN,
// owner, country, network, registrar, registration) come from the first
// provider that states them, providers tagged "context" (registries,
// geolocation) before the others; first seen is the earliest and last seen
// the latest any provider reports; tags and families are the union, each
// label once (case-insensitively) with its sources, at most 25 each.
func ContextOf(results []*Result) Context {
	var c Context
	type got struct {
		name string
		cx   provider.Context
	}
	var all []got
	for _, r := range results {
		if r == nil || r.Status != StatusOK {
			continue
		}
		s, _ := AnySummary(r)
		cxr, ok := s.(provider.Contexter)
		if !ok {
			continue
		}
		all = append(all, got{r.Provider, cxr.Context()})
	}
	contextFirst := func(name string) int {
		if d, ok := provider.Lookup(name); ok && slices.Contains(d.Tags, "context") {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(all, func(a, b got) int { return contextFirst(a.name) - contextFirst(b.name) })
	tags, fams := map[string]int{}, map[string]int{}
	for _, g := range all {
		x, n := g.cx, g.name
		setFirst(&c.ASN, x.ASN, n, x.ASN != 0)
		setFirst(&c.ASOwner, x.ASOwner, n, x.ASOwner != "")
		setFirst(&c.Country, x.Country, n, x.Country != "")
		setFirst(&c.Network, x.Network, n, x.Network != "")
		setFirst(&c.Registrar, x.Registrar, n, x.Registrar != "")
		setFirst(&c.RegisteredAt, x.RegisteredAt.UTC(), n, !x.RegisteredAt.IsZero())
		if !x.FirstSeen.IsZero() && (c.FirstSeen == nil || x.FirstSeen.Before(c.FirstSeen.Value)) {
			c.FirstSeen = &Sourced[time.Time]{x.FirstSeen.UTC(), n}
		}
		if !x.LastSeen.IsZero() && (c.LastSeen == nil || x.LastSeen.After(c.LastSeen.Value)) {
			c.LastSeen = &Sourced[time.Time]{x.LastSeen.UTC(), n}
		}
		c.Tags = addLabels(c.Tags, tags, x.Tags, n)
		c.MalwareFamilies = addLabels(c.MalwareFamilies, fams, x.MalwareFamilies, n)
	}
	return c
}

func setFirst[T any](dst **Sourced[T], v T, source string, ok bool) {
	if ok && *dst == nil {
		*dst = &Sourced[T]{v, source}
	}
}

func addLabels(labels []Label, seen map[string]int, values []string, source string) []Label {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		k := strings.ToLower(v)
		if i, ok := seen[k]; ok {
			if !slices.Contains(labels[i].Sources, source) {
				labels[i].Sources = append(labels[i].Sources, source)
			}
			continue
		}
		if len(labels) >= maxLabels {
			continue
		}
		seen[k] = len(labels)
		labels = append(labels, Label{Value: v, Sources: []string{source}})
	}
	return labels
}

// AnySummary returns r's typed summary (a pointer to the provider's
// <Type>Summary), decoding it once when r came from another process; nil
// when r has none or its provider is not registered. Read it, never change
// it.
func AnySummary(r *Result) (any, error) {
	if r == nil {
		return nil, nil
	}
	if r.Summary != nil {
		return r.Summary, nil
	}
	e := r.encoded
	if e == nil || len(e.raw) == 0 || string(e.raw) == "null" {
		return nil, nil
	}
	d, ok := provider.Lookup(r.Provider)
	if !ok || d.Summary == nil {
		return nil, nil
	}
	e.once.Do(func() {
		v := reflect.New(reflect.TypeOf(d.Summary))
		if e.err = json.Unmarshal(e.raw, v.Interface()); e.err == nil {
			e.v = v.Interface()
		}
	})
	return e.v, e.err
}
