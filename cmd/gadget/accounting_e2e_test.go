package main

import (
	"context"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/usagecounter"
	"github.com/inspector-gadget/gadget/ent/usagelog"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/store"
)

// The accounting rule, counted in the database: a cold lookup writes one
// audit row and exactly one ledger row per upstream call; the same lookup
// answered from the cache writes one audit row and no ledger row.
func TestUsageRowsPerRequest(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			fake := withFake(t, env)
			in := start(t, env)
			tok := in.token("root", rootPW, "")
			waitForFeeds(t, in) // the feeds answer from memory only once downloaded; before that they fail
			q := `{ indicator(value: "198.51.100.77") { verdict { level } ... on IPAddress { abuseipdb { status abuseConfidenceScore } virustotal { status } } } }`
			cold := field[map[string]any](t, in.gql(tok, q, nil), "indicator")
			calls := totalCalls(fake)
			if calls == 0 || cold["abuseipdb"].(map[string]any)["status"] != "OK" {
				t.Fatalf("cold lookup: %v after %d calls", cold, calls)
			}
			field[map[string]any](t, in.gql(tok, q, nil), "indicator")
			if n := totalCalls(fake); n != calls {
				t.Fatalf("the cached lookup made %d upstream calls", n-calls)
			}
			if err := in.stop(); err != nil { // flushes the usage writer
				t.Fatal(err)
			}
			ctx := context.Background()
			st, err := store.Open(ctx, env["GADGET_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			c := st.Client()
			audit, err := c.UsageLog.Query().Where(usagelog.API("indicator")).Order(ent.Asc(usagelog.FieldQueryDate)).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(audit) != 2 {
				t.Fatalf("audit rows = %d, want one per request (2)", len(audit))
			}
			requests := calls
			calls = providersAsked(fake) // one per provider asked, whatever its number of HTTP requests
			if n := c.UpstreamCall.Query().CountX(ctx); n != calls {
				t.Errorf("ledger rows = %d, want one per provider call (%d; %d HTTP requests)", n, calls, requests)
			}
			local := 0 // local providers (the feeds) answer from downloaded lists, marked cached, in both requests
			for _, d := range provider.Descriptors() {
				if d.Local && d.Serves("ipv4") {
					local++
				}
			}
			if got := strings.Count(audit[1].Providers, ":cached"); !audit[1].Cached || got != calls+local {
				t.Errorf("cached request: cached=%t providers %q, want %d answered from the cache", audit[1].Cached, audit[1].Providers, calls+local)
			}
			if strings.Count(audit[0].Providers, ":cached") != local || audit[0].Cached {
				t.Errorf("cold request's providers = %q", audit[0].Providers)
			}
			var sums []struct {
				Calls  int `json:"calls"`
				Cached int `json:"cached"`
			}
			if err := c.UsageCounter.Query().Aggregate(ent.As(ent.Sum(usagecounter.FieldCalls), "calls"),
				ent.As(ent.Sum(usagecounter.FieldCached), "cached")).Scan(ctx, &sums); err != nil || len(sums) != 1 {
				t.Fatalf("counters: %v %v", sums, err)
			}
			if sums[0].Calls != calls || sums[0].Cached != calls+2*local {
				t.Errorf("counters: %d calls, %d cached answers; want %d and %d", sums[0].Calls, sums[0].Cached, calls, calls+2*local)
			}
		})
	}
}
