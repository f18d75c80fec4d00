package cache

import (
	"context"
	"errors"
	"time"
)

// Tiered reads an in-process L1 of values before a shared L2 of bytes and
// fills L1 from L2, decoding once per fill. L1 keeps an entry at most
// l1MaxTTL, which bounds how long a replica may serve a value that another
// replica has since deleted or replaced in L2.
type Tiered[V any] struct {
	l1       store[V]
	l2       store[[]byte]
	codec    Codec[V]
	l1MaxTTL time.Duration
}

// NewTiered returns a two-level cache. l1 and l2 each have the methods Get,
// Set and Delete of the package's caches (see the package documentation):
// typically a *Memory[V] and a *rediscache.Cache; codec converts between
// them. A non-positive l1MaxTTL leaves L1 unused.
func NewTiered[V any](l1 store[V], l2 store[[]byte], codec Codec[V], l1MaxTTL time.Duration) *Tiered[V] {
	return &Tiered[V]{l1: l1, l2: l2, codec: codec, l1MaxTTL: l1MaxTTL}
}

// Get tries L1, then L2; an L2 hit is decoded and fills L1 for min(its
// remaining lifetime in L2, l1MaxTTL). ttlLeft is the remaining lifetime in
// the level that answered: on an L1 hit it is at most l1MaxTTL, so it may
// understate the lifetime in L2.
//
// L1 errors count as misses. An L2 error (or an L2 value that does not
// decode) is returned with ok=false, and callers may treat it as a miss
// (the value is then fetched anew).
func (t *Tiered[V]) Get(ctx context.Context, key string) (V, time.Duration, bool, error) {
	var zero V
	if v, left, ok, err := t.l1.Get(ctx, key); err == nil && ok {
		return v, left, true, nil
	}
	b, left, ok, err := t.l2.Get(ctx, key)
	if err != nil || !ok {
		return zero, 0, false, err
	}
	v, err := t.codec.Decode(b)
	if err != nil {
		return zero, 0, false, err
	}
	if d := min(left, t.l1MaxTTL); d > 0 {
		_ = t.l1.Set(ctx, key, v, d) // a failed fill only costs a later L2 read
	}
	return v, left, true, nil
}

// Peek reads L1 alone, when L1 can answer without waiting (a *Memory):
// a miss there says nothing about L2.
func (t *Tiered[V]) Peek(key string) (V, bool) {
	if p, ok := t.l1.(interface{ Peek(string) (V, bool) }); ok {
		return p.Peek(key)
	}
	var zero V
	return zero, false
}

// Set writes L2 for ttl, then L1 for min(ttl, l1MaxTTL). L1 is written even
// when L2 fails; the errors of both are returned, joined.
func (t *Tiered[V]) Set(ctx context.Context, key string, val V, ttl time.Duration) error {
	b, err2 := t.codec.Encode(val)
	if err2 == nil {
		err2 = t.l2.Set(ctx, key, b, ttl)
	}
	// A non-positive TTL removes key from L1 as it does from L2.
	err1 := t.l1.Set(ctx, key, val, min(ttl, max(t.l1MaxTTL, 0)))
	return errors.Join(err2, err1)
}

// Delete removes key from L2, then from L1, and returns the errors of both,
// joined. Other replicas' L1 may still serve the value for up to l1MaxTTL.
func (t *Tiered[V]) Delete(ctx context.Context, key string) error {
	err2 := t.l2.Delete(ctx, key)
	err1 := t.l1.Delete(ctx, key)
	return errors.Join(err2, err1)
}
