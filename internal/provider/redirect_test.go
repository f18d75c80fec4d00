package provider_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// sampleOf is a public value of each kind, for lookups that only need to
// reach the upstream.
var sampleOf = map[indicator.Kind]string{
	indicator.IPv4:   "8.8.8.8",
	indicator.IPv6:   "2001:4860:4860::8888",
	indicator.Domain: "example.com",
	indicator.URL:    "http://example.com/a",
	indicator.MD5:    "ea372104f1e9f069068e3752b543c7b0",
	indicator.SHA1:   "9f057d94c9b77d6286073dc5b5c382bcba67a3b2",
	indicator.SHA256: "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f",
}

// internalService stands for an internal JSON endpoint (a metadata or
// stats service) that a redirect might point at; it counts its requests and
// records their headers.
type internalService struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	headers []http.Header
}

func newInternalService(t *testing.T) *internalService {
	t.Helper()
	s := &internalService{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"secret":"internal-credentials","calls":{"x":1}}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// redirector answers every request with a 302 to target plus the request's
// path and query (as the redteam's redirect server did).
func redirector(t *testing.T, target string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// No provider but RDAP follows a redirect: an upstream that answers 302 to
// an internal service gets an upstream error, the internal service is never
// asked (so its body cannot come back as provider data), and neither the
// key (in a header or, for Shodan, in the query and so in Referer) nor the
// Location reaches another host or the error. Redteam E6/E7: before, every
// client followed 10 redirects anywhere with the key headers and Referer.
func TestProvidersDoNotFollowRedirects(t *testing.T) {
	t.Parallel()
	const key = "secret-key-e7-12345"
	for _, d := range provider.Descriptors() {
		if d.Redirects != provider.RedirectNone || d.NotHTTP || d.Local {
			continue // a provider over DNS has no redirects to follow; a local provider's downloads are checked by its own test
		}
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			internal := newInternalService(t)
			up := redirector(t, internal.URL)
			p := newProvider(t, d.Name, provider.Config{BaseURL: up.URL, APIKey: key, Timeout: 5 * time.Second})
			ind := indicator.Indicator{Kind: d.Kinds[0], Value: sampleOf[d.Kinds[0]]}
			res, err := p.Lookup(context.Background(), ind)
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Kind != provider.ErrUpstream {
				t.Fatalf("Lookup = %+v, %v; want an upstream error", res, err)
			}
			if pe.StatusCode != http.StatusFound || len(pe.Raw) != 0 {
				t.Errorf("error status/raw = %d/%q, want 302 and no body", pe.StatusCode, pe.Raw)
			}
			if n := internal.hits.Load(); n != 0 {
				t.Errorf("internal service asked %d times (headers %v), want 0", n, internal.headers)
			}
			if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), internal.URL) {
				t.Errorf("error %q carries the key or the redirect target", err)
			}
		})
	}
}

// hostRouter is a RoundTripper that answers for made-up public hosts from
// handlers and sends everything else to the default transport, so that
// redirects to "public" https hosts can be tested offline.
type hostRouter map[string]http.Handler

func (h hostRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	if hd, ok := h[r.URL.Host]; ok {
		rec := httptest.NewRecorder()
		hd.ServeHTTP(rec, r)
		return rec.Result(), nil
	}
	return http.DefaultTransport.RoundTrip(r)
}

