package provider

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel error kinds; match a *Error with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrRateLimited   = errors.New("rate limited")
	ErrAuth          = errors.New("authentication failed")
	ErrUpstream      = errors.New("upstream error")
	ErrTimeout       = errors.New("timeout")
	ErrNotConfigured = errors.New("not configured")
	ErrBadInput      = errors.New("rejected input")
)

// Error is a failed lookup. Its message never contains an API key or a URL
// that carries one.
type Error struct {
	Provider   string
	Kind       error         // one of the sentinels above
	StatusCode int           // upstream HTTP status, 0 when none
	RetryAfter time.Duration // for ErrRateLimited, when known
	Message    string        // short, safe detail
	Bytes      int64         // upstream body bytes read, for accounting
	Raw        []byte        // the upstream JSON body for ErrNotFound, when any
}

func (e *Error) Error() string {
	msg := e.Provider + ": " + e.Kind.Error()
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf("; retry after %s", e.RetryAfter)
	}
	return msg
}

// Is matches the sentinel kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }
