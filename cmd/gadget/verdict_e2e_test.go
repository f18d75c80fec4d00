package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// withFakeFreeTier points every provider at a fake intel server with a
// key each, keeping the free-tier default rates (VirusTotal 4/m).
func withFakeFreeTier(t *testing.T, env map[string]string, latency time.Duration) *fakeintel.Server {
	t.Helper()
	fake := fakeintel.New(os.DirFS("../../internal/provider/testdata"), fakeintel.Options{Seed: 1})
	fake.SetDefaultLatency(latency)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		env[p+"BASE_URL"] = srv.URL + "/" + d.Name
		env[p+"API_KEY"] = "demo-key"
		if d.NotHTTP {
			env[p+"ENABLED"] = "false" // the fake intel server speaks HTTP only
		}
	}
	return fake
}

// mixedBatch is n indicators of every kind, some of them listed at the fake.
func mixedBatch(n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		switch i % 5 {
		case 0:
			out = append(out, fmt.Sprintf("198.51.100.%d", 1+i))
		case 1:
			out = append(out, fmt.Sprintf("203.0.113.%d", 1+i))
		case 2:
			out = append(out, fmt.Sprintf("host%d.example.org", i))
		case 3:
			out = append(out, fmt.Sprintf("http://evil%d.example/payload", i))
		case 4:
			out = append(out, fmt.Sprintf("badc0de%057x", i))
		}
	}
	return out
}

type coverageJSON struct {
	Asked, Answered, NotFound, NotConfigured, Skipped, RateLimited, Failed, Pending int
	RetryAfterSeconds                                                               *int
	Summary                                                                         string
	Gaps                                                                            []struct{ Provider, Status, Reason string }
}

type verdictJSON struct {
	Level    string
	Score    int
	Reasons  []string
	Complete bool
	Coverage coverageJSON
}

const verdictFields = `verdict { level score reasons complete coverage { asked answered notFound notConfigured skipped rateLimited failed pending retryAfterSeconds summary gaps { provider status reason } } }`

