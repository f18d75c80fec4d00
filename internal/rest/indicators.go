package rest

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/tasks"
)

// kindRoute is one /api/indicator/{path} family: GET by value (or by task
// id) and POST to submit a task.
type kindRoute struct {
	path  string         // "ipv4", "hash", "sha256", …
	param string         // path wildcard and POST field alias
	rest  bool           // the wildcard takes the rest of the path (URLs)
	kind  indicator.Kind // "" for hash: MD5, SHA-1 or SHA-256
}

var kindRoutes = []kindRoute{
	{path: "ipv4", param: "ipv4", kind: indicator.IPv4},
	{path: "ipv6", param: "ipv6", kind: indicator.IPv6},
	{path: "domain", param: "domain", kind: indicator.Domain},
	{path: "url", param: "url", rest: true, kind: indicator.URL},
	{path: "hash", param: "hash"},
	{path: "sha256", param: "sha256", kind: indicator.SHA256},
}

func (k kindRoute) wildcard() string {
	if k.rest {
		return "{" + k.param + "...}"
	}
	return "{" + k.param + "}"
}

// parse reads a value of k's kind (defanged input accepted); field names
// the input at fault.
func (k kindRoute) parse(v, field string) (indicator.Indicator, error) {
	var (
		ind indicator.Indicator
		err error
	)
	if k.kind == "" {
		ind, err = indicator.Parse(v)
		if err == nil && !ind.Kind.IsHash() {
			err = fmt.Errorf("invalid indicator %s: a %s, not an MD5, SHA-1 or SHA-256 hash", quoteShort(v), ind.Kind)
		}
	} else {
		ind, err = indicator.ParseAs(v, k.kind)
	}
	if err != nil {
		return ind, &errcode.Error{Code: errcode.BadIndicator, Field: field, Message: err.Error()}
	}
	return ind, nil
}

// envelope is the original's answer (indicator, count, time, results,
// status, task_id) plus ours: value, verdict with its coverage, context,
// and per source status, cached, error, verdict and link.
type envelope struct {
	Indicator string         `json:"indicator"`
	Value     string         `json:"value"`
	Count     int            `json:"count"`
	Time      string         `json:"time"`
	Results   []sourceResult `json:"results"`
	Status    string         `json:"status"`
	TaskID    string         `json:"task_id,omitempty"`
	Verdict   verdictJSON    `json:"verdict"`
	Context   contextJSON    `json:"context"`
	// Sightings are the value's lookups here before this one; absent
	// without the policy service.
	Sightings *sightingsJSON `json:"sightings,omitempty"`
}

// sightingsJSON is policy.Summary: counters any caller with the tasks
// scope may see (whose sightings they were stays with GraphQL's
// Indicator.sightings.recent), the latest manual verdict with who and
// when, and the portal's one line.
type sightingsJSON struct {
	Count         int64       `json:"count"`
	DistinctUsers int64       `json:"distinct_users"`
	FirstSeen     *time.Time  `json:"first_seen"`
	LastSeen      *time.Time  `json:"last_seen"`
	LastVerdict   *string     `json:"last_verdict"` // the combined verdict of the last lookup
	Manual        *manualJSON `json:"manual"`
	Text          string      `json:"text"` // "seen 4 times by 3 analysts; last verdict BENIGN 12 days ago"
}

// manualJSON is an analyst's verdict on a sighting of the value.
type manualJSON struct {
	Verdict  string    `json:"verdict"` // TRUE_POSITIVE or FALSE_POSITIVE
	Note     string    `json:"note"`
	Username string    `json:"username"`
	At       time.Time `json:"at"`
}

func newSightingsJSON(s policy.Summary, now time.Time) *sightingsJSON {
	out := &sightingsJSON{Count: s.Count, DistinctUsers: s.DistinctUsers, Text: s.Card(now)}
	if s.Count > 0 {
		first, last, v := s.FirstSeen, s.LastSeen, s.LastVerdict
		if v == "" {
			v = indicator.Unknown.String()
		}
		out.FirstSeen, out.LastSeen, out.LastVerdict = &first, &last, &v
	}
	if m := s.Manual; m != nil {
		out.Manual = &manualJSON{Verdict: string(m.Verdict), Note: m.Note, Username: m.Username, At: m.At}
	}
	return out
}

