package enrich_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

type summary struct {
	Hits int `json:"hits"`
}

// fake is a provider whose answers the test scripts.
type fake struct {
	name     string
	kinds    []indicator.Kind
	keyless  bool
	latency  time.Duration
	calls    atomic.Int64
	inflight atomic.Int64
	peak     atomic.Int64
	answer   func(n int64) (*provider.Result, error) // n: 1-based call number
}

func (f *fake) Descriptor() provider.Descriptor {
	return provider.Descriptor{Name: f.name, Kinds: f.kinds, CacheTTL: time.Hour, NotFoundTTL: time.Minute, Rate: provider.Rate{Events: 1000, Per: time.Second}}
}
func (f *fake) Configured() bool { return !f.keyless }
func (f *fake) Lookup(ctx context.Context, ind indicator.Indicator) (*provider.Result, error) {
	n := f.calls.Add(1)
	cur := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		p := f.peak.Load()
		if cur <= p || f.peak.CompareAndSwap(p, cur) {
			break
		}
	}
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-ctx.Done():
			return nil, &provider.Error{Provider: f.name, Kind: provider.ErrTimeout}
		}
	}
	if f.answer != nil {
		return f.answer(n)
	}
	return ok(f.name, indicator.Malicious, 90), nil
}

func ok(name string, level indicator.Level, score int) *provider.Result {
	return &provider.Result{Provider: name, Raw: json.RawMessage(`{"x":1}`), Summary: &summary{Hits: 3}, Bytes: 7, StatusCode: 200,
		Verdict: provider.Assessment{Level: level, Score: score, Reason: name + " says so"}}
}

// recorder is the ledger: it keeps the calls it is given.
type recorder struct {
	mu    sync.Mutex
	calls []accounting.Call
}

func (r *recorder) Call(_ context.Context, c accounting.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func newEngine(t *testing.T, deadline time.Duration, settings map[string]enrich.Settings, ps ...provider.Provider) (lookup.Service, *recorder) {
	t.Helper()
	return newMeteredEngine(t, deadline, settings, nil, ps...)
}

// newMeteredEngine is newEngine with metrics m (nil: none).
func newMeteredEngine(t *testing.T, deadline time.Duration, settings map[string]enrich.Settings, m *enrich.Metrics, ps ...provider.Provider) (lookup.Service, *recorder) {
	t.Helper()
	reg, err := provider.NewRegistry(ps...)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c := cache.NewMemory[*lookup.Result](1000)
	f, err := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Settings: settings, Cache: c, Limiter: ratelimit.NewBuckets(time.Now), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	e, err := enrich.New(enrich.Config{Registry: reg, Policy: indicator.NewPolicy(nil), Cache: c,
		Executor: &enrich.Inline{Fetcher: f, Ledger: rec}, Deadline: deadline, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return e, rec
}

func mustParse(t *testing.T, s string) indicator.Indicator {
	t.Helper()
	ind, err := indicator.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return ind
}

var ipKinds = []indicator.Kind{indicator.IPv4, indicator.IPv6}

func TestLazyConcurrentAndAccountedOnce(t *testing.T) {
	t.Parallel()
	a := &fake{name: "a", kinds: ipKinds, latency: 50 * time.Millisecond}
	b := &fake{name: "b", kinds: ipKinds, latency: 50 * time.Millisecond}
	c := &fake{name: "c", kinds: ipKinds, latency: 50 * time.Millisecond}
	e, rec := newEngine(t, 5*time.Second, nil, a, b, c)
	ctx, req := accounting.NewRequest(context.Background())
	lk := e.Begin(mustParse(t, "198.51.100.7"), lookup.Options{Caller: lookup.Caller{Username: "alice", Endpoint: "POST /graphql indicator"}})
	r := lk.Get(ctx, "a")
	if r.Status != lookup.StatusOK || a.calls.Load() != 1 || b.calls.Load() != 0 || c.calls.Load() != 0 {
		t.Fatalf("after Get(a): status %s calls a=%d b=%d c=%d", r.Status, a.calls.Load(), b.calls.Load(), c.calls.Load())
	}
	var wg sync.WaitGroup
	// b and c selected by two fields each at once: each is called once, concurrently
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lk.All(ctx, []string{"b", "c", "a"})
		}()
	}
	wg.Wait()
	if b.calls.Load() != 1 || c.calls.Load() != 1 || a.calls.Load() != 1 {
		t.Errorf("calls a=%d b=%d c=%d, want 1 each", a.calls.Load(), b.calls.Load(), c.calls.Load())
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 3 {
		t.Fatalf("ledger rows = %d, want one per upstream call", len(rec.calls))
	}
	for _, r := range rec.calls {
		if r.Username != "alice" || r.Bytes != 7 || r.Status != "ok" || r.Parameters != `{"kind":"ipv4","value":"198.51.100.7"}` || r.At.IsZero() {
			t.Errorf("ledger row %+v", r)
		}
	}
	var audit accounting.Record
	req.Fill(&audit)
	if len(audit.Answers) != 3 || audit.DataSize != 21 || audit.Cached {
		t.Errorf("the request's answers = %+v (bytes %d), want each provider once", audit.Answers, audit.DataSize)
	}
	// the same lookup again: answered from the cache, no ledger row
	ctx2, req2 := accounting.NewRequest(context.Background())
	e.Begin(mustParse(t, "198.51.100.7"), lookup.Options{Caller: lookup.Caller{Username: "alice"}}).All(ctx2, nil)
	var again accounting.Record
	req2.Fill(&again)
	if len(rec.calls) != 3 || len(again.Answers) != 3 || !again.Cached {
		t.Errorf("cached lookup: ledger rows %d, answers %+v", len(rec.calls), again.Answers)
	}
}

func TestSelectedProvidersRunConcurrently(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 3)
	release := make(chan struct{})
	mk := func(name string) *fake {
		return &fake{name: name, kinds: ipKinds, answer: func(int64) (*provider.Result, error) {
			started <- struct{}{}
			<-release
			return ok(name, indicator.Benign, 0), nil
		}}
	}
	e, _ := newEngine(t, 5*time.Second, nil, mk("a"), mk("b"), mk("c"))
	done := make(chan []*lookup.Result)
	go func() { done <- e.Begin(mustParse(t, "198.51.100.8"), lookup.Options{}).All(context.Background(), nil) }()
	for range 3 { // all three are in flight before any answers
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("providers were not called concurrently")
		}
	}
	close(release)
	rs := <-done
	if len(rs) != 3 || rs[0].Provider != "a" || rs[2].Provider != "c" {
		t.Fatalf("results %+v", rs)
	}
}

