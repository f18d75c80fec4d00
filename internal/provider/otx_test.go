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

func TestOTX(t *testing.T) {
	t.Parallel()
	const key = "otx-test-key-31415"
	general := func(path string) providertest.Request {
		return providertest.Request{
			Method: "GET",
			Path:   path,
			Query:  map[string][]string{},
			Header: map[string]string{"X-OTX-API-KEY": key, "Accept": "application/json"},
		}
	}
	const (
		sha256 = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
		md5    = "ea372104f1e9f069068e3752b543c7b0"
		sha1   = "9f057d94c9b77d6286073dc5b5c382bcba67a3b2"
	)
	providertest.Run(t, providertest.Suite{
		Provider: "otx",
		APIKey:   key,
		Probe:    indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"},
		Fixtures: []providertest.Fixture{
			{
				// Whitelisted infrastructure that sits in pulses is BENIGN.
				Name:      "ipv4_whitelisted",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"},
				File:      "otx/ip_ok.json",
				Want:      general("/indicators/IPv4/8.8.8.8/general"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.OTXSummary{
						Indicator:       "8.8.8.8",
						Type:            "IPv4",
						PulseCount:      2,
						Pulses:          []string{"Example campaign", "Sandbox network activity"},
						Tags:            []string{"c2", "dns", "sandbox"},
						MalwareFamilies: []string{},
						Adversaries:     []string{},
						CountryCode:     "US",
						CountryName:     "United States",
						ASN:             "AS15169 google llc",
						Whitelisted:     true,
						Validation:      []provider.OTXValidation{{Source: "whitelist", Name: "Whitelisted IP", Message: "contained in whitelisted prefix"}},
					}
					if d := cmp.Diff(want, summaryOf[provider.OTXSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 5,
						Reason: "OTX validation: Whitelisted IP (2 OTX pulses mention it)"})
				},
			},
			{
				Name:      "ipv4_malicious",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.50"},
				File:      "otx/ip_malicious.json",
				Want:      general("/indicators/IPv4/203.0.113.50/general"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.OTXSummary{
						Indicator:  "203.0.113.50",
						Type:       "IPv4",
						PulseCount: 6,
						Pulses: []string{"Emotet C2 servers 2023-03", "Epoch 5 infrastructure", "Botnet tracker feed",
							"Malspam wave, invoice lures", "Honeypot SSH scanners"},
						Tags:            []string{"emotet", "c2", "botnet", "epoch5", "malspam", "ssh", "bruteforce"},
						MalwareFamilies: []string{"Emotet", "IcedID"},
						Adversaries:     []string{"Mummy Spider"},
						CountryCode:     "NL",
						CountryName:     "Netherlands",
						ASN:             "AS64500 example hosting",
						Validation:      []provider.OTXValidation{},
					}
					if d := cmp.Diff(want, summaryOf[provider.OTXSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 90,
						Reason: "6 OTX pulses mention it (malware: Emotet, IcedID)"})
				},
			},
			{
				// pulse_info.count 0 is a result without intel, not a not-found.
				Name:      "ipv6_no_pulses",
				Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"},
				File:      "otx/ipv6_no_pulses.json",
				Want:      general("/indicators/IPv6/2001:db8::1/general"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.OTXSummary](t, r)
					if s.PulseCount != 0 || s.Whitelisted || s.ASN != "" || len(s.Pulses) != 0 {
						t.Errorf("summary = %+v, want no pulses, no whitelist, no ASN", s)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "no OTX pulse mentions it"})
				},
			},
			{
				Name:      "domain_one_pulse",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "otx/domain_ok.json",
				Want:      general("/indicators/domain/evil.example/general"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.OTXSummary](t, r)
					if d := cmp.Diff([]string{"phishing", "credential-theft"}, s.Tags); d != "" {
						t.Errorf("tags (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 40,
						Reason: `1 OTX pulse mentions it: "Phishing kit hosting, March"`})
				},
			},
			{
				// OTX lists names under a registrable domain as hostnames:
				// a subdomain is asked as one, or its pulses are missed.
				Name:      "subdomain_as_hostname",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "login.evil.example.co.uk"},
				File:      "otx/domain_ok.json",
				Want:      general("/indicators/hostname/login.evil.example.co.uk/general"),
			},
			{
				Name:      "registrable_domain_under_a_two_label_suffix",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "example.co.uk"},
				File:      "otx/domain_ok.json",
				Want:      general("/indicators/domain/example.co.uk/general"),
			},
			{
				Name:      "anonymous_access_limited",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"},
				File:      "otx/anonymous_limited.json",
				Status:    http.StatusForbidden,
				Want:      general("/indicators/IPv4/8.8.8.8/general"),
				WantErr:   provider.ErrAuth,
			},
			{
				// A whitelist wins over pulses and malware families; the
				// reason names the first known-good validation entry.
				Name:      "domain_whitelisted",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "example.com"},
				File:      "otx/domain_whitelisted.json",
				Want:      general("/indicators/domain/example.com/general"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 5,
						Reason: "OTX validation: Akamai Popular Domain (4 OTX pulses mention it)"})
				},
			},
			{
				// The URL is one path segment: "/" and "?" are escaped.
				Name:      "url_with_family",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://evil.example/dl/get.php?id=1"},
				File:      "otx/url_ok.json",
				Want:      general("/indicators/url/http:%2F%2Fevil.example%2Fdl%2Fget.php%3Fid=1/general"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.OTXSummary](t, r)
					if d := cmp.Diff([]string{"Qakbot"}, s.MalwareFamilies); d != "" {
						t.Errorf("malware families (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 65,
						Reason: "1 OTX pulse mentions it (malware: Qakbot)"})
				},
			},
			{
				Name:      "sha256",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: sha256},
				File:      "otx/file_ok.json",
				Want:      general("/indicators/file/" + sha256 + "/general"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.OTXSummary](t, r)
					if s.Type != "FileHash-SHA256" || s.PulseCount != 3 {
						t.Errorf("type/pulseCount = %q/%d, want FileHash-SHA256/3", s.Type, s.PulseCount)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 75,
						Reason: "3 OTX pulses mention it (malware: AgentTesla)"})
				},
			},
			{
				Name:      "md5",
				Indicator: indicator.Indicator{Kind: indicator.MD5, Value: md5},
				File:      "otx/file_md5_ok.json",
				Want:      general("/indicators/file/" + md5 + "/general"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 50,
						Reason: `2 OTX pulses mention it: "Suspicious attachments"`})
				},
			},
			{
				Name:      "sha1_no_pulses",
				Indicator: indicator.Indicator{Kind: indicator.SHA1, Value: sha1},
				File:      "otx/file_sha1_no_pulses.json",
				Want:      general("/indicators/file/" + sha1 + "/general"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "no OTX pulse mentions it"})
				},
			},
			{
				// A malformed indicator gives 400 or 404 (body undocumented).
				Name:      "not_found",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "unknown.example"},
				Status:    http.StatusNotFound,
				Want:      general("/indicators/domain/unknown.example/general"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "bad_input",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "bad.example"},
				Status:    http.StatusBadRequest,
				Want:      general("/indicators/domain/bad.example/general"),
				WantErr:   provider.ErrBadInput,
			},
		},
	})
}

