package enrich_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// reputation is a provider that knows one bad address.
type reputation struct{}

func (reputation) Descriptor() provider.Descriptor {
	return provider.Descriptor{Name: "reputation", Kinds: []indicator.Kind{indicator.IPv4},
		Rate: provider.Rate{Events: 4, Per: time.Minute}, CacheTTL: time.Hour}
}
func (reputation) Configured() bool { return true }
func (reputation) Lookup(_ context.Context, ind indicator.Indicator) (*provider.Result, error) {
	if ind.Value != "203.0.113.66" {
		return nil, &provider.Error{Provider: "reputation", Kind: provider.ErrNotFound}
	}
	return &provider.Result{Provider: "reputation", Raw: json.RawMessage(`{"bad":true}`), Bytes: 12,
		Verdict: provider.Assessment{Level: indicator.Malicious, Score: 80, Reason: "listed"}}, nil
}

// One engine over the inline executor: the first lookup calls the provider
// through the Fetcher, the second is answered from the cache.
func Example() {
	reg, _ := provider.NewRegistry(reputation{})
	c := cache.NewMemory[*lookup.Result](100)
	f, _ := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Cache: c, Limiter: ratelimit.NewBuckets(time.Now)})
	e, _ := enrich.New(enrich.Config{Registry: reg, Policy: indicator.NewPolicy(nil), Cache: c,
		Executor: &enrich.Inline{Fetcher: f}})

	ind, _ := indicator.Parse("203.0.113[.]66")
	for range 2 {
		r := e.Begin(ind, lookup.Options{}).Get(context.Background(), "reputation")
		fmt.Println(r.Provider, r.Status, "cached:", r.Cached, r.Verdict.Level)
	}
	// Output:
	// reputation OK cached: false MALICIOUS
	// reputation OK cached: true MALICIOUS
}
