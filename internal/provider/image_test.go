package provider_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// TestFetchImage: only a PNG or JPEG within the size cap comes back; HTML,
// oversized bodies, redirects and 404 are typed errors.
func TestFetchImage(t *testing.T) {
	t.Parallel()
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
	jpeg := "\xff\xd8\xff\xe0\x00\x10JFIF\x00"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.png":
			w.Header().Set("Content-Type", "text/html") // the bytes decide, not the header
			_, _ = w.Write([]byte(png))
		case "/a.jpg":
			_, _ = w.Write([]byte(jpeg))
		case "/page.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write([]byte("<html><script>alert(1)</script></html>"))
		case "/big.png":
			_, _ = w.Write([]byte(png + strings.Repeat("x", 4096)))
		case "/moved.png":
			http.Redirect(w, r, "/a.png", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	b := provider.NewBase(provider.Descriptor{Name: "img"}, provider.Config{BaseURL: srv.URL, Timeout: 5 * time.Second, MaxBodyBytes: 1024})
	tests := []struct {
		path  string
		ctype string
		err   error
	}{
		{"/a.png", "image/png", nil},
		{"/a.jpg", "image/jpeg", nil},
		{"/page.png", "", provider.ErrUpstream},
		{"/big.png", "", provider.ErrUpstream},
		{"/moved.png", "", provider.ErrUpstream},
		{"/gone.png", "", provider.ErrNotFound},
	}
	for _, tt := range tests {
		img, err := b.FetchImage(context.Background(), b.URL(tt.path))
		if tt.err != nil {
			if !errors.Is(err, tt.err) || img != nil {
				t.Errorf("FetchImage(%s) = %v, %v; want %v", tt.path, img, err, tt.err)
			}
			continue
		}
		if err != nil || img.ContentType != tt.ctype {
			t.Errorf("FetchImage(%s) = %+v, %v; want a %s", tt.path, img, err, tt.ctype)
		}
	}
}
