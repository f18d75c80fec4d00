package jobs

import (
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgconn"
	"io"
	"log/slog"
	"net"
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

// TestConnectionLost: an attempt's record is tried again only when the
// database was unreachable, never when it answered the statement.
func TestConnectionLost(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin shutdown (a restart)
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot connect now (starting up)
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{fmt.Errorf("record: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{io.ErrUnexpectedEOF, true},
		{&pgconn.PgError{Code: "23505"}, false}, // unique violation: the same again
		{errors.New("job is not running"), false},
		{context.DeadlineExceeded, false},
	} {
		if got := connectionLost(c.err); got != c.want {
			t.Errorf("connectionLost(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
