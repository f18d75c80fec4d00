package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
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

// lookupPage is the data of the lookup page: the providers to choose from,
// the stored playbooks and the TLP labels with the configured default.
type lookupPage struct {
	Providers  []lookup.ProviderStatus
	Playbooks  []playbookOption
	TLPs       []tlpOption
	Annotate   bool // sightings can take a manual verdict
	PolicyMiss bool // no policy service: TLP and playbooks are not offered
}

type playbookOption struct {
	Name, Description string
	Members           []string
}

type tlpOption struct {
	Value, Label string
	Default      bool
}

func (p *Portal) lookupPage(w http.ResponseWriter, r *http.Request) {
	data := lookupPage{Providers: p.cfg.Providers(), PolicyMiss: p.cfg.Policy == nil}
	if pol := p.cfg.Policy; pol != nil {
		for _, pb := range pol.Playbooks() {
			data.Playbooks = append(data.Playbooks, playbookOption{Name: pb.Name, Description: pb.Description, Members: pol.Members(pb)})
		}
		for _, t := range indicator.TLPs {
			data.TLPs = append(data.TLPs, tlpOption{Value: t.String(), Label: t.Label(), Default: t == pol.DefaultTLP()})
		}
		data.Annotate = true
	}
	p.render(w, r, http.StatusOK, "lookup", view{Title: "Lookup", Data: data})
}

// invalidInput is what the lookup box left out, and why: a token refused
// as an indicator, a value policy keeps inside, or a line that holds none.
type invalidInput struct {
	Input string `json:"input"`
	Error string `json:"error"`
	Kind  string `json:"kind"` // ignored, internal or invalid
	// internalKind and reason are an internal value's kind and why it is
	// withheld, for its card.
	internalKind string
	reason       string
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
		bad = append(bad, invalidInput{Input: clip(w.Value, 200), Error: w.Reason + "; never looked up", Kind: "internal",
			internalKind: string(w.Kind), reason: w.Reason})
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
	// Internal is why a never-send list keeps the value in ("" when it
	// does not): the card says "internal — not looked up" once instead
	// of a SKIPPED row per provider.
	Internal string `json:"internal,omitempty"`
}

