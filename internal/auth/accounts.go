package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// AccountEvents carries "this account changed" between the processes that
// share a database (PostgreSQL LISTEN/NOTIFY, Redis pub/sub), so that each
// can keep verified accounts in memory and still see a change made
// anywhere within a second.
type AccountEvents interface {
	// Publish tells every process listening that username's account changed.
	Publish(ctx context.Context, username string) error
	// Listen delivers the changes published by any process (this one
	// included) until ctx ends. It calls synced(true) each time it starts
	// listening, and synced(false) when it stops or loses its connection:
	// changes in between are missed.
	Listen(ctx context.Context, changed func(username string), synced func(ok bool)) error
}

// maxCachedAccounts bounds the account and token caches; past it they are
// emptied (a burst of distinct tokens cannot grow memory without bound).
const maxCachedAccounts = 10_000

// accountCache keeps accounts and verified tokens in memory so that a
// request costs no database read. An entry lives until a change to its
// account is seen (Service.invalidate), the cache is reset, or maxAge
// passes (when set: a safety net, not the means of consistency).
//
// A reading that began before an invalidation is not kept: every
// invalidation bumps the epoch, and a load stores its value only if the
// epoch it started under is still current. Without that, a request that read
// an account just before it was disabled could cache the stale account
// after the change's notice had already been handled.
type accountCache struct {
	maxAge time.Duration // 0: no age limit
	now    func() time.Time
	// on is false while changes made elsewhere could be missed (the
	// notification listener is not connected): every request then reads
	// storage.
	on    atomic.Bool
	epoch atomic.Uint64
	mu    sync.Mutex
	users map[string]cachedUser
	// last is each account as storage last returned it, kept while the
	// cache is off too: when storage fails (a database restart), a request
	// is served the account read within outageGrace rather than refused.
	// A change this process sees (drop) removes it.
	last map[string]cachedUser
}

// outageGrace bounds the age of an account served while storage fails:
// nobody can change an account in a database that is down, so what was
// read just before the outage is what holds.
const outageGrace = 10 * time.Minute

type cachedUser struct {
	u  *User
	at time.Time
}

func newAccountCache(maxAge time.Duration, now func() time.Time, on bool) *accountCache {
	c := &accountCache{maxAge: maxAge, now: now, users: map[string]cachedUser{}, last: map[string]cachedUser{}}
	c.on.Store(on)
	return c
}

// get returns username's account, loading it on a miss.
func (c *accountCache) get(username string, load func() (*User, error)) (*User, error) {
	now := c.now()
	if c.on.Load() {
		c.mu.Lock()
		e, ok := c.users[username]
		c.mu.Unlock()
		if ok && (c.maxAge <= 0 || now.Sub(e.at) < c.maxAge) {
			return e.u, nil
		}
	}
	epoch := c.epoch.Load()
	u, err := load()
	if err != nil {
		if errors.Is(err, ErrUserNotFound) {
			c.mu.Lock()
			delete(c.last, username)
			c.mu.Unlock()
			return nil, err
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		c.mu.Lock()
		e, ok := c.last[username]
		c.mu.Unlock()
		if ok && now.Sub(e.at) < outageGrace {
			return e.u, nil
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() == epoch {
		if len(c.last) >= maxCachedAccounts {
			clear(c.last)
		}
		c.last[username] = cachedUser{u: u, at: now}
	}
	if c.epoch.Load() == epoch && c.on.Load() {
		if len(c.users) >= maxCachedAccounts {
			clear(c.users)
		}
		c.users[username] = cachedUser{u: u, at: now}
	}
	return u, nil
}

// drop forgets username's account.
func (c *accountCache) drop(username string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	delete(c.users, username)
	delete(c.last, username)
}

// reset forgets every account and turns the cache on or off.
func (c *accountCache) reset(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	clear(c.users)
	c.on.Store(on)
}

// tokenCache keeps verified token claims until the token expires: a
// signature check per request is avoided, and the claims of a token never
// change (the account behind it is checked through accountCache).
type tokenCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*Claims
}

func (c *tokenCache) get(token string, parse func() (*Claims, error)) (*Claims, error) {
	c.mu.Lock()
	cl, ok := c.m[token]
	c.mu.Unlock()
	if ok && c.now().Before(cl.ExpiresAt.Time) {
		return cl, nil
	}
	cl, err := parse()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedAccounts {
		clear(c.m)
	}
	c.m[token] = cl
	return cl, nil
}

// account reads a user through the account cache.
func (s *Service) account(ctx context.Context, username string) (*User, error) {
	return s.accounts.get(username, func() (*User, error) { return s.store.UserByUsername(ctx, username) })
}

// verify checks a token through the token cache, never past its expiry.
func (s *Service) verify(token string) (*Claims, error) {
	return s.claims.get(token, func() (*Claims, error) { return s.tokens.Parse(token) })
}

// changed forgets username's account here at once and tells the other
// processes. A lost notice is logged: other processes then see the change
// when their cache is next reset (or after the safety-net age, when set).
func (s *Service) changed(ctx context.Context, username string) {
	s.dropAccount(username)
	if s.events == nil {
		return
	}
	if err := s.events.Publish(context.WithoutCancel(ctx), username); err != nil {
		s.log.ErrorContext(ctx, "account change not published to other processes", "username", username, "err", err)
	}
}

// dropAccount forgets username's account and API keys in this process.
func (s *Service) dropAccount(username string) {
	s.accounts.drop(username)
	s.keyCache.drop(username)
}

// Listen applies account changes published by other processes to this
// one's cache until ctx ends, reconnecting after a failure; while it is not
// listening, every request reads the account from storage. Without
// AccountEvents (one process on SQLite) it returns at once. Run it in its
// own goroutine.
func (s *Service) Listen(ctx context.Context) {
	if s.events == nil {
		return
	}
	for wait := 100 * time.Millisecond; ctx.Err() == nil; wait = min(2*wait, 5*time.Second) {
		err := s.events.Listen(ctx, s.dropAccount, func(ok bool) {
			s.accounts.reset(ok)
			s.keyCache.reset()
			if ok {
				wait = 100 * time.Millisecond
			}
		})
		s.accounts.reset(false)
		s.keyCache.reset()
		if ctx.Err() != nil {
			return
		}
		s.log.WarnContext(ctx, "account change listener stopped; reading accounts from storage until it is back", "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
