package enrich_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// TestBatchDoesNotWaitForSpentBudget reproduces #14's batch: a provider
// with 4 calls a minute among providers with budget. Its fifth call in a
// batch answers RATE_LIMITED at once with retryAfter instead of waiting for
// a token while holding a batch slot, so every indicator gets the answers
// of the providers with budget and the batch takes about one call's
// latency per wave, not the deadline.
func TestBatchDoesNotWaitForSpentBudget(t *testing.T) {
	t.Parallel()
	scarce := &fake{name: "scarce", kinds: ipKinds, latency: 20 * time.Millisecond}
	rich := &fake{name: "rich", kinds: ipKinds, latency: 20 * time.Millisecond}
	e, _ := newEngine(t, enrich.DefaultDeadline, map[string]enrich.Settings{
		"scarce": {Rate: provider.Rate{Events: 4, Per: time.Minute}, CacheTTL: time.Hour},
		"rich":   {Rate: provider.Rate{Events: 1000, Per: time.Second}, CacheTTL: time.Hour},
	}, scarce, rich)
	batch := lookup.NewBatch(4)
	const n = 24
	start := time.Now()
	verdicts := make([]lookup.Verdict, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ind := mustParse(t, fmt.Sprintf("198.51.100.%d", i+1))
			lk := e.Begin(ind, lookup.Options{Batch: batch})
			verdicts[i] = lookup.Assess(lk, lk.All(context.Background(), nil))
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if took > 3*time.Second {
		t.Errorf("batch of %d took %s: lookups waited for the spent budget", n, took)
	}
	limited := 0
	for i, v := range verdicts {
		c := v.Coverage
		if c.Answered == 0 {
			t.Errorf("indicator %d: no answer (%s)", i, c)
		}
		if c.RateLimited > 0 {
			limited++
			if c.Complete() || c.RetryAfter <= 0 || len(c.Gaps) != 1 || c.Gaps[0].Provider != "scarce" || c.Gaps[0].Status != lookup.StatusRateLimited {
				t.Errorf("indicator %d: coverage %+v: want scarce rate-limited with a retry-after, incomplete", i, c)
			}
		}
	}
	if got := scarce.calls.Load(); got != 4 {
		t.Errorf("scarce called %d times, want its budget, 4", got)
	}
	if limited != n-4 {
		t.Errorf("%d indicators with scarce rate-limited, want %d", limited, n-4)
	}
	t.Logf("batch of %d: %s, %d with the scarce provider rate-limited", n, took.Round(time.Millisecond), limited)
}

// TestSingleLookupQueuesWithinDeadline: outside a batch a lookup waits for
// a token that comes before its deadline, but one that cannot come in time
// (the waiters ahead of it counted) answers RATE_LIMITED at once.
func TestSingleLookupQueuesWithinDeadline(t *testing.T) {
	t.Parallel()
	slow := &fake{name: "slow", kinds: ipKinds}
	e, _ := newEngine(t, 2*time.Second, map[string]enrich.Settings{
		"slow": {Rate: provider.Rate{Events: 1, Per: 600 * time.Millisecond}, CacheTTL: time.Hour},
	}, slow)
	ctx := context.Background()
	first := e.Begin(mustParse(t, "198.51.100.1"), lookup.Options{}).Get(ctx, "slow")
	start := time.Now()
	second := e.Begin(mustParse(t, "198.51.100.2"), lookup.Options{}).Get(ctx, "slow")
	waited := time.Since(start)
	if first.Status != lookup.StatusOK || second.Status != lookup.StatusOK {
		t.Fatalf("statuses %s, %s: want OK, OK (the second waits for its token)", first.Status, second.Status)
	}
	if waited < 400*time.Millisecond {
		t.Errorf("second lookup took %s: it did not wait for the token", waited)
	}
	// three at once: tokens at +600ms and +1.2s fit the 2 s deadline, the
	// one after (+1.8s plus margin) may too; a fourth and fifth cannot
	var wg sync.WaitGroup
	res := make([]*lookup.Result, 6)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = e.Begin(mustParse(t, fmt.Sprintf("198.51.100.%d", 10+i)), lookup.Options{}).Get(ctx, "slow")
		}()
	}
	wg.Wait()
	fast := 0
	for _, r := range res {
		if r.Status == lookup.StatusRateLimited {
			if r.RetryAfter <= 0 {
				t.Errorf("RATE_LIMITED without RetryAfter: %+v", r)
			}
			if r.Latency < time.Second {
				fast++
			}
		}
	}
	if fast < 2 {
		t.Errorf("%d of 6 concurrent lookups answered RATE_LIMITED at once; want at least 2 (their turn is past the deadline): %v", fast, statuses(res))
	}
}

