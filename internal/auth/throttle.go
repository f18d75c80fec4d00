package auth

import (
	"context"
	"time"
)

// Throttle counts sign-in attempts per key. An attempt is counted before
// the password is checked (atomically with the check of the limit, so
// concurrent guesses cannot all pass), and forgiven when it succeeds.
type Throttle interface {
	// Take counts an attempt for key unless key already has limit attempts
	// within the window; then it returns how long to wait. id names the
	// counted attempt for Forgive.
	Take(ctx context.Context, key string, limit int) (id string, wait time.Duration, err error)
	// Forgive removes the counted attempt id of key.
	Forgive(ctx context.Context, key, id string) error
}

// Sign-in limits, per window of the Throttle (a minute in `gadget serve`).
//
// Failures are counted per (username, client address) and per client
// address, never per username alone: failures from elsewhere never delay
// a correct password from an address that has not failed, so nobody can
// lock an account out (root included) by failing on purpose. A guesser
// gets UserAddressAttempts tries per window on one account from one
// address, AddressAttempts over all accounts (a shared proxy address
// gets room for a team's typos); guessing from many addresses at once is
// bounded by the bcrypt concurrency bound (BcryptConcurrency).
const (
	UserAddressAttempts = 5
	AddressAttempts     = 30
)
