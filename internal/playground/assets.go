package playground

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
)

// files holds the vendored GraphiQL, React and explorer builds, written by
// scripts/vendor-assets.sh (see assets/VERSIONS for versions and hashes).
//
//go:embed assets/*
var files embed.FS

// asset is one embedded file the page loads.
type asset struct {
	name        string // file name under assets/ and in the URL
	contentType string
	body        []byte
	sri         string // Subresource Integrity value: "sha256-" + base64
	etag        string // strong ETag: the quoted hex sha256
	version     string // first 16 hex digits of the sha256, the URL fingerprint
}

// The assets the page loads, in load order within their kind.
const (
	reactJS       = "react.production.min.js"
	reactDOMJS    = "react-dom.production.min.js"
	graphiqlJS    = "graphiql.min.js"
	graphiqlCSS   = "graphiql.min.css"
	explorerJS    = "graphiql-plugin-explorer.umd.js"
	explorerCSS   = "graphiql-plugin-explorer.css"
	contentTypeJS = "text/javascript; charset=utf-8"
	contentTypeCS = "text/css; charset=utf-8"
)

// servedAssets lists every file the handler serves; anything else under
// assets/ (VERSIONS, licences) is embedded but not served.
var servedAssets = []struct{ name, contentType string }{
	{reactJS, contentTypeJS},
	{reactDOMJS, contentTypeJS},
	{graphiqlJS, contentTypeJS},
	{explorerJS, contentTypeJS},
	{graphiqlCSS, contentTypeCS},
	{explorerCSS, contentTypeCS},
}

// loadAssets reads and hashes the embedded assets once per process.
var loadAssets = sync.OnceValues(func() (map[string]*asset, error) {
	m := make(map[string]*asset, len(servedAssets))
	for _, s := range servedAssets {
		b, err := files.ReadFile("assets/" + s.name)
		if err != nil {
			return nil, fmt.Errorf("playground: embedded asset %s: %w", s.name, err)
		}
		sum := sha256.Sum256(b)
		hexSum := hex.EncodeToString(sum[:])
		m[s.name] = &asset{
			name:        s.name,
			contentType: s.contentType,
			body:        b,
			sri:         "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
			etag:        `"` + hexSum + `"`,
			version:     hexSum[:16],
		}
	}
	return m, nil
})

// path is the asset's URL path under prefix. The content hash in the path
// lets the handler mark assets immutable: new bytes get a new URL, so a
// browser never pairs a cached old file with a new page's integrity value.
func (a *asset) path(prefix string) string {
	return prefix + a.version + "/" + a.name
}
