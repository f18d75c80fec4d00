package lookup

import (
	"encoding/json"
	"sync"
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
// caller. A Result held by a cache is shared: readers copy the struct
// (which keeps the summary shared) and never change what it points to.
type Result struct {
	Provider  string
	Status    Status
	Cached    bool
	FetchedAt time.Time // when the upstream answer was fetched (zero when none)
	Latency   time.Duration
	Data      json.RawMessage // the provider's JSON (OK and NOT_FOUND)
	// Summary is the provider's typed summary (e.g. *provider.VirusTotalSummary)
	// when this process fetched it; an answer decoded from another process
	// carries it encoded instead (read it with SummaryOf).
	Summary    any
	Verdict    provider.Assessment // meaningful for OK
	Err        *errcode.Error      // for ERROR, RATE_LIMITED, TIMEOUT, PENDING, NOT_CONFIGURED, SKIPPED
	RetryAfter time.Duration
	Bytes      int64 // upstream body bytes behind this answer
	// JobID is the job that made (or is making) the call, in the River
	// executor; with PENDING, the job to ask about again.
	JobID int64
	// Transient marks an upstream failure worth retrying later: a 5xx, a
	// malformed answer, a connection failure or a timeout. Authentication
	// failures and refused input are permanent.
	Transient bool
	// Link is the provider's own page about the value (provider.Descriptor.Link),
	// set on delivery; "" when it has none or the value was not sent.
	Link string

	encoded *encodedSummary // the summary as another process sent it
}

// encodedSummary is a summary decoded at most once, however many copies
// of its Result are read.
type encodedSummary struct {
	raw  json.RawMessage
	once sync.Once
	v    any
	err  error
}

// Failed is a result without an answer: status with an error of code.
func Failed(name string, status Status, code errcode.Code, msg string) *Result {
	return &Result{Provider: name, Status: status, Err: &errcode.Error{Code: code, Message: msg}}
}

// SummaryOf returns r's typed summary as a *T, decoding it (once per
// Result and its copies) when r came from another process. nil when r has
// none. The value is shared: read it, never change it.
func SummaryOf[T any](r *Result) (*T, error) {
	if r == nil {
		return nil, nil
	}
	if s, ok := r.Summary.(*T); ok {
		return s, nil
	}
	e := r.encoded
	if e == nil || len(e.raw) == 0 || string(e.raw) == "null" {
		return nil, nil
	}
	e.once.Do(func() {
		v := new(T)
		if e.err = json.Unmarshal(e.raw, v); e.err == nil {
			e.v = v
		}
	})
	if e.err != nil {
		return nil, e.err
	}
	s, _ := e.v.(*T)
	return s, nil
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up (0 when
// none): what Retry-After headers and retryAfterSeconds fields say.
func RetryAfterSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// Caller identifies who receives results, for accounting.
type Caller struct {
	Username  string // empty: not accounted (the CLI)
	Endpoint  string // "POST /graphql indicator", "GET /api/indicator/ipv4/{ipv4}"
	IP        string
	UserAgent string
}
