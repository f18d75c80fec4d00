package lookup_test

import (
	"testing"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// A playbook's minimum coverage makes a verdict with too few answers
// incomplete, though nothing is still pending, and says so in the line.
func TestCoverageRequire(t *testing.T) {
	t.Parallel()
	ok := func(n string) *lookup.Result { return &lookup.Result{Provider: n, Status: lookup.StatusOK} }
	skipped := func(n string) *lookup.Result {
		return lookup.Failed(n, lookup.StatusSkipped, errcode.Forbidden, "TLP:RED is not shared with "+n)
	}
	results := []*lookup.Result{ok("a"), ok("b"), skipped("c"), skipped("d"), skipped("e")}
	tests := []struct {
		percent  int
		required int
		complete bool
		line     string
	}{
		{0, 0, true, "2 of 5 answered; 3 skipped"},
		{40, 2, true, "2 of 5 answered; 3 skipped"},
		{41, 3, false, "2 of 5 answered; 3 skipped; below playbook p's minimum of 3 answered"},
		{100, 5, false, "2 of 5 answered; 3 skipped; below playbook p's minimum of 5 answered"},
	}
	for _, tt := range tests {
		c := lookup.CoverageOf(results)
		c.Require(tt.percent, "p")
		if c.Required != tt.required || c.Complete() != tt.complete || c.String() != tt.line {
			t.Errorf("%d%%: required %d complete %t %q; want %d %t %q", tt.percent, c.Required, c.Complete(), c.String(), tt.required, tt.complete, tt.line)
		}
	}
}
