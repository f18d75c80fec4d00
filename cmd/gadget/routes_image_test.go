package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/portal"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// pngBytes is the start of a PNG file: enough for content sniffing.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")

// imageSource is a live provider with images: "ok" is one, "bad" a ref it
// refuses, anything else an upstream failure.
type imageSource struct{ name string }

func (s imageSource) Descriptor() provider.Descriptor { return provider.Descriptor{Name: s.name} }
func (imageSource) Configured() bool                  { return true }
func (imageSource) Lookup(context.Context, indicator.Indicator) (*provider.Result, error) {
	return nil, &provider.Error{Provider: "img", Kind: provider.ErrNotFound}
}
func (imageSource) ImageRef(ref string) error {
	if ref == "bad" {
		return &provider.Error{Provider: "img", Kind: provider.ErrBadInput}
	}
	return nil
}
func (imageSource) Image(_ context.Context, ref string) (*provider.Image, error) {
	switch ref {
	case "ok":
		return &provider.Image{ContentType: "image/png", Body: pngBytes}, nil
	case "bad":
		return nil, &provider.Error{Provider: "img", Kind: provider.ErrBadInput}
	case "gone":
		return nil, &provider.Error{Provider: "img", Kind: provider.ErrNotFound}
	}
	return nil, &provider.Error{Provider: "img", Kind: provider.ErrUpstream, Message: "boom"}
}

// plainSource has no images.
type plainSource struct{ imageSource }

func (plainSource) Image() {} // not provider.Imager's signature

type sessionOK struct{}

func (sessionOK) Authenticate(_ context.Context, token string) (*auth.Principal, error) {
	if token != "good" {
		return nil, nil
	}
	return &auth.Principal{Username: "ana", Scopes: []auth.Scope{auth.ScopeTasks}}, nil
}

func TestImageRoute(t *testing.T) {
	t.Parallel()
	reg, err := provider.NewRegistry(imageSource{"img"}, plainSource{imageSource{"plain"}}, imageSource{"tight"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Cache: cache.NewMemory[*lookup.Result](10), Limiter: ratelimit.NewBuckets(time.Now),
		Settings: map[string]enrich.Settings{"img": {Rate: provider.Rate{Events: 100, Per: time.Second}}, "tight": {Rate: provider.Rate{Events: 1, Per: time.Hour}}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(imagePattern, portal.SessionAuth(sessionOK{}, auth.ScopeTasks, imageHandler(&enrich.Images{Fetcher: f})))
	tests := []struct {
		name, path, cookie string
		status             int
		ctype              string
	}{
		{"image", "/portal/image/img/ok", "good", http.StatusOK, "image/png"},
		{"refused ref", "/portal/image/img/bad", "good", http.StatusBadRequest, ""},
		{"gone upstream", "/portal/image/img/gone", "good", http.StatusNotFound, ""},
		{"upstream failure", "/portal/image/img/x", "good", http.StatusBadGateway, ""},
		{"provider without images", "/portal/image/plain/ok", "good", http.StatusNotFound, ""},
		{"unknown provider", "/portal/image/nope/ok", "good", http.StatusNotFound, ""},
		{"no session", "/portal/image/img/ok", "", http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: portal.SessionCookie, Value: tt.cookie})
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("GET %s: status %d, want %d; body %q", tt.path, rec.Code, tt.status, rec.Body)
			}
			if tt.ctype == "" {
				if rec.Code != http.StatusSeeOther && rec.Header().Get("Content-Type") == "image/png" {
					t.Error("an error answered as an image")
				}
				return
			}
			h := rec.Header()
			if h.Get("Content-Type") != tt.ctype || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "default-src 'none'" {
				t.Errorf("headers = %v", h)
			}
			if rec.Body.String() != string(pngBytes) {
				t.Errorf("body = %q", rec.Body)
			}
		})
	}

	// the provider's budget spent: 429 with Retry-After
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} {
		req := httptest.NewRequest(http.MethodGet, "/portal/image/tight/ok", nil)
		req.AddCookie(&http.Cookie{Name: portal.SessionCookie, Value: "good"})
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("request %d of a 1/h image source: status %d, want %d", i+1, rec.Code, want)
		}
		if want == http.StatusTooManyRequests && rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
}
