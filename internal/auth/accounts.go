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