// RDAP follows rdap.org's redirect only to public https hosts; a redirect
// to an internal address (by literal, by name or over plain http), to a
// URL with credentials, or one hop too many is refused and the target is
// never asked.
func TestRDAPRefusesInternalRedirects(t *testing.T) {
	t.Parallel()
	internal := newInternalService(t)
	tlsInternal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internal.hits.Add(1)
		_, _ = io.WriteString(w, `{"secret":"x"}`)
	}))
	t.Cleanup(tlsInternal.Close)
	port := tlsInternal.URL[strings.LastIndex(tlsInternal.URL, ":")+1:]
	loop := func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://203.0.113.10/again"+r.URL.Path, http.StatusFound)
	}
	tests := []struct{ name, target string }{
		{"http internal", internal.URL},
		{"https loopback", tlsInternal.URL},
		{"https localhost by name", "https://localhost:" + port},
		{"https private", "https://10.1.2.3"},
		{"https link-local metadata", "https://169.254.169.254"},
		{"https internal domain", "https://rdap.corp"},
		{"https ipv4-mapped loopback", "https://[::ffff:127.0.0.1]:" + port},
		{"http public", "http://203.0.113.10"},
		{"credentials", "https://user:pw@203.0.113.10"},
		{"too many hops", "https://203.0.113.10/again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			up := redirector(t, tt.target)
			public := 0
			tr := hostRouter{"203.0.113.10": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				public++
				loop(w, r)
			})}
			p := newProvider(t, "rdap", provider.Config{BaseURL: up.URL, Timeout: 5 * time.Second, Transport: tr})
			_, err := p.Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"})
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Kind != provider.ErrUpstream || !strings.Contains(pe.Message, "redirect not followed") {
				t.Fatalf("Lookup error = %v, want an upstream error for the refused redirect", err)
			}
			if strings.Contains(err.Error(), tt.target) {
				t.Errorf("error %q names the redirect target", err)
			}
			if tt.name == "too many hops" && public == 0 {
				t.Errorf("the public host was never asked; want hops up to the limit")
			}
		})
	}
	t.Cleanup(func() { // after the parallel subtests
		if n := internal.hits.Load(); n != 0 {
			t.Errorf("internal services asked %d times, want 0", n)
		}
	})
}

// A followed redirect carries Accept and User-Agent only: key headers
// (X-Apikey, Key), Authorization, Cookie and Referer (which would hold a
// key sent in the query, as Shodan's is) stay behind, on a same-origin hop
// and across hosts. Redteam E7: Go drops only Authorization, Cookie and
// WWW-Authenticate across hosts and sets Referer.
func TestFollowedRedirectCarriesNoSecrets(t *testing.T) {
	t.Parallel()
	const key = "secret-key-e7-67890"
	var (
		mu   sync.Mutex
		hops []http.Header
	)
	record := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		hops = append(hops, r.Header.Clone())
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		if r.URL.Path == "/start" {
			http.Redirect(w, r, "/same-host?key="+key, http.StatusFound)
			return
		}
		http.Redirect(w, r, "https://203.0.113.30/final", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(origin.Close)
	tr := hostRouter{"203.0.113.30": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		_, _ = io.WriteString(w, `{}`)
	})}
	b := provider.NewBase(provider.Descriptor{Name: "redirecting", Redirects: provider.RedirectPublicHTTPS},
		provider.Config{BaseURL: origin.URL, APIKey: key, Transport: tr, Timeout: 5 * time.Second})
	req, err := b.NewRequest(context.Background(), http.MethodGet, b.URL("/start?key="+key), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"X-Apikey", "Key", "Auth-Key", "Api-Key"} {
		req.Header.Set(h, key)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Cookie", "session="+key)
	resp, err := b.Do(req)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("Do = %+v, %v; want the final 200", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hops) != 3 {
		t.Fatalf("hops = %d, want 3", len(hops))
	}
	for i, h := range hops[1:] {
		for name, v := range h {
			if name != "Accept" && name != "User-Agent" && name != "Accept-Encoding" {
				t.Errorf("hop %d carries %s: %q; want only Accept and User-Agent", i+1, name, v)
			}
			if strings.Contains(strings.Join(v, ","), key) {
				t.Errorf("hop %d header %s carries the key", i+1, name)
			}
		}
		if h.Get("Accept") == "" || h.Get("User-Agent") == "" {
			t.Errorf("hop %d lost Accept or User-Agent: %v", i+1, h)
		}
	}
}
