package ratelimit

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestFailuresSlidingWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFailures(time.Minute)
	f.Now = func() time.Time { return now }
	for i := range 3 {
		if _, w, _ := f.Take(ctx, "k", 3); w != 0 {
			t.Fatalf("attempt %d: wait %v", i+1, w)
		}
		now = now.Add(10 * time.Second)
	}
	// attempts at 0s, 10s, 20s; now 30s: the oldest leaves the window at 60s
	if _, w, _ := f.Take(ctx, "k", 3); w != 30*time.Second {
		t.Fatalf("wait = %v, want 30s", w)
	}
	if _, w, _ := f.Take(ctx, "other", 3); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	now = now.Add(30 * time.Second)
	if _, w, _ := f.Take(ctx, "k", 3); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	now = now.Add(2 * time.Minute)
	f.Take(ctx, "x", 3)
	f.mu.Lock()
	f.prune("k", now)
	f.prune("other", now)
	f.mu.Unlock()
	if len(f.hits) != 1 {
		t.Errorf("expired keys kept: %v", f.hits)
	}
}

// TestFailuresTakeIsAtomic is A17: 100 simultaneous attempts with a limit
// of 5 let exactly 5 through (the old check-then-count let all of them).
func TestFailuresTakeIsAtomic(t *testing.T) {
	t.Parallel()
	f := NewFailures(time.Minute)
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for range 100 {
		wg.Go(func() {
			if _, w, _ := f.Take(context.Background(), "k", 5); w == 0 {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != 5 {
		t.Fatalf("%d attempts passed, want 5", passed)
	}
}

func TestFailuresForgive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewFailures(time.Minute)
	for range 10 {
		id, w, _ := f.Take(ctx, "k", 2)
		if w != 0 {
			t.Fatal("forgiven attempts still count")
		}
		f.Forgive(ctx, "k", id)
	}
	f.Take(ctx, "k", 2)
	f.Take(ctx, "k", 2)
	if _, w, _ := f.Take(ctx, "k", 2); w == 0 {
		t.Fatal("two failures did not reach the limit of 2")
	}
}
