package enrich_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// TestMetricsCountEveryAnswer checks the per-provider counters through a
// cold lookup and cached ones: each answer and each cache hit counts once,
// under its own labels.
func TestMetricsCountEveryAnswer(t *testing.T) {
	t.Parallel()
	notFound := func(int64) (*provider.Result, error) {
		return nil, &provider.Error{Provider: "b", Kind: provider.ErrNotFound}
	}
	prom := prometheus.NewPedanticRegistry()
	e, _ := newMeteredEngine(t, 5*time.Second, nil, enrich.NewMetrics(prom),
		&fake{name: "a", kinds: ipKinds}, &fake{name: "b", kinds: ipKinds, answer: notFound})
	for range 3 {
		e.Begin(mustParse(t, "198.51.100.9"), lookup.Options{}).All(context.Background(), nil)
	}
	want := `
# HELP gadget_provider_results_total Provider results delivered, by provider and status.
# TYPE gadget_provider_results_total counter
gadget_provider_results_total{provider="a",status="OK"} 3
gadget_provider_results_total{provider="b",status="NOT_FOUND"} 3
# HELP gadget_provider_cache_total Cache lookups by provider and result (hit, miss).
# TYPE gadget_provider_cache_total counter
gadget_provider_cache_total{provider="a",result="hit"} 2
gadget_provider_cache_total{provider="a",result="miss"} 1
gadget_provider_cache_total{provider="b",result="hit"} 2
gadget_provider_cache_total{provider="b",result="miss"} 1
`
	if err := testutil.GatherAndCompare(prom, strings.NewReader(want), "gadget_provider_results_total", "gadget_provider_cache_total"); err != nil {
		t.Error(err)
	}
}
