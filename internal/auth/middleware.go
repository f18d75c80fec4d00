package auth

import (
	"net/http"
	"strings"
)

// Middleware authenticates a Bearer token when one is presented. A valid
// token puts its Principal in the context; a refused one puts the reason, so
// that operations needing a scope answer UNAUTHENTICATED while public ones
// (status) still work. Authorization itself is the transports' job.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		ctx := r.Context()
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			ctx = withAuthError(ctx, errMalformedAuth)
		} else if p, err := s.Authenticate(ctx, strings.TrimSpace(token)); err != nil {
			ctx = withAuthError(ctx, err)
		} else {
			ctx = WithPrincipal(ctx, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
