package auth

import (
	"context"
	"sync"
	"time"
)

// ttlCache keeps values for a short time (each with its own expiry), so a
// burst of requests with one token verifies it and reads its account once.
// A zero TTL disables it.
type ttlCache[V any] struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]ttlEntry[V]
}

type ttlEntry[V any] struct {
	v     V
	until time.Time
}

func newTTLCache[V any](ttl time.Duration, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, now: now, m: map[string]ttlEntry[V]{}}
}

// get returns key's value, computing it with load when absent or expired.
// expiry, when not nil, may shorten an entry's life (a token's exp).
func (c *ttlCache[V]) get(key string, load func() (V, error), expiry func(V) time.Time) (V, error) {
	if c.ttl <= 0 {
		return load()
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	until := now.Add(c.ttl)
	if expiry != nil {
		if exp := expiry(v); exp.Before(until) {
			until = exp
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 10_000 {
		clear(c.m)
	}
	c.m[key] = ttlEntry[V]{v: v, until: until}
	return v, nil
}

// drop forgets key, after a change behind it.
func (c *ttlCache[V]) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// account reads a user through the account cache.
func (s *Service) account(ctx context.Context, username string) (*User, error) {
	return s.accounts.get(username, func() (*User, error) { return s.store.UserByUsername(ctx, username) }, nil)
}

// verify checks a token through the claims cache, never past its expiry.
func (s *Service) verify(token string) (*Claims, error) {
	return s.claims.get(token, func() (*Claims, error) { return s.tokens.Parse(token) },
		func(c *Claims) time.Time { return c.ExpiresAt.Time })
}
