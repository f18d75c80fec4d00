package auth

import (
	"context"
	"time"
)

// Throttle counts failed sign-ins per key (a username or a client IP) and
// says when a key must wait.
type Throttle interface {
	// Wait returns how long key must wait before its next attempt; zero
	// when it may try now.
	Wait(ctx context.Context, key string) (time.Duration, error)
	// Fail records a failed attempt for key.
	Fail(ctx context.Context, key string) error
}
