package provider_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestRobtex(t *testing.T) {
	t.Parallel()
	ip := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.IPv4, Value: v} }
	get := func(v string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/ipquery/" + v, Query: map[string][]string{}, Header: map[string]string{"Accept": "application/json"}}
	}
	if d, _ := provider.Lookup("robtex"); !d.Disabled {
		t.Error("robtex is enabled by default; the free API is flaky, so it must be off unless GADGET_ROBTEX_ENABLED=true")
	}
	providertest.Run(t, providertest.Suite{
		Provider: "robtex",
		Probe:    ip("8.8.8.8"),
		Fixtures: []providertest.Fixture{
			{
				Name: "ip_ok", Indicator: ip("8.8.8.8"), File: "robtex/ip_ok.json", Want: get("8.8.8.8"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.RobtexSummary{IP: "8.8.8.8", ASN: 15169, ASName: "GOOGLE Google LLC", Route: "8.8.8.0/24", Whois: "GOGL Google LLC",
						Country: "United States", City: "Mountain View", Names: []string{"dns.google"}, OldNames: []string{"google-public-dns-a.google.com"},
						Reverse: []string{"dns.google.com", "8888.google"}}
					if d := cmp.Diff(want, summaryOf[provider.RobtexSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0,
						Reason: "Robtex: AS15169 GOOGLE Google LLC, route 8.8.8.0/24, 2 names seen, context only"})
				},
			},
			{Name: "ratelimited_in_band", Indicator: ip("8.8.8.8"), File: "robtex/rate_limited.json", Want: get("8.8.8.8"), WantErr: provider.ErrRateLimited},
			{Name: "error_in_band", Indicator: ip("8.8.8.8"), File: "robtex/error.json", Want: get("8.8.8.8"), WantErr: provider.ErrUpstream},
		},
	})
}
