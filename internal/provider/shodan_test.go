package provider_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

const shodanTestKey = "shodan-test-key-89ab"

func TestShodan(t *testing.T) {
	t.Parallel()
	host := func(ip string) providertest.Request {
		return providertest.Request{
			Method: "GET",
			Path:   "/shodan/host/" + ip,
			Query:  map[string][]string{"key": {shodanTestKey}},
			Header: map[string]string{"Accept": "application/json"},
		}
	}
	ip := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.IPv4, Value: v} }
	providertest.Run(t, providertest.Suite{
		Provider: "shodan",
		APIKey:   shodanTestKey,
		Probe:    ip("1.1.1.1"),
		Fixtures: []providertest.Fixture{
			{
				Name:      "ip_ok",
				Indicator: ip("1.1.1.1"),
				File:      "shodan/ip_ok.json",
				Want:      host("1.1.1.1"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.ShodanSummary{
						IP:          "1.1.1.1",
						Org:         "APNIC and Cloudflare DNS Resolver project",
						ISP:         "Cloudflare, Inc.",
						ASN:         "AS13335",
						Country:     "US",
						CountryName: "United States",
						City:        "Los Angeles",
						Ports:       []int{53, 80, 443, 8080},
						Hostnames:   []string{"one.one.one.one"},
						Domains:     []string{"one.one"},
						Vulns:       []string{"CVE-2021-0000"},
						Tags:        []string{},
						LastUpdate:  time.Date(2022, 9, 4, 1, 3, 56, 524686000, time.UTC),
					}
					if d := cmp.Diff(want, r.Summary); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 30, Reason: "Shodan lists 1 known vulnerability (CVE-2021-0000)"})
				},
			},
			{
				// vulns is absent when empty; the summary still lists [].
				Name:      "ipv6_ok",
				Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:4860:4860::8888"},
				File:      "shodan/ipv6_ok.json",
				Want:      host("2001:4860:4860::8888"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ShodanSummary](t, r)
					if s.Vulns == nil || len(s.Vulns) != 0 || s.ASN != "AS15169" {
						t.Errorf("vulns/asn = %#v/%q, want []string{}/AS15169", s.Vulns, s.ASN)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "Shodan: 2 open ports (53, 443), no risky tags or known vulnerabilities"})
				},
			},
			{
				Name:      "ip_malware",
				Indicator: ip("203.0.113.66"),
				File:      "shodan/ip_malware.json",
				Want:      host("203.0.113.66"),
				Check: func(t *testing.T, r *provider.Result) {
					if s := summaryOf[provider.ShodanSummary](t, r); s.OS != "Linux" {
						t.Errorf("os = %q, want Linux", s.OS)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 80, Reason: "Shodan tags it malware"})
				},
			},
			{
				Name:      "ip_not_found",
				Indicator: ip("192.0.2.1"),
				File:      "shodan/ip_not_found.json",
				Status:    http.StatusNotFound,
				Want:      host("192.0.2.1"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "forbidden_free_key",
				Indicator: ip("1.1.1.1"),
				File:      "shodan/forbidden.json",
				Status:    http.StatusForbidden,
				Want:      host("1.1.1.1"),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "auth",
				Indicator: ip("1.1.1.1"),
				File:      "shodan/auth.json",
				Status:    http.StatusUnauthorized,
				Want:      host("1.1.1.1"),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "rate_limited",
				Indicator: ip("1.1.1.1"),
				File:      "shodan/rate_limited.json",
				Status:    http.StatusTooManyRequests,
				Want:      host("1.1.1.1"),
				WantErr:   provider.ErrRateLimited,
			},
			{
				Name:      "domain_not_served",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "example.com"},
				WantErr:   provider.ErrBadInput,
			},
		},
	})
}

// TestShodanForbiddenSaysPaid checks the 403 every free key gets explains
// that a paid membership is needed, without leaking the query-string key.
func TestShodanForbiddenSaysPaid(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/shodan/forbidden.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := fixtureServer(t, http.StatusForbidden, nil, string(body), nil)
	p := newProvider(t, "shodan", provider.Config{BaseURL: srv.URL, APIKey: shodanTestKey})
	_, err = p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"})
	var pe *provider.Error
	if !errors.As(err, &pe) || !errors.Is(err, provider.ErrAuth) {
		t.Fatalf("error = %v, want a *provider.Error matching ErrAuth", err)
	}
	if !strings.Contains(pe.Message, "paid Membership") {
		t.Errorf("message = %q, want it to say a paid Membership is needed", pe.Message)
	}
	if strings.Contains(err.Error(), shodanTestKey) {
		t.Errorf("error %q leaks the key", err)
	}
}

// Without minify the banners come back, and a CVE found on a banner counts
// even when the host record has no top-level vulns list (the banner shape is
// Shodan's documented banner: https://datapedia.shodan.io, "vulns" keyed by
// CVE id). The request carries no minify parameter.
func TestShodanBannerVulns(t *testing.T) {
	t.Parallel()
	seen := make(chan *http.Request, 1)
	body := `{"ip_str":"198.51.100.9","org":"Example Hosting","asn":"AS64500","country_code":"NL","ports":[443],"hostnames":[],"tags":[],` +
		`"data":[{"port":443,"transport":"tcp","product":"OpenSSL","vulns":{"CVE-2014-0160":{"verified":true,"cvss":5.0,"references":[],"summary":"Heartbleed"}}}]}`
	srv := fixtureServer(t, http.StatusOK, nil, body, seen)
	res, err := newProvider(t, "shodan", provider.Config{BaseURL: srv.URL, APIKey: shodanTestKey}).Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.9"})
	if err != nil {
		t.Fatal(err)
	}
	if req := <-seen; req.URL.Query().Has("minify") {
		t.Errorf("request %s asks for minify, which drops the banners", req.URL.Path)
	}
	if s := summaryOf[provider.ShodanSummary](t, res); !cmp.Equal(s.Vulns, []string{"CVE-2014-0160"}) {
		t.Errorf("Vulns = %v, want the banner's CVE-2014-0160", s.Vulns)
	}
	if res.Verdict.Level != indicator.Suspicious {
		t.Errorf("verdict = %+v, want SUSPICIOUS for a known CVE", res.Verdict)
	}
}
