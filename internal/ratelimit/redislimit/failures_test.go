package redislimit

import (
	"context"
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
	a := NewFailures(rdb, prefix, 3, time.Minute)
	b := NewFailures(rdb, prefix, 3, time.Minute) // a second replica
	a.now, b.now = clock, clock
	for i := range 3 {
		if w, err := b.Wait(ctx, "user:x"); err != nil || w != 0 {
			t.Fatalf("before failure %d: wait %v err %v", i+1, w, err)
		}
		inst := a
		if i%2 == 1 {
			inst = b
		}
		if err := inst.Fail(ctx, "user:x"); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Second)
	}
	w, err := b.Wait(ctx, "user:x")
	if err != nil || w < 29*time.Second || w > 30*time.Second {
		t.Fatalf("wait = %v (err %v), want about 30s", w, err)
	}
	if w, _ := a.Wait(ctx, "user:y"); w != 0 {
		t.Errorf("another key waits %v", w)
	}
	now = now.Add(31 * time.Second)
	if w, _ := a.Wait(ctx, "user:x"); w != 0 {
		t.Errorf("after the window: wait %v", w)
	}
	if ttl := rdb.PTTL(ctx, prefix+"user:x").Val(); ttl <= 0 || ttl > 61*time.Second {
		t.Errorf("key TTL = %v, want it to expire with the window", ttl)
	}
}
