package model

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// ResultMeta is the result fields every provider answer has; it is also
// the GraphQL ProviderResult.
type ResultMeta struct {
	Provider  string           `json:"provider"`
	Status    ResultStatus     `json:"status"`
	Cached    bool             `json:"cached"`
	FetchedAt *time.Time       `json:"fetchedAt"`
	LatencyMs int64            `json:"latencyMs"`
	Data      any              `json:"data"`
	Error     *ProviderError   `json:"error"`
	Verdict   *ProviderVerdict `json:"verdict"`
	JobID     *string          `json:"jobId"`
	Link      *string          `json:"link"`
}

// NewResultMeta maps an engine result.
func NewResultMeta(r *lookup.Result) ResultMeta {
	m := ResultMeta{Provider: r.Provider, Status: ResultStatus(r.Status), Cached: r.Cached, LatencyMs: r.Latency.Milliseconds()}
	if !r.FetchedAt.IsZero() {
		t := r.FetchedAt.UTC()
		m.FetchedAt = &t
	}
	if len(r.Data) > 0 {
		m.Data = r.Data
	}
	if r.Err != nil {
		m.Error = &ProviderError{Code: string(r.Err.Code), Message: r.Err.Message}
		if s := lookup.RetryAfterSeconds(r.RetryAfter); s > 0 {
			m.Error.RetryAfterSeconds = &s
		}
	}
	if r.JobID != 0 {
		id := strconv.FormatInt(r.JobID, 10)
		m.JobID = &id
	}
	if r.Link != "" {
		m.Link = &r.Link
	}
	if r.Status == lookup.StatusOK {
		m.Verdict = &ProviderVerdict{Level: VerdictLevel(r.Verdict.Level.String()), Score: int64(r.Verdict.Score), Reason: r.Verdict.Reason}
	}
	return m
}

// Base is what every indicator type holds: the value, its kind and the
// request's lookup of it.
type Base struct {
	Value  string          `json:"value"`
	Kind   *IndicatorKind  `json:"kind"`
	Err    *IndicatorError `json:"error"`
	Lookup lookup.Session  `json:"-"`
	// ctx is the resolving field's context: the typed provider fields take
	// none (see get)
	ctx     context.Context
	typ     string    // the GraphQL type, for the fields its fragments select
	started sync.Once // the selected providers were started
}

// NewIndicator returns the GraphQL type for lk's indicator, resolved in
// ctx (the indicator or indicators field's).
func NewIndicator(ctx context.Context, lk lookup.Session) Indicator {
	ind := lk.Indicator()
	var m Indicator
	var b *Base
	switch {
	case ind.Kind.IsIP():
		x := &IPAddress{}
		m, b, x.typ = x, &x.Base, "IPAddress"
	case ind.Kind == indicator.Domain:
		x := &Domain{}
		m, b, x.typ = x, &x.Base, "Domain"
	case ind.Kind == indicator.URL:
		x := &URL{}
		m, b, x.typ = x, &x.Base, "URL"
	default:
		x := &FileHash{}
		m, b, x.typ = x, &x.Base, "FileHash"
	}
	k := IndicatorKind(strings.ToUpper(string(ind.Kind)))
	b.Value, b.Kind, b.Lookup, b.ctx = ind.Value, &k, lk, ctx
	return m
}

// get is provider name's answer for its typed field. Those fields take no
// context, so gqlgen resolves them in turn on the object's goroutine
// instead of a goroutine each (the cost of a cached lookup's fields); the
// first of them starts every provider the selection asks, so that cold
// ones are still asked together, and the verdict's with them.
func (b *Base) get(name string) *lookup.Result {
	b.started.Do(func() { b.Lookup.Start(b.ctx, b.selected()) })
	return b.Lookup.Get(b.ctx, name)
}

