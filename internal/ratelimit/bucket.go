package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// Buckets are in-process token buckets per key: Rate.Events tokens per
// Rate.Per, refilled continuously, burst Rate.Events.
type Buckets struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*bucket
}

type bucket struct {
	tokens  float64
	last    time.Time
	blocked time.Time // no token before this (after an upstream 429)
}

// NewBuckets returns empty buckets; now may be nil.
func NewBuckets(now func() time.Time) *Buckets {
	if now == nil {
		now = time.Now
	}
	return &Buckets{now: now, m: map[string]*bucket{}}
}

func (b *Buckets) get(key string, rate provider.Rate, now time.Time) *bucket {
	k, ok := b.m[key]
	burst := float64(max(rate.Events, 1))
	if !ok {
		if len(b.m) >= 10_000 {
			b.evict(now)
		}
		k = &bucket{tokens: burst, last: now}
		b.m[key] = k
		return k
	}
	perToken := rate.Per.Seconds() / float64(max(rate.Events, 1))
	if el := now.Sub(k.last).Seconds(); el > 0 {
		k.tokens = math.Min(burst, k.tokens+el/perToken)
		k.last = now
	}
	return k
}

// evict drops buckets that are full again; the caller holds mu.
func (b *Buckets) evict(now time.Time) {
	for key, k := range b.m {
		if now.After(k.blocked) && now.Sub(k.last) > time.Hour {
			delete(b.m, key)
		}
	}
}

// Take consumes a token and returns 0, or returns how long until one is
// available without consuming.
func (b *Buckets) Take(_ context.Context, key string, rate provider.Rate) (time.Duration, error) {
	if rate.IsZero() {
		return 0, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.get(key, rate, now)
	if now.Before(k.blocked) {
		return k.blocked.Sub(now), nil
	}
	if k.tokens >= 1 {
		k.tokens--
		return 0, nil
	}
	perToken := rate.Per.Seconds() / float64(max(rate.Events, 1))
	return time.Duration((1 - k.tokens) * perToken * float64(time.Second)), nil
}

// Drain empties key's bucket and blocks it for d.
func (b *Buckets) Drain(_ context.Context, key string, rate provider.Rate, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	k := b.get(key, rate, now)
	k.tokens = 0
	if until := now.Add(d); until.After(k.blocked) {
		k.blocked = until
	}
	k.last = k.blocked // refilling starts when the block ends
	return nil
}
