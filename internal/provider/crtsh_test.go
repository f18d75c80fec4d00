package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestCrtSh(t *testing.T) {
	t.Parallel()
	dom := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.Domain, Value: v} }
	search := func(name string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/", Query: map[string][]string{"q": {name}, "output": {"json"}},
			Header: map[string]string{"Accept": "application/json"}}
	}
	providertest.Run(t, providertest.Suite{
		Provider: "crtsh",
		Probe:    dom("example.org"),
		Fixtures: []providertest.Fixture{
			{
				Name: "domain_history", Indicator: dom("example.org"), File: "crtsh/domain_ok.json", Want: search("example.org"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.CrtShSummary{Name: "example.org", Certificates: 2,
						FirstIssued: utc(2021, 12, 10, 0, 0, 0), LastIssued: utc(2024, 1, 12, 8, 15, 1),
						Issuers:     []string{"Let's Encrypt R3", "DigiCert TLS RSA SHA256 2020 CA1"},
						RecentNames: []string{"example.org", "www.example.org", "mail.example.org"}}
					if d := cmp.Diff(want, summaryOf[provider.CrtShSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "crt.sh: 2 certificates since 2021-12-10, context only"})
				},
			},
			{
				Name: "url_host", Indicator: indicator.Indicator{Kind: indicator.URL, Value: "https://www.example.org/login?x=1"},
				File: "crtsh/domain_ok.json", Want: search("www.example.org"),
			},
			{Name: "not_found", Indicator: dom("notfound.example"), File: "crtsh/not_found.json", Want: search("notfound.example"), WantErr: provider.ErrNotFound},
			{Name: "overloaded", Indicator: dom("example.org"), Status: http.StatusBadGateway, Want: search("example.org"), WantErr: provider.ErrUpstream},
			{Name: "ip_url", Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://198.51.100.7/x"}, WantErr: provider.ErrBadInput},
		},
	})
}
