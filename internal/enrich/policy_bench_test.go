package enrich_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
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

// BenchmarkCachedLookupPolicy: one cached lookup of an IPv4 value across
// 11 providers (Begin, All, the verdict with its coverage, the request's
// accounting), without a Gate ("off") and with one holding 100,000 list
// entries in a BLOCK, a NEVER_SEND and a KNOWN_GOOD list, the default TLP
// and the sighting noted ("on"). The value is on no list, so both answer
// the same from the cache; the difference is what policy costs in CPU.
func BenchmarkCachedLookupPolicy(b *testing.B) {
	ctx := context.Background()
	var ps []provider.Provider
	for i := range 11 {
		ps = append(ps, &fake{name: fmt.Sprintf("p%d", i), kinds: ipKinds})
	}
	reg, err := provider.NewRegistry(ps...)
	if err != nil {
		b.Fatal(err)
	}
	gate, err := policy.New(policy.Config{Store: policy.NewMemoryStore()})
	if err != nil {
		b.Fatal(err)
	}
	if err := gate.Load(ctx); err != nil {
		b.Fatal(err)
	}
	lists := []policy.Effect{policy.Block, policy.NeverSend, policy.KnownGood}
	entries := make([][]policy.EntryInput, len(lists))
	for i := range 100_000 {
		var v string
		switch (i / 3) % 3 {
		case 0:
			v = fmt.Sprintf("%d.%d.%d.0/24", 11+(i/65536)%80, (i/256)%256, i%256)
		case 1:
			v = fmt.Sprintf("h%d.bench-%d.example", i, i%97)
		default:
			sum := md5.Sum([]byte(fmt.Sprint(i)))
			v = hex.EncodeToString(sum[:])
		}
		entries[i%3] = append(entries[i%3], policy.EntryInput{Value: v})
	}
	for i, e := range lists {
		name := fmt.Sprintf("l%d", i)
		if _, err := gate.CreateList(ctx, "mon", name, e, ""); err != nil {
			b.Fatal(err)
		}
		if _, err := gate.AddEntries(ctx, "mon", name, entries[i]); err != nil {
			b.Fatal(err)
		}
	}
	ind, err := indicator.Parse("198.51.100.77")
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		gate *policy.Service
	}{{"off", nil}, {"on", gate}} {
		b.Run(tc.name, func(b *testing.B) {
			c := cache.NewMemory[*lookup.Result](100)
			f, _ := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Cache: c, Limiter: ratelimit.NewBuckets(time.Now)})
			e, err := enrich.New(enrich.Config{Registry: reg, Policy: indicator.NewPolicy(nil), Gate: tc.gate, Cache: c,
				Executor: &enrich.Inline{Fetcher: f, Ledger: &recorder{}}, Deadline: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			once := func() lookup.Verdict {
				rctx, req := accounting.NewRequest(ctx)
				lk := e.Begin(ind, lookup.Options{Caller: lookup.Caller{Username: "alice", Endpoint: "POST /graphql"}})
				v := lookup.Assess(lk, lk.All(rctx, nil))
				var rec accounting.Record
				req.Fill(&rec)
				return v
			}
			if v := once(); v.Coverage.Answered != 11 { // warm the cache
				b.Fatalf("warm-up: %+v", v.Coverage)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if v := once(); v.Coverage.Answered != 11 {
					b.Fatalf("%+v", v.Coverage)
				}
			}
		})
	}
}
