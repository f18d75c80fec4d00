package ratelimit

import (
	"context"
	"testing"
	"time"
)

// TestBucketsPeek: Peek counts whole tokens and the time to full, takes
// nothing, and says 0 during a drain.
func TestBucketsPeek(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	b := NewBuckets(clk.Now)
	rate := Rate{Events: 4, Per: time.Minute}
	peek := func(wantTokens int, wantFull time.Duration) {
		t.Helper()
		n, full, err := b.Peek(ctx, "k", rate)
		if err != nil || n != wantTokens || full != wantFull {
			t.Errorf("Peek = %d, %s, %v; want %d, %s", n, full, err, wantTokens, wantFull)
		}
	}
	peek(4, 0)
	peek(4, 0) // peeking takes nothing
	for range 3 {
		if w, _ := b.Take(ctx, "k", rate); w != 0 {
			t.Fatalf("Take waited %s", w)
		}
	}
	peek(1, 45*time.Second)
	clk.Advance(15 * time.Second)
	peek(2, 30*time.Second)
	if err := b.Drain(ctx, "k", rate, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	peek(0, 90*time.Second)
	clk.Advance(90 * time.Second)
	peek(4, 0)
	if n, full, _ := b.Peek(ctx, "k", Rate{}); n != 0 || full != 0 {
		t.Errorf("unlimited: Peek = %d, %s", n, full)
	}
}
