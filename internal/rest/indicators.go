package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
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
// status, task_id) plus ours: value, verdict, and per source status,
// cached and error.
type envelope struct {
	Indicator string         `json:"indicator"`
	Value     string         `json:"value"`
	Count     int            `json:"count"`
	Time      string         `json:"time"`
	Results   []sourceResult `json:"results"`
	Status    string         `json:"status"`
	TaskID    string         `json:"task_id,omitempty"`
	Verdict   verdictJSON    `json:"verdict"`
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
}

type sourceError struct {
	Code              string `json:"code"`
	Message           string `json:"message"`
	RetryAfterSeconds int64  `json:"retry_after_seconds,omitempty"`
}

type verdictJSON struct {
	Level   string   `json:"level"`
	Score   int      `json:"score"`
	Reasons []string `json:"reasons"`
}

// lookup asks the providers (all serving the kind when none are named)
// through the engine and builds the envelope.
func (a *API) lookup(ctx context.Context, ind indicator.Indicator, providers []string, caller lookup.Caller) *envelope {
	start := a.cfg.Now()
	lk := a.cfg.Engine.Begin(ind, lookup.Options{Caller: caller})
	rs := lk.All(ctx, providers)
	v := lookup.Judge(lk, rs)
	env := &envelope{Indicator: string(ind.Kind), Value: ind.Value, Count: len(rs), Results: make([]sourceResult, len(rs)),
		Status: "SUCCESS", Verdict: verdictJSON{Level: v.Level.String(), Score: v.Score, Reasons: v.Reasons}}
	for i, r := range rs {
		s := sourceResult{Source: sourceName(r.Provider), Provider: r.Provider, Results: r.Data, Status: string(r.Status), Cached: r.Cached, LatencyMs: r.Latency.Milliseconds(), JobID: r.JobID}
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
		env.Results[i] = s
	}
	if env.Verdict.Reasons == nil {
		env.Verdict.Reasons = []string{}
	}
	env.Time = fmt.Sprintf("%.2f", a.cfg.Now().Sub(start).Seconds())
	return env
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
		allowed := []string{"providers"}
		asSTIX := wantsSTIX(r)
		if asSTIX {
			allowed = append(allowed, "tlp") // the bundle's marking
		}
		in, err := readInput(r, allowed...)
		if err != nil {
			return err
		}
		providers, err := in.list("providers", maxProviders)
		if err != nil {
			return err
		}
		ind, err := k.parse(raw, k.param)
		if err != nil {
			return err
		}
		if read, ok := r.Context().Value(paramsKey{}).(*input); ok && *read != nil { // for the audit record
			(*read)["kind"], (*read)["value"] = k.path, ind.Value
		}
		if asSTIX {
			tlp, _ := in["tlp"].(string)
			return a.writeSTIX(w, r, ind, providers, tlp)
		}
		writeJSON(w, http.StatusOK, a.lookup(r.Context(), ind, providers, caller(r)))
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
		in, err := readInput(r, "indicator", "providers")
		if err != nil {
			return err
		}
		value, err := in.required("indicator")
		if err != nil {
			return err
		}
		providers, err := in.list("providers", maxProviders)
		if err != nil {
			return err
		}
		ind, err := k.parse(value, "indicator")
		if err != nil {
			return err
		}
		c := caller(r)
		read := input{"kind": k.path, "value": ind.Value}
		if v, ok := in["providers"]; ok {
			read["providers"] = v
		}
		params := safeParams(r, read)
		t, err := a.cfg.Tasks.Submit(r.Context(), tasks.Task{Username: c.Username, Kind: k.path, Value: ind.Value, Providers: strings.Join(providers, ",")},
			func(ctx context.Context, id string) (json.RawMessage, error) {
				ctx, req := accounting.NewRequest(ctx)
				start := a.cfg.Now()
				env := a.lookup(ctx, ind, providers, c)
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
