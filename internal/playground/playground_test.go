package playground

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	scriptRE = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
	linkRE   = regexp.MustCompile(`<link([^>]*)>`)
	attrRE   = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
	// urlAttrRE finds every attribute that makes the browser fetch or
	// navigate somewhere.
	urlAttrRE = regexp.MustCompile(`\b(src|href|action|srcset|poster|data)="([^"]*)"`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// get runs one request through h.
func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func pageOf(t *testing.T, h http.Handler) (string, *http.Response) {
	t.Helper()
	res := get(t, h, http.MethodGet, "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", res.StatusCode)
	}
	return body(t, res), res
}

// assetRefs are the src of every external script and the href of every
// stylesheet, with their integrity values.
func assetRefs(t *testing.T, page string) map[string]string {
	t.Helper()
	refs := map[string]string{}
	for _, m := range scriptRE.FindAllStringSubmatch(page, -1) {
		a := attrs(m[1])
		if src, ok := a["src"]; ok {
			refs[src] = a["integrity"]
		}
	}
	for _, m := range linkRE.FindAllStringSubmatch(page, -1) {
		a := attrs(m[1])
		refs[a["href"]] = a["integrity"]
	}
	return refs
}

func TestPageHeaders(t *testing.T) {
	t.Parallel()
	_, res := pageOf(t, Handler(Options{}))
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": contentSecurityPolicy,
	}
	got := map[string]string{}
	for k := range want {
		got[k] = res.Header.Get(k)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	directives := map[string]string{}
	for _, d := range strings.Split(contentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want := map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self' " + bootstrapHash,
		"style-src":       "'self' 'unsafe-inline'",
		"img-src":         "'self' data:",
		"font-src":        "'self' data:",
		"connect-src":     "'self'",
		"form-action":     "'self'",
		"base-uri":        "'none'",
		"frame-ancestors": "'none'",
	}
	if d := cmp.Diff(want, directives); d != "" {
		t.Errorf("CSP directives (-want +got):\n%s", d)
	}
	if strings.Contains(contentSecurityPolicy, "unsafe-eval") {
		t.Error("CSP allows eval")
	}
}

// TestInlineScriptsHashed checks that every inline script the browser would
// run is allowed by a hash in script-src, byte for byte as served.
func TestInlineScriptsHashed(t *testing.T) {
	t.Parallel()
	page, res := pageOf(t, Handler(Options{Examples: []Example{{Name: "x", Query: "{ a }"}}}))
	csp := res.Header.Get("Content-Security-Policy")
	inline := 0
	for _, m := range scriptRE.FindAllStringSubmatch(page, -1) {
		a := attrs(m[1])
		if _, ok := a["src"]; ok || a["type"] == "application/json" {
			continue
		}
		inline++
		sum := sha256.Sum256([]byte(m[2]))
		h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !strings.Contains(csp, h) {
			t.Errorf("inline script with hash %s is not allowed by CSP %q", h, csp)
		}
	}
	if inline != 1 {
		t.Errorf("inline scripts = %d, want 1", inline)
	}
	if strings.Contains(bootstrapJS, "</") {
		t.Error(`bootstrapJS contains "</"`)
	}
}

func TestNoExternalReferences(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "/graphiql/", "/static/gql/"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			t.Parallel()
			opts := Options{AssetPrefix: prefix, Examples: []Example{{Name: "Lookup", Query: "{ indicator(value: \"1.1.1.1\") { value } }"}}}
			h := Handler(opts)
			page, _ := pageOf(t, h)
			for _, s := range []string{"http://", "https://", "//cdn", "url(", "@import"} {
				if strings.Contains(strings.ToLower(page), s) {
					t.Errorf("page contains %q", s)
				}
			}
			wantPrefix := opts.withDefaults().AssetPrefix
			for _, m := range urlAttrRE.FindAllStringSubmatch(page, -1) {
				name, v := m[1], html.UnescapeString(m[2])
				if name == "action" && v == DefaultTokenEndpoint {
					continue
				}
				if !strings.HasPrefix(v, wantPrefix) || strings.HasPrefix(v, "//") {
					t.Errorf("%s=%q is not under %q", name, v, wantPrefix)
				}
			}
			refs := assetRefs(t, page)
			if len(refs) != len(servedAssets) {
				t.Errorf("page references %d assets, want %d: %v", len(refs), len(servedAssets), refs)
			}
			for u := range refs {
				if res := get(t, h, http.MethodGet, u, nil); res.StatusCode != http.StatusOK {
					t.Errorf("GET %s = %d, want 200", u, res.StatusCode)
				}
			}
		})
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	page, _ := pageOf(t, h)
	refs := assetRefs(t, page)
	for u, integrity := range refs {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			res := get(t, h, http.MethodGet, u, nil)
			b := body(t, res)
			wantType := map[bool]string{true: "text/javascript; charset=utf-8", false: "text/css; charset=utf-8"}[strings.HasSuffix(u, ".js")]
			got := map[string]string{
				"status":                 res.Status,
				"Content-Type":           res.Header.Get("Content-Type"),
				"Cache-Control":          res.Header.Get("Cache-Control"),
				"X-Content-Type-Options": res.Header.Get("X-Content-Type-Options"),
			}
			want := map[string]string{
				"status":                 "200 OK",
				"Content-Type":           wantType,
				"Cache-Control":          "public, max-age=31536000, immutable",
				"X-Content-Type-Options": "nosniff",
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("response (-want +got):\n%s", d)
			}
			sum := sha256.Sum256([]byte(b))
			if served := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); served != integrity {
				t.Errorf("integrity in page %q, served bytes hash to %q", integrity, served)
			}
			name := u[strings.LastIndex(u, "/")+1:]
			embedded, err := files.ReadFile("assets/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(embedded, []byte(b)) {
				t.Errorf("served bytes differ from assets/%s", name)
			}
			// Revalidation with the ETag answers 304.
			res = get(t, h, http.MethodGet, u, map[string]string{"If-None-Match": res.Header.Get("ETag")})
			if res.StatusCode != http.StatusNotModified {
				t.Errorf("conditional GET = %d, want 304", res.StatusCode)
			}
		})
	}
}

