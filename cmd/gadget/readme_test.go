package main

import (
	"os"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// TestREADMEProviderTable keeps the README's provider table in step with the
// registered descriptors: name, kinds, key need and default rate.
func TestREADMEProviderTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, d := range provider.Descriptors() {
		var row string
		for _, l := range lines {
			if strings.HasPrefix(l, "| `"+d.Name+"` |") && strings.Contains(l, "`"+d.Rate.String()+"`") {
				row = l
			}
		}
		if row == "" {
			t.Errorf("README has no provider row for %s with rate %s", d.Name, d.Rate)
			continue
		}
		cells := strings.Split(row, "|")
		var kinds []string
		for _, k := range d.Kinds {
			kinds = append(kinds, string(k))
		}
		if strings.TrimSpace(cells[3]) != strings.Join(kinds, " ") || strings.TrimSpace(cells[4]) != d.Key.String() {
			t.Errorf("README row for %s: kinds %q key %q, want %q and %q", d.Name, cells[3], cells[4], strings.Join(kinds, " "), d.Key)
		}
		verdictRow := false
		for _, l := range lines {
			if strings.HasPrefix(l, "| "+d.Name+" |") {
				verdictRow = true
			}
		}
		if !verdictRow {
			t.Errorf("README verdict table has no row for %s", d.Name)
		}
	}
}
