package redislimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestBucketsSharedByReplicas(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	a, b := NewBuckets(rdb, prefix), NewBuckets(rdb, prefix)
	rate := provider.Rate{Events: 5, Per: time.Minute}
	var granted atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst := a
			if i%2 == 1 {
				inst = b
			}
			w, err := inst.Take(ctx, "vt", rate)
			if err != nil {
				t.Error(err)
			}
			if w == 0 {
				granted.Add(1)
			} else if w > 13*time.Second {
				t.Errorf("wait %v, want at most one token interval (12s)", w)
			}
		}()
	}
	wg.Wait()
	if granted.Load() != 5 {
		t.Fatalf("granted %d of 20 across two replicas, want 5", granted.Load())
	}
	if err := a.Drain(ctx, "other", rate, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	w, err := b.Take(ctx, "other", rate)
	if err != nil || w < time.Second || w > 2*time.Second {
		t.Errorf("after a drain by the other replica: wait %v err %v", w, err)
	}
}

func TestLocker(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	ctx := context.Background()
	l1, l2 := NewLocker(rdb, prefix), NewLocker(rdb, prefix)
	var winners atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := l1
			if i%2 == 1 {
				l = l2
			}
			if _, ok, err := l.TryLock(ctx, "k", time.Minute); err != nil {
				t.Error(err)
			} else if ok {
				winners.Add(1)
			}
		}()
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Fatalf("%d holders, want 1", winners.Load())
	}
	// an expired holder's unlock does not free the next holder's lock
	unlockOld, ok, _ := l1.TryLock(ctx, "short", 50*time.Millisecond)
	if !ok {
		t.Fatal("short lock not taken")
	}
	var unlockNew func()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if u, ok, _ := l2.TryLock(ctx, "short", time.Minute); ok {
			unlockNew = u
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock never expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	unlockOld()
	if _, ok, _ := l1.TryLock(ctx, "short", time.Minute); ok {
		t.Fatal("a stale unlock released another holder's lock")
	}
	unlockNew()
	if _, ok, _ := l1.TryLock(ctx, "short", time.Minute); !ok {
		t.Fatal("unlock did not release")
	}
}
