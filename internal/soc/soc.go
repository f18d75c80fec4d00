// Package soc holds what the SOC protocol servers (misp-modules, the Cortex
// API, TAXII) share: the analyzers they expose (a playbook, or every
// provider), a lookup that answers within a client's time budget (the
// providers that are still working are reported pending while their calls
// go on and fill the cache), and the one audit record per request, under
// each protocol's own api name.
package soc

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Analyzer is a named set of providers a protocol offers as one module or
// analyzer: a playbook, one provider, or all of them.
type Analyzer struct {
	ID          string // stable, lower case: "gadget_all", "gadget_virustotal", "pb_phishing"
	Name        string // as clients show it
	Description string
	Providers   []string         // nil: every live provider that serves the kind (or the playbook's)
	Playbook    string           // the policy's playbook it runs, if it is one
	Kinds       []indicator.Kind // the kinds it can look up
	// TLP is the highest TLP of data it may be given (the policy's; "" =
	// no limit known here).
	TLP string
}

// Serves reports whether a looks up kind k.
func (a Analyzer) Serves(k indicator.Kind) bool { return slices.Contains(a.Kinds, k) }

// Catalog lists the analyzers on offer, in a stable order.
type Catalog func() []Analyzer

// Find returns the analyzer of that id (case-insensitive).
func (c Catalog) Find(id string) (Analyzer, bool) {
	for _, a := range c() {
		if strings.EqualFold(a.ID, id) {
			return a, true
		}
	}
	return Analyzer{}, false
}

// Report is an analysis within a budget.
type Report struct {
	Indicator indicator.Indicator
	Results   []*lookup.Result
	Verdict   indicator.Verdict
	// Pending names the providers still working when the budget ran out;
	// their answers land in the cache and a later query finds them.
	Pending []string
	At      time.Time
}

// Complete reports whether every asked provider has answered.
func (r *Report) Complete() bool { return len(r.Pending) == 0 }

// Analyze looks ind up with a's providers and answers within budget: the
// cache and the providers that answer in time make the verdict; the others
// are marked PENDING (their calls go on, up to the engine's deadline, and
// fill the cache). budget ≤ 0: the engine's own deadline.
func Analyze(ctx context.Context, svc lookup.Service, a Analyzer, ind indicator.Indicator, caller lookup.Caller, budget time.Duration) *Report {
	rep := AnalyzeWith(ctx, svc, a, ind, lookup.Options{Caller: caller}, budget)
	rep.Verdict = lookup.Combine(rep.Results)
	return rep
}

// AnalyzeWith is Analyze with the lookup's options (TLP, Fresh; the
// playbook is a's), and the verdict the session judges: the providers'
// combined, then what the house's lists say of the value.
func AnalyzeWith(ctx context.Context, svc lookup.Service, a Analyzer, ind indicator.Indicator, opts lookup.Options, budget time.Duration) *Report {
	at := time.Now()
	bctx := ctx
	if budget > 0 {
		var cancel context.CancelFunc
		bctx, cancel = context.WithTimeout(ctx, budget)
		defer cancel()
	}
	opts.Playbook = a.Playbook
	sess := svc.Begin(ind, opts)
	// a copy: the session's slice may still be read by whoever observes
	// it (the TAXII publisher) while timeouts are rewritten as pending here
	rs := slices.Clone(sess.All(bctx, a.Providers))
	rep := &Report{Indicator: ind, Results: rs, At: at}
	for i, r := range rs {
		if r.Status == lookup.StatusTimeout && bctx.Err() != nil && ctx.Err() == nil {
			p := *r
			p.Status = lookup.StatusPending
			p.Err = &errcode.Error{Code: errcode.Timeout, Message: r.Provider + " is still working; ask again for its answer"}
			rs[i] = &p
		}
		if rs[i].Status == lookup.StatusPending {
			rep.Pending = append(rep.Pending, r.Provider)
		}
	}
	rep.Verdict = lookup.Judge(sess, rs)
	return rep
}

// Recorder takes audit records (the accounting writer).
type Recorder interface {
	Record(ctx context.Context, r accounting.Record)
}

// Caller is the lookup caller of an authenticated request.
func Caller(r *http.Request) lookup.Caller {
	info := clientinfo.From(r.Context())
	c := lookup.Caller{Endpoint: r.Method + " " + r.URL.Path, IP: info.IP, UserAgent: info.UserAgent}
	if r.Pattern != "" {
		c.Endpoint = r.Pattern
	}
	if p := auth.FromContext(r.Context()); p != nil {
		c.Username = p.Username
	}
	return c
}

// Audit writes one audit record per authenticated request under api (the
// protocol's own: "misp", "cortex", "taxii"), with the providers the
// request asked and how each answered. Requests refused before a
// principal is known are not recorded (nothing was done for anybody).
func Audit(api string, usage Recorder, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if usage == nil || p == nil {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		params := map[string]any{}
		ctx, req := accounting.NewRequest(context.WithValue(r.Context(), paramsKey{}, params))
		cw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(ctx)
		next.ServeHTTP(cw, r)
		status := "ok"
		switch {
		case cw.status >= 500:
			status = "error"
		case cw.status == http.StatusNotFound:
			status = "not_found"
		case cw.status == http.StatusForbidden || cw.status == http.StatusUnauthorized:
			status = "denied"
		case cw.status >= 400:
			status = "bad_request"
		}
		info := clientinfo.From(ctx)
		endpoint := r.Method + " " + r.URL.Path
		if r.Pattern != "" {
			endpoint = r.Pattern
		}
		rec := accounting.Record{Username: p.Username, API: api, Endpoint: endpoint, Parameters: accounting.Redact(params),
			UserAgent: info.UserAgent, IP: info.IP, Status: status, Latency: time.Since(start), At: start}
		req.Fill(&rec)
		if len(rec.Answers) == 0 {
			rec.DataSize = cw.n
		}
		usage.Record(ctx, rec)
	})
}

type paramsKey struct{}

// SetParam notes a request parameter for the audit record (Redact applies).
func SetParam(ctx context.Context, name string, v any) {
	if m, ok := ctx.Value(paramsKey{}).(map[string]any); ok {
		m[name] = v
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Logger returns l, or a logger that discards.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Link is provider r's own page about ind: the descriptor's, else a "link"
// its summary carries (VirusTotal, GreyNoise); "" when there is none. Only
// answers that found something (or nothing) have one.
func Link(ind indicator.Indicator, r *lookup.Result) string {
	if r.Status != lookup.StatusOK && r.Status != lookup.StatusNotFound {
		return ""
	}
	if d, ok := provider.Lookup(r.Provider); ok {
		if l := d.LinkOf(ind); l != "" {
			return l
		}
	}
	var link string
	if r.Summary != nil { // fetched by this process: the typed summary
		v := reflect.ValueOf(r.Summary)
		if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
			if f := v.Elem().FieldByName("Link"); f.IsValid() && f.Kind() == reflect.String {
				link = f.String()
			}
		}
	} else if s, err := lookup.SummaryOf[struct {
		Link string `json:"link"`
	}](r); err == nil && s != nil { // from another process: the encoded one
		link = s.Link
	}
	if !strings.HasPrefix(link, "https://") {
		return ""
	}
	return link
}

// Title is provider name's human name.
func Title(name string) string {
	if d, ok := provider.Lookup(name); ok {
		return d.Title
	}
	return name
}
