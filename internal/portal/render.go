package portal

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/portal.css assets/portal.js assets/vendor/*.css
var assetFS embed.FS

// asset is one embedded file, served under its content hash.
type asset struct {
	body        []byte
	version     string // first 12 hex digits of the sha256
	integrity   string // SRI, sha384
	contentType string
}

type assetSet struct{ byName map[string]*asset }

func loadAssets() (*assetSet, error) {
	s := &assetSet{byName: map[string]*asset{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum, sri := sha256.Sum256(b), sha512.Sum384(b)
		s.byName[path.Base(p)] = &asset{body: b, version: hex.EncodeToString(sum[:6]),
			integrity: "sha384-" + base64.StdEncoding.EncodeToString(sri[:]), contentType: mime.TypeByExtension(path.Ext(p))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("portal assets: %w", err)
	}
	return s, nil
}

func (s *assetSet) serve(w http.ResponseWriter, r *http.Request) {
	a := s.byName[r.PathValue("name")]
	if a == nil || a.version != r.PathValue("version") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// view is what every page template receives.
type view struct {
	Title   string
	User    *auth.Principal
	CSRF    string
	Nav     string // the current page, for aria-current
	Error   string
	Notice  string
	Message string
	Form    url.Values // the submitted or query values, echoed back
	Data    any        // the page's own data
}

// Can reports whether the signed-in user holds scope ("users", "tasks", "mon").
func (v view) Can(scope string) bool { return v.User.Has(auth.Scope(scope)) }

type pages struct{ byName map[string]*template.Template }

func loadPages(as *assetSet) (*pages, error) {
	funcs := template.FuncMap{
		"asset": func(name string) (template.HTML, error) {
			a := as.byName[name]
			if a == nil {
				return "", fmt.Errorf("no asset %q", name)
			}
			u := "/portal/assets/" + a.version + "/" + name
			if strings.HasSuffix(name, ".js") {
				return template.HTML(`<script src="` + u + `" integrity="` + a.integrity + `" defer></script>`), nil
			}
			return template.HTML(`<link rel="stylesheet" href="` + u + `" integrity="` + a.integrity + `">`), nil
		},
		"date":     func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"datetime": formatTime,
		"percent":  func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
		"bytes":    formatBytes,
		"sub":      func(d, n int) int { return n - d },
		"div":      func(a, b int) int { return a / b },
		"join":     strings.Join,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("portal template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

func formatTime(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.UTC().Format("2006-01-02 15:04:05Z")
	case *time.Time:
		if v == nil {
			return "never"
		}
		return v.UTC().Format("2006-01-02 15:04:05Z")
	}
	return ""
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// render writes page name with v, filling in the session's user and token.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t := p.pages.byName[name]
	if v.User == nil {
		v.User = auth.FromContext(r.Context())
	}
	if v.CSRF == "" {
		v.CSRF = csrfFrom(r.Context())
	}
	if v.Nav == "" {
		v.Nav = name
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		p.cfg.Logger.ErrorContext(r.Context(), "portal render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// fail shows err on the message page; internal errors are logged here, once,
// and shown generically.
func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := errcode.Of(err)
	if e.Code == errcode.Internal {
		p.cfg.Logger.ErrorContext(r.Context(), "portal", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.render(w, r, errcode.HTTPStatus(e.Code), "message", view{Title: "Error", Error: e.Message})
}
