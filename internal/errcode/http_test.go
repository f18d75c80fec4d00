package errcode

import (
	"net/http"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code Code
		want int
	}{
		{Unauthenticated, http.StatusUnauthorized},
		{Forbidden, http.StatusForbidden},
		{BadIndicator, http.StatusBadRequest},
		{BadRequest, http.StatusBadRequest},
		{ComplexityLimit, http.StatusBadRequest},
		{NotFound, http.StatusNotFound},
		{Conflict, http.StatusConflict},
		{RateLimited, http.StatusTooManyRequests},
		{UpstreamError, http.StatusBadGateway},
		{Timeout, http.StatusGatewayTimeout},
		{NotConfigured, http.StatusServiceUnavailable},
		{Internal, http.StatusInternalServerError},
		{Code("SOMETHING_NEW"), http.StatusInternalServerError},
	} {
		if got := HTTPStatus(tc.code); got != tc.want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", tc.code, got, tc.want)
		}
	}
}
