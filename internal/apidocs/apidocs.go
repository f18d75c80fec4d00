// Package apidocs serves /docs: Swagger UI rendering the REST layer's
// /openapi.json, from assets vendored by scripts/vendor-docs-assets.sh and
// embedded in the binary. The page loads nothing from outside the server;
// its Content-Security-Policy allows only same-origin scripts and requests.
package apidocs

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"strings"
	"sync"
)

//go:embed assets/*
var files embed.FS

// Prefix is the URL path the assets are served under.
const Prefix = "/docs/assets/"

// initJS starts Swagger UI on the document; it is a file, not an inline
// script, so the policy needs no 'unsafe-inline' for scripts.
const initJS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
`

// CSP is the page's Content-Security-Policy. Swagger UI sets style
// attributes, hence 'unsafe-inline' for styles only.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assets are the served files by name.
var assets = sync.OnceValues(func() (map[string]asset, error) {
	m := map[string]asset{"init.js": newAsset([]byte(initJS), "text/javascript; charset=utf-8")}
	for name, ct := range map[string]string{"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8"} {
		b, err := files.ReadFile("assets/" + name)
		if err != nil {
			return nil, fmt.Errorf("apidocs: embedded asset %s: %w", name, err)
		}
		m[name] = newAsset(b, ct)
	}
	return m, nil
})

func newAsset(b []byte, ct string) asset {
	sum := sha256.Sum256(b)
	return asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:]) + `"`}
}

// Routes returns pattern → handler for the page (GET /docs) and its
// assets; spec is the document's path on the same origin.
func Routes(title, spec string) map[string]http.Handler {
	page := []byte(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + html.EscapeString(title) + `</title>
<link rel="stylesheet" href="` + Prefix + `swagger-ui.css">
</head>
<body data-spec="` + html.EscapeString(spec) + `">
<div id="swagger-ui"></div>
<script src="` + Prefix + `swagger-ui-bundle.js"></script>
<script src="` + Prefix + `init.js"></script>
</body>
</html>
`)
	return map[string]http.Handler{
		"GET /docs": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", CSP)
			h.Set("Cache-Control", "no-cache")
			w.Write(page)
		}),
		"GET " + Prefix + "{name}": http.HandlerFunc(serveAsset),
	}
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	m, err := assets()
	if err != nil {
		http.Error(w, "docs assets unavailable", http.StatusInternalServerError)
		return
	}
	a, ok := m[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", a.etag)
	if strings.Contains(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.body)
}