type sourceResult struct {
	Source    string          `json:"source"`   // the original's source name ("VirusTotal", "AlienVaultOTX")
	Provider  string          `json:"provider"` // the stable provider id ("virustotal", "otx")
	Results   json.RawMessage `json:"results"`  // the provider's JSON; null when it gave none
	Status    string          `json:"status"`
	Cached    bool            `json:"cached"`
	FetchedAt *time.Time      `json:"fetched_at"`
	LatencyMs int64           `json:"latency_ms"`
	Error     *sourceError    `json:"error"`
	JobID     int64           `json:"job_id,omitempty"` // the River job (with PENDING: ask again)
	Level     string          `json:"level,omitempty"`  // this provider's verdict (OK only)
	Score     *int            `json:"score,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	Link      string          `json:"link,omitempty"` // the provider's own page about the value
}

type sourceError struct {
	Code              string `json:"code"`
	Message           string `json:"message"`
	RetryAfterSeconds int64  `json:"retry_after_seconds,omitempty"`
}

type verdictJSON struct {
	Level    string       `json:"level"`
	Score    int          `json:"score"`
	Reasons  []string     `json:"reasons"`
	Complete bool         `json:"complete"`
	Coverage coverageJSON `json:"coverage"`
}

type coverageJSON struct {
	Asked             int       `json:"asked"`
	Answered          int       `json:"answered"`
	NotFound          int       `json:"not_found"`
	NotConfigured     int       `json:"not_configured"`
	Skipped           int       `json:"skipped"`
	RateLimited       int       `json:"rate_limited"`
	Failed            int       `json:"failed"`
	Pending           int       `json:"pending"`
	RetryAfterSeconds int64     `json:"retry_after_seconds,omitempty"`
	Gaps              []gapJSON `json:"gaps"`
	Summary           string    `json:"summary"`
}

type gapJSON struct {
	Provider          string `json:"provider"`
	Status            string `json:"status"`
	Reason            string `json:"reason"`
	RetryAfterSeconds int64  `json:"retry_after_seconds,omitempty"`
}

// contextJSON is lookup.Context; absent fields are omitted.
type contextJSON struct {
	ASN             *sourced[int]       `json:"asn,omitempty"`
	ASOwner         *sourced[string]    `json:"as_owner,omitempty"`
	Country         *sourced[string]    `json:"country,omitempty"`
	Network         *sourced[string]    `json:"network,omitempty"`
	Registrar       *sourced[string]    `json:"registrar,omitempty"`
	RegisteredAt    *sourced[time.Time] `json:"registered_at,omitempty"`
	FirstSeen       *sourced[time.Time] `json:"first_seen,omitempty"`
	LastSeen        *sourced[time.Time] `json:"last_seen,omitempty"`
	Tags            []labelJSON         `json:"tags"`
	MalwareFamilies []labelJSON         `json:"malware_families"`
}

type sourced[T any] struct {
	Value  T      `json:"value"`
	Source string `json:"source"`
}

type labelJSON struct {
	Value   string   `json:"value"`
	Sources []string `json:"sources"`
}

func sourcedOf[T any](s *lookup.Sourced[T]) *sourced[T] {
	if s == nil {
		return nil
	}
	return &sourced[T]{Value: s.Value, Source: s.Source}
}

func labelsOf(ls []lookup.Label) []labelJSON {
	out := make([]labelJSON, len(ls))
	for i, l := range ls {
		out[i] = labelJSON{Value: l.Value, Sources: l.Sources}
	}
	return out
}

func newContextJSON(c lookup.Context) contextJSON {
	return contextJSON{ASN: sourcedOf(c.ASN), ASOwner: sourcedOf(c.ASOwner), Country: sourcedOf(c.Country), Network: sourcedOf(c.Network),
		Registrar: sourcedOf(c.Registrar), RegisteredAt: sourcedOf(c.RegisteredAt), FirstSeen: sourcedOf(c.FirstSeen), LastSeen: sourcedOf(c.LastSeen),
		Tags: labelsOf(c.Tags), MalwareFamilies: labelsOf(c.MalwareFamilies)}
}

func newVerdictJSON(v lookup.Verdict) verdictJSON {
	c := v.Coverage
	out := verdictJSON{Level: v.Level.String(), Score: v.Score, Reasons: v.Reasons, Complete: c.Complete(), Coverage: coverageJSON{
		Asked: c.Asked, Answered: c.Answered, NotFound: c.NotFound, NotConfigured: c.NotConfigured, Skipped: c.Skipped,
		RateLimited: c.RateLimited, Failed: c.Failed, Pending: c.Pending, RetryAfterSeconds: lookup.RetryAfterSeconds(c.RetryAfter),
		Gaps: make([]gapJSON, len(c.Gaps)), Summary: c.String()}}
	for i, g := range c.Gaps {
		out.Coverage.Gaps[i] = gapJSON{Provider: g.Provider, Status: string(g.Status), Reason: g.Reason, RetryAfterSeconds: lookup.RetryAfterSeconds(g.RetryAfter)}
	}
	if out.Reasons == nil {
		out.Reasons = []string{}
	}
	return out
}

// lookupOpts are the per-request lookup switches of the GET paths.
type lookupOpts struct {
	providers  []string
	cachedOnly bool
	tlp        indicator.TLP // zero: the configured default
	playbook   string
}

// lookup asks the providers (all serving the kind when none are named)
// through the engine and builds the envelope.
func (a *API) lookup(ctx context.Context, ind indicator.Indicator, o lookupOpts, caller lookup.Caller) *envelope {
	start := a.cfg.Now()
	seen := a.sightings(ctx, ind) // read beside the providers; this lookup is written when the request ends
	lk := a.cfg.Engine.Begin(ind, lookup.Options{Caller: caller, CachedOnly: o.cachedOnly, TLP: o.tlp, Playbook: o.playbook})
	rs := lk.All(ctx, o.providers)
	env := &envelope{Indicator: string(ind.Kind), Value: ind.Value, Results: make([]sourceResult, 0, len(rs)),
		Status: "SUCCESS", Verdict: newVerdictJSON(lookup.Assess(lk, rs)), Context: newContextJSON(lookup.ContextOf(rs)), Sightings: <-seen}
	for _, r := range rs {
		s := sourceResult{Source: sourceName(r.Provider), Provider: r.Provider, Results: r.Data, Status: string(r.Status), Cached: r.Cached, LatencyMs: r.Latency.Milliseconds(), JobID: r.JobID, Link: r.Link}
		if len(s.Results) == 0 {
			s.Results = json.RawMessage("null")
		}
		if !r.FetchedAt.IsZero() {
			t := r.FetchedAt.UTC()
			s.FetchedAt = &t
		}
		if r.Err != nil {
			s.Error = &sourceError{Code: string(r.Err.Code), Message: r.Err.Message, RetryAfterSeconds: lookup.RetryAfterSeconds(r.RetryAfter)}
		}
		if r.Status == lookup.StatusOK {
			score := r.Verdict.Score
			s.Level, s.Score, s.Reason = r.Verdict.Level.String(), &score, r.Verdict.Reason
		}
		env.Results = append(env.Results, splitParts(s, ind.Kind)...)
	}
	env.Count = len(env.Results)
	env.Time = fmt.Sprintf("%.2f", a.cfg.Now().Sub(start).Seconds())
	return env
}

// sightings reads the value's sightings summary in the background; the
// channel yields nil without the policy service, or when the read fails
// (logged unless the request ended: the lookup answers without it).
func (a *API) sightings(ctx context.Context, ind indicator.Indicator) <-chan *sightingsJSON {
	out := make(chan *sightingsJSON, 1)
	if a.cfg.Policy == nil {
		out <- nil
		return out
	}
	go func() {
		sum, err := a.cfg.Policy.Sightings(ctx, ind)
		if err != nil {
			if ctx.Err() == nil {
				a.cfg.Logger.WarnContext(ctx, "rest: sightings summary", "err", err)
			}
			out <- nil
			return
		}
		out <- newSightingsJSON(sum, a.cfg.Now())
	}()
	return out
}

// splitParts gives a provider answering in named parts (Descriptor.Parts,
// ThreatMiner's report types) one entry per part, named as the part and
// holding that part's JSON, as the original's envelope did; each keeps the
// provider's status, error and verdict. Other providers keep one entry.
func splitParts(s sourceResult, k indicator.Kind) []sourceResult {
	d, ok := provider.Lookup(s.Provider)
	if !ok || d.Parts == nil {
		return []sourceResult{s}
	}
	names := d.Parts(k)
	if len(names) == 0 {
		return []sourceResult{s}
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(s.Results, &raw) // null (no answer) or not an object: every part null
	out := make([]sourceResult, len(names))
	for i, name := range names {
		out[i] = s
		out[i].Source, out[i].Results = name, raw[name]
		if len(out[i].Results) == 0 {
			out[i].Results = json.RawMessage("null")
		}
	}
	return out
}

// sourceName is the name the original gave a provider's source in its
// envelope (Descriptor.Source), so playbooks written against it still
// match; the provider id when the descriptor is unknown.
func sourceName(name string) string {
	if d, ok := provider.Lookup(name); ok && d.Source != "" {
		return d.Source
	}
	return name
}

// caller is the request's accounting identity; the endpoint is the route
// pattern ("GET /api/indicator/ipv4/{ipv4}").
func caller(r *http.Request) lookup.Caller {
	info := clientinfo.From(r.Context())
	return lookup.Caller{Username: auth.FromContext(r.Context()).Username, Endpoint: r.Pattern, IP: info.IP, UserAgent: info.UserAgent}
}

// maxProviders bounds ?providers=.
const maxProviders = 32

// indicatorGet serves GET /api/indicator/{kind}/{value}: the lookup of a
// value, or, when the value is a task id, that task's state or answer.
func (a *API) indicatorGet(k kindRoute) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		raw := r.PathValue(k.param)
		if tasks.IsID(raw) {
			unaccounted(r)
			return a.poll(w, r, k, raw)
		}
		in, err := readInput(r, "providers", "cached_only", "format", "tlp", "playbook")
		if err != nil {
			return err
		}
		var o lookupOpts
		if o.tlp, o.playbook, err = a.lookupPolicy(in); err != nil {
			return err
		}
		if o.providers, err = in.list("providers", maxProviders); err != nil {
			return err
		}
		if o.cachedOnly, err = in.boolean("cached_only", false); err != nil {
			return err
		}
		format, err := in.str("format")
		if err != nil {
			return err
		}
		if format != "" && format != "json" && format != "csv" {
			return errcode.Field("format", "format must be json or csv")
		}
		ind, err := k.parse(raw, k.param)
		if err != nil {
			return err
		}
		if read, ok := r.Context().Value(paramsKey{}).(*input); ok && *read != nil { // for the audit record
			(*read)["kind"], (*read)["value"] = k.path, ind.Value
		}
		if wantsSTIX(r) {
			tlp, _ := in["tlp"].(string) // also the bundle's marking
			return a.writeSTIX(w, r, ind, o, tlp)
		}
		env := a.lookup(r.Context(), ind, o, caller(r))
		if format == "csv" {
			writeEnvelopeCSV(w, env)
			return nil
		}
		writeJSON(w, http.StatusOK, env)
		return nil
	}
}

// taskJSON is the original's answer while a task is not done.
type taskJSON struct {
	TaskID     string  `json:"task_id"`
	TaskStatus string  `json:"task_status"`
	TaskResult *string `json:"task_result"`
}

// poll answers a task: its envelope once SUCCESS, else its state.
func (a *API) poll(w http.ResponseWriter, r *http.Request, k kindRoute, id string) error {
	t, err := a.cfg.Tasks.Get(r.Context(), auth.FromContext(r.Context()).Username, id)
	if err == nil && t.Kind != k.path {
		err = &errcode.Error{Code: errcode.NotFound, Field: "task_id", Message: "no such task"}
	}
	if err != nil {
		return err
	}
	if t.Status == tasks.Success {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(append(t.Result, '\n'))
		return nil
	}
	tj := taskJSON{TaskID: t.ID.String(), TaskStatus: string(t.Status)}
	if t.Status == tasks.Failure {
		tj.TaskResult = &t.Error
	}
	writeJSON(w, http.StatusOK, tj)
	return nil
}

// indicatorSubmit serves POST /api/indicator/{kind} with {"indicator": …}
// (JSON or form; optional providers): it stores a task and answers its id.
func (a *API) indicatorSubmit(k kindRoute) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		in, err := readInput(r, "indicator", "providers", "tlp", "playbook")
		if err != nil {
			return err
		}
		o := lookupOpts{}
		if o.tlp, o.playbook, err = a.lookupPolicy(in); err != nil {
			return err
		}
		value, err := in.required("indicator")
		if err != nil {
			return err
		}
		if o.providers, err = in.list("providers", maxProviders); err != nil {
			return err
		}
		providers := o.providers
		ind, err := k.parse(value, "indicator")
		if err != nil {
			return err
		}
		c := caller(r)
		read := input{"kind": k.path, "value": ind.Value}
		for _, p := range []string{"providers", "tlp", "playbook"} {
			if v, ok := in[p]; ok {
				read[p] = v
			}
		}
		params := safeParams(r, read)
		t, err := a.cfg.Tasks.Submit(r.Context(), tasks.Task{Username: c.Username, Kind: k.path, Value: ind.Value, Providers: strings.Join(providers, ",")},
			func(ctx context.Context, id string) (json.RawMessage, error) {
				ctx, req := accounting.NewRequest(ctx)
				start := a.cfg.Now()
				env := a.lookup(ctx, ind, o, c)
				env.TaskID = id
				if a.cfg.Usage != nil { // the submitting request's audit record, with the task's answers
					rec := accounting.Record{Username: c.Username, API: "indicator", Endpoint: c.Endpoint, Parameters: params,
						UserAgent: c.UserAgent, IP: c.IP, Status: "ok", Latency: a.cfg.Now().Sub(start), At: start}
					req.Fill(&rec)
					a.cfg.Usage.Record(ctx, rec)
				}
				return json.Marshal(env)
			})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, taskJSON{TaskID: t.ID.String(), TaskStatus: string(t.Status)})
		return nil
	}
}

// csvHeader is the CSV export's header: one row per source entry.
var csvHeader = []string{"value", "kind", "verdict", "verdict_score", "complete", "coverage", "provider", "status", "level", "score", "reason", "link", "cached", "fetched_at", "error"}

// writeEnvelopeCSV writes env as CSV, one row per source entry, each with the
// combined verdict beside it; cells a spreadsheet would run as a formula
// are quoted with a leading apostrophe.
func writeEnvelopeCSV(w http.ResponseWriter, env *envelope) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, s := range env.Results {
		score, fetched, msg := "", "", ""
		if s.Score != nil {
			score = strconv.Itoa(*s.Score)
		}
		if s.FetchedAt != nil {
			fetched = s.FetchedAt.Format(time.RFC3339)
		}
		if s.Error != nil {
			msg = s.Error.Message
		}
		row := []string{env.Value, env.Indicator, env.Verdict.Level, strconv.Itoa(env.Verdict.Score), strconv.FormatBool(env.Verdict.Complete),
			env.Verdict.Coverage.Summary, s.Source, s.Status, s.Level, score, s.Reason, s.Link, strconv.FormatBool(s.Cached), fetched, msg}
		for i, c := range row {
			row[i] = csvSafe(c)
		}
		cw.Write(row)
	}
	cw.Flush()
}

// csvSafe defuses a cell a spreadsheet would evaluate (=, +, -, @, tab, CR).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
