package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// withFake points every provider at a fake intel server and gives each a key.
func withFake(t *testing.T, env map[string]string) *fakeintel.Server {
	t.Helper()
	fake := fakeintel.New(os.DirFS("../../internal/provider/testdata"), fakeintel.Options{Seed: 1})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		env[p+"BASE_URL"] = srv.URL + "/" + d.Name
		env[p+"API_KEY"] = "demo-key"
		env[p+"RATE"] = "1000/s"
		if d.NotHTTP {
			env[p+"ENABLED"] = "false" // the fake intel server speaks HTTP only
		}
	}
	return fake
}

func totalCalls(fake *fakeintel.Server) int {
	n := 0
	for _, d := range provider.Descriptors() {
		if !d.Local { // a local provider's refreshes are not lookups
			n += fake.Calls(d.Name)
		}
	}
	return n
}

// providersAsked counts the providers the fake saw a lookup request from
// (not local ones): one value looked up once is one ledger row each, even
// for a provider whose lookup is several requests (Intelligence X).
func providersAsked(fake *fakeintel.Server) int {
	n := 0
	for _, d := range provider.Descriptors() {
		if !d.Local && fake.Calls(d.Name) > 0 {
			n++
		}
	}
	return n
}

// localProvider reports whether name answers from local data (the feeds):
// it is asked at any TLP, since nothing leaves the service.
func localProvider(name string) bool {
	d, _ := provider.Lookup(name)
	return d.Local
}

