package redislimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestFailuresSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	a := NewFailures(rdb, prefix, time.Minute)
	b := NewFailures(rdb, prefix, time.Minute) // a second replica
	a.now, b.now = clock, clock
	for i := range 3 {
		inst := a
		if i%2 == 1 {
			inst = b
		}
		if _, w, err := inst.Take(ctx, "user:x", 3); err != nil || w != 0 {
			t.Fatalf("attempt %d: wait %v err %v", i+1, w, err)
		}
		now = now.Add(10 * time.Second)
	}
	_, w, err := b.Take(ctx, "user:x", 3)
	if err != nil || w < 29*time.Second || w > 30*time.Second {
		t.Fatalf("wait = %v (err %v), want about 30s", w, err)
	}
	if _, w, _ := a.Take(ctx, "user:y", 3); w != 0 {
		t.Errorf("another key waits %v", w)
	}
	now = now.Add(31 * time.Second)
	id, w, _ := a.Take(ctx, "user:x", 3)
	if w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	if ttl := rdb.PTTL(ctx, prefix+"user:x").Val(); ttl <= 0 || ttl > 61*time.Second {
		t.Errorf("key TTL = %v, want it to expire with the window", ttl)
	}
	if err := b.Forgive(ctx, "user:x", id); err != nil {
		t.Fatal(err)
	}
	if n := rdb.ZCard(ctx, prefix+"user:x").Val(); n != 2 {
		t.Errorf("after forgiving the newest of three live attempts: %d left, want 2", n)
	}
}

// TestFailuresTakeIsAtomicAcrossReplicas is A17 on Redis: 60 simultaneous
// attempts through two replicas with a limit of 5 let exactly 5 through.
func TestFailuresTakeIsAtomicAcrossReplicas(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	reps := []*Failures{NewFailures(rdb, prefix, time.Minute), NewFailures(rdb, prefix, time.Minute)}
	var passed atomic.Int32
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			if _, w, err := reps[i%2].Take(context.Background(), "k", 5); err == nil && w == 0 {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != 5 {
		t.Fatalf("%d attempts passed, want 5", n)
	}
}
