package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// TestUserBudgetsStored: a budget is kept per user and provider under the
// account's spelling of the name, replaced by a second one, removed by 0,
// and refused for an unknown user.
func TestUserBudgetsStored(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.CreateUser(ctx, auth.NewUser{Username: "Carol", PasswordHash: "h", Active: true, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := s.SetUserBudget(ctx, userbudget.Budget{Username: "mallory", Provider: "otx", PerDay: 5}, now); !errors.Is(err, userbudget.ErrNoUser) {
			t.Errorf("unknown user: %v, want ErrNoUser", err)
		}
		for _, b := range []userbudget.Budget{
			{Username: "carol", Provider: "otx", PerDay: 5},
			{Username: "CAROL", Provider: "otx", PerDay: 7}, // replaces the first
			{Username: "carol", Provider: "virustotal", PerDay: 100},
		} {
			if err := s.SetUserBudget(ctx, b, now); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.UserBudgets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []userbudget.Budget{{Username: "Carol", Provider: "otx", PerDay: 7}, {Username: "Carol", Provider: "virustotal", PerDay: 100}}
		slices.SortFunc(got, func(a, b userbudget.Budget) int { return strings.Compare(a.Provider, b.Provider) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("budgets (-want +got):\n%s", diff)
		}
		if err := s.SetUserBudget(ctx, userbudget.Budget{Username: "carol", Provider: "otx"}, now); err != nil {
			t.Fatal(err)
		}
		got, _ = s.UserBudgets(ctx)
		if diff := cmp.Diff(want[1:], got); diff != "" {
			t.Errorf("after removing otx (-want +got):\n%s", diff)
		}
	})
}