// TestVersionsFile checks assets/VERSIONS against the embedded bytes, so a
// hand-edited asset cannot slip past the pinned hashes.
func TestVersionsFile(t *testing.T) {
	t.Parallel()
	f, err := files.Open("assets/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 4 {
			t.Fatalf("VERSIONS line %q: want 4 tab-separated fields", line)
		}
		name, want := fields[0], fields[3]
		b, err := files.ReadFile("assets/" + name)
		if err != nil {
			t.Errorf("VERSIONS lists %s: %v", name, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: sha256 %s, VERSIONS pins %s", name, got, want)
		}
		listed[name] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, a := range servedAssets {
		if !listed[a.name] {
			t.Errorf("served asset %s is not in VERSIONS", a.name)
		}
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	assets, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	v := assets[graphiqlJS].version
	for _, path := range []string{
		"/index.html",
		"/graphql",
		"/favicon.ico",
		"//",
		"/graphiql",
		"/graphiql/",
		"/graphiql/graphiql.min.js",
		"/graphiql/0000000000000000/graphiql.min.js",
		"/graphiql/" + v + "/",
		"/graphiql/" + v + "/VERSIONS",
		"/graphiql/" + v + "/LICENSE.react",
		"/graphiql/" + v + "/graphiql.min.js/x",
		"/graphiql/" + v + "/graphiql.min.js.map",
		"/graphiql/" + v + "/../" + v + "/graphiql.min.js",
	} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			if res := get(t, h, http.MethodGet, path, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	tests := []struct {
		name       string
		method     string
		wantStatus int
		wantAllow  string
		wantBody   bool
	}{
		{name: "get", method: http.MethodGet, wantStatus: http.StatusOK, wantBody: true},
		{name: "head", method: http.MethodHead, wantStatus: http.StatusOK},
		{name: "post", method: http.MethodPost, wantStatus: http.StatusMethodNotAllowed, wantAllow: "GET, HEAD", wantBody: true},
		{name: "delete", method: http.MethodDelete, wantStatus: http.StatusMethodNotAllowed, wantAllow: "GET, HEAD", wantBody: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := get(t, h, tt.method, "/", nil)
			got := []any{res.StatusCode, res.Header.Get("Allow"), body(t, res) != ""}
			want := []any{tt.wantStatus, tt.wantAllow, tt.wantBody}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s / (-want +got):\n%s", tt.method, d)
			}
		})
	}
}

func TestPageConditionalGet(t *testing.T) {
	t.Parallel()
	h := Handler(Options{})
	_, res := pageOf(t, h)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("page has no ETag")
	}
	res = get(t, h, http.MethodGet, "/", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET / = %d, want 304", res.StatusCode)
	}
}

// configOf decodes the page's JSON config block.
func configOf(t *testing.T, page string) pageConfig {
	t.Helper()
	for _, m := range scriptRE.FindAllStringSubmatch(page, -1) {
		if attrs(m[1])["type"] == "application/json" {
			var c pageConfig
			if err := json.Unmarshal([]byte(m[2]), &c); err != nil {
				t.Fatalf("config block %q: %v", m[2], err)
			}
			return c
		}
	}
	t.Fatal("page has no config block")
	return pageConfig{}
}

