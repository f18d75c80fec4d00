// Package errcode is the one error type with a code that every transport maps
// to its own status: GraphQL extensions.code, REST HTTP status.
package errcode

import (
	"errors"
	"time"
)

// Code is a contract error code.
type Code string

// The contract's error codes.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	BadIndicator    Code = "BAD_INDICATOR"
	RateLimited     Code = "RATE_LIMITED"
	UpstreamError   Code = "UPSTREAM_ERROR"
	Timeout         Code = "TIMEOUT"
	NotConfigured   Code = "NOT_CONFIGURED"
	ComplexityLimit Code = "COMPLEXITY_LIMIT"
	BadRequest      Code = "BAD_REQUEST"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	Internal        Code = "INTERNAL"
)

// Error is an error that is safe to show to the caller: Message never holds
// secrets or internal detail.
type Error struct {
	Code       Code
	Message    string
	Field      string        // the input field at fault, when one is
	RetryAfter time.Duration // for RateLimited
	Err        error         // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Field returns a BAD_REQUEST *Error naming the input field at fault.
func Field(field, msg string) *Error { return &Error{Code: BadRequest, Field: field, Message: msg} }

// Wrap returns an INTERNAL *Error whose cause is err.
func Wrap(err error) *Error { return &Error{Code: Internal, Message: "internal error", Err: err} }

// Of returns the *Error in err's chain, or an INTERNAL one wrapping err.
func Of(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(err)
}

// CodeOf returns the code of err, INTERNAL when it carries none.
func CodeOf(err error) Code { return Of(err).Code }
