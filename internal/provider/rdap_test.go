package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

const rdapAccept = "application/rdap+json, application/json"

func TestRDAP(t *testing.T) {
	v4 := indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"}
	apnic := indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"}
	v6 := indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"}
	domain := indicator.Indicator{Kind: indicator.Domain, Value: "example.com"}
	young := indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"}
	rdapJSON := http.Header{"Content-Type": {"application/rdap+json"}}
	want := func(path string) providertest.Request {
		return providertest.Request{
			Method: http.MethodGet,
			Path:   path,
			Query:  url.Values{},
			Header: map[string]string{"Accept": rdapAccept},
		}
	}
	checkSummary := func(want *provider.RDAPSummary, reason string) func(*testing.T, *provider.Result) {
		return func(t *testing.T, r *provider.Result) {
			if diff := cmp.Diff(want, r.Summary); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if reason == "" {
				return
			}
			checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: reason})
		}
	}
	ptrue, pfalse := true, false

	providertest.Run(t, providertest.Suite{
		Provider: "rdap",
		Probe:    v4,
		Fixtures: []providertest.Fixture{
			{
				Name: "ip_ok_arin", Indicator: v4, File: "rdap/ip_ok.json", Header: rdapJSON, Want: want("/ip/8.8.8.8"),
				Check: checkSummary(&provider.RDAPSummary{
					ObjectClass:  "ip network",
					Handle:       "NET-8-8-8-0-2",
					Status:       []string{"active"},
					Name:         "GOGL",
					Type:         "DIRECT ALLOCATION",
					StartAddress: "8.8.8.0",
					EndAddress:   "8.8.8.255",
					IPVersion:    "v4",
					CIDRs:        []string{"8.8.8.0/24"},
					ParentHandle: "NET-8-0-0-0-0",
					Registrant:   &provider.RDAPContact{Handle: "GOGL", Name: "Google LLC"},
					Abuse:        &provider.RDAPContact{Handle: "ABUSE5250-ARIN", Name: "Abuse", Email: "network-abuse@google.com"},
					Registered:   time.Date(2023, 12, 28, 22, 24, 33, 0, time.UTC),
					LastChanged:  time.Date(2023, 12, 28, 22, 24, 56, 0, time.UTC),
					Port43:       "whois.arin.net",
				}, "8.8.8.0/24 GOGL (Google LLC)"),
			},
			{
				Name: "ip_ok_apnic", Indicator: apnic, File: "rdap/ip_apnic_ok.json", Header: rdapJSON, Want: want("/ip/1.1.1.1"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.RDAPSummary](t, r)
					wantAbuse := &provider.RDAPContact{Handle: "IRT-APNICRANDNET-AU", Name: "IRT-APNICRANDNET-AU", Email: "helpdesk@apnic.net"}
					if diff := cmp.Diff(wantAbuse, s.Abuse); diff != "" {
						t.Errorf("abuse (-want +got):\n%s", diff)
					}
					if want := "1.1.1.0/24 APNIC-LABS (APNIC Research and Development), AU"; r.Verdict.Reason != want {
						t.Errorf("reason = %q, want %q", r.Verdict.Reason, want)
					}
				},
			},
			{
				Name: "ipv6_ok", Indicator: v6, File: "rdap/ipv6_ok.json", Header: rdapJSON, Want: want("/ip/2001:db8::1"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.RDAPSummary](t, r)
					if !cmp.Equal(s.CIDRs, []string{"2001:db8::/32"}) || s.Country != "NL" {
						t.Errorf("CIDRs/Country = %v/%q, want [2001:db8::/32]/NL", s.CIDRs, s.Country)
					}
					// The abuse contact is nested inside the registrant entity.
					if s.Abuse == nil || s.Abuse.Email != "abuse@example.net" {
						t.Errorf("Abuse = %+v, want abuse@example.net", s.Abuse)
					}
				},
			},
			{
				Name: "domain_ok", Indicator: domain, File: "rdap/domain_ok.json", Header: rdapJSON, Want: want("/domain/example.com"),
				Check: checkSummary(&provider.RDAPSummary{
					ObjectClass: "domain",
					Handle:      "2336799_DOMAIN_COM-VRSN",
					Status:      []string{"client delete prohibited", "client transfer prohibited", "client update prohibited"},
					LDHName:     "example.com",
					Nameservers: []string{"a.iana-servers.net", "b.iana-servers.net"},
					DNSSEC:      &ptrue,
					Registrar:   &provider.RDAPContact{Handle: "376", Name: "RESERVED-Internet Assigned Numbers Authority", IANAID: "376"},
					Abuse:       &provider.RDAPContact{Email: "abuse@iana.org"},
					Registered:  time.Date(1995, 8, 14, 4, 0, 0, 0, time.UTC),
					LastChanged: time.Date(2025, 8, 14, 7, 1, 39, 0, time.UTC),
					Expires:     time.Date(2026, 8, 13, 4, 0, 0, 0, time.UTC),
				}, "example.com registered 1995-08-14 via RESERVED-Internet Assigned Numbers Authority"),
			},
			{
				// The verdict depends on the clock; TestRDAPDomainAge pins it.
				Name: "domain_new", Indicator: young, File: "rdap/domain_new.json", Header: rdapJSON, Want: want("/domain/evil.example"),
				Check: checkSummary(&provider.RDAPSummary{
					ObjectClass: "domain",
					Handle:      "D503300000123456789-LROR",
					Status:      []string{"client transfer prohibited", "server hold"},
					LDHName:     "evil.example",
					Nameservers: []string{"ns1.bulletproof.example", "ns2.bulletproof.example"},
					DNSSEC:      &pfalse,
					Registrar:   &provider.RDAPContact{Handle: "9999", Name: "Example Registrar, LLC", IANAID: "9999"},
					Abuse:       &provider.RDAPContact{Name: "Abuse Desk", Email: "abuse@registrar.example"},
					Registered:  time.Date(2026, 11, 23, 10, 12, 44, 0, time.UTC),
					LastChanged: time.Date(2026, 11, 24, 6, 0, 3, 0, time.UTC),
					Expires:     time.Date(2027, 11, 23, 10, 12, 44, 0, time.UTC),
				}, ""),
			},
			{Name: "ip_not_found", Indicator: v6, File: "rdap/not_found.json", Status: http.StatusNotFound, Header: rdapJSON, Want: want("/ip/2001:db8::1"), WantErr: provider.ErrNotFound},
			{Name: "domain_not_found", Indicator: young, File: "rdap/not_found.json", Status: http.StatusNotFound, Header: rdapJSON, Want: want("/domain/evil.example"), WantErr: provider.ErrNotFound},
			{
				// rdap.org answers 404 without an RDAP body when it knows no server for the name.
				Name: "no_rdap_server", Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "example.zz"}, Status: http.StatusNotFound,
				Header: http.Header{"Content-Type": {"text/plain"}}, Want: want("/domain/example.zz"), WantErr: provider.ErrNotFound,
			},
			{
				Name: "rate_limited", Indicator: v4, File: "rdap/rate_limited.json", Status: http.StatusTooManyRequests,
				Header: http.Header{"Content-Type": {"application/rdap+json"}, "Retry-After": {"60"}}, Want: want("/ip/8.8.8.8"), WantErr: provider.ErrRateLimited,
			},
			{Name: "bad_request", Indicator: v4, File: "rdap/bad_request.json", Status: http.StatusBadRequest, Header: rdapJSON, Want: want("/ip/8.8.8.8"), WantErr: provider.ErrBadInput},
			{Name: "unsupported_kind", Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://example.com/"}, WantErr: provider.ErrBadInput},
		},
	})
}

func newRDAP(t *testing.T, baseURL string) provider.Provider {
	t.Helper()
	return newProvider(t, "rdap", provider.Config{BaseURL: baseURL, Timeout: 5 * time.Second})
}

func readRDAPFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/rdap/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A domain registered in the last 30 days is SUSPICIOUS; the clock is pinned.
func TestRDAPDomainAge(t *testing.T) {
	t.Parallel()
	body := readRDAPFixture(t, "domain_new.json") // registered 2026-11-23T10:12:44Z
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/rdap+json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close) // the subtests run in parallel, after this function returns
	registered := time.Date(2026, 11, 23, 10, 12, 44, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want provider.Assessment
	}{
		{"same day", registered.Add(3 * time.Hour), provider.Assessment{Level: indicator.Suspicious, Score: 50, Reason: "registered 0 days ago"}},
		{"one day", registered.Add(30 * time.Hour), provider.Assessment{Level: indicator.Suspicious, Score: 50, Reason: "registered 1 day ago"}},
		{"five days", registered.Add(5*24*time.Hour + time.Minute), provider.Assessment{Level: indicator.Suspicious, Score: 50, Reason: "registered 5 days ago"}},
		{"29 days", registered.Add(29*24*time.Hour + 23*time.Hour), provider.Assessment{Level: indicator.Suspicious, Score: 50, Reason: "registered 29 days ago"}},
		{"30 days", registered.Add(30 * 24 * time.Hour), provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "evil.example registered 2026-11-23 via Example Registrar, LLC"}},
		{"clock behind the registry", registered.Add(-time.Hour), provider.Assessment{Level: indicator.Suspicious, Score: 50, Reason: "registered 0 days ago"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newRDAP(t, srv.URL)
			provider.SetRDAPClock(p, func() time.Time { return tt.now })
			res, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"})
			if err != nil {
				t.Fatal(err)
			}
			checkVerdict(t, res, tt.want)
		})
	}
}

