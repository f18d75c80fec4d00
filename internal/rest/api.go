package rest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/tasks"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// Config wires the REST layer. Every service is the one GraphQL uses.
type Config struct {
	Auth      *auth.Service
	Listings  *accounting.Listings
	Engine    lookup.Service
	Tasks     *tasks.Service
	Usage     Recorder // writes each accounted request's audit record; nil: none
	Logger    *slog.Logger
	Version   string
	Started   time.Time
	Providers func() []lookup.ProviderStatus
	Now       func() time.Time
	// MaxBodyBytes bounds request bodies (default 64 KiB; POST /api/extract
	// takes up to 1 MiB of text).
	MaxBodyBytes int64
	// Extractor finds indicators in pasted text (POST /api/extract).
	Extractor indicator.Extractor
	// STIX makes the bundle of a lookup asked for with Accept:
	// application/stix+json;version=2.1.
	STIX soc.Exporter
	// Policy checks lookups' tlp= and playbook= and serves the lists and
	// playbooks under /api/admin; nil: those answer NOT_CONFIGURED.
	Policy *policy.Service
	// Budgets are the per-user daily budgets (PUT
	// /api/admin/user/{username}/budget/{provider}); nil: none can be set.
	Budgets *userbudget.Budgets
}

// API is the REST compatibility layer.
type API struct {
	cfg Config
}

// New returns the REST layer.
func New(c Config) *API {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 64 << 10
	}
	if c.Providers == nil {
		c.Providers = func() []lookup.ProviderStatus { return nil }
	}
	return &API{cfg: c}
}

// handlerFunc serves one route: it writes the success answer itself and
// returns any error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one REST operation.
type route struct {
	method string
	path   string     // a ServeMux path: "/api/indicator/url/{url...}"
	scope  auth.Scope // "" for public routes
	op     string     // usage-log api name (GraphQL's field name); "" when not accounted here
	serve  handlerFunc
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// routes is the REST surface, as documented in openapi.yaml.
func (a *API) routes() []route {
	rs := []route{
		{"GET", "/api/status", "", "", a.status},
		{"GET", "/api/uptime", "", "", a.uptime},
		{"GET", "/api/verify", auth.ScopeUsers, "", a.verify},
		{"GET", "/api/me", auth.ScopeUsers, "", a.me},
		{"PATCH", "/api/me/password", auth.ScopeUsers, "changePassword", a.changePassword},
		{"GET", "/api/me/usage", auth.ScopeUsers, "myUsage", a.myUsage},
		{"POST", "/api/admin/user", auth.ScopeMon, "createUser", a.createUser},
		{"PATCH", "/api/admin/user/password", auth.ScopeMon, "setUserPassword", a.setUserPassword},
		{"PATCH", "/api/admin/user/status", auth.ScopeMon, "setUserActive", a.setUserActive},
		{"PUT", "/api/admin/user/{username}/budget/{provider}", auth.ScopeMon, "setUserBudget", a.setUserBudget},
		{"GET", "/api/admin/users", auth.ScopeMon, "users", a.users},
		{"GET", "/api/admin/user/{username}", auth.ScopeMon, "user", a.user},
		{"GET", "/api/admin/logs", auth.ScopeMon, "auditLog", a.logs},
		{"GET", "/api/admin/log/{username}", auth.ScopeMon, "auditLog", a.logs},
		{"GET", "/api/admin/reports", auth.ScopeMon, "usageReport", a.report},
		{"GET", "/api/admin/report/{username}", auth.ScopeMon, "usageReport", a.report},
		{"POST", "/api/extract", auth.ScopeTasks, "extract", a.extract},
		{"GET", "/api/admin/lists", auth.ScopeMon, "lists", a.lists},
		{"POST", "/api/admin/lists", auth.ScopeMon, "createList", a.createList},
		{"GET", "/api/admin/list/{name}", auth.ScopeMon, "list", a.list},
		{"POST", "/api/admin/list/{name}", auth.ScopeMon, "addListEntries", a.addEntries},
		{"DELETE", "/api/admin/list/{name}", auth.ScopeMon, "removeListEntries", a.removeEntries},
		{"GET", "/api/admin/playbooks", auth.ScopeMon, "playbooks", a.playbooks},
		{"POST", "/api/admin/playbooks", auth.ScopeMon, "createPlaybook", a.putPlaybook},
		{"GET", "/api/admin/playbook/{name}", auth.ScopeMon, "playbooks", a.playbook},
		{"DELETE", "/api/admin/playbook/{name}", auth.ScopeMon, "deletePlaybook", a.deletePlaybook},
	}
	for _, k := range kindRoutes {
		rs = append(rs,
			route{"GET", "/api/indicator/" + k.path + "/" + k.wildcard(), auth.ScopeTasks, "indicator", a.indicatorGet(k)},
			// the task's lookup writes the audit record when it ends (indicatorSubmit)
			route{"POST", "/api/indicator/" + k.path, auth.ScopeTasks, "", a.indicatorSubmit(k)})
	}
	return rs
}

// Routes returns pattern → handler for the server's mux: every REST
// operation, /openapi.json, /docs, and a JSON 404/405 for the rest of /api/.
func (a *API) Routes() map[string]http.Handler {
	out := map[string]http.Handler{}
	known := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range a.routes() {
		out[rt.pattern()] = a.handle(rt)
		methods[rt.path] = append(methods[rt.path], rt.method)
	}
	for path, ms := range methods {
		allow := strings.Join(ms, ", ")
		known.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Detail: "method not allowed; use " + allow, Code: string(errcode.BadRequest)})
		}))
	}
	out["/api/"] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := known.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		writeError(w, r, a.cfg.Logger, errcode.New(errcode.NotFound, "no such path"), "")
	})
	out["GET /openapi.json"] = http.HandlerFunc(a.openAPI)
	for p, h := range docsRoutes() {
		out[p] = h
	}
	return out
}

