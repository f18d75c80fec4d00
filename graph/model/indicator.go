package model

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
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
}

// NewIndicator returns the GraphQL type for lk's indicator.
func NewIndicator(lk lookup.Session) Indicator {
	ind := lk.Indicator()
	k := IndicatorKind(strings.ToUpper(string(ind.Kind)))
	b := Base{Value: ind.Value, Kind: &k, Lookup: lk}
	switch {
	case ind.Kind.IsIP():
		return &IPAddress{Base: b}
	case ind.Kind == indicator.Domain:
		return &Domain{Base: b}
	case ind.Kind == indicator.URL:
		return &URL{Base: b}
	default:
		return &FileHash{Base: b}
	}
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

// Verdict combines every serving provider's verdict.
func (b *Base) Verdict(ctx context.Context) (*Verdict, error) {
	if b.Lookup == nil {
		return &Verdict{Level: VerdictLevelUnknown, Reasons: []string{}}, nil
	}
	v := lookup.Judge(b.Lookup, b.Lookup.All(ctx, nil))
	return &Verdict{Level: VerdictLevel(v.Level.String()), Score: int64(v.Score), Reasons: v.Reasons}, nil
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
