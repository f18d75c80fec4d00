package ratelimit

import (
	"context"
	"testing"
	"time"
)

func TestFailuresSlidingWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFailures(3, time.Minute)
	f.Now = func() time.Time { return now }
	for i := range 3 {
		if w, _ := f.Wait(ctx, "k"); w != 0 {
			t.Fatalf("before failure %d: wait %v", i+1, w)
		}
		f.Fail(ctx, "k")
		now = now.Add(10 * time.Second)
	}
	// failures at 0s, 10s, 20s; now 30s: the oldest leaves the window at 60s
	if w, _ := f.Wait(ctx, "k"); w != 30*time.Second {
		t.Fatalf("wait = %v, want 30s", w)
	}
	if w, _ := f.Wait(ctx, "other"); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	now = now.Add(30 * time.Second)
	if w, _ := f.Wait(ctx, "k"); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	now = now.Add(2 * time.Minute)
	f.Wait(ctx, "k")
	if len(f.hits) != 0 {
		t.Errorf("expired keys kept: %v", f.hits)
	}
}
