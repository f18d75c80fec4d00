// Package cache holds the in-process cache of provider answers and the
// tiered cache that puts it in front of a shared one (cache/rediscache).
// Values are opaque bytes with a per-entry TTL.
package cache

import (
	"context"
	"errors"
	"time"

	"github.com/maypok86/otter/v2"
)

// item is a cached value with its lifetime.
type item struct {
	val []byte
	ttl time.Duration
}

// Memory is a size-bounded in-process cache (otter: S3-FIFO eviction) with a
// TTL per entry.
type Memory struct {
	c *otter.Cache[string, item]
}

// NewMemory returns a cache holding at most maxEntries values.
func NewMemory(maxEntries int) *Memory {
	return &Memory{c: otter.Must(&otter.Options[string, item]{
		MaximumSize:      maxEntries,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, item]) time.Duration { return e.Value.ttl }),
	})}
}

// Get returns the value and its remaining lifetime.
func (m *Memory) Get(_ context.Context, key string) ([]byte, time.Duration, bool, error) {
	e, ok := m.c.GetEntry(key)
	if !ok {
		return nil, 0, false, nil
	}
	left := time.Until(e.ExpiresAt())
	if left <= 0 {
		return nil, 0, false, nil
	}
	return e.Value.val, left, true, nil
}

// Set stores val for ttl; a non-positive ttl stores nothing.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	m.c.Set(key, item{val: val, ttl: ttl})
	return nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.c.Invalidate(key)
	return nil
}

// Store is the interface both tiers implement.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Tiered reads an in-process L1 before a shared L2 and fills L1 from L2.
type Tiered struct {
	l1, l2   Store
	l1MaxTTL time.Duration
}

// NewTiered returns a two-level cache. L1 keeps an entry at most l1MaxTTL,
// so that a Delete or refresh elsewhere reaches every replica soon.
func NewTiered(l1, l2 Store, l1MaxTTL time.Duration) *Tiered {
	return &Tiered{l1: l1, l2: l2, l1MaxTTL: l1MaxTTL}
}

// Get tries L1, then L2. An L2 error is returned with ok=false: callers
// treat it as a miss.
func (t *Tiered) Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	if v, left, ok, _ := t.l1.Get(ctx, key); ok {
		return v, left, true, nil
	}
	v, left, ok, err := t.l2.Get(ctx, key)
	if err != nil || !ok {
		return nil, 0, false, err
	}
	t.l1.Set(ctx, key, v, min(left, t.l1MaxTTL))
	return v, left, true, nil
}

// Set writes L2 first, then L1.
func (t *Tiered) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	err := t.l2.Set(ctx, key, val, ttl)
	return errors.Join(err, t.l1.Set(ctx, key, val, min(ttl, t.l1MaxTTL)))
}

// Delete removes key from both levels.
func (t *Tiered) Delete(ctx context.Context, key string) error {
	return errors.Join(t.l2.Delete(ctx, key), t.l1.Delete(ctx, key))
}
