package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
)

// Middleware authenticates the credentials a request presents, when it
// presents any: a Bearer token (a JWT from /api/authenticate, or a per-user
// API key), an API key alone (`Authorization: <key>`, what MISP and Cortex
// clients send) or HTTP Basic with the API key as password (TAXII pollers).
// Valid credentials put their Principal in the context; refused ones put
// the reason, so that operations needing a scope answer UNAUTHENTICATED
// while public ones (status) still work. Authorization itself is the
// transports' job.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if p, err := s.authorization(ctx, h); err != nil {
			ctx = withAuthError(ctx, err)
		} else {
			ctx = WithPrincipal(ctx, p)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authorization verifies an Authorization header's credentials.
func (s *Service) authorization(ctx context.Context, h string) (*Principal, error) {
	h = strings.TrimSpace(h)
	scheme, cred, ok := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case !ok && IsAPIKey(h):
		return s.AuthenticateKey(ctx, h)
	case !ok || cred == "":
		return nil, errMalformedAuth
	case strings.EqualFold(scheme, "Bearer"):
		if strings.HasPrefix(cred, APIKeyPrefix) {
			return s.AuthenticateKey(ctx, cred)
		}
		return s.Authenticate(ctx, cred)
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, errMalformedAuth
		}
		user, key, _ := strings.Cut(string(raw), ":")
		if key == "" && IsAPIKey(user) { // the key as the user name, no password
			user, key = "", user
		}
		p, err := s.AuthenticateKey(ctx, key)
		if err != nil {
			return nil, err
		}
		// a user name, when given, must be the key's owner's
		if user != "" && user != p.Username {
			return nil, errBadAPIKey
		}
		return p, nil
	}
	return nil, errMalformedAuth
}
