package auth

import (
	"context"
	"sync"
	"time"
)

// accountCache keeps account readings for a short TTL, so that a burst of
// requests with one token reads the account once.
type accountCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedAccount
}

type cachedAccount struct {
	u     *User
	until time.Time
}

func newAccountCache(ttl time.Duration, now func() time.Time) *accountCache {
	return &accountCache{ttl: ttl, now: now, m: map[string]cachedAccount{}}
}

// get returns the account, reading it with load when not cached.
func (c *accountCache) get(ctx context.Context, username string, load func(context.Context, string) (*User, error)) (*User, error) {
	if c.ttl <= 0 {
		return load(ctx, username)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[username]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.u, nil
	}
	u, err := load(ctx, username)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 10_000 {
		clear(c.m)
	}
	c.m[username] = cachedAccount{u: u, until: now.Add(c.ttl)}
	return u, nil
}

// drop forgets username, after a change to its account.
func (c *accountCache) drop(username string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, username)
}

// claimsCache keeps verified token claims for a short TTL (never past the
// token's expiry), so a burst of requests with one token verifies it once.
type claimsCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedClaims
}

type cachedClaims struct {
	c     *Claims
	until time.Time
}

func newClaimsCache(ttl time.Duration, now func() time.Time) *claimsCache {
	return &claimsCache{ttl: ttl, now: now, m: map[string]cachedClaims{}}
}

// parse returns the token's claims, verifying it with verify when not cached.
func (c *claimsCache) parse(token string, verify func(string) (*Claims, error)) (*Claims, error) {
	if c.ttl <= 0 {
		return verify(token)
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[token]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.c, nil
	}
	cl, err := verify(token)
	if err != nil {
		return nil, err
	}
	until := now.Add(c.ttl)
	if exp := cl.ExpiresAt.Time; exp.Before(until) {
		until = exp
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= 10_000 {
		clear(c.m)
	}
	c.m[token] = cachedClaims{c: cl, until: until}
	return cl, nil
}