func TestEnrichEndToEnd(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			env["GADGET_LOOKUP_DEADLINE"] = "1500ms"
			fake := withFake(t, env)
			in := start(t, env)
			tok := in.token("root", rootPW, "")

			// laziness: nothing selected, nothing called; one field, one provider
			field[map[string]any](t, in.gql(tok, `{ indicator(value: "198.51.100.20") { value kind } }`, nil), "indicator")
			if n := totalCalls(fake); n != 0 {
				t.Fatalf("a query without provider fields made %d upstream calls", n)
			}
			got := field[map[string]any](t, in.gql(tok, `{ indicator(value: "198.51.100.21") { ... on IPAddress { abuseipdb { status cached abuseConfidenceScore totalReports verdict { level reason } error { code message } } } } }`, nil), "indicator")
			ab := got["abuseipdb"].(map[string]any)
			if ab["status"] != "OK" || ab["abuseConfidenceScore"] == nil || fake.Calls("abuseipdb") != 1 || totalCalls(fake) != 1 {
				t.Fatalf("abuseipdb field: %v (calls %d, total %d)", ab, fake.Calls("abuseipdb"), totalCalls(fake))
			}

			// verdict and results together ask each provider once
			fake.Reset()
			q := `{ indicator(value: "hxxp://evil[.]example/payload") { value kind verdict { level score reasons }
				results { provider status cached error { code } }
				... on URL { urlhaus { status lookup reference } virustotal { status stats { malicious } } } } }`
			got = field[map[string]any](t, in.gql(tok, q, nil), "indicator")
			if got["value"] != "http://evil.example/payload" || got["kind"] != "URL" {
				t.Errorf("indicator = %v", got)
			}
			for _, d := range provider.Descriptors() {
				if d.Local {
					continue // answers from memory; its fake counts refreshes
				}
				lo, hi := 0, 0 // one lookup makes 1 to Calls requests (Intelligence X searches, then reads)
				if d.Serves("url") && !d.NotHTTP {
					lo, hi = 1, d.MaxCalls()
				}
				if n := fake.Calls(d.Name); n < lo || n > hi {
					t.Errorf("%s called %d times, want %d to %d", d.Name, n, lo, hi)
				}
			}
			v := got["verdict"].(map[string]any)
			if v["level"] == "UNKNOWN" || len(v["reasons"].([]any)) == 0 {
				t.Errorf("verdict = %v", v)
			}

			// the cache answers the second time; fresh bypasses it
			got = field[map[string]any](t, in.gql(tok, q, nil), "indicator")
			for _, r := range got["results"].([]any) {
				if r.(map[string]any)["cached"] != true {
					t.Errorf("second lookup not cached: %v", r)
				}
			}
			fr := field[map[string]any](t, in.gql(tok, `{ indicator(value: "http://evil.example/payload", fresh: true) { ... on URL { urlhaus { cached status } } } }`, nil), "indicator")
			uh := fr["urlhaus"].(map[string]any)
			// under River on a loaded machine the fresh call may outlast the
			// lookup (PENDING): its job still makes the call, shortly after
			for i := 0; i < 100 && uh["status"] == "PENDING" && fake.Calls("urlhaus") < 2; i++ {
				time.Sleep(50 * time.Millisecond)
			}
			if fake.Calls("urlhaus") != 2 || uh["cached"] != false {
				t.Errorf("fresh lookup: %v, urlhaus calls %d, want 2", uh, fake.Calls("urlhaus"))
			}

			// policy: a private address never reaches a provider
			fake.Reset()
			got = field[map[string]any](t, in.gql(tok, `{ indicator(value: "10.1.2.3") { results { status error { code } } } }`, nil), "indicator")
			for _, r := range got["results"].([]any) {
				if r.(map[string]any)["status"] != "SKIPPED" {
					t.Errorf("private address result: %v", r)
				}
			}
			if n := totalCalls(fake); n != 0 {
				t.Fatalf("a private address made %d upstream calls", n)
			}

			// an upstream 429 and a slow provider answer in their own fields
			fake.SetFailure("virustotal", 429, time.Hour)
			fake.SetLatency("otx", 5*time.Second)
			got = field[map[string]any](t, in.gql(tok, `{ indicator(value: "198.51.100.22") { ... on IPAddress {
				virustotal { status error { code retryAfterSeconds } } otx { status error { code message } } internetdb { status } } } }`, nil), "indicator")
			vt, otx, idb := got["virustotal"].(map[string]any), got["otx"].(map[string]any), got["internetdb"].(map[string]any)
			// inline the caller is told RATE_LIMITED at once; under River
			// the job stays queued for when the budget returns: PENDING
			wantLimited := map[string]string{"sqlite": "RATE_LIMITED", "postgres+redis": "PENDING"}[be.name]
			if vt["status"] != wantLimited || vt["error"].(map[string]any)["retryAfterSeconds"] != float64(3600) {
				t.Errorf("virustotal after 429: %v (want %s)", vt, wantLimited)
			}
			// inline, the call times out with the lookup; as a River job it
			// goes on, and the caller is told PENDING with the job's id
			wantSlow := map[string]string{"sqlite": "TIMEOUT", "postgres+redis": "PENDING"}[be.name]
			if otx["status"] != wantSlow || idb["status"] != "OK" {
				t.Errorf("otx %v (want %s), internetdb %v", otx, wantSlow, idb)
			}
			// asked again while its job waits an hour for its retry: the
			// answer comes at once, not at the lookup's deadline
			again := time.Now()
			got = field[map[string]any](t, in.gql(tok, `{ indicator(value: "198.51.100.22") { ... on IPAddress {
				virustotal { status jobId error { code retryAfterSeconds } } } } }`, nil), "indicator")
			vt2 := got["virustotal"].(map[string]any)
			// at once: before the 1.5 s deadline, saying when to ask again
			// (a caller that waited the job out would get no retry time)
			retry, _ := vt2["error"].(map[string]any)["retryAfterSeconds"].(float64)
			if took := time.Since(again); vt2["status"] != wantLimited || retry < 3000 || took > time.Second {
				t.Errorf("virustotal asked again after its 429: %v in %s (want %s at once, with the time of its retry)", vt2, took, wantLimited)
			}
			fake.ClearFailure("virustotal")
			fake.ClearLatency("otx")

			// batches: invalid entries get their own error, the rest answer, in order
			list := field[[]map[string]any](t, in.gql(tok, `{ indicators(values: ["198.51.100.23", "not an indicator", "EVIL[.]example"]) {
				value kind error { code message } ... on Domain { rdap { status } } } }`, nil), "indicators")
			if len(list) != 3 || list[0]["value"] != "198.51.100.23" || list[1]["error"] == nil || list[2]["value"] != "evil.example" {
				t.Fatalf("batch = %v", list)
			}
			if list[1]["error"].(map[string]any)["code"] != "BAD_INDICATOR" || list[1]["kind"] != nil {
				t.Errorf("invalid entry = %v", list[1])
			}
			if list[2]["rdap"].(map[string]any)["status"] != "OK" {
				t.Errorf("domain in batch: %v", list[2])
			}
			big := make([]string, 1001)
			for i := range big {
				big[i] = fmt.Sprintf("%q", "198.51.100.1")
			}
			mustCode(t, in.gql(tok, `{ indicators(values: [`+strings.Join(big, ",")+`]) { value } }`, nil), "BAD_REQUEST")
			bad := in.gql(tok, `{ indicator(value: "not an indicator") { value } }`, nil)
			mustCode(t, bad, "BAD_INDICATOR")

			// scopes: a users-only token cannot look up
			usersOnly := in.token("root", rootPW, "users")
			mustCode(t, in.gql(usersOnly, `{ indicator(value: "198.51.100.1") { value } }`, nil), "FORBIDDEN")

			// usage: every delivered provider result is a row with upstream bytes
			time.Sleep(400 * time.Millisecond)
			rep := field[map[string]any](t, in.gql(tok, `{ myUsage { rows { api calls bytes } } }`, nil), "myUsage")
			byAPI := map[string][2]float64{}
			for _, r := range rep["rows"].([]any) {
				m := r.(map[string]any)
				byAPI[m["api"].(string)] = [2]float64{m["calls"].(float64), m["bytes"].(float64)}
			}
			if c := byAPI["abuseipdb"]; c[0] < 2 || c[1] <= 0 {
				t.Errorf("abuseipdb usage = %v (all rows %v)", c, byAPI)
			}
			if c := byAPI["urlhaus"]; c[0] < 3 {
				t.Errorf("urlhaus usage = %v, want at least the three lookups", c)
			}
			// the audit log: one row per request, saying how urlhaus answered
			logRows := field[map[string]any](t, in.gql(tok, `{ auditLog(api: "indicator", first: 50) { edges { node { providers endpoint } } } }`, nil), "auditLog")
			var fetched, cached, skipped int
			for _, e := range logRows["edges"].([]any) {
				n := e.(map[string]any)["node"].(map[string]any)
				if n["endpoint"] != "POST /graphql indicator" {
					t.Errorf("audit row endpoint %v", n["endpoint"])
				}
				for _, f := range strings.Fields(n["providers"].(string)) {
					switch f {
					case "urlhaus:ok":
						fetched++
					case "urlhaus:cached":
						cached++
					case "urlhaus:skipped":
						skipped++
					}
				}
			}
			if fetched != 2 || cached != 1 || skipped != 1 {
				t.Errorf("urlhaus in the audit log: %d fetched, %d cached, %d skipped; want 2, 1, 1 (%v)", fetched, cached, skipped, logRows)
			}
		})
	}
}

