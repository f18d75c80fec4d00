package provider_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestURLScan(t *testing.T) {
	const key = "urlscan-test-key-8d21"
	domain := indicator.Indicator{Kind: indicator.Domain, Value: "example.com"}
	ip := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.7"}
	phish := indicator.Indicator{Kind: indicator.URL, Value: "http://login.evil.example/account/verify?id=42"}
	const domainQ = `page.domain:"example.com" OR page.domain:"www.example.com"`
	want := func(q string) providertest.Request {
		return providertest.Request{
			Method: http.MethodGet,
			Path:   "/search/",
			Query:  url.Values{"q": {q}, "size": {"100"}},
			Header: map[string]string{"API-Key": key, "Accept": "application/json"},
		}
	}
	quotaHeaders := http.Header{
		"X-Rate-Limit-Scope":       {"user"},
		"X-Rate-Limit-Action":      {"search"},
		"X-Rate-Limit-Window":      {"minute"},
		"X-Rate-Limit-Limit":       {"30"},
		"X-Rate-Limit-Remaining":   {"24"},
		"X-Rate-Limit-Reset":       {"2025-05-18T20:19:00.000Z"},
		"X-Rate-Limit-Reset-After": {"17"},
	}

	providertest.Run(t, providertest.Suite{
		Provider: "urlscan",
		APIKey:   key,
		Probe:    domain,
		Fixtures: []providertest.Fixture{
			{
				Name: "domain_ok", Indicator: domain, File: "urlscan/domain_ok.json", Header: quotaHeaders,
				Want: want(domainQ),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.URLScanSummary](t, r)
					if s.Query != domainQ || s.Total != 3 || s.HasMore || len(s.Scans) != 3 {
						t.Errorf("query/total/hasMore/scans = %q/%d/%t/%d, want %s/3/false/3", s.Query, s.Total, s.HasMore, len(s.Scans), domainQ)
					}
					if want := time.Date(2021, 1, 24, 12, 6, 24, 950e6, time.UTC); !s.FirstSeen.Equal(want) {
						t.Errorf("FirstSeen = %s, want %s", s.FirstSeen, want)
					}
					if want := time.Date(2025, 5, 18, 9, 41, 7, 312e6, time.UTC); !s.LastSeen.Equal(want) {
						t.Errorf("LastSeen = %s, want %s", s.LastSeen, want)
					}
					if diff := cmp.Diff([]string{"test"}, s.Tags); diff != "" {
						t.Errorf("Tags (-want +got):\n%s", diff)
					}
					if s.FlaggedScans != 0 || len(s.FlaggedTags) != 0 {
						t.Errorf("FlaggedScans/FlaggedTags = %d/%v, want none", s.FlaggedScans, s.FlaggedTags)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "seen in 3 urlscan scans"})
					wantQuota := &provider.Quota{Limit: 30, Remaining: 24, Reset: time.Date(2025, 5, 18, 20, 19, 0, 0, time.UTC)}
					if diff := cmp.Diff(wantQuota, r.Quota); diff != "" {
						t.Errorf("quota (-want +got):\n%s", diff)
					}
				},
			},
			{
				Name: "ip_ok", Indicator: ip, File: "urlscan/ip_ok.json",
				Want: want(`page.ip:"198.51.100.7"`),
				Check: func(t *testing.T, r *provider.Result) {
					wantSum := &provider.URLScanSummary{
						Query:          `page.ip:"198.51.100.7"`,
						Total:          1,
						FirstSeen:      time.Date(2021, 1, 24, 12, 6, 24, 950e6, time.UTC),
						OldestReturned: time.Date(2021, 1, 24, 12, 6, 24, 950e6, time.UTC),
						LastSeen:       time.Date(2021, 1, 24, 12, 6, 24, 950e6, time.UTC),
						Tags:           []string{},
						FlaggedTags:    []string{},
						Scans: []provider.URLScanScan{{
							UUID:       "14a15941-8835-47e6-b815-77b7d4a48c34",
							Time:       time.Date(2021, 1, 24, 12, 6, 24, 950e6, time.UTC),
							URL:        "http://www.example.com",
							PageURL:    "http://www.example.com/",
							Domain:     "www.example.com",
							IP:         "198.51.100.7",
							ASN:        "AS64500",
							Country:    "US",
							Server:     "nginx",
							Status:     "200",
							Title:      "Example",
							Visibility: "public",
							Result:     "https://urlscan.io/api/v1/result/14a15941-8835-47e6-b815-77b7d4a48c34/",
							ReportURL:  "https://urlscan.io/result/14a15941-8835-47e6-b815-77b7d4a48c34/",
							Screenshot: "https://urlscan.io/screenshots/14a15941-8835-47e6-b815-77b7d4a48c34.png",
						}},
					}
					if diff := cmp.Diff(wantSum, r.Summary); diff != "" {
						t.Errorf("summary (-want +got):\n%s", diff)
					}
					if r.Verdict.Reason != "seen in 1 urlscan scan" || r.Verdict.Level != indicator.Unknown {
						t.Errorf("verdict = %+v, want UNKNOWN \"seen in 1 urlscan scan\"", r.Verdict)
					}
					if r.Quota != nil {
						t.Errorf("Quota = %+v without quota headers, want nil", r.Quota)
					}
				},
			},
			{
				Name: "url_ok_tagged_phishing", Indicator: phish, File: "urlscan/url_ok.json",
				Want: want(`page.url:"http://login.evil.example/account/verify?id=42" OR task.url:"http://login.evil.example/account/verify?id=42"`),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.URLScanSummary](t, r)
					if s.FlaggedScans != 1 || !cmp.Equal(s.FlaggedTags, []string{"phishing"}) {
						t.Errorf("FlaggedScans/FlaggedTags = %d/%v, want 1/[phishing]", s.FlaggedScans, s.FlaggedTags)
					}
					if s.Scans[0].UUID != "a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d" || s.Scans[0].Title != "Sign in to your account" {
						t.Errorf("most recent scan = %+v", s.Scans[0])
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 40, Reason: "seen in 2 urlscan scans; 1 tagged phishing by their submitters"})
				},
			},
			{
				Name: "url_with_quote_and_backslash", Indicator: indicator.Indicator{Kind: indicator.URL, Value: `http://evil.example/a"b\c`},
				File: "urlscan/not_found.json",
				Want: want(`page.url:"http://evil.example/a\"b\\c" OR task.url:"http://evil.example/a\"b\\c"`), WantErr: provider.ErrNotFound,
			},
			{Name: "domain_not_found", Indicator: domain, File: "urlscan/not_found.json", Header: quotaHeaders, Want: want(domainQ), WantErr: provider.ErrNotFound},
			{Name: "bad_query", Indicator: domain, File: "urlscan/bad_query.json", Status: http.StatusBadRequest, Want: want(domainQ), WantErr: provider.ErrBadInput},
			{Name: "auth", Indicator: domain, File: "urlscan/auth.json", Status: http.StatusUnauthorized, Want: want(domainQ), WantErr: provider.ErrAuth},
			{
				Name: "rate_limited", Indicator: domain, File: "urlscan/rate_limited.json", Status: http.StatusTooManyRequests,
				Header: http.Header{"X-Rate-Limit-Limit": {"30"}, "X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset-After": {"17"}},
				Want:   want(domainQ), WantErr: provider.ErrRateLimited,
			},
			{Name: "unsupported_kind", Indicator: indicator.Indicator{Kind: indicator.MD5, Value: "ea372104f1e9f069068e3752b543c7b0"}, WantErr: provider.ErrBadInput},
		},
	})
}

