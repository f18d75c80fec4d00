package redislimit

import (
	"context"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// TestBucketsPeek: Peek counts the tokens left in Redis without taking
// one, and says 0 during a drain.
func TestBucketsPeek(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	ctx := context.Background()
	b := NewBuckets(rdb, prefix)
	rate := ratelimit.Rate{Events: 5, Per: time.Hour}
	if n, full, err := b.Peek(ctx, "peek", rate); err != nil || n != 5 || full != 0 {
		t.Fatalf("fresh bucket: Peek = %d, %s, %v; want 5, 0", n, full, err)
	}
	for range 2 {
		if w, err := b.Take(ctx, "peek", rate); err != nil || w != 0 {
			t.Fatalf("Take = %s, %v", w, err)
		}
	}
	for range 2 { // twice: peeking takes nothing
		n, full, err := b.Peek(ctx, "peek", rate)
		if err != nil || n != 3 || full < 23*time.Minute || full > 24*time.Minute {
			t.Fatalf("after 2 takes: Peek = %d, %s, %v; want 3, ~24m", n, full, err)
		}
	}
	if err := b.Drain(ctx, "peek", rate, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, full, err := b.Peek(ctx, "peek", rate); err != nil || n != 0 || full < 119*time.Minute {
		t.Fatalf("drained: Peek = %d, %s, %v; want 0, ~2h", n, full, err)
	}
}
