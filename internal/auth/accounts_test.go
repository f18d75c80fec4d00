package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

func TestAccountCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	loads := 0
	load := func() (*User, error) { loads++; return &User{Username: "alice", Active: loads%2 == 1}, nil }

	c := newAccountCache(0, clock, true)
	c.get("alice", load)
	if u, _ := c.get("alice", load); loads != 1 || !u.Active {
		t.Fatalf("cached get: %d loads, %+v", loads, u)
	}
	now = now.Add(24 * time.Hour) // no age limit: only a change ends an entry
	if c.get("alice", load); loads != 1 {
		t.Fatalf("an entry expired by age without maxAge: %d loads", loads)
	}
	c.drop("alice")
	if u, _ := c.get("alice", load); loads != 2 || u.Active {
		t.Fatalf("after drop: %d loads, %+v", loads, u)
	}

	// a reading that began before an invalidation is not kept
	c.drop("alice")
	c.get("alice", func() (*User, error) {
		c.drop("alice") // the change notice arrives while the stale row is read
		return &User{Username: "alice", Active: true}, nil
	})
	if c.get("alice", load); loads != 3 {
		t.Fatalf("a reading older than the invalidation was cached: %d loads", loads)
	}

	// off (the listener is not connected): every get reads storage
	c.reset(false)
	c.get("alice", load)
	if c.get("alice", load); loads != 5 {
		t.Fatalf("cache off: %d loads, want 5", loads)
	}
	c.reset(true)
	c.get("alice", load)
	if c.get("alice", load); loads != 6 {
		t.Fatalf("back on: %d loads, want 6", loads)
	}

	// the safety-net age
	aged := newAccountCache(time.Minute, clock, true)
	loads = 0
	aged.get("alice", load)
	now = now.Add(59 * time.Second)
	if aged.get("alice", load); loads != 1 {
		t.Fatalf("before maxAge: %d loads", loads)
	}
	now = now.Add(time.Second)
	if aged.get("alice", load); loads != 2 {
		t.Fatalf("at maxAge: %d loads", loads)
	}
}

// TestAccountCacheServesLastKnownWhileStorageFails: with the cache off
// (the change listener lost its connection, as during a database restart)
// and storage failing, an account read within outageGrace is served; an
// unknown user, a change seen meanwhile, or an older read is not.
func TestAccountCacheServesLastKnownWhileStorageFails(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newAccountCache(0, func() time.Time { return now }, false)
	down := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")
	ok := func() (*User, error) { return &User{Username: "alice", Active: true}, nil }
	failing := func() (*User, error) { return nil, down }
	if _, err := c.get("alice", failing); !errors.Is(err, down) {
		t.Fatalf("never read, storage down: %v, want the storage error", err)
	}
	c.get("alice", ok)
	now = now.Add(outageGrace - time.Second)
	if u, err := c.get("alice", failing); err != nil || u == nil || !u.Active {
		t.Fatalf("read before the outage: %+v, %v; want the last account", u, err)
	}
	if _, err := c.get("bob", failing); !errors.Is(err, down) {
		t.Fatalf("another user: %v", err)
	}
	if _, err := c.get("alice", func() (*User, error) { return nil, ErrUserNotFound }); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("a user storage says is gone: %v", err)
	}
	if _, err := c.get("alice", failing); !errors.Is(err, down) {
		t.Fatalf("after storage said alice is gone: %v, want the storage error", err)
	}
	c.get("alice", ok)
	now = now.Add(outageGrace)
	if _, err := c.get("alice", failing); !errors.Is(err, down) {
		t.Fatalf("a read outageGrace old: %v, want the storage error", err)
	}
	c.get("alice", ok)
	c.drop("alice") // a change seen by this process
	if _, err := c.get("alice", failing); !errors.Is(err, down) {
		t.Fatalf("after a change: %v, want the storage error", err)
	}
}

func TestTokenCacheHonoursExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &tokenCache{now: func() time.Time { return now }, m: map[string]*Claims{}}
	parses := 0
	parse := func() (*Claims, error) {
		parses++
		return &Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}}, nil
	}
	c.get("t", parse)
	if c.get("t", parse); parses != 1 {
		t.Fatalf("%d parses, want 1", parses)
	}
	now = now.Add(time.Minute)
	if c.get("t", parse); parses != 2 {
		t.Fatalf("an expired token's claims were served from the cache (%d parses)", parses)
	}
}

// countingStore is a UserStore of one account that counts its reads.
type countingStore struct {
	UserStore // unused methods
	mu        sync.Mutex
	u         User
	reads     int
}

func (s *countingStore) UserByUsername(_ context.Context, name string) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if name != s.u.Username {
		return nil, ErrUserNotFound
	}
	u := s.u
	return &u, nil
}

func (s *countingStore) SetActive(_ context.Context, name string, active bool) (*User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.u.Active = active
	u := s.u
	return &u, nil
}

// chanEvents delivers published changes through a channel, as a database
// would to every process.
type chanEvents struct{ c chan string }

func (e chanEvents) Publish(_ context.Context, name string) error { e.c <- name; return nil }

func (e chanEvents) Listen(ctx context.Context, changed func(string), synced func(bool)) error {
	synced(true)
	defer synced(false)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case n := <-e.c:
			changed(n)
		}
	}
}

// TestAuthenticateReadsAnAccountOncePerChange: with the listener running, a
// request costs no storage read until the account changes; without it,
// every request reads storage.
func TestAuthenticateReadsAnAccountOncePerChange(t *testing.T) {
	t.Parallel()
	tokens, err := NewTokens([]byte(strings.Repeat("k", 32)), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{u: User{Username: "alice", Active: true, PasswordChangedAt: time.Now()}}
	events := chanEvents{c: make(chan string, 10)}
	s, err := NewService(Config{Store: st, Tokens: tokens, Events: events, BcryptCost: MinBcryptCost})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokens.Issue(&st.u, []Scope{ScopeUsers})
	if err != nil {
		t.Fatal(err)
	}
	reads := func() int { st.mu.Lock(); defer st.mu.Unlock(); return st.reads }
	ctx := context.Background()

	// not listening yet: changes elsewhere could be missed, so every request reads
	s.Authenticate(ctx, tok)
	s.Authenticate(ctx, tok)
	if n := reads(); n != 2 {
		t.Fatalf("before Listen: %d reads, want 2", n)
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Listen(lctx) }()
	defer func() { stop(); <-done }()
	for !s.accounts.on.Load() {
		time.Sleep(time.Millisecond)
	}
	for range 100 {
		if _, err := s.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads(); n != 3 {
		t.Fatalf("100 requests while listening: %d reads in all, want 3", n)
	}
	// another process disables alice and publishes it
	st.SetActive(ctx, "alice", false)
	events.Publish(ctx, "alice")
	deadline := time.Now().Add(time.Second)
	for {
		_, err := s.Authenticate(ctx, tok)
		if errcode.CodeOf(err) == errcode.Unauthenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the change was not applied within 1 s: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}
