package errcode

import "net/http"

// httpStatus is each code's HTTP status, for every transport that answers
// over HTTP (REST, the portal, the River UI mount).
var httpStatus = map[Code]int{
	Unauthenticated: http.StatusUnauthorized,
	Forbidden:       http.StatusForbidden,
	BadIndicator:    http.StatusBadRequest,
	BadRequest:      http.StatusBadRequest,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	RateLimited:     http.StatusTooManyRequests,
	UpstreamError:   http.StatusBadGateway,
	Timeout:         http.StatusGatewayTimeout,
	NotConfigured:   http.StatusServiceUnavailable,
	ComplexityLimit: http.StatusBadRequest,
	Internal:        http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of an error with code c; 500 for a code it
// does not know.
func HTTPStatus(c Code) int {
	if s, ok := httpStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}
