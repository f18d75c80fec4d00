package provider_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestIPinfo(t *testing.T) {
	const key = "ipinfo-test-token-51ab"
	v4 := indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"}
	v6 := indicator.Indicator{Kind: indicator.IPv6, Value: "2606:4700:4700::1111"}
	bogon := indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.10"}
	want := func(path string) providertest.Request {
		return providertest.Request{
			Method: http.MethodGet,
			Path:   path,
			Query:  url.Values{}, // the token travels in the header, never in the URL
			Header: map[string]string{"Authorization": "Bearer " + key, "Accept": "application/json"},
		}
	}

	providertest.Run(t, providertest.Suite{
		Provider: "ipinfo",
		APIKey:   key,
		Probe:    v4,
		Fixtures: []providertest.Fixture{
			{
				Name: "ip_ok", Indicator: v4, File: "ipinfo/ip_ok.json", Want: want("/lite/8.8.8.8"),
				Check: func(t *testing.T, r *provider.Result) {
					wantSum := &provider.IPinfoSummary{
						IP: "8.8.8.8", ASN: "AS15169", ASName: "Google LLC", ASDomain: "google.com",
						CountryCode: "US", Country: "United States", ContinentCode: "NA", Continent: "North America",
					}
					if diff := cmp.Diff(wantSum, r.Summary); diff != "" {
						t.Errorf("summary (-want +got):\n%s", diff)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "AS15169 Google LLC, US"})
				},
			},
			{
				Name: "ipv6_ok", Indicator: v6, File: "ipinfo/ipv6_ok.json", Want: want("/lite/2606:4700:4700::1111"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "AS13335 Cloudflare, Inc., US"})
				},
			},
			{Name: "bogon", Indicator: bogon, File: "ipinfo/bogon.json", Want: want("/lite/192.0.2.10"), WantErr: provider.ErrNotFound},
			{Name: "invalid_ip", Indicator: bogon, File: "ipinfo/invalid_ip.json", Status: http.StatusNotFound, Want: want("/lite/192.0.2.10"), WantErr: provider.ErrBadInput},
			{Name: "auth", Indicator: v4, File: "ipinfo/auth.json", Status: http.StatusForbidden, Want: want("/lite/8.8.8.8"), WantErr: provider.ErrAuth},
			{Name: "rate_limited", Indicator: v4, File: "ipinfo/rate_limited.json", Status: http.StatusTooManyRequests, Want: want("/lite/8.8.8.8"), WantErr: provider.ErrRateLimited},
			{Name: "unsupported_kind", Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "example.com"}, WantErr: provider.ErrBadInput},
		},
	})
}

// Sparse answers still give a one-line reason.
func TestIPinfoSparseReason(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"no asn", `{"ip":"192.0.2.1","country_code":"US","country":"United States"}`, "no ASN, US"},
		{"no country", `{"ip":"192.0.2.1","asn":"AS64500","as_name":"Example"}`, "AS64500 Example, country unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			p := newProvider(t, "ipinfo", provider.Config{BaseURL: srv.URL, APIKey: "k"})
			res, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict.Reason != tt.want {
				t.Errorf("reason = %q, want %q", res.Verdict.Reason, tt.want)
			}
		})
	}
}
