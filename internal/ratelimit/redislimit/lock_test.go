package redislimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/ratelimit/redislimit"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// Locker is the interface the enrichment engine declares (enrich.Locker).
type Locker interface {
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

var _ Locker = (*redislimit.Locker)(nil)

// waitLock polls TryLock until it succeeds, failing the test after 5s.
func waitLock(t *testing.T, l Locker, key string, ttl time.Duration) func() {
	t.Helper()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		unlock, ok, err := l.TryLock(context.Background(), key, ttl)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return unlock
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s still locked after 5s", key)
		}
	}
}

func tryLock(t *testing.T, l Locker, key string, ttl time.Duration) (func(), bool) {
	t.Helper()
	unlock, ok, err := l.TryLock(context.Background(), key, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return unlock, ok
}

func TestLockerOneWinner(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	tests := []struct {
		name    string
		holders int // TryLocks before the concurrent ones, on another key
	}{
		{"free key", 0},
		{"another key held", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			replicas := []Locker{redislimit.NewLocker(rdb, prefix), redislimit.NewLocker(rdb, prefix)}
			for range tt.holders {
				if _, ok := tryLock(t, replicas[0], tt.name+"-other", time.Minute); !ok {
					t.Fatal("other key not taken")
				}
			}
			var winners atomic.Int64
			var mu sync.Mutex
			var unlock func()
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					u, ok, err := replicas[i%2].TryLock(context.Background(), tt.name, time.Minute)
					switch {
					case err != nil:
						t.Error(err)
					case ok:
						winners.Add(1)
						mu.Lock()
						unlock = u
						mu.Unlock()
					case u != nil:
						t.Error("a refused TryLock returned an unlock")
					}
				})
			}
			wg.Wait()
			if got := winners.Load(); got != 1 {
				t.Fatalf("%d of 20 won, want 1", got)
			}
			if _, ok := tryLock(t, replicas[1], tt.name, time.Minute); ok {
				t.Fatal("taken twice")
			}
			unlock()
			if _, ok := tryLock(t, replicas[1], tt.name, time.Minute); !ok {
				t.Error("unlock did not release the key")
			}
		})
	}
}

func TestLockerExpiry(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	a, b := redislimit.NewLocker(rdb, prefix), redislimit.NewLocker(rdb, prefix)
	start := time.Now()
	if _, ok := tryLock(t, a, "k", 100*time.Millisecond); !ok {
		t.Fatal("not taken")
	}
	waitLock(t, b, "k", time.Minute) // the holder never unlocks: expiry frees it
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("a 100ms lock freed after %v", el)
	}
}

func TestLockerStaleUnlock(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	a, b := redislimit.NewLocker(rdb, prefix), redislimit.NewLocker(rdb, prefix)
	unlockOld, ok := tryLock(t, a, "k", 50*time.Millisecond)
	if !ok {
		t.Fatal("not taken")
	}
	unlockNew := waitLock(t, b, "k", time.Minute) // after a's lock expired
	unlockOld()                                   // a, late, releases what it no longer holds
	if _, ok := tryLock(t, a, "k", time.Minute); ok {
		t.Fatal("a stale unlock released another holder's lock")
	}
	unlockNew()
	unlockNew() // a second call is harmless
	unlockThird := waitLock(t, a, "k", time.Minute)
	unlockNew() // even after the key was taken again
	if _, ok := tryLock(t, b, "k", time.Minute); ok {
		t.Fatal("a repeated unlock released the next holder's lock")
	}
	unlockThird()
}

func TestLockerUnlockAfterCancel(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	l := redislimit.NewLocker(rdb, prefix)
	ctx, cancel := context.WithCancel(context.Background())
	unlock, ok, err := l.TryLock(ctx, "k", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLock: ok %t err %v", ok, err)
	}
	cancel() // a lookup ends at its deadline, then unlocks
	unlock()
	if _, ok := tryLock(t, l, "k", time.Minute); !ok {
		t.Error("unlock after the context ended did not release the key")
	}
}

func TestLockerErrors(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond}) // nothing listens
	t.Cleanup(func() { dead.Close() })
	tests := []struct {
		name string
		l    *redislimit.Locker
		ttl  time.Duration
	}{
		{"zero ttl", redislimit.NewLocker(rdb, prefix), 0},
		{"negative ttl", redislimit.NewLocker(rdb, prefix), -time.Second},
		{"redis down", redislimit.NewLocker(dead, "x:"), time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unlock, ok, err := tt.l.TryLock(context.Background(), "k", tt.ttl)
			if err == nil || ok || unlock != nil {
				t.Errorf("ok %t err %v unlock %t, want an error", ok, err, unlock != nil)
			}
		})
	}
	if n, err := rdb.Exists(context.Background(), prefix+"k").Result(); err != nil || n != 0 {
		t.Errorf("a refused ttl left a key: %d %v", n, err)
	}
}
