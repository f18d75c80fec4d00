package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

func TestBuckets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewBuckets(func() time.Time { return now })
	rate := provider.Rate{Events: 4, Per: time.Minute} // a token every 15s, burst 4
	for i := range 4 {
		if w, _ := b.Take(ctx, "vt", rate); w != 0 {
			t.Fatalf("burst token %d: wait %v", i+1, w)
		}
	}
	if w, _ := b.Take(ctx, "vt", rate); w != 15*time.Second {
		t.Fatalf("empty bucket: wait %v, want 15s", w)
	}
	now = now.Add(15 * time.Second)
	if w, _ := b.Take(ctx, "vt", rate); w != 0 {
		t.Fatalf("after refill: wait %v", w)
	}
	if w, _ := b.Take(ctx, "other", rate); w != 0 {
		t.Fatalf("keys share a bucket: %v", w)
	}
	b.Drain(ctx, "vt", rate, time.Hour)
	now = now.Add(30 * time.Minute)
	if w, _ := b.Take(ctx, "vt", rate); w != 30*time.Minute {
		t.Fatalf("drained: wait %v, want 30m", w)
	}
	now = now.Add(30*time.Minute + 15*time.Second)
	if w, _ := b.Take(ctx, "vt", rate); w != 0 {
		t.Fatalf("after the drain: wait %v", w)
	}
	if w, _ := b.Take(ctx, "free", provider.Rate{}); w != 0 {
		t.Fatalf("unlimited: %v", w)
	}
}

func TestBucketsNeverOverGrant(t *testing.T) {
	t.Parallel()
	b := NewBuckets(func() time.Time { return time.Unix(0, 0) })
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if w, _ := b.Take(context.Background(), "k", provider.Rate{Events: 7, Per: time.Hour}); w == 0 {
				granted.Add(1)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 7 {
		t.Errorf("granted %d of 50, want 7", granted.Load())
	}
}
