package ratelimit

import (
	"context"
	"sync"
	"time"
)

// minSweep is the number of buckets below which idle ones are not swept.
const minSweep = 1024

// Buckets are in-process token buckets, one per key: Rate.Events tokens per
// Rate.Per, refilled continuously, holding at most Rate.Events (the burst).
// They are safe for concurrent use.
//
// A bucket is kept as its theoretical arrival time (GCRA, the algorithm of
// ratelimit/redislimit), so waits are exact to the nanosecond. A bucket that
// has refilled completely and is not drained is the same as no bucket: such
// buckets are dropped when a new key finds the count doubled since the last
// sweep (first at 1024), so memory stays within about twice the keys still
// refilling or drained.
type Buckets struct {
	now func() time.Time

	mu      sync.Mutex
	m       map[string]*bucket
	sweepAt int // sweep idle buckets when len(m) reaches this
}

// bucket is one key's state.
type bucket struct {
	// tat is the theoretical arrival time: the bucket is full from tat on,
	// and each token taken moves it one interval later.
	tat time.Time
	// blocked is when a drain ends: no token before it.
	blocked time.Time
}

// NewBuckets returns empty buckets reading the time from now; nil means
// time.Now.
func NewBuckets(now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{now: now, m: map[string]*bucket{}, sweepAt: minSweep}
}

// interval is the time one token takes to refill; burst is the bucket size.
func interval(rate Rate) (every time.Duration, burst time.Duration) {
	every = max(rate.Per/time.Duration(rate.Events), 1)
	return every, every * time.Duration(rate.Events)
}

// Take consumes one token of key's bucket when one is available now and
// returns 0; otherwise it consumes nothing and returns how long until a
// token will be available. A zero rate is unlimited: Take returns 0. The
// error is always nil.
func (b *Buckets) Take(_ context.Context, key string, rate Rate) (time.Duration, error) {
	if rate.IsZero() {
		return 0, nil
	}
	every, burst := interval(rate)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.m[key]
	if k == nil {
		k = b.add(key, now)
	}
	if now.Before(k.blocked) {
		return k.blocked.Sub(now), nil
	}
	tat := k.tat
	if tat.Before(now) {
		tat = now
	}
	// The next token is available once the bucket has room for it.
	if allowAt := tat.Add(every - burst); now.Before(allowAt) {
		return allowAt.Sub(now), nil
	}
	k.tat = tat.Add(every)
	return 0, nil
}

// Drain empties key's bucket and makes no token available for d, as after
// an upstream 429 with Retry-After d. The bucket refills as usual meanwhile:
// when the drain ends it holds what it refilled since (at most the burst).
// A later drain never shortens an earlier one. A zero rate is unlimited and
// is not drained. The error is always nil.
func (b *Buckets) Drain(_ context.Context, key string, rate Rate, d time.Duration) error {
	if rate.IsZero() {
		return nil
	}
	_, burst := interval(rate)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.m[key]
	if k == nil {
		k = b.add(key, now)
	}
	if empty := now.Add(burst); k.tat.Before(empty) {
		k.tat = empty
	}
	if until := now.Add(d); until.After(k.blocked) {
		k.blocked = until
	}
	return nil
}

// add makes a full bucket for key, first dropping idle buckets when there
// are many; the caller holds mu.
func (b *Buckets) add(key string, now time.Time) *bucket {
	if len(b.m) >= b.sweepAt {
		for key, k := range b.m {
			if !now.Before(k.tat) && !now.Before(k.blocked) {
				delete(b.m, key) // full and not drained: as if new
			}
		}
		b.sweepAt = max(minSweep, 2*len(b.m))
	}
	k := &bucket{tat: now}
	b.m[key] = k
	return k
}

// Peek returns how many whole tokens key's bucket holds now and how long
// until it is full again (0 when full), taking nothing. A drained bucket
// holds none until the drain ends. A zero rate is unlimited: 0 tokens and
// 0, as nothing is counted. The error is always nil.
func (b *Buckets) Peek(_ context.Context, key string, rate Rate) (tokens int, full time.Duration, err error) {
	if rate.IsZero() {
		return 0, 0, nil
	}
	every, burst := interval(rate)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.m[key]
	if k == nil {
		return rate.Events, 0, nil
	}
	tat := k.tat
	if tat.Before(now) {
		tat = now
	}
	full = tat.Sub(now)
	if now.Before(k.blocked) {
		return 0, max(full, k.blocked.Sub(now)), nil
	}
	tokens = int((burst - full) / every)
	return min(max(tokens, 0), rate.Events), full, nil
}