// TestOTXWithoutKey checks the anonymous mode: no X-OTX-API-KEY header.
func TestOTXWithoutKey(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := r.Header["X-Otx-Api-Key"]; ok {
			t.Errorf("request carries X-OTX-API-KEY %q without a configured key", v)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"indicator":"8.8.8.8","type":"IPv4","validation":[],"pulse_info":{"count":0,"pulses":[]}}`))
	}))
	defer srv.Close()
	p := newProvider(t, "otx", provider.Config{BaseURL: srv.URL})
	if !p.Configured() {
		t.Error("Configured() = false without a key; the key is optional")
	}
	if _, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"}); err != nil {
		t.Fatalf("Lookup error = %v, want a result", err)
	}
}

// OTX's refusal of anonymous calls is reported as what it is, not as a
// refused key, and says how to fix it.
func TestOTXAnonymousAccessLimited(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/otx/anonymous_limited.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		srv := fixtureServer(t, status, nil, string(body), nil)
		_, err := newProvider(t, "otx", provider.Config{BaseURL: srv.URL}).Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"})
		var pe *provider.Error
		if !errors.As(err, &pe) || !errors.Is(err, provider.ErrAuth) {
			t.Fatalf("HTTP %d: error = %v, want an ErrAuth *provider.Error", status, err)
		}
		for _, want := range []string{"anonymous", "Anonymous access to this endpoint is limited", "GADGET_OTX_API_KEY"} {
			if !strings.Contains(pe.Message, want) {
				t.Errorf("HTTP %d: message %q does not say %q", status, pe.Message, want)
			}
		}
		if strings.Contains(pe.Message, "refused the API key") {
			t.Errorf("HTTP %d: message %q blames a key that was never sent", status, pe.Message)
		}
	}
}