func TestExamplesEscaped(t *testing.T) {
	t.Parallel()
	evil := "{ a }\n# </script><script>alert(1)</script> <!-- \u2028 ' \" & ${x} `"
	tests := []struct {
		name     string
		opts     Options
		wantConf pageConfig
	}{
		{
			name:     "defaults without examples",
			opts:     Options{},
			wantConf: pageConfig{Endpoint: "/graphql", TokenEndpoint: "/api/authenticate", Tabs: []tab{}},
		},
		{
			name: "examples in order, named",
			opts: Options{Endpoint: "/q", TokenEndpoint: "/login", Examples: []Example{
				{Name: "Look up an IP", Query: "{ indicator(value: \"8.8.8.8\") { kind } }"},
				{Name: "", Query: "query Me { me { username } }"},
				{Name: "multi\nline\tname", Query: "{ x }"},
			}},
			wantConf: pageConfig{Endpoint: "/q", TokenEndpoint: "/login", Tabs: []tab{
				{Query: "# Look up an IP\n{ indicator(value: \"8.8.8.8\") { kind } }"},
				{Query: "query Me { me { username } }"},
				{Query: "# multi line name\n{ x }"},
			}},
		},
		{
			name: "script breakout attempt",
			opts: Options{Examples: []Example{{Name: "</script><script>alert(2)</script>", Query: evil}}},
			wantConf: pageConfig{Endpoint: "/graphql", TokenEndpoint: "/api/authenticate", Tabs: []tab{
				{Query: "# </script><script>alert(2)</script>\n" + evil},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			page, _ := pageOf(t, Handler(tt.opts))
			if d := cmp.Diff(tt.wantConf, configOf(t, page)); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
			// 4 vendored scripts, the config block and the bootstrap.
			if n := strings.Count(strings.ToLower(page), "<script"); n != 6 {
				t.Errorf("page has %d <script tags, want 6", n)
			}
			if n := strings.Count(strings.ToLower(page), "</script"); n != 6 {
				t.Errorf("page has %d </script, want 6", n)
			}
			// Outside the config block no example text appears, and inside
			// it nothing can open or close an element or a comment.
			block := configBlock(page)
			rest := strings.Replace(page, block, "", 1)
			for _, s := range []string{"alert(", "<!--"} {
				if strings.Contains(rest, s) {
					t.Errorf("page contains %q outside the config block", s)
				}
			}
			if strings.ContainsAny(block, "<>&") {
				t.Errorf("config block holds a raw <, > or &: %s", block)
			}
			if got, want := strings.Contains(page, "Restore example tabs"), len(tt.opts.Examples) > 0; got != want {
				t.Errorf("restore button shown = %v, want %v", got, want)
			}
		})
	}
}

func configBlock(page string) string {
	for _, m := range scriptRE.FindAllStringSubmatch(page, -1) {
		if attrs(m[1])["type"] == "application/json" {
			return m[2]
		}
	}
	return ""
}

func TestTitleEscaped(t *testing.T) {
	t.Parallel()
	page, _ := pageOf(t, Handler(Options{Title: `<img src=x onerror=alert(1)> & "Gadget"`}))
	want := "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;Gadget&#34;"
	if n := strings.Count(page, want); n != 2 {
		t.Errorf("escaped title appears %d times, want 2 (title and heading)", n)
	}
	if strings.Contains(page, "<img") {
		t.Error("title was not escaped")
	}
}

func TestSignInForm(t *testing.T) {
	t.Parallel()
	page, _ := pageOf(t, Handler(Options{TokenEndpoint: "/auth/token"}))
	for _, s := range []string{
		`action="/auth/token"`,
		`<label for="pg-username">`, `<input id="pg-username" name="username" autocomplete="username"`,
		`<label for="pg-password">`, `<input id="pg-password" name="password" type="password" autocomplete="current-password"`,
		`<label for="pg-scope">`, `<label for="pg-token">`,
		`role="alert"`, `role="status"`,
		`>Sign in</button>`, `>Sign out</button>`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %s", s)
		}
	}
	// The token lives in sessionStorage only.
	if strings.Contains(bootstrapJS, "localStorage.setItem") || !strings.Contains(bootstrapJS, "sessionStorage.setItem(SESSION_KEY") {
		t.Error("the token must be kept in sessionStorage, never localStorage")
	}
}

func TestAssetPrefixNormalised(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "/graphiql/"},
		{"/graphiql/", "/graphiql/"},
		{"/static", "/static/"},
		{"ui/", "/ui/"},
	}
	for _, tt := range tests {
		if got := (Options{AssetPrefix: tt.in}).withDefaults().AssetPrefix; got != tt.want {
			t.Errorf("AssetPrefix %q → %q, want %q", tt.in, got, tt.want)
		}
	}
}
