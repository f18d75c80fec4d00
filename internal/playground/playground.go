// Package playground serves an air-gapped GraphiQL page for the GraphQL API.
//
// GraphiQL 4, React 18 and the GraphiQL explorer plugin are vendored under
// assets/ (scripts/vendor-assets.sh) and embedded in the binary, so the page
// loads nothing from outside the server. The page adds a sign-in bar that
// obtains a bearer token from the token endpoint and keeps it in the tab's
// sessionStorage; GraphiQL then sends it with every request.
//
// The handler expects the request path unchanged (no http.StripPrefix):
//
//	pg := playground.Handler(playground.Options{Title: "Inspector Gadget"})
//	mux.Handle("GET /{$}", pg)
//	mux.Handle("GET /graphiql/", pg)
package playground

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// Example is a query offered as one of GraphiQL's default tabs.
type Example struct {
	// Name is shown as a comment on the query's first line.
	Name string
	// Query is the GraphQL document. GraphiQL titles a tab with the
	// operation's name, so name the operation (query LookUpIP { … }); an
	// anonymous one shows as "<untitled>".
	Query string
}

// Options configure Handler. Empty fields take the defaults given below.
type Options struct {
	// Title is the page title and heading. Default "GraphiQL".
	Title string
	// Endpoint is the GraphQL endpoint, a path on the same origin (the
	// page's Content-Security-Policy allows no other). Default "/graphql".
	Endpoint string
	// TokenEndpoint is the password-grant token endpoint, a path on the same
	// origin. Default "/api/authenticate".
	TokenEndpoint string
	// AssetPrefix is the URL path prefix the handler serves its assets
	// under; it must be routed to the handler. A trailing slash is added
	// when missing. Default "/graphiql/".
	AssetPrefix string
	// Examples become GraphiQL's default tabs, in order. GraphiQL shows
	// them when the browser has no saved tabs; the page's "Restore example
	// tabs" button brings them back.
	Examples []Example
}

// Defaults for empty Options fields.
const (
	DefaultTitle         = "GraphiQL"
	DefaultEndpoint      = "/graphql"
	DefaultTokenEndpoint = "/api/authenticate"
	DefaultAssetPrefix   = "/graphiql/"
)

func (o Options) withDefaults() Options {
	if o.Title == "" {
		o.Title = DefaultTitle
	}
	if o.Endpoint == "" {
		o.Endpoint = DefaultEndpoint
	}
	if o.TokenEndpoint == "" {
		o.TokenEndpoint = DefaultTokenEndpoint
	}
	if o.AssetPrefix == "" {
		o.AssetPrefix = DefaultAssetPrefix
	}
	if !strings.HasPrefix(o.AssetPrefix, "/") {
		o.AssetPrefix = "/" + o.AssetPrefix
	}
	if !strings.HasSuffix(o.AssetPrefix, "/") {
		o.AssetPrefix += "/"
	}
	return o
}

// Handler returns the playground: the page at exactly "/", the assets at
// AssetPrefix + "<content hash>/<file>", and 404 for every other path. It
// answers GET and HEAD only. The page is rendered once, here.
func Handler(opts Options) http.Handler {
	opts = opts.withDefaults()
	h := &handler{prefix: opts.AssetPrefix}
	assets, err := loadAssets()
	if err == nil {
		h.assets = assets
		h.page, err = render(opts, assets)
	}
	h.err = err
	return h
}

type handler struct {
	prefix string
	assets map[string]*asset
	page   *page
	err    error // set when the embedded assets are unusable; every request then gets 500
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if h.err != nil {
		http.Error(w, "playground unavailable", http.StatusInternalServerError)
		return
	}
	switch {
	case r.URL.Path == "/":
		h.servePage(w, r)
	case strings.HasPrefix(r.URL.Path, h.prefix):
		h.serveAsset(w, r, strings.TrimPrefix(r.URL.Path, h.prefix))
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", h.page.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", h.page.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page.body))
}

// serveAsset serves rest, "<version>/<name>", when both match an asset.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, rest string) {
	version, name, ok := strings.Cut(rest, "/")
	a := h.assets[name]
	if !ok || a == nil || version != a.version {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
