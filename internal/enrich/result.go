package enrich

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Status is a provider result's status, as the contract names it.
type Status string

// The statuses.
const (
	StatusOK            Status = "OK"
	StatusNotFound      Status = "NOT_FOUND"
	StatusError         Status = "ERROR"
	StatusRateLimited   Status = "RATE_LIMITED"
	StatusTimeout       Status = "TIMEOUT"
	StatusPending       Status = "PENDING"
	StatusNotConfigured Status = "NOT_CONFIGURED"
	StatusSkipped       Status = "SKIPPED"
)

// Result is one provider's answer about one indicator, as delivered to a
// caller.
type Result struct {
	Provider  string
	Status    Status
	Cached    bool
	FetchedAt time.Time // when the upstream answer was fetched (zero when none)
	Latency   time.Duration
	Data      json.RawMessage // the provider's JSON (OK and NOT_FOUND)
	// Summary is the provider's typed summary when this process fetched
	// it; after a cache hit only SummaryJSON is set (see DecodeSummary).
	Summary     any
	SummaryJSON json.RawMessage
	Verdict     provider.Assessment // meaningful for OK
	Err         *errcode.Error      // for ERROR, RATE_LIMITED, TIMEOUT, NOT_CONFIGURED, SKIPPED
	RetryAfter  time.Duration
	Bytes       int64 // upstream body bytes behind this answer
	// JobID is the job that made (or is making) the call, in the River
	// executor; with PENDING, the job to ask about again.
	JobID int64
	// Accounted is set when the usage row for this delivery was already
	// written (by the job that made the upstream call for this caller).
	Accounted bool
	transient bool         // an upstream failure worth retrying (5xx, timeout)
	summary   *summaryMemo // shared by the results decoded from one cache entry
}

// summaryMemo holds the typed summary decoded from a cache entry, shared
// (read-only) by every result served from those same bytes.
type summaryMemo struct{ v atomic.Value }

// Transient reports an upstream failure worth retrying later: a 5xx, a
// malformed answer, a connection failure or a timeout. Authentication
// failures and refused input are permanent.
func (r *Result) Transient() bool { return r.transient }

// wire is a Result as a job hands it to its waiters.
type wire struct {
	entry
	Provider   string        `json:"p"`
	Code       errcode.Code  `json:"e,omitempty"`
	Message    string        `json:"em,omitempty"`
	RetryAfter time.Duration `json:"ra,omitempty"`
}

// MarshalResult encodes r for another process (a job's output).
func MarshalResult(r *Result) ([]byte, error) {
	w := wire{entry: entry{Status: r.Status, Data: r.Data, Summary: r.SummaryJSON, Level: int(r.Verdict.Level),
		Score: r.Verdict.Score, Reason: r.Verdict.Reason, Bytes: r.Bytes, FetchedAt: r.FetchedAt},
		Provider: r.Provider, RetryAfter: r.RetryAfter}
	if r.Err != nil {
		w.Code, w.Message = r.Err.Code, r.Err.Message
	}
	return json.Marshal(w)
}

// UnmarshalResult decodes what MarshalResult wrote.
func UnmarshalResult(b []byte) (*Result, error) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	r := &Result{Provider: w.Provider, Status: w.Status, FetchedAt: w.FetchedAt, Data: w.Data, SummaryJSON: w.Summary,
		Bytes: w.Bytes, RetryAfter: w.RetryAfter,
		Verdict: provider.Assessment{Level: indicator.Level(w.Level), Score: w.Score, Reason: w.Reason}}
	if w.Code != "" {
		r.Err = &errcode.Error{Code: w.Code, Message: w.Message, RetryAfter: w.RetryAfter}
	}
	return r, nil
}

// DecodeSummary returns the typed summary as a *T: the in-memory one when
// present, else decoded from SummaryJSON (once per cache entry: results
// served from the same cached bytes share it). nil when there is none. The
// returned value is shared: read it, never change it.
func DecodeSummary[T any](r *Result) (*T, error) {
	if r == nil {
		return nil, nil
	}
	if s, ok := r.Summary.(*T); ok {
		return s, nil
	}
	if len(r.SummaryJSON) == 0 || string(r.SummaryJSON) == "null" {
		return nil, nil
	}
	if r.summary != nil {
		if s, ok := r.summary.v.Load().(*T); ok {
			return s, nil
		}
	}
	v := new(T)
	if err := json.Unmarshal(r.SummaryJSON, v); err != nil {
		return nil, err
	}
	if r.summary != nil {
		r.summary.v.Store(v)
	}
	return v, nil
}

// entry is what the cache holds.
type entry struct {
	Status    Status          `json:"s"`
	Data      json.RawMessage `json:"d,omitempty"`
	Summary   json.RawMessage `json:"m,omitempty"`
	Level     int             `json:"l"`
	Score     int             `json:"c"`
	Reason    string          `json:"r,omitempty"`
	Bytes     int64           `json:"b"`
	FetchedAt time.Time       `json:"t"`
}
