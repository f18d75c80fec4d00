package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestGreyNoise(t *testing.T) {
	t.Parallel()
	const key = "greynoise-test-key-2718"
	ip := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.IPv4, Value: v} }
	community := func(v string) providertest.Request {
		return providertest.Request{
			Method: "GET",
			Path:   "/v3/community/" + v,
			Query:  map[string][]string{},
			Header: map[string]string{"key": key, "Accept": "application/json"},
		}
	}
	providertest.Run(t, providertest.Suite{
		Provider: "greynoise",
		APIKey:   key,
		Probe:    ip("198.51.100.8"),
		Fixtures: []providertest.Fixture{
			{
				Name:      "ip_riot",
				Indicator: ip("1.1.1.1"),
				File:      "greynoise/ip_ok.json",
				Want:      community("1.1.1.1"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.GreyNoiseSummary{
						IP:             "1.1.1.1",
						RIOT:           true,
						Classification: "benign",
						Name:           "Cloudflare Public DNS",
						LastSeen:       utc(2023, 2, 18, 0, 0, 0),
						Link:           "https://viz.greynoise.io/riot/1.1.1.1",
					}
					if d := cmp.Diff(want, summaryOf[provider.GreyNoiseSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 5,
						Reason: "GreyNoise RIOT: Cloudflare Public DNS, a common business service"})
				},
			},
			{
				Name:      "ip_malicious",
				Indicator: ip("203.0.113.45"),
				File:      "greynoise/ip_malicious.json",
				Want:      community("203.0.113.45"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.GreyNoiseSummary{
						IP:             "203.0.113.45",
						Noise:          true,
						Classification: "malicious",
						Name:           "unknown",
						LastSeen:       utc(2023, 2, 17, 0, 0, 0),
						Link:           "https://viz.greynoise.io/ip/203.0.113.45",
					}
					if d := cmp.Diff(want, summaryOf[provider.GreyNoiseSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 85,
						Reason: "GreyNoise classifies it malicious (scanning the internet)"})
				},
			},
			{
				Name:      "ip_noise_unknown",
				Indicator: ip("198.51.100.77"),
				File:      "greynoise/ip_noise_unknown.json",
				Want:      community("198.51.100.77"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.GreyNoiseSummary](t, r)
					if !s.Noise || s.RIOT || s.Classification != "unknown" {
						t.Errorf("noise/riot/classification = %t/%t/%q, want true/false/unknown", s.Noise, s.RIOT, s.Classification)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 30,
						Reason: "GreyNoise saw it scanning the internet, intent unknown"})
				},
			},
			{
				Name:      "ip_suspicious",
				Indicator: ip("198.51.100.78"),
				File:      "greynoise/ip_suspicious.json",
				Want:      community("198.51.100.78"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 40,
						Reason: "GreyNoise classifies it suspicious (scanning the internet)"})
				},
			},
			{
				Name:      "ip_benign_scanner",
				Indicator: ip("203.0.113.9"),
				File:      "greynoise/ip_benign_scanner.json",
				Want:      community("203.0.113.9"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 10,
						Reason: "GreyNoise classifies it benign: Example Research Scanner"})
				},
			},
			{
				// "IP not observed…" comes as a 404 with JSON: a not-found, not an error.
				Name:      "ip_not_found",
				Indicator: ip("198.51.100.8"),
				File:      "greynoise/ip_not_found.json",
				Status:    http.StatusNotFound,
				Want:      community("198.51.100.8"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "rate_limited",
				Indicator: ip("198.51.100.8"),
				File:      "greynoise/rate_limited.json",
				Status:    http.StatusTooManyRequests,
				Want:      community("198.51.100.8"),
				WantErr:   provider.ErrRateLimited,
			},
			{
				Name:      "not_routable",
				Indicator: ip("192.0.2.1"),
				File:      "greynoise/bad_input.json",
				Status:    http.StatusBadRequest,
				Want:      community("192.0.2.1"),
				WantErr:   provider.ErrBadInput,
			},
			{
				Name:      "auth",
				Indicator: ip("198.51.100.8"),
				Status:    http.StatusUnauthorized,
				Want:      community("198.51.100.8"),
				WantErr:   provider.ErrAuth,
			},
		},
	})
}

// TestGreyNoiseWithoutKey checks the keyless mode the suite cannot see: no
// "key" header at all, and the 429 body's plan named in the error.
func TestGreyNoiseWithoutKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		status  int
		file    string
		wantErr error
		wantMsg string
	}{
		{name: "ok", status: http.StatusOK, file: "testdata/greynoise/ip_ok.json"},
		{name: "rate_limited", status: http.StatusTooManyRequests, file: "testdata/greynoise/rate_limited.json",
			wantErr: provider.ErrRateLimited, wantMsg: "unauthenticated plan limit 100-lookups/day"},
		{name: "not_routable", status: http.StatusBadRequest, file: "testdata/greynoise/bad_input.json",
			wantErr: provider.ErrBadInput, wantMsg: "Request is not a valid routable IPv4 address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if v, ok := r.Header["Key"]; ok {
					t.Errorf("request carries a key header %q without a configured key", v)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			p := newProvider(t, "greynoise", provider.Config{BaseURL: srv.URL})
			if !p.Configured() {
				t.Error("Configured() = false without a key; the key is optional")
			}
			res, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"})
			if tc.wantErr == nil {
				if err != nil || res == nil {
					t.Fatalf("Lookup = %v, %v; want a result", res, err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Lookup error = %v, want %v mentioning %q", err, tc.wantErr, tc.wantMsg)
			}
		})
	}
}
