package enrich_test

import (
	"context"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// The policy stage runs before the cache and the providers: a block-list
// and a never-send list stop every upstream call, RED answers from the
// cache only, and the lists set the combined verdict.
func TestPolicyStage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := &fake{name: "a", kinds: ipKinds}
	b := &fake{name: "b", kinds: ipKinds}
	reg, err := provider.NewRegistry(a, b)
	if err != nil {
		t.Fatal(err)
	}
	gate, err := policy.New(policy.Config{Store: policy.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	if err := gate.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		name   string
		effect policy.Effect
		value  string
	}{{"bad", policy.Block, "198.51.100.66"}, {"corp", policy.NeverSend, "203.0.113.0/24"}, {"cdn", policy.KnownGood, "192.0.2.0/24"}} {
		if _, err := gate.CreateList(ctx, "mon", l.name, l.effect, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := gate.AddEntries(ctx, "mon", l.name, []policy.EntryInput{{Value: l.value, Reason: l.name + " reason"}}); err != nil {
			t.Fatal(err)
		}
	}
	c := cache.NewMemory[*lookup.Result](100)
	f, _ := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Cache: c, Limiter: ratelimit.NewBuckets(time.Now)})
	e, err := enrich.New(enrich.Config{Registry: reg, Policy: indicator.NewPolicy(nil), Gate: gate, Cache: c,
		Executor: &enrich.Inline{Fetcher: f, Ledger: &recorder{}}, Deadline: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	run := func(value string, tlp indicator.TLP) ([]*lookup.Result, indicator.Verdict, accounting.Record) {
		rctx, req := accounting.NewRequest(ctx)
		lk := e.Begin(mustParse(t, value), lookup.Options{TLP: tlp, Caller: lookup.Caller{Username: "alice", Endpoint: "GET /api/indicator/ipv4/x"}})
		rs := lk.All(rctx, nil)
		var rec accounting.Record
		req.Fill(&rec)
		return rs, lookup.Judge(lk, rs), rec
	}

	rs, v, rec := run("198.51.100.66", 0)
	if a.calls.Load()+b.calls.Load() != 0 {
		t.Fatalf("a block-listed value was sent upstream (%d calls)", a.calls.Load()+b.calls.Load())
	}
	if rs[0].Status != lookup.StatusSkipped || rs[0].Err.Message != "block-listed by bad: bad reason; not sent upstream" {
		t.Errorf("block-listed result = %s %+v", rs[0].Status, rs[0].Err)
	}
	if v.Level != indicator.Malicious || v.Reasons[0] != "block-listed by bad: bad reason" {
		t.Errorf("block-listed verdict = %+v", v)
	}
	if len(rec.Sightings) != 1 || rec.Sightings[0].Verdict != "MALICIOUS" || rec.Sightings[0].Source != "rest" || rec.Sightings[0].TLP != "AMBER" || rec.TLP != "AMBER" {
		t.Errorf("sighting = %+v, record TLP %q", rec.Sightings, rec.TLP)
	}

	rs, _, _ = run("203.0.113.7", 0)
	if a.calls.Load()+b.calls.Load() != 0 || rs[1].Err.Message != "not sent: listed in corp: corp reason" {
		t.Errorf("never-send: calls %d, result %+v", a.calls.Load()+b.calls.Load(), rs[1].Err)
	}

	// known good: asked, capped at BENIGN
	_, v, _ = run("192.0.2.9", 0)
	if a.calls.Load() != 1 || v.Level != indicator.Benign || v.Reasons[0] != "allow-listed by cdn: cdn reason" {
		t.Errorf("known good: calls %d, verdict %+v", a.calls.Load(), v)
	}

	// RED: the cached answer shows, nothing new is asked
	rs, _, rec = run("192.0.2.9", indicator.TLPRed)
	if a.calls.Load() != 1 || !rs[0].Cached || rs[0].Status != lookup.StatusOK {
		t.Errorf("RED with a cached answer: calls %d, result %s cached=%v", a.calls.Load(), rs[0].Status, rs[0].Cached)
	}
	if rec.TLP != "RED" || len(rec.Sightings) != 1 || rec.Sightings[0].TLP != "RED" {
		t.Errorf("record TLP = %q, sightings %+v", rec.TLP, rec.Sightings)
	}
	rs, _, _ = run("192.0.2.10", indicator.TLPRed)
	if a.calls.Load() != 1 || rs[0].Status != lookup.StatusSkipped || rs[0].Err.Message != "TLP:RED is not shared with a" {
		t.Errorf("RED without a cached answer: calls %d, result %s %+v", a.calls.Load(), rs[0].Status, rs[0].Err)
	}
}
