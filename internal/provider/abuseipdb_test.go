package provider_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestAbuseIPDB(t *testing.T) {
	t.Parallel()
	const key = "abuseipdb-test-key-4567"
	check := func(ip string) providertest.Request {
		return providertest.Request{
			Method: "GET",
			Path:   "/check",
			Query:  map[string][]string{"ipAddress": {ip}, "maxAgeInDays": {"90"}},
			Header: map[string]string{"Key": key, "Accept": "application/json"},
		}
	}
	quota := http.Header{
		"X-Ratelimit-Limit":     {"1000"},
		"X-Ratelimit-Remaining": {"998"},
		"X-Ratelimit-Reset":     {"1704153600"},
	}
	providertest.Run(t, providertest.Suite{
		Provider: "abuseipdb",
		APIKey:   key,
		Probe:    indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
		Fixtures: []providertest.Fixture{
			{
				Name:      "ip_ok",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
				File:      "abuseipdb/ip_ok.json",
				Header:    quota,
				Want:      check("198.51.100.23"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.AbuseIPDBSummary{
						IPAddress:            "198.51.100.23",
						AbuseConfidenceScore: 100,
						TotalReports:         567,
						NumDistinctUsers:     123,
						LastReportedAt:       time.Date(2018, 12, 20, 20, 55, 14, 0, time.UTC),
						IsPublic:             true,
						CountryCode:          "US",
						UsageType:            "Data Center/Web Hosting/Transit",
						ISP:                  "Acme, Inc.",
						Domain:               "example.com",
					}
					if d := cmp.Diff(want, summaryOf[provider.AbuseIPDBSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100, Reason: "AbuseIPDB confidence 100 (567 reports from 123 users in 90 days)"})
					wantQuota := &provider.Quota{Limit: 1000, Remaining: 998, Reset: time.Unix(1704153600, 0).UTC()}
					if d := cmp.Diff(wantQuota, r.Quota); d != "" {
						t.Errorf("quota (-want +got):\n%s", d)
					}
				},
			},
			{
				// No reports is a found, clean answer, not a not-found.
				Name:      "ip_clean",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.9"},
				File:      "abuseipdb/ip_clean.json",
				Want:      check("203.0.113.9"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.AbuseIPDBSummary](t, r)
					if !s.LastReportedAt.IsZero() || s.IsWhitelisted || s.TotalReports != 0 {
						t.Errorf("lastReportedAt/isWhitelisted/totalReports = %s/%t/%d, want zero/false/0", s.LastReportedAt, s.IsWhitelisted, s.TotalReports)
					}
					if d := cmp.Diff([]string{"host-9.example.net"}, s.Hostnames); d != "" {
						t.Errorf("hostnames (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 0, Reason: "AbuseIPDB confidence 0, no reports in 90 days"})
					if r.Quota != nil {
						t.Errorf("quota = %+v without quota headers, want nil", r.Quota)
					}
				},
			},
			{
				Name:      "ip_whitelisted",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"},
				File:      "abuseipdb/ip_whitelisted.json",
				Want:      check("8.8.8.8"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 0, Reason: "AbuseIPDB confidence 0 (41 reports from 18 users in 90 days), whitelisted"})
				},
			},
			{
				Name:      "ipv6_ok",
				Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::bad"},
				File:      "abuseipdb/ipv6_ok.json",
				Want:      check("2001:db8::bad"),
				Check: func(t *testing.T, r *provider.Result) {
					if s := summaryOf[provider.AbuseIPDBSummary](t, r); !s.IsTor {
						t.Error("isTor = false, want true")
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 40, Reason: "AbuseIPDB confidence 40 (12 reports from 5 users in 90 days), Tor exit node"})
				},
			},
			{
				Name:      "rate_limited",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
				File:      "abuseipdb/rate_limited.json",
				Status:    http.StatusTooManyRequests,
				Header:    http.Header{"Retry-After": {"29241"}, "X-Ratelimit-Limit": {"1000"}, "X-Ratelimit-Remaining": {"0"}},
				Want:      check("198.51.100.23"),
				WantErr:   provider.ErrRateLimited,
			},
			{
				Name:      "auth",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
				File:      "abuseipdb/auth.json",
				Status:    http.StatusUnauthorized,
				Want:      check("198.51.100.23"),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "bad_input",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.300"},
				File:      "abuseipdb/bad_input.json",
				Status:    http.StatusUnprocessableEntity,
				Want:      check("198.51.100.300"),
				WantErr:   provider.ErrBadInput,
			},
			{
				// A 404 is a wrong base URL, not "no data": it must not be cached as not-found.
				Name:      "endpoint_missing",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
				Status:    http.StatusNotFound,
				Want:      check("198.51.100.23"),
				WantErr:   provider.ErrUpstream,
			},
			{
				Name:      "domain_not_served",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "example.com"},
				WantErr:   provider.ErrBadInput,
			},
		},
	})
}
