package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
)

// TestAccountPollSeesNewAccounts: on SQLite, an account created and
// disabled between two reads of the poll is reported as changed (the poll
// compared only the accounts of its previous read, so a process that had
// cached the new account's sign-in kept accepting its token).
func TestAccountPollSeesNewAccounts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := storetest.Open(t, storetest.SQLiteURL(t))
	events, err := s.AccountEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	changed, synced := make(chan string, 16), make(chan bool, 1)
	go events.Listen(ctx, func(name string) { changed <- name }, func(ok bool) {
		if ok {
			synced <- ok
		}
	})
	<-synced
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "sam", PasswordHash: "x", Active: true, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetActive(ctx, "sam", false); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(2 * time.Second)
	for {
		select {
		case name := <-changed:
			if name == "sam" {
				return
			}
		case <-deadline:
			t.Fatal("sam, created and disabled since the last poll, was not reported as changed")
		}
	}
}