// TestBatchCoverageWithFreeTierRates is #14's batch: 50 mixed indicators
// with the free-tier rates (VirusTotal 4/m). No indicator is left without
// an answer while other providers have budget, every unanswered provider
// is in its coverage with a reason, and the batch takes about the slowest
// provider's latency per wave instead of the 20 s deadline. Then the same
// values with cachedOnly make no upstream call.
func TestBatchCoverageWithFreeTierRates(t *testing.T) {
	t.Parallel()
	// the default request budget (2,000 upstream calls) covers 50 values
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + t.TempDir() + "/gadget.db", "GADGET_ROOT_PASSWORD": rootPW}
	const latency = 150 * time.Millisecond
	fake := withFakeFreeTier(t, env, latency)
	in := start(t, env)
	tok := in.token("root", rootPW, "")
	values := mixedBatch(50)
	q := `query($v: [String!]!, $c: Boolean) { indicators(values: $v, cachedOnly: $c) { value ` + verdictFields + ` results { provider status latencyMs link } } }`
	type row struct {
		Value   string
		Verdict verdictJSON
		Results []struct {
			Provider, Status string
			LatencyMs        int
			Link             *string
		}
	}
	began := time.Now()
	rows := field[[]row](t, in.gql(tok, q, map[string]any{"v": values}), "indicators")
	wall := time.Since(began)
	zero, limited, slowest := 0, 0, 0
	for _, r := range rows {
		c := r.Verdict.Coverage
		if c.Answered == 0 {
			zero++
			t.Errorf("%s: no provider answered: %s %v", r.Value, c.Summary, r.Verdict.Reasons)
		}
		if c.RateLimited > 0 {
			limited++
			if r.Verdict.Complete || c.RetryAfterSeconds == nil {
				t.Errorf("%s: %d rate-limited but complete=%v retryAfter=%v", r.Value, c.RateLimited, r.Verdict.Complete, c.RetryAfterSeconds)
			}
		}
		if len(c.Gaps) != c.RateLimited+c.Failed+c.Pending+c.NotConfigured+c.Skipped {
			t.Errorf("%s: %d gaps for %+v", r.Value, len(c.Gaps), c)
		}
		for _, g := range c.Gaps {
			if g.Reason == "" {
				t.Errorf("%s: gap without a reason: %+v", r.Value, g)
			}
		}
		if c.Asked != len(r.Results) || !strings.HasPrefix(c.Summary, fmt.Sprintf("%d of %d answered", c.Answered, c.Asked)) {
			t.Errorf("%s: coverage %+v for %d results", r.Value, c, len(r.Results))
		}
		for _, res := range r.Results {
			if res.Status == "OK" || res.Status == "NOT_FOUND" {
				slowest = max(slowest, res.LatencyMs)
			}
		}
	}
	if vt := fake.Calls("virustotal"); vt > 4 {
		t.Errorf("virustotal called %d times at 4/m", vt)
	}
	if limited == 0 {
		t.Error("no indicator reports virustotal rate-limited: the free-tier rate was not in force")
	}
	t.Logf("batch of %d mixed indicators, free-tier rates, fake latency %s: wall %s (slowest answer %d ms; budget slowest+2s = %s); %d with zero answers, %d with a provider rate-limited; %d upstream calls",
		len(values), latency, wall.Round(time.Millisecond), slowest, (time.Duration(slowest)*time.Millisecond + 2*time.Second), zero, limited, totalCalls(fake))

	// cachedOnly after the warm-up: not one upstream call
	fake.Reset()
	cq := `query($v: [String!]!) { indicators(values: $v, cachedOnly: true) { value ` + verdictFields + ` } }`
	twenty := values[:20]
	var took []time.Duration
	for range 30 {
		began := time.Now()
		rows := field[[]row](t, in.gql(tok, cq, map[string]any{"v": twenty}), "indicators")
		took = append(took, time.Since(began))
		for _, r := range rows {
			if c := r.Verdict.Coverage; c.Answered == 0 || c.Answered+c.Pending+c.NotConfigured+c.Skipped != c.Asked {
				t.Fatalf("cachedOnly %s: coverage %+v", r.Value, c)
			}
		}
	}
	if n := totalCalls(fake); n != 0 {
		t.Errorf("cachedOnly made %d upstream calls", n)
	}
	slices.Sort(took)
	t.Logf("indicators(values: 20, cachedOnly: true) { verdict }: %d upstream calls, p50 %s, p90 %s over %d requests",
		totalCalls(fake), took[len(took)/2].Round(10*time.Microsecond), took[len(took)*9/10].Round(10*time.Microsecond), len(took))
}

// TestIndicatorNullable: one bad value among aliased indicator fields nulls
// only its own field; the others answer.
func TestIndicatorNullable(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + t.TempDir() + "/gadget.db", "GADGET_ROOT_PASSWORD": rootPW}
	withFake(t, env)
	in := start(t, env)
	tok := in.token("root", rootPW, "")
	a := in.gql(tok, `{ good: indicator(value: "198.51.100.20") { value } bad: indicator(value: "not an indicator") { value }
		alsoGood: indicator(value: "example.org") { value kind } }`, nil)
	mustCode(t, a, "BAD_INDICATOR")
	if len(a.Errors) != 1 || fmt.Sprint(a.Errors[0].Path) != "[bad]" {
		t.Errorf("errors %+v: want one, at path [bad]", a.Errors)
	}
	if string(a.Data["bad"]) != "null" || !strings.Contains(string(a.Data["good"]), "198.51.100.20") || !strings.Contains(string(a.Data["alsoGood"]), "DOMAIN") {
		t.Errorf("data = good %s, bad %s, alsoGood %s: want the good ones answered and bad null", a.Data["good"], a.Data["bad"], a.Data["alsoGood"])
	}
	// fresh and cachedOnly contradict each other
	mustCode(t, in.gql(tok, `{ indicator(value: "198.51.100.20", fresh: true, cachedOnly: true) { value } }`, nil), "BAD_REQUEST")
	mustCode(t, in.gql(tok, `{ indicator(value: "198.51.100.20") { verdict(maxAge: -1) { level } } }`, nil), "BAD_REQUEST")
}
