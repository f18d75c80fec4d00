package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/cache/rediscache"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

var (
	_ cache.Store = (*cache.Memory)(nil)
	_ cache.Store = (*cache.Tiered)(nil)
	_ cache.Store = (*rediscache.Cache)(nil)
)

func TestMemoryTTLAndDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := cache.NewMemory(100)
	m.Set(ctx, "short", []byte("a"), 60*time.Millisecond)
	m.Set(ctx, "long", []byte("b"), time.Hour)
	m.Set(ctx, "never", []byte("c"), 0)
	if v, left, ok, _ := m.Get(ctx, "long"); !ok || string(v) != "b" || left <= 59*time.Minute {
		t.Fatalf("long: %q %v %t", v, left, ok)
	}
	if _, _, ok, _ := m.Get(ctx, "never"); ok {
		t.Error("a zero TTL was stored")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, ok, _ := m.Get(ctx, "short"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("short entry never expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.Delete(ctx, "long")
	if _, _, ok, _ := m.Get(ctx, "long"); ok {
		t.Error("deleted entry still there")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := cache.NewMemory(100)
	for i := range 5000 {
		m.Set(ctx, string(rune('a'+i%26))+time.Duration(i).String(), []byte("x"), time.Hour)
	}
	n := 0
	for i := range 5000 {
		if _, _, ok, _ := m.Get(ctx, string(rune('a'+i%26))+time.Duration(i).String()); ok {
			n++
		}
	}
	if n > 200 {
		t.Errorf("%d entries kept, want about 100", n)
	}
}

func TestRedisAndTiered(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	r1, r2 := rediscache.New(rdb, prefix), rediscache.New(rdb, prefix) // two replicas
	if err := r1.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	v, left, ok, err := r2.Get(ctx, "k")
	if err != nil || !ok || string(v) != "v" || left <= 50*time.Second || left > time.Minute {
		t.Fatalf("shared get: %q %v %t %v", v, left, ok, err)
	}
	if _, _, ok, err := r2.Get(ctx, "missing"); ok || err != nil {
		t.Errorf("missing key: ok %t err %v", ok, err)
	}
	l1 := cache.NewMemory(100)
	tc := cache.NewTiered(l1, r2, 10*time.Second)
	if _, _, ok, _ := tc.Get(ctx, "k"); !ok {
		t.Fatal("tiered miss on an L2 entry")
	}
	if _, left, ok, _ := l1.Get(ctx, "k"); !ok || left > 10*time.Second {
		t.Errorf("L1 fill: ok %t left %v, want capped at 10s", ok, left)
	}
	tc.Set(ctx, "n", []byte("w"), time.Hour)
	if _, left, ok, _ := r1.Get(ctx, "n"); !ok || left < 59*time.Minute {
		t.Errorf("tiered set did not reach L2 with its TTL: %t %v", ok, left)
	}
	tc.Delete(ctx, "n")
	if _, _, ok, _ := r1.Get(ctx, "n"); ok {
		t.Error("tiered delete left L2")
	}
	if _, _, ok, _ := l1.Get(ctx, "n"); ok {
		t.Error("tiered delete left L1")
	}
}
