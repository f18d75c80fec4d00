package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestPulsedive(t *testing.T) {
	t.Parallel()
	const key = "pulsedive-test-key-6174"
	info := func(v string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/info.php", Query: map[string][]string{"indicator": {v}, "key": {key}},
			Header: map[string]string{"Accept": "application/json"}}
	}
	ip := indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"}
	providertest.Run(t, providertest.Suite{
		Provider: "pulsedive",
		APIKey:   key,
		Probe:    ip,
		Fixtures: []providertest.Fixture{
			{
				Name: "domain_high", Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"}, File: "pulsedive/domain_high.json",
				Want: info("evil.example"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.PulsediveSummary{Indicator: "evil.example", Type: "domain", Risk: "high", Threats: []string{"Zeus"},
						Feeds: []string{"Zeus Bad Domains (abuse.ch)"}, RiskFactors: []string{"found in threat feeds", "newly registered domain"},
						FirstSeen: utc(2017, 6, 9, 16, 42, 16), LastSeen: utc(2024, 2, 26, 4, 31, 58)}
					if d := cmp.Diff(want, summaryOf[provider.PulsediveSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 75, Reason: "Pulsedive risk high: Zeus"})
				},
			},
			{
				Name: "ip_none", Indicator: ip, File: "pulsedive/ip_none.json", Want: info("8.8.8.8"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 10, Reason: "Pulsedive risk none"})
				},
			},
			{Name: "ipv6", Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"}, File: "pulsedive/ip_none.json", Want: info("2001:db8::1")},
			{Name: "url", Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://evil.example/x?a=1&b=2"}, File: "pulsedive/domain_high.json",
				Want: info("http://evil.example/x?a=1&b=2")},
			{Name: "not_found", Indicator: ip, File: "pulsedive/not_found.json", Status: http.StatusNotFound, Want: info("8.8.8.8"), WantErr: provider.ErrNotFound},
			{Name: "rate_limited", Indicator: ip, File: "pulsedive/rate_limited.json", Status: http.StatusTooManyRequests, Want: info("8.8.8.8"), WantErr: provider.ErrRateLimited},
			{Name: "bad_key", Indicator: ip, File: "pulsedive/auth.json", Status: http.StatusForbidden, Want: info("8.8.8.8"), WantErr: provider.ErrAuth},
		},
	})
}
