package cache

import (
	"context"
	"errors"
	"time"
)

// Tiered reads an in-process L1 before a shared L2 and fills L1 from L2.
// L1 keeps an entry at most l1MaxTTL, which bounds how long a replica may
// serve a value that another replica has since deleted or replaced in L2.
type Tiered struct {
	l1, l2   store
	l1MaxTTL time.Duration
}

// NewTiered returns a two-level cache. l1 and l2 each have the methods Get,
// Set and Delete of the package's caches (see the package documentation):
// typically a *Memory and a *rediscache.Cache. A non-positive l1MaxTTL
// leaves L1 unused.
func NewTiered(l1, l2 store, l1MaxTTL time.Duration) *Tiered {
	return &Tiered{l1: l1, l2: l2, l1MaxTTL: l1MaxTTL}
}

// Get tries L1, then L2; an L2 hit fills L1 for min(its remaining lifetime
// in L2, l1MaxTTL). ttlLeft is the remaining lifetime in the level that
// answered: on an L1 hit it is at most l1MaxTTL, so it may understate the
// lifetime in L2.
//
// L1 errors count as misses. An L2 error is returned with ok=false, and
// callers may treat it as a miss (the value is then fetched anew).
func (t *Tiered) Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	if v, left, ok, err := t.l1.Get(ctx, key); err == nil && ok {
		return v, left, true, nil
	}
	v, left, ok, err := t.l2.Get(ctx, key)
	if err != nil || !ok {
		return nil, 0, false, err
	}
	if d := min(left, t.l1MaxTTL); d > 0 {
		_ = t.l1.Set(ctx, key, v, d) // a failed fill only costs a later L2 read
	}
	return v, left, true, nil
}

// Set writes L2 for ttl, then L1 for min(ttl, l1MaxTTL). L1 is written even
// when L2 fails; the errors of both are returned, joined.
func (t *Tiered) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	err2 := t.l2.Set(ctx, key, val, ttl)
	// A non-positive TTL removes key from L1 as it does from L2.
	err1 := t.l1.Set(ctx, key, val, min(ttl, max(t.l1MaxTTL, 0)))
	return errors.Join(err2, err1)
}

// Delete removes key from L2, then from L1, and returns the errors of both,
// joined. Other replicas' L1 may still serve the value for up to l1MaxTTL.
func (t *Tiered) Delete(ctx context.Context, key string) error {
	err2 := t.l2.Delete(ctx, key)
	err1 := t.l1.Delete(ctx, key)
	return errors.Join(err2, err1)
}