func newURLScan(t *testing.T, baseURL, key string) provider.Provider {
	t.Helper()
	return newProvider(t, "urlscan", provider.Config{BaseURL: baseURL, APIKey: key, Timeout: 5 * time.Second})
}

// The key is optional: without one, no API-Key header is sent at all.
func TestURLScanWithoutKey(t *testing.T) {
	t.Parallel()
	seen := make(chan *http.Request, 1)
	srv := fixtureServer(t, http.StatusOK, nil, `{"results":[],"total":0,"has_more":false}`, seen)
	p := newURLScan(t, srv.URL, "")
	if !p.Configured() {
		t.Error("Configured() = false without a key; the key is optional")
	}
	_, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.Domain, Value: "example.com"})
	if !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Lookup error = %v, want not found", err)
	}
	req := <-seen
	if v, ok := req.Header["Api-Key"]; ok {
		t.Errorf("API-Key header sent without a key: %q", v)
	}
}

// On a 429 without Retry-After or X-Rate-Limit-Reset-After, the wait comes
// from X-Rate-Limit-Reset.
func TestURLScanRetryAfterFromReset(t *testing.T) {
	t.Parallel()
	reset := time.Now().Add(42 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	srv := fixtureServer(t, http.StatusTooManyRequests, http.Header{
		"X-Rate-Limit-Limit": {"30"}, "X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {reset},
	}, `{"status":429,"message":"Rate limit exceeded"}`, nil)
	p := newURLScan(t, srv.URL, "k")
	_, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.1"})
	var pe *provider.Error
	if !errors.As(err, &pe) || !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("Lookup error = %v, want a rate-limited *provider.Error", err)
	}
	if pe.RetryAfter < 40*time.Second || pe.RetryAfter > 43*time.Second {
		t.Errorf("RetryAfter = %s, want about 42s from X-Rate-Limit-Reset", pe.RetryAfter)
	}
}