// TestDailyBudget: GADGET_<P>_BUDGET is honoured like the rate: once it
// is spent the provider answers RATE_LIMITED with the wait, and Remaining
// says what is left.
func TestDailyBudget(t *testing.T) {
	t.Parallel()
	p := &fake{name: "daily", kinds: ipKinds}
	set := map[string]enrich.Settings{"daily": {Rate: provider.Rate{Events: 100, Per: time.Second}, Budget: provider.Rate{Events: 3, Per: 24 * time.Hour}, CacheTTL: time.Hour}}
	reg, err := provider.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	e, f := newEngineFetcher(t, reg, set)
	ctx := context.Background()
	if n, at, ok := f.Remaining(ctx, "daily"); !ok || n != 3 || !at.IsZero() {
		t.Fatalf("before: Remaining = %d, %s, %v; want 3, zero, true", n, at, ok)
	}
	var got []lookup.Status
	for i := range 5 {
		r := e.Begin(mustParse(t, fmt.Sprintf("198.51.100.%d", i+1)), lookup.Options{}).Get(ctx, "daily")
		got = append(got, r.Status)
		if r.Status == lookup.StatusRateLimited && r.RetryAfter < time.Hour {
			t.Errorf("spent daily budget: RetryAfter %s, want hours", r.RetryAfter)
		}
	}
	want := []lookup.Status{lookup.StatusOK, lookup.StatusOK, lookup.StatusOK, lookup.StatusRateLimited, lookup.StatusRateLimited}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if p.calls.Load() != 3 {
		t.Errorf("%d upstream calls, want 3", p.calls.Load())
	}
	n, at, ok := f.Remaining(ctx, "daily")
	if !ok || n != 0 || time.Until(at) < 23*time.Hour {
		t.Errorf("after: Remaining = %d, %s, %v; want 0, resetting in about a day", n, at, ok)
	}
}

// TestCachedOnlyAndMaxAge: cachedOnly makes no upstream call (what is not
// cached is PENDING); maxAge asks again an answer older than it.
func TestCachedOnlyAndMaxAge(t *testing.T) {
	t.Parallel()
	a := &fake{name: "a", kinds: ipKinds}
	b := &fake{name: "b", kinds: ipKinds}
	e, _ := newEngine(t, 5*time.Second, nil, a, b)
	ctx := context.Background()
	ind := mustParse(t, "198.51.100.7")
	e.Begin(ind, lookup.Options{}).Get(ctx, "a") // warm a only
	rs := e.Begin(ind, lookup.Options{CachedOnly: true}).All(ctx, nil)
	if a.calls.Load() != 1 || b.calls.Load() != 0 {
		t.Fatalf("cachedOnly called upstream: a %d, b %d", a.calls.Load(), b.calls.Load())
	}
	v := lookup.Assess(nil, rs)
	if v.Coverage.Answered != 1 || v.Coverage.Pending != 1 || v.Coverage.Complete() || rs[0].Cached != true {
		t.Errorf("cachedOnly coverage %+v (a cached %v): want 1 answered (cached), 1 pending, incomplete", v.Coverage, rs[0].Cached)
	}
	if v.Level != indicator.Malicious {
		t.Errorf("cachedOnly verdict %s, want a's MALICIOUS", v.Level)
	}
	time.Sleep(20 * time.Millisecond)
	actx, req := accounting.NewRequest(ctx)
	rs = e.Begin(ind, lookup.Options{}).AllWithin(actx, []string{"a"}, 10*time.Millisecond)
	if a.calls.Load() != 2 || rs[0].Cached {
		t.Errorf("maxAge 10ms on a 20ms-old answer: %d calls of a, cached %v; want it asked again", a.calls.Load(), rs[0].Cached)
	}
	var rec accounting.Record
	req.Fill(&rec)
	if len(rec.Answers) != 1 || rec.Answers[0].Cached {
		t.Errorf("maxAge refresh accounted as %+v; want one answer, from upstream (the too-old cached one was not delivered)", rec.Answers)
	}
	rs = e.Begin(ind, lookup.Options{}).AllWithin(ctx, []string{"a"}, time.Hour)
	if a.calls.Load() != 2 || !rs[0].Cached {
		t.Errorf("maxAge 1h: %d calls of a, cached %v; want the cached answer", a.calls.Load(), rs[0].Cached)
	}
}

func statuses(rs []*lookup.Result) []lookup.Status {
	out := make([]lookup.Status, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

// newEngineFetcher is newEngine returning the fetcher too.
func newEngineFetcher(t *testing.T, reg *provider.Registry, settings map[string]enrich.Settings) (lookup.Service, *enrich.Fetcher) {
	t.Helper()
	c := cache.NewMemory[*lookup.Result](1000)
	f, err := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Settings: settings, Cache: c, Limiter: ratelimit.NewBuckets(time.Now)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := enrich.New(enrich.Config{Registry: reg, Policy: indicator.NewPolicy(nil), Cache: c, Executor: &enrich.Inline{Fetcher: f}})
	if err != nil {
		t.Fatal(err)
	}
	return e, f
}
