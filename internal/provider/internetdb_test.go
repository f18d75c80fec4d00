package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestInternetDB(t *testing.T) {
	t.Parallel()
	get := func(ip string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/" + ip, Query: map[string][]string{}, Header: map[string]string{"Accept": "application/json"}}
	}
	ip := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.IPv4, Value: v} }
	providertest.Run(t, providertest.Suite{
		Provider: "internetdb",
		Probe:    ip("8.8.8.8"),
		Fixtures: []providertest.Fixture{
			{
				Name:      "ip_ok",
				Indicator: ip("8.8.8.8"),
				File:      "internetdb/ip_ok.json",
				Want:      get("8.8.8.8"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.InternetDBSummary{
						IP:        "8.8.8.8",
						Ports:     []int{53, 443},
						Hostnames: []string{"dns.google"},
						Tags:      []string{},
						Vulns:     []string{},
						CPEs:      []string{"cpe:/a:isc:bind"},
					}
					if d := cmp.Diff(want, r.Summary); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "InternetDB: 2 open ports (53, 443), no risky tags or known vulnerabilities"})
				},
			},
			{
				Name:      "ip_malware",
				Indicator: ip("203.0.113.66"),
				File:      "internetdb/ip_malware.json",
				Want:      get("203.0.113.66"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 80, Reason: "InternetDB tags it malware; 1 known vulnerability"})
				},
			},
			{
				Name:      "ip_vpn",
				Indicator: ip("198.51.100.77"),
				File:      "internetdb/ip_vpn.json",
				Want:      get("198.51.100.77"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 40, Reason: "InternetDB tags it vpn"})
				},
			},
			{
				Name:      "ip_vulns",
				Indicator: ip("198.51.100.80"),
				File:      "internetdb/ip_vulns.json",
				Want:      get("198.51.100.80"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 30, Reason: "InternetDB lists 4 known vulnerabilities (CVE-2021-41773, CVE-2021-42013, CVE-2016-6210, …)"})
				},
			},
			{
				Name:      "ip_not_found",
				Indicator: ip("192.0.2.1"),
				File:      "internetdb/ip_not_found.json",
				Status:    http.StatusNotFound,
				Want:      get("192.0.2.1"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "rate_limited",
				Indicator: ip("192.0.2.1"),
				File:      "internetdb/rate_limited.json",
				Status:    http.StatusTooManyRequests,
				Header:    http.Header{"Retry-After": {"60"}},
				Want:      get("192.0.2.1"),
				WantErr:   provider.ErrRateLimited,
			},
			{
				Name:      "ipv6_not_served",
				Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"},
				WantErr:   provider.ErrBadInput,
			},
		},
	})
}
