package auth

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    uuid.UUID
	Username  string
	Admin     bool
	Scopes    []Scope
	TokenID   string
	ExpiresAt time.Time // zero for an API key
	APIKeyID  string    // the API key that authenticated the request, if one did
}

// Has reports whether the principal holds scope s.
func (p *Principal) Has(s Scope) bool { return p != nil && contains(p.Scopes, s) }

type principalKey struct{}
type authErrKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil for an anonymous one.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// withAuthError records why a presented token was refused, so that a field
// needing a scope can answer UNAUTHENTICATED with the reason.
func withAuthError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, authErrKey{}, err)
}

// AuthErrorFromContext returns why the request's token was refused, if one
// was presented and refused.
func AuthErrorFromContext(ctx context.Context) error {
	err, _ := ctx.Value(authErrKey{}).(error)
	return err
}

var errMalformedAuth = errcodeUnauthenticated("Authorization header must be \"Bearer <token or API key>\", \"<API key>\" or HTTP Basic with the API key as password")

// Require returns the request's principal if it holds scope: otherwise an
// UNAUTHENTICATED error (no valid token; with the reason a presented token
// was refused) or a FORBIDDEN one (a valid token without the scope).
func Require(ctx context.Context, scope Scope) (*Principal, error) {
	p := FromContext(ctx)
	if p == nil {
		if err := AuthErrorFromContext(ctx); err != nil {
			return nil, err
		}
		return nil, errcodeUnauthenticated("authentication required: send Authorization: Bearer <token>")
	}
	if !p.Has(scope) {
		return nil, errcodeForbidden("this operation needs the " + string(scope) + " scope")
	}
	return p, nil
}
