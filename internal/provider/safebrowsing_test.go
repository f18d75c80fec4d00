package provider_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

const safeBrowsingKey = "safebrowsing-test-key-1729"

func safeBrowsingFind(urls ...string) providertest.Request {
	entries := ""
	for i, u := range urls {
		if i > 0 {
			entries += ","
		}
		entries += `{"url":"` + u + `"}`
	}
	return providertest.Request{Method: "POST", Path: "/threatMatches:find", Query: map[string][]string{"key": {safeBrowsingKey}},
		Header: map[string]string{"Accept": "application/json"},
		JSON: `{"client":{"clientId":"inspector-gadget","clientVersion":"2"},"threatInfo":{"threatTypes":["MALWARE","SOCIAL_ENGINEERING","UNWANTED_SOFTWARE","POTENTIALLY_HARMFUL_APPLICATION"],` +
			`"platformTypes":["ANY_PLATFORM"],"threatEntryTypes":["URL"],"threatEntries":[` + entries + `]}}`}
}

func TestSafeBrowsing(t *testing.T) {
	t.Parallel()
	u := func(v string) indicator.Indicator { return indicator.Indicator{Kind: indicator.URL, Value: v} }
	const malware = "http://testsafebrowsing.appspot.com/s/malware.html"
	providertest.Run(t, providertest.Suite{
		Provider: "safebrowsing",
		APIKey:   safeBrowsingKey,
		Probe:    u("https://example.org/"),
		Fixtures: []providertest.Fixture{
			{
				Name: "url_malware", Indicator: u(malware), File: "safebrowsing/url_malware.json", Want: safeBrowsingFind(malware),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.SafeBrowsingSummary{API: "safebrowsing", ThreatTypes: []string{"MALWARE"},
						Matches: []provider.SafeBrowsingMatch{{ThreatType: "MALWARE", Platform: "ANY_PLATFORM", URL: malware}}}
					if d := cmp.Diff(want, summaryOf[provider.SafeBrowsingSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 90, Reason: "Google Safe Browsing lists it as MALWARE"})
				},
			},
			{
				Name: "url_unwanted", Indicator: u("http://testsafebrowsing.appspot.com/s/unwanted.html"), File: "safebrowsing/url_unwanted.json",
				Want: safeBrowsingFind("http://testsafebrowsing.appspot.com/s/unwanted.html"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 60, Reason: "Google Safe Browsing lists it as UNWANTED_SOFTWARE"})
				},
			},
			{
				Name: "domain_home_pages", Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "testsafebrowsing.appspot.com"},
				File: "safebrowsing/url_malware.json", Want: safeBrowsingFind("http://testsafebrowsing.appspot.com/", "https://testsafebrowsing.appspot.com/"),
			},
			{Name: "no_match", Indicator: u("https://example.org/"), File: "safebrowsing/no_match.json", Want: safeBrowsingFind("https://example.org/"), WantErr: provider.ErrNotFound},
			{Name: "key_invalid", Indicator: u("https://example.org/"), File: "safebrowsing/key_invalid.json", Status: http.StatusBadRequest,
				Want: safeBrowsingFind("https://example.org/"), WantErr: provider.ErrAuth},
			{Name: "bad_request", Indicator: u("https://example.org/"), File: "safebrowsing/bad_request.json", Status: http.StatusBadRequest,
				Want: safeBrowsingFind("https://example.org/"), WantErr: provider.ErrBadInput},
			{Name: "quota", Indicator: u("https://example.org/"), File: "safebrowsing/rate_limited.json", Status: http.StatusTooManyRequests,
				Want: safeBrowsingFind("https://example.org/"), WantErr: provider.ErrRateLimited},
		},
	})
}

// TestSafeBrowsingWebRisk: a base URL ending in /v1 selects the commercial
// Web Risk API: GET /uris:search with the threat types, the URI and the key.
func TestSafeBrowsingWebRisk(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/safebrowsing/webrisk_malware.json")
	if err != nil {
		t.Fatal(err)
	}
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	p := newProvider(t, "safebrowsing", provider.Config{BaseURL: srv.URL + "/v1", APIKey: safeBrowsingKey})
	res, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.URL, Value: "http://testsafebrowsing.appspot.com/s/malware.html"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "GET" || got.URL.Path != "/v1/uris:search" {
		t.Errorf("request = %s %s, want GET /v1/uris:search", got.Method, got.URL.Path)
	}
	q := got.URL.Query()
	if d := cmp.Diff(map[string][]string{"threatTypes": {"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE"},
		"uri": {"http://testsafebrowsing.appspot.com/s/malware.html"}, "key": {safeBrowsingKey}}, map[string][]string(q)); d != "" {
		t.Errorf("query (-want +got):\n%s", d)
	}
	checkVerdict(t, res, provider.Assessment{Level: indicator.Malicious, Score: 90, Reason: "Google Web Risk lists it as MALWARE"})
}
