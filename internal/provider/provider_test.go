package provider_test

// What the per-provider tests share: building a live provider, reading its
// typed summary, comparing its verdict, and a server that answers with a
// fixture.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// newProvider builds a live provider from its registered descriptor.
func newProvider(t *testing.T, name string, cfg provider.Config) provider.Provider {
	t.Helper()
	d, ok := provider.Lookup(name)
	if !ok {
		t.Fatalf("no provider %q registered", name)
	}
	p, err := d.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// summaryOf returns the result's summary as a *T.
func summaryOf[T any](t *testing.T, r *provider.Result) *T {
	t.Helper()
	s, ok := r.Summary.(*T)
	if !ok {
		t.Fatalf("Summary is a %T, want *%T", r.Summary, *new(T))
	}
	return s
}

// checkVerdict compares the result's verdict with want.
func checkVerdict(t *testing.T, r *provider.Result, want provider.Assessment) {
	t.Helper()
	if d := cmp.Diff(want, r.Verdict); d != "" {
		t.Errorf("verdict (-want +got):\n%s", d)
	}
}

// utc is a UTC time to the second.
func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// fixtureServer answers every request with status, header and a JSON body,
// and hands the request to seen when it is not nil.
func fixtureServer(t *testing.T, status int, header http.Header, body string, seen chan<- *http.Request) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen <- r.Clone(context.Background())
		}
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNotConfiguredReason: a keyed provider lacks its key; a keyless one
// that still needs settings (Team Cymru's resolver) is not told it lacks
// a key.
func TestNotConfiguredReason(t *testing.T) {
	for _, d := range provider.Descriptors() {
		got := d.NotConfiguredReason()
		switch {
		case d.Key == provider.KeyRequired && got != "no API key configured":
			t.Errorf("%s: %q", d.Name, got)
		case d.Key != provider.KeyRequired && (strings.Contains(got, "API key") || !strings.Contains(got, "GADGET_"+strings.ToUpper(d.Name)+"_")):
			t.Errorf("%s (keyless): %q", d.Name, got)
		}
	}
}
