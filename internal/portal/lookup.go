package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// MaxLookup is the most indicators one portal lookup may hold; lookupWorkers
// is how many of them are worked on at once.
const (
	MaxLookup     = 100
	lookupWorkers = 8
)

// presets name the provider groups offered on the lookup page: "all" (every
// provider serving the kind), one per tag the provider descriptors carry
// (e.g. "reputation", "context"), and "keyless" (every provider that needs
// no key). A provider joins a tag's preset by listing the tag in its
// descriptor.
func presets() []string {
	seen := map[string]bool{}
	var tags []string
	for _, d := range provider.Descriptors() {
		for _, t := range d.Tags {
			if !seen[t] && t != "all" && t != "keyless" {
				seen[t] = true
				tags = append(tags, t)
			}
		}
	}
	slices.Sort(tags)
	return append(append([]string{"all"}, tags...), "keyless")
}

// tagged lists the registered providers whose descriptor carries tag.
func tagged(tag string) []string {
	var out []string
	for _, d := range provider.Descriptors() {
		if slices.Contains(d.Tags, tag) {
			out = append(out, d.Name)
		}
	}
	return out
}

// lookupPage is the data of the lookup page.
type lookupPage struct {
	Providers []lookup.ProviderStatus
	Presets   []string
}

func (p *Portal) lookupPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "lookup", view{Title: "Lookup", Data: lookupPage{Providers: p.cfg.Providers(),
		Presets: presets()}})
}

// invalidInput is what the lookup box left out, and why: a token refused
// as an indicator, a value policy keeps inside, or a line that holds none.
type invalidInput struct {
	Input string `json:"input"`
	Error string `json:"error"`
	Kind  string `json:"kind"` // ignored, internal or invalid
}

// extract finds the indicators in the lookup box with p's Extractor:
// alert text, log lines and e-mails as well as one value per line. What it
// leaves out is listed with the reason: ignored tokens, internal values,
// and lines of a single word that hold no indicator (with Parse's error).
func (p *Portal) extract(text string) ([]indicator.Indicator, []invalidInput, error) {
	ex, err := p.cfg.Extractor.Extract(text)
	if err != nil {
		return nil, nil, &errcode.Error{Code: errcode.BadRequest, Field: "values", Message: err.Error(), Err: err}
	}
	var (
		out     []indicator.Indicator
		bad     []invalidInput
		covered []indicator.Span
	)
	for _, f := range ex.Indicators {
		out = append(out, f.Indicator)
		covered = append(covered, f.Spans...)
	}
	for _, w := range ex.Internal {
		bad = append(bad, invalidInput{Input: clip(w.Value, 200), Error: w.Reason + "; never looked up", Kind: "internal"})
		covered = append(covered, w.Spans...)
	}
	for _, ig := range ex.Ignored {
		bad = append(bad, invalidInput{Input: clip(ig.Text, 200), Error: ig.Reason, Kind: "ignored"})
		covered = append(covered, ig.Span)
	}
	if ex.IgnoredOmitted > 0 {
		bad = append(bad, invalidInput{Input: "…", Error: fmt.Sprintf("%d more tokens ignored", ex.IgnoredOmitted), Kind: "ignored"})
	}
	start := 0
	for line := range strings.Lines(text) {
		w := strings.TrimSpace(line)
		at := start + strings.Index(line, w)
		start += len(line)
		if w == "" || strings.ContainsFunc(w, unicode.IsSpace) || overlaps(covered, at, at+len(w)) {
			continue
		}
		if _, err := indicator.Parse(w); err != nil {
			bad = append(bad, invalidInput{Input: clip(w, 200), Error: err.Error(), Kind: "invalid"})
		}
	}
	return out, bad, nil
}

