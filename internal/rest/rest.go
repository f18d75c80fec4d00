// Package rest is the REST compatibility layer: thin handlers over the same
// services as GraphQL, answering the original project's paths and shapes.
package rest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// errorBody is the original's {"detail": …}, plus our code and field.
type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	// OAuth2 (RFC 6749 §5.2) error for the token endpoint.
	OAuthError string `json:"error,omitempty"`
}

// writeError is the one place errors become HTTP answers. Internal errors
// are logged once here and shown generically.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, oauth string) {
	e := errcode.Of(err)
	status := errcode.HTTPStatus(e.Code)
	if isTooLarge(err) {
		status = http.StatusRequestEntityTooLarge
	}
	if e.Code == errcode.Internal {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(lookup.RetryAfterSeconds(e.RetryAfter), 10))
	}
	writeJSON(w, status, errorBody{Detail: e.Message, Code: string(e.Code), Field: e.Field, OAuthError: oauth})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // URLs stay readable; the type is JSON and nosniff is set
	enc.Encode(v)
}

// RequireScope answers 401 (WWW-Authenticate: Bearer) or 403
// (error="insufficient_scope") through writeError unless the request's
// principal holds scope, as every REST route does; for other mounts such
// as the River UI. Put it behind the auth middleware.
func RequireScope(log *slog.Logger, scope auth.Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.Require(r.Context(), scope); err != nil {
			writeError(w, r, log, err, "")
			return
		}
		next.ServeHTTP(w, r)
	})
}