// rdap.org redirects to the authoritative server; the lookup follows the
// redirect with the Accept and User-Agent headers intact (and nothing
// else), on the same host and across hosts to a public https registry
// (served offline by hostRouter).
func TestRDAPFollowsRedirects(t *testing.T) {
	t.Parallel()
	body := readRDAPFixture(t, "ip_ok.json")
	type seen struct {
		path, accept, ua string
		n                int
	}
	var (
		mu   sync.Mutex
		reqs []seen
	)
	record := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		reqs = append(reqs, seen{r.URL.Path, r.Header.Get("Accept"), r.Header.Get("User-Agent"), len(r.Header)})
	}
	registry := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "application/rdap+json")
		_, _ = w.Write(body)
	})
	bootstrap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch {
		case strings.HasPrefix(r.URL.Path, "/base/ip/"):
			// same host, another path (rdap.org → its own canonical path)
			http.Redirect(w, r, "/registry/ip/8.8.8.8", http.StatusFound)
		case r.URL.Path == "/registry/ip/8.8.8.8":
			// another host (the RIR)
			http.Redirect(w, r, "https://203.0.113.40/rdap/ip/8.8.8.8", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer bootstrap.Close()

	p := newProvider(t, "rdap", provider.Config{BaseURL: bootstrap.URL + "/base", Timeout: 5 * time.Second,
		Transport: hostRouter{"203.0.113.40": registry}})
	res, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"})
	if err != nil {
		t.Fatalf("Lookup = %v", err)
	}
	if res.StatusCode != http.StatusOK || res.Bytes != int64(len(body)) {
		t.Errorf("StatusCode/Bytes = %d/%d, want 200/%d (the final answer's)", res.StatusCode, res.Bytes, len(body))
	}
	if s := summaryOf[provider.RDAPSummary](t, res); s.Handle != "NET-8-8-8-0-2" {
		t.Errorf("Handle = %q, want NET-8-8-8-0-2", s.Handle)
	}
	mu.Lock()
	defer mu.Unlock()
	wantPaths := []string{"/base/ip/8.8.8.8", "/registry/ip/8.8.8.8", "/rdap/ip/8.8.8.8"}
	if len(reqs) != len(wantPaths) {
		t.Fatalf("requests = %+v, want %d hops", reqs, len(wantPaths))
	}
	for i, q := range reqs {
		if q.path != wantPaths[i] {
			t.Errorf("hop %d path = %q, want %q", i, q.path, wantPaths[i])
		}
		if q.accept != rdapAccept {
			t.Errorf("hop %d (%s) Accept = %q, want %q", i, q.path, q.accept, rdapAccept)
		}
		if q.ua == "" || strings.HasPrefix(q.ua, "Go-http-client") {
			t.Errorf("hop %d (%s) User-Agent = %q, want the identifying one", i, q.path, q.ua)
		}
	}
	if reqs[2].n != 2 { // the recorder sees the headers the client set: Accept, User-Agent
		t.Errorf("cross-host hop carries %d headers, want Accept and User-Agent only", reqs[2].n)
	}
}

// A redirect to an authoritative server that answers 404 is not found.
func TestRDAPRedirectToNotFound(t *testing.T) {
	t.Parallel()
	nf := readRDAPFixture(t, "not_found.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/domain/example.com" {
			http.Redirect(w, r, "/registry/domain/example.com", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/rdap+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(nf)
	}))
	defer srv.Close()
	_, err := newRDAP(t, srv.URL).Lookup(context.Background(), indicator.Indicator{Kind: indicator.Domain, Value: "example.com"})
	var pe *provider.Error
	if !errors.As(err, &pe) || pe.Kind != provider.ErrNotFound || string(pe.Raw) != string(nf) {
		t.Errorf("Lookup error = %v, want not found carrying the RDAP error body", err)
	}
}
