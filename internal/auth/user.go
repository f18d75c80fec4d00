package auth

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// User is an account as the services see it.
type User struct {
	ID                 uuid.UUID
	Username           string
	PasswordHash       string
	Active             bool
	Admin              bool
	CreatedAt          time.Time
	PasswordChangedAt  time.Time
	LastLoginAt        *time.Time
	LastLoginIP        string
	LastLoginUserAgent string
}

// NewUser is what CreateUser stores.
type NewUser struct {
	Username     string
	PasswordHash string
	Admin        bool
	Active       bool
	CreatedAt    time.Time
}

// Login is what RecordLogin stores about a successful sign-in.
type Login struct {
	At        time.Time
	IP        string
	UserAgent string
}

// Store errors.
var (
	ErrUserNotFound = errors.New("user not found")
	ErrUserExists   = errors.New("user already exists")
	// ErrLastAdmin refuses to disable the last active administrator.
	ErrLastAdmin = errors.New("the last active administrator cannot be disabled")
)

// UserStore is the storage the auth service needs.
type UserStore interface {
	CreateUser(ctx context.Context, u NewUser) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context) ([]*User, error)
	SetPassword(ctx context.Context, username, hash string, changedAt time.Time) (*User, error)
	SetActive(ctx context.Context, username string, active bool) (*User, error)
	RecordLogin(ctx context.Context, username string, l Login) error
	CountUsers(ctx context.Context) (int, error)
}
