package portal

import (
	"context"
	"encoding/json"
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
)

// MaxLookup is the most indicators one portal lookup may hold; lookupWorkers
// is how many of them are worked on at once.
const (
	MaxLookup     = 100
	lookupWorkers = 8
)

// presets name provider groups offered on the lookup page; "keyless" is
// every provider that needs no key, "all" every one serving the kind.
var presets = map[string][]string{
	"reputation": {"virustotal", "abuseipdb", "greynoise", "otx", "urlhaus", "threatfox", "malwarebazaar", "urlscan"},
	"context":    {"rdap", "ipinfo", "internetdb", "shodan"},
}

// lookupPage is the data of the lookup page.
type lookupPage struct {
	Providers []lookup.ProviderStatus
	Presets   []string
}

func (p *Portal) lookupPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "lookup", view{Title: "Lookup", Data: lookupPage{Providers: p.cfg.Providers(),
		Presets: []string{"all", "reputation", "context", "keyless"}}})
}

// invalidInput is an input line that holds no indicator.
type invalidInput struct {
	Input string `json:"input"`
	Error string `json:"error"`
}

// extract finds indicators in text: a line holding one word is an indicator
// (or reported as invalid); from a line of free text it takes every word
// that parses, defanged or not. Duplicates are dropped.
func extract(text string) ([]indicator.Indicator, []invalidInput) {
	var (
		out  []indicator.Indicator
		bad  []invalidInput
		seen = map[string]bool{}
	)
	add := func(ind indicator.Indicator) {
		if k := string(ind.Kind) + " " + ind.Value; !seen[k] {
			seen[k] = true
			out = append(out, ind)
		}
	}
	for line := range strings.Lines(text) {
		words := strings.FieldsFunc(line, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(",;\"'<>|`", r)
		})
		for _, w := range words {
			ind, err := indicator.Parse(w)
			if err != nil {
				ind, err = indicator.Parse(strings.Trim(w, ".:!?()"))
			}
			switch {
			case err == nil:
				add(ind)
			case len(words) == 1:
				bad = append(bad, invalidInput{Input: clip(w, 200), Error: err.Error()})
			}
		}
	}
	return out, bad
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
		if ps, ok := presets[preset]; ok {
			return ps, nil
		}
		return nil, errcode.Field("preset", "unknown preset "+clip(preset, 32))
	}
}

// lookup streams a lookup as NDJSON: the plan, then each provider's answer
// with the indicator's verdict so far as soon as it arrives, then done.
func (p *Portal) lookup(w http.ResponseWriter, r *http.Request) {
	inds, bad := extract(r.PostFormValue("values"))
	chosen, err := p.selectProviders(r)
	switch {
	case err != nil:
	case len(inds) == 0 && len(bad) == 0:
		err = errcode.Field("values", "paste at least one indicator")
	case len(inds) > MaxLookup:
		err = errcode.Field("values", fmt.Sprintf("at most %d indicators per lookup (found %d)", MaxLookup, len(inds)))
	}
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statusOf(errcode.CodeOf(err)))
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
		v := lookup.Combine(got[a.row])
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