// TestSharedCacheAndQuotaAcrossInstances runs two API processes on one
// PostgreSQL and Redis: the second is answered from the first's cache, and
// they share one provider budget.
func TestSharedCacheAndQuotaAcrossInstances(t *testing.T) {
	t.Parallel()
	env := backends[1].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	fake := withFake(t, env)
	env["GADGET_VIRUSTOTAL_RATE"] = "2/h"
	envB := map[string]string{}
	for k, v := range env {
		envB[k] = v
	}
	a, b := start(t, env), start(t, envB)
	ta, tb := a.token("root", rootPW, ""), b.token("root", rootPW, "")
	q := `{ indicator(value: "198.51.100.30") { ... on IPAddress { internetdb { status cached } } } }`
	if r := field[map[string]any](t, a.gql(ta, q, nil), "indicator")["internetdb"].(map[string]any); r["cached"] != false {
		t.Fatalf("first lookup on A: %v", r)
	}
	if r := field[map[string]any](t, b.gql(tb, q, nil), "indicator")["internetdb"].(map[string]any); r["cached"] != true || r["status"] != "OK" {
		t.Fatalf("same lookup on B: %v, want A's answer from the shared cache", r)
	}
	if n := fake.Calls("internetdb"); n != 1 {
		t.Errorf("internetdb calls = %d, want 1 for both instances", n)
	}
	vt := func(in *instance, tok, ip string) string {
		r := field[map[string]any](t, in.gql(tok, `{ indicator(value: "`+ip+`") { ... on IPAddress { virustotal { status } } } }`, nil), "indicator")
		return r["virustotal"].(map[string]any)["status"].(string)
	}
	got := []string{vt(a, ta, "198.51.100.31"), vt(b, tb, "198.51.100.32"), vt(a, ta, "198.51.100.33"), vt(b, tb, "198.51.100.34")}
	// the spent budget is shared: the third and fourth lookups are not
	// called; under River (this backend) their jobs wait for the budget
	// to return, so they answer PENDING rather than RATE_LIMITED
	if strings.Join(got, " ") != "OK OK PENDING PENDING" {
		t.Errorf("virustotal at 2/h across two instances: %v", got)
	}
	if n := fake.Calls("virustotal"); n != 2 {
		t.Errorf("virustotal calls = %d, want 2 (one shared budget)", n)
	}
}

// TestCoalescingAcrossInstances: concurrent identical cold lookups on two API
// processes sharing Redis make one upstream call.
func TestCoalescingAcrossInstances(t *testing.T) {
	t.Parallel()
	env := backends[1].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	fake := withFake(t, env)
	fake.SetLatency("internetdb", 300*time.Millisecond)
	envB := map[string]string{}
	for k, v := range env {
		envB[k] = v
	}
	a, b := start(t, env), start(t, envB)
	ta, tb := a.token("root", rootPW, ""), b.token("root", rootPW, "")
	q := `{ indicator(value: "198.51.100.50") { ... on IPAddress { internetdb { status } } } }`
	var wg sync.WaitGroup
	statuses := make([]string, 40)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, tok := a, ta
			if i%2 == 1 {
				in, tok = b, tb
			}
			r := field[map[string]any](t, in.gql(tok, q, nil), "indicator")
			statuses[i] = r["internetdb"].(map[string]any)["status"].(string)
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != "OK" {
			t.Errorf("lookup %d: %s", i, s)
		}
	}
	if n := fake.Calls("internetdb"); n != 1 {
		t.Errorf("40 concurrent identical lookups on two instances made %d upstream calls, want 1", n)
	}
}
