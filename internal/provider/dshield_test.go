package provider_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestDShield(t *testing.T) {
	t.Parallel()
	ip := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.IPv4, Value: v} }
	get := func(v string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/ip/" + v, Query: map[string][]string{"json": {""}},
			Header: map[string]string{"Accept": "application/json"}}
	}
	providertest.Run(t, providertest.Suite{
		Provider: "dshield",
		Probe:    ip("8.8.8.8"),
		Fixtures: []providertest.Fixture{
			{
				// The recording's last report is long past: reported, not active.
				Name: "ip_reported", Indicator: ip("203.0.113.45"), File: "dshield/ip_attacker.json", Want: get("203.0.113.45"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.DShieldSummary{IP: "203.0.113.45", Reports: 1873, Targets: 412,
						FirstSeen: utc(2023, 11, 14, 0, 0, 0), LastSeen: utc(2024, 3, 1, 0, 0, 0), ThreatFeeds: []string{"blocklistde22", "ciarmy"},
						ASN: 64500, ASName: "EXAMPLE-HOSTING", Country: "NL", Network: "203.0.113.0/24", AbuseContact: "abuse@hosting.example"}
					if d := cmp.Diff(want, summaryOf[provider.DShieldSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 50,
						Reason: "DShield: 1873 reports against 412 targets, last 2024-03-01"})
				},
			},
			{Name: "ip_never_reported", Indicator: ip("8.8.8.8"), File: "dshield/ip_quiet.json", Want: get("8.8.8.8"), WantErr: provider.ErrNotFound},
			{Name: "ipv6", Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"}, File: "dshield/ip_attacker.json", Want: get("2001:db8::1")},
			{Name: "bad_input", Indicator: ip("8.8.8.8"), File: "dshield/bad_input.json", Want: get("8.8.8.8"), WantErr: provider.ErrBadInput},
		},
	})
}
