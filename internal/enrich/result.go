package enrich

import (
	"encoding/json"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
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
}

// DecodeSummary returns the typed summary as a *T: the in-memory one when
// present, else decoded from SummaryJSON. nil when there is none.
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
	v := new(T)
	if err := json.Unmarshal(r.SummaryJSON, v); err != nil {
		return nil, err
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