// selected are the providers the fields selected on this indicator ask:
// the typed fields', and those of verdict, results, context and stix. A
// providers argument it cannot read starts nothing for that field: the
// field still asks its own providers when it runs.
func (b *Base) selected() []string {
	fc := graphql.GetFieldContext(b.ctx)
	if fc == nil || !graphql.HasOperationContext(b.ctx) {
		return nil
	}
	oc := graphql.GetOperationContext(b.ctx)
	var out []string
	all := false // a field asks every provider serving the kind
	for _, f := range graphql.CollectFields(oc, fc.Field.Selections, []string{b.typ, "Indicator"}) {
		switch f.Name {
		case "verdict", "results":
			switch names := f.ArgumentMap(oc.Variables)["providers"].(type) {
			case nil: // absent or null
				all = true
			case []any:
				for _, n := range names {
					if s, ok := n.(string); ok {
						out = append(out, s)
					}
				}
			}
		case "context", "stix":
			all = true
		default:
			if _, ok := provider.Lookup(f.Name); ok {
				out = append(out, f.Name)
			}
		}
	}
	if all {
		out = append(out, b.Lookup.Providers()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NewInvalid is a batch entry that did not parse.
func NewInvalid(value, code, message string) *InvalidIndicator {
	return &InvalidIndicator{Base: Base{Value: value, Err: &IndicatorError{Code: code, Message: message}}}
}

// KindOf maps the GraphQL enum to an indicator kind.
func KindOf(k IndicatorKind) indicator.Kind { return indicator.Kind(strings.ToLower(string(k))) }

// Results are the named providers' answers (default: all serving the kind).
func (b *Base) Results(ctx context.Context, providers []string) ([]*ResultMeta, error) {
	if b.Lookup == nil {
		return []*ResultMeta{}, nil
	}
	rs := b.Lookup.All(ctx, providers)
	out := make([]*ResultMeta, len(rs))
	for i, r := range rs {
		m := NewResultMeta(r)
		out[i] = &m
	}
	return out, nil
}

// Verdict combines the named providers' verdicts (default: every provider
// serving the kind), asking again those whose cached answer is older than
// maxAge seconds.
func (b *Base) Verdict(ctx context.Context, providers []string, maxAge *int64) (*Verdict, error) {
	if b.Lookup == nil {
		reasons := []string{b.reasonNone()}
		return newVerdict(lookup.Verdict{Verdict: indicator.Verdict{Level: indicator.Unknown}}, func() []string { return reasons }), nil
	}
	var age time.Duration
	if maxAge != nil {
		if *maxAge < 0 {
			return nil, errcode.Field("maxAge", "maxAge must be 0 or more seconds")
		}
		age = time.Duration(*maxAge) * time.Second
	}
	rs := b.Lookup.AllWithin(ctx, providers, age)
	return newVerdict(lookup.AssessLevel(b.Lookup, rs), func() []string { return lookup.Judge(b.Lookup, rs).Reasons }), nil
}

// reasonNone is why an indicator without a lookup has no verdict.
func (b *Base) reasonNone() string {
	if b.Err != nil {
		return "not looked up: " + b.Err.Message
	}
	return "not looked up"
}

// Verdict is the GraphQL Verdict. Its level, score and completeness are
// known at once; its reasons and coverage are built only when a query
// selects them: their strings, one or more per provider, are most of a
// verdict's cost, and dashboards select the level and score alone.
type Verdict struct {
	Level    VerdictLevel `json:"level"`
	Score    int64        `json:"score"`
	Complete bool         `json:"complete"`
	reasons  func() []string
	coverage lookup.Coverage
}

// newVerdict maps a verdict (whose Reasons are not read) and its coverage;
// reasons builds the reasons.
func newVerdict(v lookup.Verdict, reasons func() []string) *Verdict {
	return &Verdict{Level: VerdictLevel(v.Level.String()), Score: int64(v.Score), Complete: v.Coverage.Complete(),
		reasons: reasons, coverage: v.Coverage}
}

// Reasons are the verdict's reasons, worst first.
func (v *Verdict) Reasons() []string {
	if r := v.reasons(); r != nil {
		return r
	}
	return []string{}
}

// Coverage is how the asked providers answered.
func (v *Verdict) Coverage() *Coverage {
	c := v.coverage
	cov := &Coverage{Asked: int64(c.Asked), Answered: int64(c.Answered), NotFound: int64(c.NotFound), NotConfigured: int64(c.NotConfigured),
		Skipped: int64(c.Skipped), RateLimited: int64(c.RateLimited), Failed: int64(c.Failed), Pending: int64(c.Pending),
		Gaps: make([]*CoverageGap, len(c.Gaps)), Summary: c.String()}
	if s := lookup.RetryAfterSeconds(c.RetryAfter); s > 0 {
		cov.RetryAfterSeconds = &s
	}
	for i, g := range c.Gaps {
		cov.Gaps[i] = &CoverageGap{Provider: g.Provider, Status: ResultStatus(g.Status), Reason: g.Reason}
		if s := lookup.RetryAfterSeconds(g.RetryAfter); s > 0 {
			cov.Gaps[i].RetryAfterSeconds = &s
		}
	}
	return cov
}

// Context merges what the providers that answered say about the value.
func (b *Base) Context(ctx context.Context) (*IndicatorContext, error) {
	out := &IndicatorContext{Tags: []*ContextLabel{}, MalwareFamilies: []*ContextLabel{}}
	if b.Lookup == nil {
		return out, nil
	}
	c := lookup.ContextOf(b.Lookup.All(ctx, nil))
	if c.ASN != nil {
		out.Asn = &ContextInt{Value: int64(c.ASN.Value), Source: c.ASN.Source}
	}
	out.AsOwner, out.Country, out.Network, out.Registrar = ctxString(c.ASOwner), ctxString(c.Country), ctxString(c.Network), ctxString(c.Registrar)
	out.RegisteredAt, out.FirstSeen, out.LastSeen = ctxTime(c.RegisteredAt), ctxTime(c.FirstSeen), ctxTime(c.LastSeen)
	for _, l := range c.Tags {
		out.Tags = append(out.Tags, &ContextLabel{Value: l.Value, Sources: l.Sources})
	}
	for _, l := range c.MalwareFamilies {
		out.MalwareFamilies = append(out.MalwareFamilies, &ContextLabel{Value: l.Value, Sources: l.Sources})
	}
	return out, nil
}

func ctxString(s *lookup.Sourced[string]) *ContextString {
	if s == nil {
		return nil
	}
	return &ContextString{Value: s.Value, Source: s.Source}
}

func ctxTime(s *lookup.Sourced[time.Time]) *ContextTime {
	if s == nil {
		return nil
	}
	return &ContextTime{Value: s.Value, Source: s.Source}
}

// IPAddress is the GraphQL IPAddress.
type IPAddress struct{ Base }

// Domain is the GraphQL Domain.
type Domain struct{ Base }

// URL is the GraphQL URL.
type URL struct{ Base }

// FileHash is the GraphQL FileHash.
type FileHash struct{ Base }

// InvalidIndicator is the GraphQL InvalidIndicator.
type InvalidIndicator struct{ Base }

// Indicator is the GraphQL Indicator interface.
type Indicator interface{ IsIndicator() }

// IsIndicator marks the indicator types.
func (*Base) IsIndicator() {}
