// Package portal is the web portal under /portal/: sign-in with a session
// cookie, indicator lookups streamed as each provider answers (one card
// per indicator), the allow- and block-lists, the signed-in user's usage,
// and the administrators' overview, users, audit log, reports and jobs
// pages.
//
// Pages are html/template files and assets are embedded in the binary; the
// only third-party asset, water.css, is vendored from npm at a pinned
// version by scripts/vendor-portal-assets.sh. Charts are SVG drawn on the
// server. Every page reads through the same services as GraphQL and REST
// (auth.Service, accounting.Service, accounting.StatsService, lookup.Service).
//
// The session cookie holds the access token auth.Service issued at sign-in;
// every request re-checks it through auth.Service.Authenticate, so disabling
// the account or changing its password ends the session. Every POST carries
// a CSRF token derived from the session (see csrfToken).
//
// Mount it unchanged (no http.StripPrefix):
//
//	p, _ := portal.New(portal.Config{...})
//	mux.Handle("/portal/", p)
//	mux.Handle("GET /admin/river/", portal.SessionAuth(authService, auth.ScopeMon, riverUI))
package portal

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/soc"
)

// Recorder takes audit records (the accounting writer).
type Recorder interface {
	Record(ctx context.Context, r accounting.Record)
}

// Config wires a Portal.
type Config struct {
	Auth       *auth.Service
	Accounting *accounting.Service
	Stats      *accounting.StatsService
	Engine     lookup.Service
	// Usage, when set, takes each lookup's audit record.
	Usage Recorder
	// Providers lists every known provider with its state.
	Providers func() []lookup.ProviderStatus
	// RiverUI is the path of the River UI when the River executor is on
	// ("" hides the link).
	RiverUI string
	Logger  *slog.Logger
	Now     func() time.Time
	// Extractor finds the indicators in what is pasted into the lookup box.
	Extractor indicator.Extractor
	// STIX makes the lookup page's STIX 2.1 export.
	STIX soc.Exporter
	// Policy, when set, offers TLP and playbooks on the lookup form, shows
	// sightings and takes manual verdicts on cards, and serves the lists
	// page; nil hides them.
	Policy *policy.Service
}

// Portal is the web portal's http.Handler.
type Portal struct {
	cfg    Config
	mux    *http.ServeMux
	pages  *pages
	assets *assetSet
}

// Prefix is the path the portal is served under.
const Prefix = "/portal/"

// New returns the portal.
func New(c Config) (*Portal, error) {
	if c.Auth == nil || c.Accounting == nil || c.Stats == nil || c.Engine == nil || c.Providers == nil {
		return nil, errors.New("portal: auth, accounting, stats, engine and providers are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	pg, err := loadPages(as)
	if err != nil {
		return nil, err
	}
	p := &Portal{cfg: c, mux: http.NewServeMux(), pages: pg, assets: as}
	p.routes()
	return p, nil
}

func (p *Portal) routes() {
	m := p.mux
	m.HandleFunc("GET /portal/assets/{version}/{name}", p.assets.serve)
	m.HandleFunc("GET /portal/login", p.loginPage)
	m.HandleFunc("POST /portal/login", p.login)
	m.Handle("POST /portal/logout", p.session("", p.logout))
	m.Handle("GET /portal/{$}", p.session(auth.ScopeUsers, p.home))
	m.Handle("GET /portal/lookup", p.session(auth.ScopeTasks, p.lookupPage))
	m.Handle("POST /portal/lookup", p.session(auth.ScopeTasks, p.lookup))
	m.Handle("POST /portal/lookup/stix", p.session(auth.ScopeTasks, func(w http.ResponseWriter, r *http.Request) {
		soc.Audit("stix", p.cfg.Usage, http.HandlerFunc(p.exportSTIX)).ServeHTTP(w, r)
	}))
	m.Handle("POST /portal/sightings", p.session(auth.ScopeTasks, p.annotate))
	m.Handle("GET /portal/lists", p.session("", p.lists))
	m.Handle("GET /portal/lists/{name}", p.session("", p.listPage))
	m.Handle("POST /portal/lists", p.session(auth.ScopeMon, p.createList))
	m.Handle("POST /portal/lists/{name}/delete", p.session(auth.ScopeMon, p.deleteList))
	m.Handle("POST /portal/lists/{name}/entries", p.session(auth.ScopeMon, p.addEntries))
	m.Handle("POST /portal/lists/{name}/remove", p.session(auth.ScopeMon, p.removeEntries))
	m.Handle("GET /portal/usage", p.session(auth.ScopeUsers, p.usage))
	m.Handle("GET /portal/keys", p.session(auth.ScopeUsers, p.keys))
	m.Handle("POST /portal/keys", p.session(auth.ScopeUsers, p.createKey))
	m.Handle("POST /portal/keys/{id}/revoke", p.session(auth.ScopeUsers, p.revokeKey))
	m.Handle("GET /portal/admin/{$}", p.session(auth.ScopeMon, p.overview))
	m.Handle("GET /portal/admin/users", p.session(auth.ScopeMon, p.users))
	m.Handle("POST /portal/admin/users", p.session(auth.ScopeMon, p.createUser))
	m.Handle("POST /portal/admin/users/{username}/active", p.session(auth.ScopeMon, p.setActive))
	m.Handle("POST /portal/admin/users/{username}/password", p.session(auth.ScopeMon, p.setPassword))
	m.Handle("GET /portal/admin/audit", p.session(auth.ScopeMon, p.audit))
	m.Handle("GET /portal/admin/reports", p.session(auth.ScopeMon, p.reports))
	m.Handle("GET /portal/admin/jobs", p.session(auth.ScopeMon, p.jobs))
	m.HandleFunc("/portal/", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, r, http.StatusNotFound, "message", view{Title: "Not found", Message: "There is no such page."})
	})
}

// ServeHTTP serves the portal with its security headers.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // with no-referrer, browsers send "Origin: null" on same-site POSTs
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.Method == http.MethodPost && !urlEncoded(r) {
		// The portal's forms and portal.js send url-encoded bodies only;
		// refusing the rest keeps multipart parsing (and its temporary
		// files) out of reach of an anonymous sign-in POST.
		p.render(w, r, http.StatusUnsupportedMediaType, "message", view{Title: "Unsupported form", Message: "Send the form as application/x-www-form-urlencoded."})
		return
	}
	p.mux.ServeHTTP(w, r)
}

// urlEncoded reports whether r's body is a url-encoded form (or empty).
func urlEncoded(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return r.ContentLength == 0
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/x-www-form-urlencoded"
}
