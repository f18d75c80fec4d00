package lookup

import (
	"encoding/json"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// wire is a Result as the shared cache stores it and a River job hands it
// to its waiters. Short names: it is written for every cached answer.
type wire struct {
	Provider   string          `json:"p,omitempty"`
	Status     Status          `json:"s"`
	Data       json.RawMessage `json:"d,omitempty"`
	Summary    json.RawMessage `json:"m,omitempty"`
	Level      int             `json:"l"`
	Score      int             `json:"c"`
	Reason     string          `json:"r,omitempty"`
	Bytes      int64           `json:"b"`
	FetchedAt  time.Time       `json:"t"`
	Code       errcode.Code    `json:"e,omitempty"`
	Message    string          `json:"em,omitempty"`
	RetryAfter time.Duration   `json:"ra,omitempty"`
	Transient  bool            `json:"x,omitempty"`
}

// Codec is the one encoding of a Result between processes. Per-delivery
// fields (Cached, Latency, JobID) are not encoded.
type Codec struct{}

// Encode returns r's encoding.
func (Codec) Encode(r *Result) ([]byte, error) {
	w := wire{Provider: r.Provider, Status: r.Status, Data: r.Data, Level: int(r.Verdict.Level), Score: r.Verdict.Score,
		Reason: r.Verdict.Reason, Bytes: r.Bytes, FetchedAt: r.FetchedAt, RetryAfter: r.RetryAfter, Transient: r.Transient}
	switch {
	case r.Summary != nil:
		b, err := json.Marshal(r.Summary)
		if err != nil {
			return nil, err
		}
		w.Summary = b
	case r.encoded != nil:
		w.Summary = r.encoded.raw
	}
	if r.Err != nil {
		w.Code, w.Message = r.Err.Code, r.Err.Message
	}
	return json.Marshal(w)
}

// Decode returns the Result Encode wrote.
func (Codec) Decode(b []byte) (*Result, error) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	r := &Result{Provider: w.Provider, Status: w.Status, FetchedAt: w.FetchedAt, Data: w.Data, Bytes: w.Bytes,
		RetryAfter: w.RetryAfter, Transient: w.Transient,
		Verdict: provider.Assessment{Level: indicator.Level(w.Level), Score: w.Score, Reason: w.Reason}}
	if len(w.Summary) > 0 {
		r.encoded = &encodedSummary{raw: w.Summary}
	}
	if w.Code != "" {
		r.Err = &errcode.Error{Code: w.Code, Message: w.Message, RetryAfter: w.RetryAfter}
	}
	return r, nil
}