func TestCacheFreshNotFoundAndErrors(t *testing.T) {
	t.Parallel()
	hits := &fake{name: "hits", kinds: ipKinds}
	nf := &fake{name: "nf", kinds: ipKinds, answer: func(int64) (*provider.Result, error) {
		return nil, &provider.Error{Provider: "nf", Kind: provider.ErrNotFound, Raw: []byte(`{"detail":"none"}`), Bytes: 17}
	}}
	boom := &fake{name: "boom", kinds: ipKinds, answer: func(int64) (*provider.Result, error) {
		return nil, &provider.Error{Provider: "boom", Kind: provider.ErrUpstream, StatusCode: 502}
	}}
	e, _ := newEngine(t, 5*time.Second, nil, hits, nf, boom)
	ctx := context.Background()
	ind := mustParse(t, "198.51.100.9")
	first := e.Begin(ind, lookup.Options{}).All(ctx, nil)
	second := e.Begin(ind, lookup.Options{}).All(ctx, nil)
	got := map[string][2]lookup.Status{}
	for i, r := range first {
		got[r.Provider] = [2]lookup.Status{r.Status, second[i].Status}
		if r.Cached {
			t.Errorf("%s: first answer marked cached", r.Provider)
		}
	}
	want := map[string][2]lookup.Status{"hits": {"OK", "OK"}, "nf": {"NOT_FOUND", "NOT_FOUND"}, "boom": {"ERROR", "ERROR"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if hits.calls.Load() != 1 || nf.calls.Load() != 1 || boom.calls.Load() != 2 {
		t.Errorf("calls hits=%d nf=%d boom=%d: OK and not-found are cached, errors are not", hits.calls.Load(), nf.calls.Load(), boom.calls.Load())
	}
	h := second[1] // hits (sorted: boom, hits, nf)
	if !h.Cached || h.FetchedAt.IsZero() || h.Verdict.Score != 90 || string(h.Data) != `{"x":1}` || h.Bytes != 7 {
		t.Errorf("cached answer = %+v", h)
	}
	s, err := lookup.SummaryOf[summary](h)
	if err != nil || s == nil || s.Hits != 3 {
		t.Errorf("summary after cache: %+v %v", s, err)
	}
	if n := second[2]; !n.Cached || string(n.Data) != `{"detail":"none"}` {
		t.Errorf("cached not-found = %+v", n)
	}
	fresh := e.Begin(ind, lookup.Options{Fresh: true}).Get(ctx, "hits")
	if fresh.Cached || hits.calls.Load() != 2 {
		t.Errorf("fresh: cached=%t calls=%d", fresh.Cached, hits.calls.Load())
	}
}

func TestCoalescing(t *testing.T) {
	t.Parallel()
	slow := &fake{name: "slow", kinds: ipKinds, latency: 100 * time.Millisecond}
	e, _ := newEngine(t, 5*time.Second, nil, slow)
	ind := mustParse(t, "203.0.113.5")
	var wg sync.WaitGroup
	statuses := make([]lookup.Status, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.Begin(ind, lookup.Options{Fresh: i%2 == 0}).Get(context.Background(), "slow").Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != lookup.StatusOK {
			t.Fatalf("lookup %d: %s", i, s)
		}
	}
	if n := slow.calls.Load(); n != 1 {
		t.Errorf("100 concurrent identical lookups made %d upstream calls, want 1", n)
	}
}

func TestPolicyPlanAndConfiguration(t *testing.T) {
	t.Parallel()
	a := &fake{name: "a", kinds: ipKinds}
	v4only := &fake{name: "v4", kinds: []indicator.Kind{indicator.IPv4}}
	nokey := &fake{name: "nokey", kinds: ipKinds, keyless: true}
	e, rec := newEngine(t, time.Second, nil, a, v4only, nokey)
	ctx, req := accounting.NewRequest(context.Background())
	internal := e.Begin(mustParse(t, "10.1.2.3"), lookup.Options{Caller: lookup.Caller{Username: "u"}}).All(ctx, nil)
	for _, r := range internal {
		if r.Status != lookup.StatusSkipped && r.Status != lookup.StatusNotConfigured {
			t.Errorf("%s on a private address: %s", r.Provider, r.Status)
		}
	}
	if a.calls.Load()+v4only.calls.Load()+nokey.calls.Load() != 0 {
		t.Fatal("a private address reached a provider")
	}
	v6 := e.Begin(mustParse(t, "2001:db8::1"), lookup.Options{})
	if r := v6.Get(ctx, "v4"); r.Status != lookup.StatusSkipped {
		t.Errorf("ipv4-only provider on ipv6: %s", r.Status)
	}
	if r := v6.Get(ctx, "nokey"); r.Status != lookup.StatusNotConfigured || r.Err.Code != "NOT_CONFIGURED" {
		t.Errorf("unconfigured provider: %+v", r)
	}
	if r := v6.Get(ctx, "nope"); r.Status != lookup.StatusError || r.Err.Code != "BAD_REQUEST" {
		t.Errorf("unknown provider: %+v", r)
	}
	if names := v6.Providers(); !cmp.Equal(names, []string{"a", "nokey"}) {
		t.Errorf("providers for ipv6 = %v", names)
	}
	if nokey.calls.Load() != 0 {
		t.Error("unconfigured provider was called")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 0 {
		t.Errorf("ledger rows without a call: %+v", rec.calls)
	}
	var audit accounting.Record
	req.Fill(&audit)
	for _, a := range audit.Answers {
		if a.Status != "skipped" && a.Status != "not_configured" && a.Provider != "nope" {
			t.Errorf("answer noted for an internal indicator: %+v", a)
		}
	}
}

func TestRateLimitsAndUpstream429(t *testing.T) {
	t.Parallel()
	scarce := &fake{name: "scarce", kinds: ipKinds}
	flaky := &fake{name: "flaky", kinds: ipKinds, answer: func(n int64) (*provider.Result, error) {
		if n == 1 {
			return nil, &provider.Error{Provider: "flaky", Kind: provider.ErrRateLimited, StatusCode: 429, RetryAfter: 100 * time.Millisecond}
		}
		return ok("flaky", indicator.Benign, 0), nil
	}}
	stubborn := &fake{name: "stubborn", kinds: ipKinds, answer: func(int64) (*provider.Result, error) {
		return nil, &provider.Error{Provider: "stubborn", Kind: provider.ErrRateLimited, StatusCode: 429, RetryAfter: time.Hour}
	}}
	settings := map[string]enrich.Settings{
		"scarce":   {Rate: provider.Rate{Events: 1, Per: time.Hour}, CacheTTL: time.Hour},
		"flaky":    {Rate: provider.Rate{Events: 100, Per: time.Second}, CacheTTL: time.Hour},
		"stubborn": {Rate: provider.Rate{Events: 100, Per: time.Second}, CacheTTL: time.Hour},
	}
	e, _ := newEngine(t, 2*time.Second, settings, scarce, flaky, stubborn)
	ctx := context.Background()
	if r := e.Begin(mustParse(t, "198.51.100.1"), lookup.Options{}).Get(ctx, "scarce"); r.Status != lookup.StatusOK {
		t.Fatalf("first call: %s", r.Status)
	}
	r := e.Begin(mustParse(t, "198.51.100.2"), lookup.Options{}).Get(ctx, "scarce")
	if r.Status != lookup.StatusRateLimited || r.RetryAfter < 59*time.Minute || r.Err.Code != "RATE_LIMITED" || scarce.calls.Load() != 1 {
		t.Errorf("budget spent: %+v (calls %d)", r, scarce.calls.Load())
	}
	// a 429 with a short Retry-After is retried within the deadline
	if r := e.Begin(mustParse(t, "198.51.100.3"), lookup.Options{}).Get(ctx, "flaky"); r.Status != lookup.StatusOK || flaky.calls.Load() != 2 {
		t.Errorf("429 then OK: %s after %d calls", r.Status, flaky.calls.Load())
	}
	// a long Retry-After answers RATE_LIMITED and drains the shared bucket
	if r := e.Begin(mustParse(t, "198.51.100.4"), lookup.Options{}).Get(ctx, "stubborn"); r.Status != lookup.StatusRateLimited || r.RetryAfter != time.Hour {
		t.Errorf("429 with a long Retry-After: %+v", r)
	}
	if r := e.Begin(mustParse(t, "198.51.100.5"), lookup.Options{}).Get(ctx, "stubborn"); r.Status != lookup.StatusRateLimited || stubborn.calls.Load() != 1 {
		t.Errorf("after the drain the provider was called again (%d calls), status %s", stubborn.calls.Load(), r.Status)
	}
}

func TestDeadlineTimesOutSlowProviderOnly(t *testing.T) {
	t.Parallel()
	slow := &fake{name: "slow", kinds: ipKinds, latency: 10 * time.Second}
	quick := &fake{name: "quick", kinds: ipKinds}
	e, _ := newEngine(t, 150*time.Millisecond, nil, slow, quick)
	rs := e.Begin(mustParse(t, "198.51.100.6"), lookup.Options{}).All(context.Background(), nil)
	if rs[0].Status != lookup.StatusOK || rs[1].Status != lookup.StatusTimeout || rs[1].Err.Code != "TIMEOUT" {
		t.Errorf("quick %s, slow %s", rs[0].Status, rs[1].Status)
	}
}

func TestBatchBoundsConcurrentLookups(t *testing.T) {
	t.Parallel()
	a := &fake{name: "a", kinds: ipKinds, latency: 20 * time.Millisecond}
	b := &fake{name: "b", kinds: ipKinds, latency: 20 * time.Millisecond}
	e, _ := newEngine(t, 5*time.Second, nil, a, b)
	batch := lookup.NewBatch(2)
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lk := e.Begin(mustParse(t, fmt.Sprintf("198.51.100.%d", 100+i)), lookup.Options{Batch: batch})
			if i%2 == 0 {
				lk.All(context.Background(), nil)
			} else {
				lk.Get(context.Background(), "a")
			}
		}()
	}
	wg.Wait()
	if a.calls.Load() != 10 || b.calls.Load() != 5 {
		t.Fatalf("calls a=%d b=%d", a.calls.Load(), b.calls.Load())
	}
	if pa, pb := a.peak.Load(), b.peak.Load(); pa > 2 || pb > 2 {
		t.Errorf("peak in-flight per provider a=%d b=%d, want at most the batch's 2 lookups", pa, pb)
	}
}
