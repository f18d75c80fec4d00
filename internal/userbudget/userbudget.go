// Package userbudget keeps the per-user daily budgets of upstream calls
// an administrator sets (setUserBudget, PUT /api/admin/user/{username}/
// budget/{provider}) and counts them in the shared rate limiter. The
// engine asks Take before each upstream call made for a user; the
// transports show and change the budgets through Of and Set.
package userbudget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Budget is an administrator's daily budget of one user's upstream calls
// to one provider.
type Budget struct {
	Username string
	Provider string
	PerDay   int
}

// ErrNoUser is the store's answer for a budget of an unknown user.
var ErrNoUser = errors.New("no such user")

// State is a user budget and what is left of it.
type State struct {
	Provider  string
	PerDay    int
	Remaining int
	// ResetsAt is when the budget is whole again; nil when it is whole.
	ResetsAt *time.Time
}

// Store keeps the user budgets (package store).
type Store interface {
	UserBudgets(ctx context.Context) ([]Budget, error)
	// SetUserBudget creates or replaces b; PerDay 0 removes it. ErrNoUser
	// when the user does not exist.
	SetUserBudget(ctx context.Context, b Budget, at time.Time) error
}

// Limiter is the shared token-bucket limiter the budgets are counted in
// (ratelimit.Buckets, or Redis with the local fallback).
type Limiter interface {
	// Take consumes a token and returns 0, or consumes nothing and returns
	// how long until one is available.
	Take(ctx context.Context, key string, rate provider.Rate) (time.Duration, error)
}

// Peeker is a Limiter that can tell, without taking anything, how many
// tokens a bucket holds and how long until it is full.
type Peeker interface {
	Peek(ctx context.Context, key string, rate provider.Rate) (tokens int, full time.Duration, err error)
}

// MaxPerDay bounds a user budget.
const MaxPerDay = 1_000_000

// budgetsFresh is how long the budgets read from the store are trusted: a
// change made by another process applies within it.
const budgetsFresh = 2 * time.Second

// Budgets applies the per-user daily budgets: each is a bucket of the
// shared Limiter (Redis when configured, with the local fallback) that holds
// PerDay calls and refills PerDay a day, so a spent budget gives a call back
// every 24h/PerDay. A user without a budget for a provider is not limited.
type Budgets struct {
	store   Store
	limiter Limiter
	log     *slog.Logger
	now     func() time.Time

	mu     sync.Mutex
	limits map[[2]string]int // by username and provider
	loaded time.Time
}

// New returns Budgets kept in st and counted in lim.
func New(st Store, lim Limiter, log *slog.Logger, now func() time.Time) *Budgets {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Budgets{store: st, limiter: lim, log: log, now: now}
}

func budgetKey(username, prov string) string { return "user:" + prov + ":" + username }

func rateOf(n int) provider.Rate { return provider.Rate{Events: n, Per: 24 * time.Hour} }

// all returns the budgets, read again when older than budgetsFresh.
func (b *Budgets) all(ctx context.Context) (map[[2]string]int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limits != nil && b.now().Sub(b.loaded) < budgetsFresh {
		return b.limits, nil
	}
	bs, err := b.store.UserBudgets(ctx)
	if err != nil {
		return b.limits, err
	}
	m := make(map[[2]string]int, len(bs))
	for _, u := range bs {
		m[[2]string{u.Username, u.Provider}] = u.PerDay
	}
	b.limits, b.loaded = m, b.now()
	return m, nil
}

// Take spends one call of username's budget for prov. When the budget is
// spent it spends nothing and returns the budget (perDay) and how long
// until a call is available again (wait > 0). A store or limiter failure
// lets the call through (the providers' own budgets still hold) and is
// logged.
func (b *Budgets) Take(ctx context.Context, username, prov string) (perDay int, wait time.Duration) {
	limits, err := b.all(ctx)
	if err != nil {
		b.log.WarnContext(ctx, "user budgets unreadable; using the last known", "err", err)
	}
	n, ok := limits[[2]string{username, prov}]
	if !ok {
		return 0, 0
	}
	wait, err = b.limiter.Take(ctx, budgetKey(username, prov), rateOf(n))
	if err != nil {
		b.log.WarnContext(ctx, "user budget not counted", "provider", prov, "err", err)
		return n, 0
	}
	return n, max(wait, 0)
}

// Of returns username's budgets with what is left of each, by provider;
// none for username "" (everyone) or nil Budgets.
func (b *Budgets) Of(ctx context.Context, username string) ([]*State, error) {
	if b == nil || username == "" {
		return []*State{}, nil
	}
	limits, err := b.all(ctx)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	out := []*State{}
	for k, n := range limits {
		if !strings.EqualFold(k[0], username) {
			continue
		}
		s := State{Provider: k[1], PerDay: n, Remaining: n}
		if pk, ok := b.limiter.(Peeker); ok {
			left, full, err := pk.Peek(ctx, budgetKey(username, k[1]), rateOf(n))
			if err != nil {
				return nil, errcode.Wrap(err)
			}
			s.Remaining = left
			if full > 0 {
				at := b.now().Add(full).UTC().Truncate(time.Second)
				s.ResetsAt = &at
			}
		}
		out = append(out, &s)
	}
	slices.SortFunc(out, func(a, b *State) int { return strings.Compare(a.Provider, b.Provider) })
	return out, nil
}

// Set gives username a budget of perDay calls a day to prov (0 removes it)
// and returns the user's budgets.
func (b *Budgets) Set(ctx context.Context, username, prov string, perDay int) ([]*State, error) {
	if b == nil {
		return nil, errcode.New(errcode.NotConfigured, "per-user budgets are not available in this process")
	}
	if _, ok := provider.Lookup(prov); !ok {
		return nil, errcode.Field("provider", "unknown provider")
	}
	if perDay < 0 || perDay > MaxPerDay {
		return nil, errcode.Field("perDay", fmt.Sprintf("want 0 (no budget) to %d", MaxPerDay))
	}
	err := b.store.SetUserBudget(ctx, Budget{Username: username, Provider: prov, PerDay: perDay}, b.now())
	if errors.Is(err, ErrNoUser) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "username", Message: "no such user"}
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	b.mu.Lock()
	b.limits = nil // read again
	b.mu.Unlock()
	return b.Of(ctx, username)
}
