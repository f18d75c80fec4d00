package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestCrowdSec(t *testing.T) {
	t.Parallel()
	const key = "crowdsec-test-key-5150"
	ip := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.IPv4, Value: v} }
	smoke := func(v string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/smoke/" + v, Query: map[string][]string{},
			Header: map[string]string{"x-api-key": key, "Accept": "application/json"}}
	}
	providertest.Run(t, providertest.Suite{
		Provider: "crowdsec",
		APIKey:   key,
		Probe:    ip("192.0.2.1"),
		Fixtures: []providertest.Fixture{
			{
				Name: "ip_reported", Indicator: ip("1.1.1.1"), File: "crowdsec/ip_ok.json", Want: smoke("1.1.1.1"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.CrowdSecSummary{IP: "1.1.1.1", Range: "1.1.1.0/24", ASN: 13335, ASName: "CLOUDFLARENET", ReverseDNS: "one.one.one.one",
						Behaviors:       []string{"SSH Bruteforce", "TCP Scan", "HTTP Scan"},
						Classifications: []string{"Dangerous Services Exposed", "Many Services Exposed"}, FalsePositives: []string{},
						Attacks: []string{"crowdsecurity/ssh-bf", "crowdsecurity/iptables-scan-multi_ports", "crowdsecurity/ssh-slow-bf",
							"crowdsecurity/http-probing", "crowdsecurity/http-path-traversal-probing", "crowdsecurity/http-bad-user-agent"},
						NoiseScore: 4, TotalScore: 2, FirstSeen: utc(2021, 4, 18, 18, 0, 0), LastSeen: utc(2022, 11, 23, 13, 0, 0)}
					if d := cmp.Diff(want, summaryOf[provider.CrowdSecSummary](t, r), cmp.AllowUnexported(provider.CrowdSecSummary{})); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 35,
						Reason: "CrowdSec sensors reported it (score 2/5): SSH Bruteforce, TCP Scan, HTTP Scan"})
				},
			},
			{
				Name: "ip_blocklisted", Indicator: ip("203.0.113.45"), File: "crowdsec/ip_malicious.json", Want: smoke("203.0.113.45"),
				Check: func(t *testing.T, r *provider.Result) {
					if c := summaryOf[provider.CrowdSecSummary](t, r).Context(); c.ASN != 64500 || c.Country != "NL" || c.Network != "203.0.113.0/24" {
						t.Errorf("context = %+v", c)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 80,
						Reason: "CrowdSec community blocklist: SSH Bruteforce, TCP Scan, HTTP Scan"})
				},
			},
			{
				Name: "ip_false_positive", Indicator: ip("198.51.100.77"), File: "crowdsec/ip_safe.json", Want: smoke("198.51.100.77"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 10, Reason: "CrowdSec known false positive: SEO crawler"})
				},
			},
			{
				Name: "ipv6", Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"}, File: "crowdsec/ip_safe.json",
				Want: smoke("2001:db8::1"),
			},
			{Name: "not_found", Indicator: ip("192.0.2.1"), File: "crowdsec/not_found.json", Status: http.StatusNotFound, Want: smoke("192.0.2.1"), WantErr: provider.ErrNotFound},
			{Name: "rate_limited", Indicator: ip("192.0.2.1"), File: "crowdsec/rate_limited.json", Status: http.StatusTooManyRequests, Want: smoke("192.0.2.1"), WantErr: provider.ErrRateLimited},
			{Name: "forbidden", Indicator: ip("192.0.2.1"), File: "crowdsec/forbidden.json", Status: http.StatusForbidden, Want: smoke("192.0.2.1"), WantErr: provider.ErrAuth},
		},
	})
}
