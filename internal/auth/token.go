package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest accepted HS256 signing key.
const MinSecretBytes = 32

// DefaultTokenTTL is how long an access token is valid unless configured.
const DefaultTokenTTL = 30 * time.Minute

const issuer = "inspector-gadget"

// Claims are the JWT claims of an access token: sub (username), scopes, iat,
// exp, jti, and pwc — the password-change stamp the token was issued under,
// so a password change invalidates every older token exactly.
type Claims struct {
	Scopes []Scope `json:"scopes"`
	PwC    int64   `json:"pwc"`
	jwt.RegisteredClaims
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewTokens returns a token issuer. secret must be at least 32 bytes.
func NewTokens(secret []byte, ttl time.Duration, now func() time.Time) (*Tokens, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("jwt secret must be at least %d bytes", MinSecretBytes)
	}
	if ttl <= 0 {
		return nil, errors.New("token ttl must be positive")
	}
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: secret, ttl: ttl, now: now}, nil
}

// TTL is the tokens' lifetime.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs a token for u with scopes.
func (t *Tokens) Issue(u *User, scopes []Scope) (string, Claims, error) {
	now := t.now()
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", Claims{}, err
	}
	c := Claims{
		Scopes: scopes,
		PwC:    passwordStamp(u.PasswordChangedAt),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   u.Username,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        hex.EncodeToString(id[:]),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	return s, c, err
}

// Parse verifies a token's signature, algorithm, issuer and lifetime.
func (t *Tokens) Parse(token string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return nil, err
	}
	if c.Subject == "" {
		return nil, errors.New("token has no subject")
	}
	return &c, nil
}

// passwordStamp is the microsecond stamp of a password change, the precision
// both databases keep.
func passwordStamp(t time.Time) int64 { return t.UTC().Truncate(time.Microsecond).UnixMicro() }