// handle wraps a route: bearer authentication, the scope check, the body
// limit, errors through writeError, and the usage row of an accounted
// operation (bad input is not accounted: it changes nothing).
func (a *API) handle(rt route) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *auth.Principal
		if rt.scope != "" {
			var err error
			if p, err = auth.Require(r.Context(), rt.scope); err != nil {
				writeError(w, r, a.cfg.Logger, err, "")
				return
			}
		}
		if r.Body != nil {
			limit := a.cfg.MaxBodyBytes
			switch {
			case rt.path == "/api/extract":
				limit = max(limit, maxExtractBody)
			case rt.path == "/api/admin/lists" && r.URL.Query().Get("format") == "misp":
				limit = max(limit, maxWarninglistBody)
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		start := a.cfg.Now()
		cw := &countingWriter{ResponseWriter: w}
		var params input // what the handler read, for the usage row
		skip := false    // set by a handler whose request is not accounted (unaccounted)
		ctx, req := accounting.NewRequest(context.WithValue(context.WithValue(r.Context(), paramsKey{}, &params), skipKey{}, &skip))
		r = r.WithContext(ctx)
		err := rt.serve(cw, r)
		if err != nil {
			writeError(cw, r, a.cfg.Logger, err, "")
		}
		if rt.op == "" || skip || a.cfg.Usage == nil || p == nil || err != nil && errcode.HTTPStatus(errcode.CodeOf(err)) == http.StatusBadRequest {
			return
		}
		status := "ok"
		if err != nil {
			status = string(errcode.CodeOf(err))
		}
		info := clientinfo.From(r.Context())
		rec := accounting.Record{
			Username: p.Username, API: rt.op, Endpoint: rt.pattern(), Parameters: safeParams(r, params),
			UserAgent: info.UserAgent, IP: info.IP, Status: status, Latency: a.cfg.Now().Sub(start), At: start,
		}
		req.Fill(&rec) // a lookup's answers and their bytes
		if len(rec.Answers) == 0 {
			rec.DataSize = cw.n
		}
		a.cfg.Usage.Record(r.Context(), rec)
	})
	return a.cfg.Auth.Middleware(h)
}

// countingWriter counts the body bytes written.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// skipKey carries the *bool that unaccounted sets.
type skipKey struct{}

// unaccounted leaves r out of the audit log (a task poll: the task's own
// record says what was asked).
func unaccounted(r *http.Request) {
	if skip, ok := r.Context().Value(skipKey{}).(*bool); ok {
		*skip = true
	}
}

// paramsKey carries a *input that readInput fills, so the wrapper can
// write the parameters a handler read into the usage row.
type paramsKey struct{}

// Recorder takes audit records (the accounting writer).
type Recorder interface {
	Record(ctx context.Context, r accounting.Record)
}

// safeParams is the audit-log parameters of a request: its path values and
// the parameters the handler read, redacted.
func safeParams(r *http.Request, read input) string {
	m := map[string]any{}
	for k, v := range read {
		m[k] = v
	}
	if u := r.PathValue("username"); u != "" {
		m["username"] = u
	}
	return accounting.Redact(m)
}

// Operation describes one REST route: what the OpenAPI document and the
// scope checks are tested against.
type Operation struct {
	Method string
	Path   string     // as in OpenAPI: "/api/indicator/url/{url}"
	Scope  auth.Scope // "" for public routes
}

// Operations lists the REST routes (not /api/authenticate, which
// internal/server mounts).
func Operations() []Operation {
	var out []Operation
	for _, rt := range (&API{}).routes() {
		out = append(out, Operation{Method: rt.method, Path: strings.ReplaceAll(rt.path, "...}", "}"), Scope: rt.scope})
	}
	return out
}
