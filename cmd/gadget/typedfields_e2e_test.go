package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// TestTypedFieldsAskTogether: the typed provider fields are resolved one
// after another (they take no context, so gqlgen spends no goroutine on
// each), yet on a cold lookup every provider the selection names is asked
// at once, whichever field comes first (a verdict or results too), and no
// other is asked.
func TestTypedFieldsAskTogether(t *testing.T) {
	t.Parallel()
	const latency = 400 * time.Millisecond
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + t.TempDir() + "/gadget.db", "GADGET_ROOT_PASSWORD": rootPW}
	fake := withFake(t, env)
	fake.SetDefaultLatency(latency)
	in := start(t, env)
	tok := in.token("root", rootPW, "")
	for i, tc := range []struct {
		name, query string
		vars        map[string]any
		asked       []string
	}{
		{"three typed fields", `query($v: String!) { indicator(value: $v) { ... on IPAddress {
			abuseipdb { status } virustotal { status } greynoise { status } } } }`, nil,
			[]string{"abuseipdb", "virustotal", "greynoise"}},
		{"typed fields before a verdict of named providers", `query($v: String!) { indicator(value: $v) { ... on IPAddress {
			virustotal { status } abuseipdb { status } verdict(providers: ["abuseipdb", "shodan", "otx"]) { level } } } }`, nil,
			[]string{"abuseipdb", "virustotal", "shodan", "otx"}},
		{"providers from a variable, in a fragment", `query($v: String!, $p: [String!]) { indicator(value: $v) {
			... on IPAddress { virustotal { status } ...r } } }
			fragment r on IPAddress { results(providers: $p) { status } }`, map[string]any{"p": []string{"internetdb", "greynoise"}},
			[]string{"virustotal", "internetdb", "greynoise"}},
		{"a verdict before results and a typed field", `query($v: String!) { indicator(value: $v) { ... on IPAddress {
			verdict(providers: ["otx"]) { level } results(providers: ["shodan"]) { status } virustotal { status } } } }`, nil,
			[]string{"otx", "shodan", "virustotal"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.Reset()
			if tc.vars == nil {
				tc.vars = map[string]any{}
			}
			tc.vars["v"] = fmt.Sprintf("198.51.100.%d", 60+i)
			q := tc.query
			startAt := time.Now()
			field[map[string]any](t, in.gql(tok, q, tc.vars), "indicator")
			took := time.Since(startAt)
			if took >= 2*latency {
				t.Errorf("took %v: the providers were asked one after another (each answers in %v)", took, latency)
			}
			want := map[string]bool{}
			for _, n := range tc.asked {
				want[n] = true
			}
			for _, d := range provider.Descriptors() {
				if d.Local {
					continue
				}
				if n := fake.Calls(d.Name); (n > 0) != want[d.Name] {
					t.Errorf("%s called %d times, want asked: %v", d.Name, n, want[d.Name])
				}
			}
		})
	}
}
