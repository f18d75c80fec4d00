// Package ratelimit holds the in-process rate limiters; Redis-backed ones
// that share a budget across replicas live in ratelimit/redislimit.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Failures is an in-process sliding-window counter of failures per key: after
// Max failures within Window, a key waits until the oldest one leaves the
// window.
type Failures struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	hits map[string][]time.Time
	ops  int
}

// NewFailures returns a Failures limiter allowing max failures per window.
func NewFailures(max int, window time.Duration) *Failures {
	return &Failures{Max: max, Window: window, Now: time.Now, hits: map[string][]time.Time{}}
}

// Wait returns how long key must wait; zero when it may try now.
func (f *Failures) Wait(_ context.Context, key string) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.Now()
	h := f.prune(key, now)
	if len(h) < f.Max {
		return 0, nil
	}
	return h[len(h)-f.Max].Add(f.Window).Sub(now), nil
}

// Fail records a failure for key.
func (f *Failures) Fail(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.Now()
	f.hits[key] = append(f.prune(key, now), now)
	if f.ops++; f.ops%1024 == 0 {
		for k := range f.hits {
			f.prune(k, now)
		}
	}
	return nil
}

// prune drops failures older than the window; the caller holds mu.
func (f *Failures) prune(key string, now time.Time) []time.Time {
	h := f.hits[key]
	i := 0
	for i < len(h) && !h[i].After(now.Add(-f.Window)) {
		i++
	}
	h = h[i:]
	if len(h) == 0 {
		delete(f.hits, key)
		return nil
	}
	f.hits[key] = h
	return h
}