// X-Rate-Limit-Reset-After wins over the reset time on a 429.
func TestURLScanRetryAfterFromResetAfter(t *testing.T) {
	t.Parallel()
	srv := fixtureServer(t, http.StatusTooManyRequests, http.Header{
		"X-Rate-Limit-Reset":       {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)},
		"X-Rate-Limit-Reset-After": {"17"},
	}, `{"status":429}`, nil)
	p := newURLScan(t, srv.URL, "k")
	_, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.1"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.RetryAfter != 17*time.Second {
		t.Fatalf("Lookup error = %v, want rate limited with RetryAfter 17s", err)
	}
}

// A full page lists the ten most recent scans, and has_more shows in the
// reason as "N+".
func TestURLScanManyScans(t *testing.T) {
	t.Parallel()
	var results []string
	for i := range 12 {
		ts := time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		results = append(results, fmt.Sprintf(`{"task":{"time":%q,"uuid":"u%02d","url":"http://example.com/"},"page":{"domain":"example.com"}}`, ts, i))
	}
	body := `{"results":[` + strings.Join(results, ",") + `],"total":10000,"has_more":true}`
	srv := fixtureServer(t, http.StatusOK, nil, body, nil)
	res, err := newURLScan(t, srv.URL, "").Lookup(context.Background(), indicator.Indicator{Kind: indicator.Domain, Value: "example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s := summaryOf[provider.URLScanSummary](t, res)
	if len(s.Scans) != 10 || s.Scans[0].UUID != "u11" || s.Scans[9].UUID != "u02" {
		t.Errorf("scans: %d, first %q, last %q; want 10 from u11 down to u02", len(s.Scans), s.Scans[0].UUID, s.Scans[len(s.Scans)-1].UUID)
	}
	// Only the newest 100 of 10000+ scans were returned: the oldest of them
	// is not the first seen.
	if !s.FirstSeen.IsZero() {
		t.Errorf("FirstSeen = %s, want none: older scans were not returned", s.FirstSeen)
	}
	if want := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); !s.OldestReturned.Equal(want) {
		t.Errorf("OldestReturned = %s, want the oldest returned scan %s", s.OldestReturned, want)
	}
	if want := "seen in 10000+ urlscan scans"; res.Verdict.Reason != want {
		t.Errorf("reason = %q, want %q", res.Verdict.Reason, want)
	}
}

// urlscanScan is one search result in the shape urlscan's search API
// documents (https://docs.urlscan.io/apis/urlscan-openapi/search): task,
// page and, when urlscan has judged the scan, verdicts. Values are made up.
func urlscanScan(uuid, taskURL, pageDomain, pageIP string, tags []string, malicious bool) string {
	tagJSON := "[]"
	if len(tags) > 0 {
		tagJSON = `["` + strings.Join(tags, `","`) + `"]`
	}
	return fmt.Sprintf(`{"task":{"visibility":"public","method":"api","time":"2026-11-0%cT10:00:00.000Z","uuid":%q,"url":%q,"tags":%s},`+
		`"page":{"domain":%q,"ip":%q,"url":%q,"country":"US","status":"200"},"_id":%q,`+
		`"verdicts":{"malicious":%t,"score":%d}}`,
		uuid[len(uuid)-1], uuid, taskURL, tagJSON, pageDomain, pageIP, taskURL, uuid, malicious, map[bool]int{true: 100}[malicious])
}

// Only scans of the looked-up host itself count, urlscan's own verdict is
// read, and a tag counts only when a whole word names a threat: the issue's
// false alarms (a popular domain or a CDN address SUSPICIOUS because some
// phishing page loaded a resource from it, or because a feed's handle
// contains "phish") stay UNKNOWN.
func TestURLScanVerdictOnTheHostOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ind   indicator.Indicator
		scans []string
		want  provider.Assessment
		off   int // flagged scans of other hosts
	}{
		{
			name: "popular domain, feed handle and a flagged subdomain",
			ind:  indicator.Indicator{Kind: indicator.Domain, Value: "wikipedia.org"},
			scans: []string{
				urlscanScan("u1", "https://wikipedia.org/", "wikipedia.org", "198.51.100.10", []string{"@phishunt_io", "antiphishing-test"}, false),
				urlscanScan("u2", "https://www.wikipedia.org/", "www.wikipedia.org", "198.51.100.10", nil, false),
				urlscanScan("u3", "https://evil.wikipedia.org/login", "evil.wikipedia.org", "198.51.100.66", []string{"phishing"}, true),
			},
			want: provider.Assessment{Level: indicator.Unknown, Reason: "seen in 3 urlscan scans"},
			off:  1,
		},
		{
			name: "CDN address: a phishing site served from it is not the address",
			ind:  indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.10"},
			scans: []string{
				urlscanScan("u1", "https://login-micros0ft.example/", "login-micros0ft.example", "198.51.100.10", []string{"phishing", "microsoft"}, true),
				urlscanScan("u2", "https://shop.example/", "shop.example", "198.51.100.10", nil, false),
			},
			want: provider.Assessment{Level: indicator.Unknown, Reason: "seen in 2 urlscan scans"},
			off:  1,
		},
		{
			name: "address scanned as itself and tagged",
			ind:  indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.10"},
			scans: []string{
				urlscanScan("u1", "http://198.51.100.10/bins/x86", "198.51.100.10", "198.51.100.10", []string{"malware-download"}, false),
			},
			want: provider.Assessment{Level: indicator.Suspicious, Score: 40, Reason: "seen in 1 urlscan scan; 1 tagged malware-download by their submitters"},
		},
		{
			name: "urlscan's own verdict on the URL",
			ind:  indicator.Indicator{Kind: indicator.URL, Value: "https://login-micros0ft.example/"},
			scans: []string{
				urlscanScan("u1", "https://login-micros0ft.example/", "login-micros0ft.example", "198.51.100.10", nil, true),
				urlscanScan("u2", "https://login-micros0ft.example", "login-micros0ft.example", "198.51.100.10", []string{"#phishing"}, true),
			},
			want: provider.Assessment{Level: indicator.Malicious, Score: 75, Reason: "seen in 2 urlscan scans; urlscan judged 2 of them malicious"},
		},
		{
			name: "urlscan's own verdict on an address is SUSPICIOUS at most",
			ind:  indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.10"},
			scans: []string{
				urlscanScan("u1", "http://198.51.100.10/", "198.51.100.10", "198.51.100.10", nil, true),
			},
			want: provider.Assessment{Level: indicator.Suspicious, Score: 50, Reason: "seen in 1 urlscan scan; urlscan judged 1 of them malicious"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := fmt.Sprintf(`{"results":[%s],"total":%d,"took":9,"has_more":false}`, strings.Join(tt.scans, ","), len(tt.scans))
			srv := fixtureServer(t, http.StatusOK, nil, body, nil)
			res, err := newURLScan(t, srv.URL, "").Lookup(context.Background(), tt.ind)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res.Verdict); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			if s := summaryOf[provider.URLScanSummary](t, res); s.OffHostFlagged != tt.off {
				t.Errorf("OffHostFlagged = %d, want %d", s.OffHostFlagged, tt.off)
			}
		})
	}
}
