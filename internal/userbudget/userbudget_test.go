package userbudget_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// memStore keeps budgets like the store does: one per user and provider,
// for the users it knows, matched in any case.
type memStore struct {
	mu    sync.Mutex
	users []string
	set   map[[2]string]int
	reads int
}

func (s *memStore) UserBudgets(context.Context) ([]userbudget.Budget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	var out []userbudget.Budget
	for k, n := range s.set {
		out = append(out, userbudget.Budget{Username: k[0], Provider: k[1], PerDay: n})
	}
	return out, nil
}

func (s *memStore) SetUserBudget(_ context.Context, b userbudget.Budget, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if strings.EqualFold(u, b.Username) {
			if b.PerDay == 0 {
				delete(s.set, [2]string{u, b.Provider})
			} else {
				s.set[[2]string{u, b.Provider}] = b.PerDay
			}
			return nil
		}
	}
	return userbudget.ErrNoUser
}

// A budget of n calls a day lets n calls through, then none until one
// refills (24h/n later); Of shows what is left and when it is whole again;
// Set checks its input and changes nothing when it is refused.
func TestBudgets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := &memStore{users: []string{"carol", "dave"}, set: map[[2]string]int{}}
	b := userbudget.New(st, ratelimit.NewBuckets(clock), nil, clock)

	if n, wait := b.Take(ctx, "carol", "internetdb"); n != 0 || wait != 0 {
		t.Fatalf("no budget: Take = %d, %s; want no limit", n, wait)
	}
	got, err := b.Set(ctx, "Carol", "internetdb", 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*userbudget.State{{Provider: "internetdb", PerDay: 2, Remaining: 2}}, got); diff != "" {
		t.Errorf("Set (-want +got):\n%s", diff)
	}
	for i := range 2 {
		if _, wait := b.Take(ctx, "carol", "internetdb"); wait != 0 {
			t.Fatalf("call %d within the budget waits %s", i+1, wait)
		}
	}
	n, wait := b.Take(ctx, "carol", "internetdb")
	if n != 2 || wait <= 0 || wait > 12*time.Hour {
		t.Errorf("third call: Take = %d, %s; want the budget 2 and a wait of at most 12h", n, wait)
	}
	if _, wait := b.Take(ctx, "dave", "internetdb"); wait != 0 {
		t.Errorf("another user's calls are counted in carol's budget: wait %s", wait)
	}
	states, err := b.Of(ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	resets := now.Add(24 * time.Hour)
	if diff := cmp.Diff([]*userbudget.State{{Provider: "internetdb", PerDay: 2, Remaining: 0, ResetsAt: &resets}}, states); diff != "" {
		t.Errorf("Of after three calls (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, user, provider string
		perDay               int
		code                 errcode.Code
		field                string
	}{
		{name: "unknown provider", user: "carol", provider: "nope", perDay: 5, code: errcode.BadRequest, field: "provider"},
		{name: "negative", user: "carol", provider: "internetdb", perDay: -1, code: errcode.BadRequest, field: "perDay"},
		{name: "too large", user: "carol", provider: "internetdb", perDay: userbudget.MaxPerDay + 1, code: errcode.BadRequest, field: "perDay"},
		{name: "unknown user", user: "mallory", provider: "internetdb", perDay: 5, code: errcode.NotFound, field: "username"},
	} {
		_, err := b.Set(ctx, tc.user, tc.provider, tc.perDay)
		var ce *errcode.Error
		if !errors.As(err, &ce) || ce.Code != tc.code || ce.Field != tc.field {
			t.Errorf("%s: Set error %v, want %s on %s", tc.name, err, tc.code, tc.field)
		}
	}
	if st.set[[2]string{"carol", "internetdb"}] != 2 || len(st.set) != 1 {
		t.Errorf("refused changes were stored: %v", st.set)
	}
	if _, err := b.Set(ctx, "carol", "internetdb", 0); err != nil {
		t.Fatal(err)
	}
	if n, wait := b.Take(ctx, "carol", "internetdb"); n != 0 || wait != 0 {
		t.Errorf("removed budget still limits: Take = %d, %s", n, wait)
	}
}

// The budgets are read from the store again once older than two seconds,
// so a change made by another process applies within them.
func TestBudgetsReadAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := &memStore{users: []string{"carol"}, set: map[[2]string]int{}}
	b := userbudget.New(st, ratelimit.NewBuckets(clock), nil, clock)
	b.Take(ctx, "carol", "internetdb")
	st.set[[2]string{"carol", "internetdb"}] = 1 // set by another replica
	b.Take(ctx, "carol", "internetdb")
	if n, _ := b.Take(ctx, "carol", "internetdb"); n != 0 {
		t.Fatalf("a budget set elsewhere applied before the budgets were read again")
	}
	mu.Lock()
	now = now.Add(3 * time.Second)
	mu.Unlock()
	b.Take(ctx, "carol", "internetdb")
	if n, wait := b.Take(ctx, "carol", "internetdb"); n != 1 || wait <= 0 {
		t.Errorf("3 s later: Take = %d, %s; want the other replica's budget of 1, spent", n, wait)
	}
	if st.reads != 2 {
		t.Errorf("store read %d times, want 2 (once, then once more after 2 s)", st.reads)
	}
}
