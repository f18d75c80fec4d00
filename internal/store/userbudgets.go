package store

import (
	"context"
	"errors"
	"time"

	entbudget "github.com/inspector-gadget/gadget/ent/userbudget"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// UserBudgets returns every per-user daily budget.
func (s *Store) UserBudgets(ctx context.Context) ([]userbudget.Budget, error) {
	bs, err := s.client.UserBudget.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]userbudget.Budget, len(bs))
	for i, b := range bs {
		out[i] = userbudget.Budget{Username: b.Username, Provider: b.Provider, PerDay: b.PerDay}
	}
	return out, nil
}

// SetUserBudget creates or replaces a user's budget for a provider; PerDay
// 0 removes it. userbudget.ErrNoUser when the user does not exist.
func (s *Store) SetUserBudget(ctx context.Context, b userbudget.Budget, at time.Time) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	u, err := findUser(ctx, tx.User, b.Username)
	if errors.Is(err, auth.ErrUserNotFound) {
		return userbudget.ErrNoUser
	}
	if err != nil {
		return err
	}
	b.Username = u.Username // as the account spells it, which lookups carry
	if _, err := tx.UserBudget.Delete().Where(entbudget.Username(b.Username), entbudget.Provider(b.Provider)).Exec(ctx); err != nil {
		return err
	}
	if b.PerDay > 0 {
		if err := tx.UserBudget.Create().SetUsername(b.Username).SetProvider(b.Provider).SetPerDay(b.PerDay).SetUpdatedAt(ts(at)).Exec(ctx); err != nil {
			return err
		}
	}
	return tx.Commit()
}
