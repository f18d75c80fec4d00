package auth

import (
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
	h, err := bcrypt.GenerateFromPassword([]byte(pw), max(cost, MinBcryptCost))
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