// overlaps reports whether [start, end) overlaps any of spans.
func overlaps(spans []indicator.Span, start, end int) bool {
	for _, sp := range spans {
		if sp.Start < end && start < sp.End {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// plannedRow is one indicator of a lookup and the providers asked.
type plannedRow struct {
	Value     string   `json:"value"`
	Kind      string   `json:"kind"`
	Providers []string `json:"providers"`
}

// streamResult is one provider's answer as the page shows it.
type streamResult struct {
	Provider   string          `json:"provider"`
	Status     string          `json:"status"`
	Cached     bool            `json:"cached"`
	FetchedAt  string          `json:"fetchedAt,omitempty"`
	AgeSeconds int64           `json:"ageSeconds"`
	LatencyMs  int64           `json:"latencyMs"`
	Data       json.RawMessage `json:"data,omitempty"`
	Error      string          `json:"error,omitempty"`
}

type streamVerdict struct {
	Level   string   `json:"level"`
	Score   int      `json:"score"`
	Reasons []string `json:"reasons"`
}

// event is one line of the lookup stream (NDJSON).
type event struct {
	Type    string         `json:"type"` // plan, result, done
	Rows    []plannedRow   `json:"rows,omitempty"`
	Invalid []invalidInput `json:"invalid,omitempty"`
	Row     int            `json:"row"`
	Result  *streamResult  `json:"result,omitempty"`
	Verdict *streamVerdict `json:"verdict,omitempty"`
}

// selectProviders returns the providers a lookup form asks for, nil for all.
func (p *Portal) selectProviders(r *http.Request) ([]string, error) {
	known := map[string]lookup.ProviderStatus{}
	for _, pi := range p.cfg.Providers() {
		known[pi.Name] = pi
	}
	if chosen := r.PostForm["providers"]; len(chosen) > 0 {
		for _, n := range chosen {
			if _, ok := known[n]; !ok {
				return nil, errcode.Field("providers", "unknown provider "+clip(n, 32))
			}
		}
		return chosen, nil
	}
	switch preset := r.PostFormValue("preset"); preset {
	case "", "all":
		return nil, nil
	case "keyless":
		var out []string
		for _, pi := range p.cfg.Providers() {
			if pi.Keyless {
				out = append(out, pi.Name)
			}
		}
		return out, nil
	default:
		if ps := tagged(preset); len(ps) > 0 {
			return ps, nil
		}
		return nil, errcode.Field("preset", "unknown preset "+clip(preset, 32))
	}
}

// lookup streams a lookup as NDJSON: the plan, then each provider's answer
// with the indicator's verdict so far as soon as it arrives, then done.
func (p *Portal) lookup(w http.ResponseWriter, r *http.Request) {
	inds, bad, err := p.extract(r.PostFormValue("values"))
	chosen, err2 := p.selectProviders(r)
	switch {
	case err != nil:
	case err2 != nil:
		err = err2
	case len(inds) == 0 && len(bad) == 0:
		err = errcode.Field("values", "paste at least one indicator")
	case len(inds) > MaxLookup:
		err = errcode.Field("values", fmt.Sprintf("at most %d indicators per lookup (found %d)", MaxLookup, len(inds)))
	}
	if err != nil {
		status := errcode.HTTPStatus(errcode.CodeOf(err))
		if errors.Is(err, indicator.ErrTextTooLong) {
			status = http.StatusRequestEntityTooLarge
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": errcode.Of(err).Message})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.Engine.Deadline()+5*time.Second)
	defer cancel()
	ctx, req := accounting.NewRequest(ctx)
	start := p.cfg.Now()
	info := clientinfo.From(ctx)
	opts := lookup.Options{Fresh: r.PostFormValue("fresh") == "on", Batch: lookup.NewBatch(lookupWorkers), Caller: lookup.Caller{
		Username: auth.FromContext(ctx).Username, Endpoint: "POST /portal/lookup", IP: info.IP, UserAgent: info.UserAgent}}
	lookups := make([]lookup.Session, len(inds))
	plan := event{Type: "plan", Invalid: bad, Rows: make([]plannedRow, len(inds))}
	for i, ind := range inds {
		lookups[i] = p.cfg.Engine.Begin(ind, opts)
		names := lookups[i].Providers()
		if chosen != nil {
			names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(chosen, n) })
		}
		plan.Rows[i] = plannedRow{Value: ind.Value, Kind: string(ind.Kind), Providers: orEmpty(names)}
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	send := func(e event) {
		enc.Encode(e)
		rc.Flush()
	}
	send(plan)

	type answer struct {
		row int
		res *lookup.Result
	}
	answers := make(chan answer)
	var wg sync.WaitGroup
	for i, l := range lookups {
		for _, n := range plan.Rows[i].Providers {
			wg.Go(func() { answers <- answer{i, l.Get(ctx, n)} })
		}
	}
	go func() { wg.Wait(); close(answers) }()
	got := make([][]*lookup.Result, len(lookups))
	now := p.cfg.Now()
	for a := range answers {
		got[a.row] = append(got[a.row], a.res)
		v := lookup.Judge(lookups[a.row], got[a.row])
		send(event{Type: "result", Row: a.row, Result: resultOf(a.res, now),
			Verdict: &streamVerdict{Level: v.Level.String(), Score: v.Score, Reasons: orEmpty(v.Reasons)}})
	}
	send(event{Type: "done"})
	if p.cfg.Usage != nil {
		values := make([]string, len(inds))
		for i, ind := range inds {
			values[i] = ind.Value
		}
		rec := accounting.Record{Username: opts.Caller.Username, API: "lookup", Endpoint: opts.Caller.Endpoint,
			Parameters: accounting.Redact(map[string]any{"values": values, "providers": chosen}), UserAgent: info.UserAgent,
			IP: info.IP, Status: "ok", Latency: p.cfg.Now().Sub(start), At: start}
		req.Fill(&rec)
		p.cfg.Usage.Record(ctx, rec)
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func resultOf(r *lookup.Result, now time.Time) *streamResult {
	out := &streamResult{Provider: r.Provider, Status: string(r.Status), Cached: r.Cached, LatencyMs: r.Latency.Milliseconds(), Data: r.Data}
	if !r.FetchedAt.IsZero() {
		out.FetchedAt = r.FetchedAt.UTC().Format(time.RFC3339)
		out.AgeSeconds = max(int64(now.Sub(r.FetchedAt).Seconds()), 0)
	}
	if r.Err != nil {
		out.Error = string(r.Err.Code) + ": " + r.Err.Message
	}
	return out
}
