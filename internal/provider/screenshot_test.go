package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

const shotID = "14a15941-8835-47e6-b815-77b7d4a48c34"

func TestScreenshot(t *testing.T) {
	t.Parallel()
	u := indicator.Indicator{Kind: indicator.URL, Value: "http://www.example.com"}
	search := providertest.Request{Method: "GET", Path: "/api/v1/search/",
		Query:  map[string][]string{"q": {`page.url:"http://www.example.com" OR task.url:"http://www.example.com"`}, "size": {"1"}},
		Header: map[string]string{"API-Key": "us-test-key-91", "Accept": "application/json"}}
	providertest.Run(t, providertest.Suite{
		Provider: "screenshot",
		APIKey:   "us-test-key-91",
		Probe:    u,
		Fixtures: []providertest.Fixture{
			{
				Name: "urlscan_scan", Indicator: u, File: "screenshot/search_ok.json", Want: search,
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.ScreenshotSummary{Source: "urlscan", Screenshot: "https://urlscan.io/screenshots/" + shotID + ".png",
						Image: "/portal/image/screenshot/" + shotID, Link: "https://urlscan.io/result/" + shotID + "/", ScanID: shotID,
						TakenAt: utc(2021, 1, 24, 12, 6, 24).Add(950 * time.Millisecond), PageURL: "http://www.example.com/"}
					if d := cmp.Diff(want, summaryOf[provider.ScreenshotSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Reason: "screenshot from urlscan taken 2021-01-24, context only"})
				},
			},
			// Without a ScreenShotAPI token, no urlscan scan is a not-found.
			{Name: "no_scan", Indicator: u, File: "screenshot/not_found.json", Want: search, WantErr: provider.ErrNotFound},
		},
	})
}

// TestScreenshotAPIFallback: with its token set, ScreenShotAPI is asked when
// urlscan has no scan; the token never shows in an error.
func TestScreenshotAPIFallback(t *testing.T) {
	t.Parallel()
	const token = "SSAPI-TOKEN-7Q2"
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/screenshot/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var mu sync.Mutex
	var asked []string
	shotStatus := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path+"?"+r.URL.RawQuery)
		status := shotStatus
		mu.Unlock()
		switch r.URL.Path {
		case "/us/api/v1/search/":
			_, _ = w.Write(read("not_found.json"))
		case "/ssapi/screenshot":
			w.WriteHeader(status)
			_, _ = w.Write(read("screenshotapi_ok.json"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	d, _ := provider.Lookup("screenshot")
	p, err := d.New(provider.Config{BaseURL: srv.URL + "/us", Timeout: 5 * time.Second,
		Settings: map[string]string{"SCREENSHOTAPI_TOKEN": token, "SCREENSHOTAPI_URL": srv.URL + "/ssapi"}})
	if err != nil {
		t.Fatal(err)
	}
	u := indicator.Indicator{Kind: indicator.URL, Value: "http://www.example.com/"}
	r, err := p.Lookup(context.Background(), u)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	want := &provider.ScreenshotSummary{Source: "ScreenShotAPI", Screenshot: "https://screenshotapi-dot-net.storage.googleapis.com/www_example_com_5c4c0b3ed6a3.png", PageURL: "http://www.example.com/"}
	if d := cmp.Diff(want, summaryOf[provider.ScreenshotSummary](t, r)); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}
	if n := int64(len(read("not_found.json")) + len(read("screenshotapi_ok.json"))); r.Bytes != n {
		t.Errorf("Bytes = %d, want both answers' %d", r.Bytes, n)
	}
	mu.Lock()
	if len(asked) != 2 || !strings.Contains(asked[1], "token="+token) || !strings.Contains(asked[1], "output=json") {
		t.Errorf("requests = %q, want the urlscan search then ScreenShotAPI with the token", asked)
	}
	shotStatus = http.StatusInternalServerError
	mu.Unlock()
	if _, err := p.Lookup(context.Background(), u); !errors.Is(err, provider.ErrUpstream) || strings.Contains(err.Error(), token) {
		t.Errorf("ScreenShotAPI failing: error %v, want an upstream error without the token", err)
	}
}

// TestScreenshotImage: Image fetches only urlscan scan ids, from the base URL.
func TestScreenshotImage(t *testing.T) {
	t.Parallel()
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/us/screenshots/"+shotID+".png" {
			_, _ = w.Write([]byte(png))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	d, _ := provider.Lookup("screenshot")
	p, _ := d.New(provider.Config{BaseURL: srv.URL + "/us", Timeout: 5 * time.Second})
	im, ok := p.(provider.Imager)
	if !ok {
		t.Fatal("the screenshot provider is not a provider.Imager")
	}
	img, err := im.Image(context.Background(), shotID)
	if err != nil || img.ContentType != "image/png" || string(img.Body) != png {
		t.Errorf("Image(%s) = %+v, %v", shotID, img, err)
	}
	for _, ref := range []string{"../api/v1/search", "14a15941-8835-47e6-b815-77b7d4a48c34.png", "https:%2F%2Fevil.example%2Fx", ""} {
		if _, err := im.Image(context.Background(), ref); !errors.Is(err, provider.ErrBadInput) {
			t.Errorf("Image(%q) error = %v, want ErrBadInput", ref, err)
		}
	}
	if _, err := im.Image(context.Background(), "00000000-0000-0000-0000-000000000000"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Image of an unknown scan: error = %v, want ErrNotFound", err)
	}
}