// internalValue is a value the extractor withheld as internal: shown once,
// never looked up.
type internalValue struct {
	Value  string `json:"value"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
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
	// Level, Score and Reason are the provider's own verdict (OK only);
	// the reason does not repeat the provider's name.
	Level  string `json:"level,omitempty"`
	Score  int    `json:"score"`
	Reason string `json:"reason,omitempty"`
	Link   string `json:"link,omitempty"` // the provider's page about the value
}

// streamVerdict is an indicator's verdict so far with its coverage (the
// providers not yet answered count as pending) and context.
type streamVerdict struct {
	Level    string        `json:"level"`
	Score    int           `json:"score"`
	Reasons  []string      `json:"reasons"`
	Complete bool          `json:"complete"`
	Coverage string        `json:"coverage"` // "6 of 11 answered; 4 rate-limited, retry in 40 s"
	Context  []contextItem `json:"context"`
}

// contextItem is one field of the card's context line and its source.
type contextItem struct {
	Label  string `json:"label"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// event is one line of the lookup stream (NDJSON).
type event struct {
	Type     string          `json:"type"` // plan, result, seen, done
	Rows     []plannedRow    `json:"rows,omitempty"`
	Invalid  []invalidInput  `json:"invalid,omitempty"`
	Internal []internalValue `json:"internal,omitempty"`
	// TLP, Playbook and Started describe the whole lookup (plan only).
	TLP      string         `json:"tlp,omitempty"`
	Playbook string         `json:"playbook,omitempty"`
	Started  string         `json:"started,omitempty"`
	Row      int            `json:"row"`
	Result   *streamResult  `json:"result,omitempty"`
	Verdict  *streamVerdict `json:"verdict,omitempty"`
	// Sightings is the row's earlier sightings in a line (seen only).
	Sightings string `json:"sightings,omitempty"`
}

// lookupForm is a lookup form read and checked: what to look up and how.
type lookupForm struct {
	inds     []indicator.Indicator
	bad      []invalidInput
	internal []internalValue
	chosen   []string // nil: every provider (of the playbook)
	opts     lookup.Options
}

// readLookupForm reads the lookup form (values, playbook, tlp, providers,
// cached_only, fresh); every problem is a BAD_REQUEST on its field.
func (p *Portal) readLookupForm(r *http.Request, verb string) (*lookupForm, error) {
	inds, bad, err := p.extract(r.PostFormValue("values"))
	if err != nil {
		return nil, err
	}
	f := &lookupForm{inds: inds}
	for _, b := range bad {
		if b.Kind == "internal" {
			f.internal = append(f.internal, internalValue{Value: b.Input, Kind: b.internalKind, Reason: b.reason})
			continue
		}
		f.bad = append(f.bad, b)
	}
	if f.chosen, err = p.selectProviders(r); err != nil {
		return nil, err
	}
	f.opts = lookup.Options{Fresh: r.PostFormValue("fresh") == "on", CachedOnly: r.PostFormValue("cached_only") == "on"}
	tlp, playbook := strings.TrimSpace(r.PostFormValue("tlp")), strings.TrimSpace(r.PostFormValue("playbook"))
	if pol := p.cfg.Policy; pol != nil {
		if f.opts.TLP, f.opts.Playbook, err = pol.Options(tlp, playbook); err != nil {
			return nil, err
		}
	} else if tlp != "" || playbook != "" {
		return nil, errcode.Field("playbook", "TLP and playbooks are not available on this server")
	}
	switch {
	case len(inds) == 0 && len(bad) == 0:
		return nil, errcode.Field("values", "paste at least one indicator")
	case len(inds) > MaxLookup:
		return nil, errcode.Field("values", fmt.Sprintf("at most %d indicators per %s (found %d)", MaxLookup, verb, len(inds)))
	}
	return f, nil
}

// selectProviders returns the providers a lookup form limits it to, nil
// for all (of the playbook, when one is chosen).
func (p *Portal) selectProviders(r *http.Request) ([]string, error) {
	known := map[string]bool{}
	for _, pi := range p.cfg.Providers() {
		known[pi.Name] = true
	}
	chosen := r.PostForm["providers"]
	for _, n := range chosen {
		if !known[n] {
			return nil, errcode.Field("providers", "unknown provider "+clip(n, 32))
		}
	}
	if len(chosen) == 0 {
		return nil, nil
	}
	return chosen, nil
}

// lookup streams a lookup as NDJSON: the plan, then each provider's answer
// with the indicator's verdict, coverage and context so far as soon as it
// arrives, each indicator's earlier sightings, then done.
func (p *Portal) lookup(w http.ResponseWriter, r *http.Request) {
	f, err := p.readLookupForm(r, "lookup")
	if err != nil {
		status := errcode.HTTPStatus(errcode.CodeOf(err))
		if errors.Is(err, indicator.ErrTextTooLong) {
			status = http.StatusRequestEntityTooLarge
		}
		e := errcode.Of(err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": e.Message, "code": string(e.Code), "field": e.Field})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.Engine.Deadline()+5*time.Second)
	defer cancel()
	ctx, req := accounting.NewRequest(ctx)
	start := p.cfg.Now()
	info := clientinfo.From(ctx)
	opts := f.opts
	opts.Batch = lookup.NewBatch(lookupWorkers)
	opts.Caller = lookup.Caller{Username: auth.FromContext(ctx).Username, Endpoint: "POST /portal/lookup", IP: info.IP, UserAgent: info.UserAgent}
	lookups := make([]lookup.Session, len(f.inds))
	plan := event{Type: "plan", Invalid: f.bad, Internal: f.internal, Rows: make([]plannedRow, len(f.inds)),
		TLP: opts.TLP.Label(), Playbook: opts.Playbook, Started: start.UTC().Format(time.RFC3339Nano)}
	for i, ind := range f.inds {
		lookups[i] = p.cfg.Engine.Begin(ind, opts)
		names := lookups[i].Providers()
		if f.chosen != nil {
			names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(f.chosen, n) })
		}
		plan.Rows[i] = plannedRow{Value: ind.Value, Kind: string(ind.Kind), Providers: orEmpty(names),
			Internal: strings.TrimPrefix(lookups[i].Local().Note, "not sent: ")}
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
		row  int
		res  *lookup.Result
		seen string
	}
	answers := make(chan answer)
	var wg sync.WaitGroup
	for i, l := range lookups {
		for _, n := range plan.Rows[i].Providers {
			wg.Go(func() { answers <- answer{row: i, res: l.Get(ctx, n)} })
		}
	}
	if pol := p.cfg.Policy; pol != nil {
		// the sightings before this lookup (it is recorded when it ends)
		wg.Go(func() {
			for i, ind := range f.inds {
				sum, err := pol.Sightings(ctx, ind)
				if err != nil {
					p.cfg.Logger.WarnContext(ctx, "portal: sightings summary", "err", err)
					return
				}
				answers <- answer{row: i, seen: sum.Card(p.cfg.Now())}
			}
		})
	}
	go func() { wg.Wait(); close(answers) }()
	got := make([][]*lookup.Result, len(lookups))
	now := p.cfg.Now()
	for a := range answers {
		if a.res == nil {
			send(event{Type: "seen", Row: a.row, Sightings: a.seen})
			continue
		}
		got[a.row] = append(got[a.row], a.res)
		send(event{Type: "result", Row: a.row, Result: resultOf(a.res, now),
			Verdict: verdictOf(lookups[a.row], got[a.row], len(plan.Rows[a.row].Providers))})
	}
	send(event{Type: "done"})
	if p.cfg.Usage != nil {
		values := make([]string, len(f.inds))
		for i, ind := range f.inds {
			values[i] = ind.Value
		}
		params := map[string]any{"values": values, "providers": f.chosen, "tlp": opts.TLP.String()}
		if opts.Playbook != "" {
			params["playbook"] = opts.Playbook
		}
		if opts.CachedOnly {
			params["cached_only"] = true
		}
		rec := accounting.Record{Username: opts.Caller.Username, API: "lookup", Endpoint: opts.Caller.Endpoint,
			Parameters: accounting.Redact(params), UserAgent: info.UserAgent,
			IP: info.IP, Status: "ok", Latency: p.cfg.Now().Sub(start), At: start}
		req.Fill(&rec)
		p.cfg.Usage.Record(ctx, rec)
	}
}

// verdictOf is a row's verdict on the answers so far; the planned
// providers that have not answered yet count as pending.
func verdictOf(s lookup.Session, got []*lookup.Result, planned int) *streamVerdict {
	v := lookup.Assess(s, got)
	if missing := planned - len(got); missing > 0 {
		v.Coverage.Asked += missing
		v.Coverage.Pending += missing
	}
	return &streamVerdict{Level: v.Level.String(), Score: v.Score, Reasons: orEmpty(v.Reasons), Complete: v.Coverage.Complete(),
		Coverage: v.Coverage.String(), Context: contextItems(lookup.ContextOf(got))}
}

// contextItems is the card's context line: ASN, owner, country, network,
// registrar and registration, first and last seen, families and tags.
func contextItems(c lookup.Context) []contextItem {
	out := []contextItem{}
	add := func(label, value, source string) {
		out = append(out, contextItem{Label: label, Value: value, Source: source})
	}
	if c.ASN != nil {
		add("ASN", "AS"+strconv.Itoa(c.ASN.Value), c.ASN.Source)
	}
	if c.ASOwner != nil {
		add("owner", c.ASOwner.Value, c.ASOwner.Source)
	}
	if c.Country != nil {
		add("country", c.Country.Value, c.Country.Source)
	}
	if c.Network != nil {
		add("network", c.Network.Value, c.Network.Source)
	}
	if c.Registrar != nil {
		add("registrar", c.Registrar.Value, c.Registrar.Source)
	}
	if c.RegisteredAt != nil {
		add("registered", c.RegisteredAt.Value.Format(time.DateOnly), c.RegisteredAt.Source)
	}
	if c.FirstSeen != nil {
		add("first seen", c.FirstSeen.Value.Format(time.DateOnly), c.FirstSeen.Source)
	}
	if c.LastSeen != nil {
		add("last seen", c.LastSeen.Value.Format(time.DateOnly), c.LastSeen.Source)
	}
	labels := func(label string, ls []lookup.Label) {
		if len(ls) == 0 {
			return
		}
		var vals, srcs []string
		for _, l := range ls {
			vals = append(vals, l.Value)
			for _, s := range l.Sources {
				if !slices.Contains(srcs, s) {
					srcs = append(srcs, s)
				}
			}
		}
		add(label, strings.Join(vals, ", "), strings.Join(srcs, ", "))
	}
	labels("families", c.MalwareFamilies)
	labels("tags", c.Tags)
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func resultOf(r *lookup.Result, now time.Time) *streamResult {
	out := &streamResult{Provider: r.Provider, Status: string(r.Status), Cached: r.Cached, LatencyMs: r.Latency.Milliseconds(), Data: r.Data, Link: r.Link}
	if !r.FetchedAt.IsZero() {
		out.FetchedAt = r.FetchedAt.UTC().Format(time.RFC3339)
		out.AgeSeconds = max(int64(now.Sub(r.FetchedAt).Seconds()), 0)
	}
	if r.Status == lookup.StatusOK {
		out.Level, out.Score, out.Reason = r.Verdict.Level.String(), r.Verdict.Score, lookup.ProviderReason(r)
	}
	if r.Err != nil {
		out.Error = r.Err.Message
		if s := lookup.RetryAfterSeconds(r.RetryAfter); s > 0 {
			out.Error += fmt.Sprintf(" (retry in %d s)", s)
		}
	}
	return out
}
