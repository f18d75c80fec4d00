package auth

import (
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"golang.org/x/crypto/bcrypt"
)

// Password length limits in bytes. bcrypt ignores bytes past 72, so longer
// passwords are refused rather than silently truncated.
const (
	MinPasswordBytes = 12
	MaxPasswordBytes = 72
)

// DefaultBcryptCost is the work factor of new hashes (passlib's default
// too); MinBcryptCost is the lowest one accepted.
const (
	DefaultBcryptCost = 12
	MinBcryptCost     = 10
)

// ValidatePassword checks a new password against the length rules. field
// names the input field in the error.
func ValidatePassword(field, pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errcode.Field(field, "password must be valid UTF-8")
	case len(pw) < MinPasswordBytes:
		return errcode.Field(field, "password must be at least 12 bytes")
	case len(pw) > MaxPasswordBytes:
		return errcode.Field(field, "password must be at most 72 bytes")
	}
	return nil
}

// HashPassword validates pw and returns its bcrypt hash at cost.
func HashPassword(field, pw string, cost int) (string, error) {
	if err := ValidatePassword(field, pw); err != nil {
		return "", err
	}
	h, err := generate([]byte(pw), max(cost, MinBcryptCost))
	if err != nil {
		return "", errcode.Wrap(err)
	}
	return string(h), nil
}

// CheckPassword reports whether pw matches hash. It accepts $2a$, $2b$
// (passlib) and $2y$ hashes.
func CheckPassword(hash, pw string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	return err == nil
}

// testCost, when set, is the cost of every new hash, whatever the
// configured one (HashCheaplyInTests).
var testCost atomic.Int32

// HashCheaplyInTests makes every new hash in this test binary use
// bcrypt.MinCost, whatever the configured cost: under the race detector a
// comparison at cost 10 takes about 0.9 s of CPU, and the end-to-end
// suites sign in hundreds of times. It panics outside a test binary, so a
// server never hashes cheaply.
func HashCheaplyInTests() {
	if !testing.Testing() {
		panic("auth.HashCheaplyInTests called outside a test binary")
	}
	testCost.Store(int32(bcrypt.MinCost))
}

// generate is bcrypt.GenerateFromPassword at cost, or at the tests' cost.
func generate(pw []byte, cost int) ([]byte, error) {
	if c := testCost.Load(); c > 0 {
		cost = int(c)
	}
	return bcrypt.GenerateFromPassword(pw, cost)
}
