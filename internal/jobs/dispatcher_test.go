package jobs

import (
	"context"
	"log/slog"
	"testing"
)

// A worker's hand-off reaches the waiters on its key, only them, and
// leaves notices nobody waits for to the NOTIFY (no cache fill here).
func TestHandOffReachesOnlyTheKeysWaiters(t *testing.T) {
	d := NewDispatcher(nil, "c", slog.New(slog.DiscardHandler))
	unclaimed := 0
	d.unclaimed = func(context.Context, *Notice) { unclaimed++ }
	a, b := d.register("k"), d.register("other")
	defer d.unregister(a)
	defer d.unregister(b)
	n := &Notice{JobID: 7, Final: true, Key: "k"}
	d.handOff(n)
	select {
	case got := <-a.c:
		if got != n {
			t.Fatalf("waiter got %+v", got)
		}
	default:
		t.Fatal("the waiter on k got nothing")
	}
	select {
	case got := <-b.c:
		t.Fatalf("a waiter on another key got %+v", got)
	default:
	}
	d.handOff(&Notice{JobID: 8, Final: true, Key: "nobody"})
	if unclaimed != 0 {
		t.Fatalf("a hand-off nobody waited for was treated as unclaimed %d times", unclaimed)
	}
}
