package enrich_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/lookup"
)

// TestRequestCallBudget reproduces #16's 500 aliases: the lookups of one
// request (each alias its own lookup) share one budget of upstream calls;
// beyond it a provider answers RATE_LIMITED saying why, and cached answers
// still come.
func TestRequestCallBudget(t *testing.T) {
	t.Parallel()
	a := &fake{name: "a", kinds: ipKinds}
	b := &fake{name: "b", kinds: ipKinds}
	e, _ := newEngine(t, 5*time.Second, nil, a, b)
	warm := e.Begin(mustParse(t, "198.51.100.250"), lookup.Options{})
	warm.All(context.Background(), nil) // cached for the request below

	ctx := lookup.WithCallBudget(context.Background(), 7)
	const aliases = 50
	results := make([][]*lookup.Result, aliases+1)
	var wg sync.WaitGroup
	for i := range aliases + 1 {
		wg.Go(func() {
			v := fmt.Sprintf("198.51.100.%d", i+1)
			if i == aliases {
				v = "198.51.100.250"
			}
			results[i] = e.Begin(mustParse(t, v), lookup.Options{}).All(ctx, nil)
		})
	}
	wg.Wait()
	if got := a.calls.Load() + b.calls.Load(); got != 7+2 { // 2: the warm-up
		t.Errorf("%d upstream calls, want the request's budget 7 (+2 before it)", got)
	}
	limited := 0
	for _, rs := range results[:aliases] {
		for _, r := range rs {
			if r.Status == lookup.StatusRateLimited {
				limited++
				if r.Err == nil || !strings.Contains(r.Err.Message, "budget of 7 upstream calls") {
					t.Errorf("rate-limited answer without the reason: %+v", r.Err)
				}
			}
		}
	}
	if want := 2*aliases - 7; limited != want {
		t.Errorf("%d answers RATE_LIMITED, want %d", limited, want)
	}
	for _, r := range results[aliases] {
		if r.Status != lookup.StatusOK || !r.Cached {
			t.Errorf("cached answer after the budget: %s cached=%v", r.Status, r.Cached)
		}
	}
}
