package rediscache_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/cache/rediscache"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// Cache is the interface the enrichment engine declares (enrich.Cache).
type Cache interface {
	Get(ctx context.Context, key string) (val []byte, ttlLeft time.Duration, ok bool, err error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

var _ Cache = (*rediscache.Cache)(nil)

// got is what one Get returned, with the lifetime left out: it is checked
// against a range.
type got struct {
	Val string
	OK  bool
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	tests := []struct {
		name    string
		set     []byte // stored under "k" unless nil
		ttl     time.Duration
		del     bool
		want    got
		minLeft time.Duration // when found
		maxLeft time.Duration
	}{
		{name: "text", set: []byte(`{"verdict":"malicious"}`), ttl: time.Minute,
			want: got{`{"verdict":"malicious"}`, true}, minLeft: 50 * time.Second, maxLeft: time.Minute},
		{name: "binary", set: []byte{0, 1, 2, 0xff, '\n'}, ttl: time.Hour,
			want: got{"\x00\x01\x02\xff\n", true}, minLeft: 59 * time.Minute, maxLeft: time.Hour},
		{name: "empty value", set: []byte{}, ttl: time.Minute,
			want: got{"", true}, minLeft: 50 * time.Second, maxLeft: time.Minute},
		{name: "ttl not in whole seconds", set: []byte("v"), ttl: 4285 * time.Millisecond,
			want: got{"v", true}, minLeft: 4 * time.Second, maxLeft: 4285 * time.Millisecond},
		{name: "missing", want: got{}},
		{name: "zero ttl stores nothing", set: []byte("v"), ttl: 0, want: got{}},
		{name: "deleted", set: []byte("v"), ttl: time.Minute, del: true, want: got{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := rediscache.New(rdb, prefix+tt.name+":")
			if tt.set != nil {
				if err := c.Set(ctx, "k", tt.set, tt.ttl); err != nil {
					t.Fatal(err)
				}
			}
			if tt.del {
				if err := c.Delete(ctx, "k"); err != nil {
					t.Fatal(err)
				}
			}
			v, left, ok, err := c.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got{string(v), ok}); diff != "" {
				t.Errorf("Get (-want +got):\n%s", diff)
			}
			if ok && (left < tt.minLeft || left > tt.maxLeft) {
				t.Errorf("ttlLeft %v, want %v to %v", left, tt.minLeft, tt.maxLeft)
			}
			if !ok && left != 0 {
				t.Errorf("a miss has ttlLeft %v", left)
			}
		})
	}
}

func TestSetReplaces(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	c := rediscache.New(rdb, prefix)
	c.Set(ctx, "k", []byte("old"), time.Hour)
	c.Set(ctx, "k", []byte("new"), time.Minute)
	if v, left, ok, err := c.Get(ctx, "k"); err != nil || !ok || string(v) != "new" || left > time.Minute {
		t.Errorf("after a rewrite: %q %v %t %v, want new with at most 1m", v, left, ok, err)
	}
	c.Set(ctx, "k", []byte("gone"), -time.Second)
	if _, _, ok, err := c.Get(ctx, "k"); ok || err != nil {
		t.Errorf("a non-positive ttl left the old value: ok %t err %v", ok, err)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	c := rediscache.New(rdb, prefix)
	if err := c.Set(ctx, "k", []byte("v"), 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		_, left, ok, err := c.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if left > 50*time.Millisecond {
			t.Fatalf("ttlLeft %v of a 50ms entry", left)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("a 50ms entry still there after 5s")
		}
	}
}

func TestSharedByReplicas(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	a, b := rediscache.New(rdb, prefix+"cache:"), rediscache.New(rdb, prefix+"cache:")
	other := rediscache.New(rdb, prefix+"other:")
	if err := a.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, left, ok, err := b.Get(ctx, "k"); err != nil || !ok || string(v) != "v" || left < 50*time.Second || left > time.Minute {
		t.Errorf("the other replica reads %q %v %t %v, want v with about 1m", v, left, ok, err)
	}
	if _, _, ok, _ := other.Get(ctx, "k"); ok {
		t.Error("another prefix sees the entry")
	}
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, _ := a.Get(ctx, "k"); ok {
		t.Error("a delete by one replica is not seen by the other")
	}
}

// TestTieredReplicas puts each replica's memory cache in front of the shared
// Redis cache, as the server does.
func TestTieredReplicas(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	l2 := rediscache.New(rdb, prefix)
	l1a, l1b := cache.NewMemory[[]byte](100), cache.NewMemory[[]byte](100)
	a := cache.NewTiered(l1a, l2, cache.Raw{}, 10*time.Second)
	b := cache.NewTiered(l1b, l2, cache.Raw{}, 10*time.Second)
	if err := a.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, left, ok, _ := l1a.Get(ctx, "k"); !ok || left > 10*time.Second {
		t.Errorf("writer's L1: ok %t left %v, want at most 10s", ok, left)
	}
	v, left, ok, err := b.Get(ctx, "k")
	if err != nil || !ok || string(v) != "v" || left < 59*time.Minute {
		t.Fatalf("reader: %q %v %t %v, want v with the L2 lifetime of about 1h", v, left, ok, err)
	}
	if _, left, ok, _ := l1b.Get(ctx, "k"); !ok || left > 10*time.Second || left < 9*time.Second {
		t.Errorf("reader's L1 fill: ok %t left %v, want about 10s", ok, left)
	}
	// An entry about to expire in L2 fills L1 for what is left of it.
	l2.Set(ctx, "short", []byte("s"), 3*time.Second)
	if _, _, ok, _ := b.Get(ctx, "short"); !ok {
		t.Fatal("short entry missing")
	}
	if _, left, ok, _ := l1b.Get(ctx, "short"); !ok || left > 3*time.Second {
		t.Errorf("L1 fill of a short entry: ok %t left %v, want at most 3s", ok, left)
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1, DialerRetryTimeout: time.Millisecond}) // nothing listens
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	c := rediscache.New(rdb, "x:")
	if _, _, ok, err := c.Get(ctx, "k"); err == nil || ok {
		t.Errorf("Get: ok %t err %v, want an error", ok, err)
	}
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err == nil {
		t.Error("Set: no error")
	}
	if err := c.Delete(ctx, "k"); err == nil {
		t.Error("Delete: no error")
	}
	// Tiered: the L2 error is returned, L1 still answers what it has.
	l1 := cache.NewMemory[[]byte](10)
	l1.Set(ctx, "hot", []byte("h"), time.Minute)
	tc := cache.NewTiered(l1, c, cache.Raw{}, time.Minute)
	if _, _, ok, err := tc.Get(ctx, "k"); err == nil || ok {
		t.Errorf("tiered Get of an L2 key: ok %t err %v, want an error", ok, err)
	}
	if v, _, ok, err := tc.Get(ctx, "hot"); err != nil || !ok || string(v) != "h" {
		t.Errorf("tiered Get of an L1 key: %q %t %v", v, ok, err)
	}
}
