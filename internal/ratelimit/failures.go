// Package ratelimit holds the in-process rate limiters; Redis-backed ones
// that share a budget across replicas live in ratelimit/redislimit.
package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Failures is an in-process sliding-window counter of attempts per key.
// An attempt is counted when it is taken (before the password is checked,
// so concurrent guesses cannot all pass a check made before any of them
// is counted) and forgiven when it succeeds: what stays counted are the
// failures. With limit attempts within Window, a key waits until the
// oldest of them leaves the window.
type Failures struct {
	Window time.Duration
	Now    func() time.Time

	mu   sync.Mutex
	hits map[string][]hit
	ops  int
	seq  uint64
}

type hit struct {
	at time.Time
	id string
}

// NewFailures returns a Failures limiter over a window.
func NewFailures(window time.Duration) *Failures {
	return &Failures{Window: window, Now: time.Now, hits: map[string][]hit{}}
}

// Take counts an attempt for key unless key already has limit attempts in
// the window; then it counts nothing and returns how long to wait. id names
// the counted attempt for Forgive.
func (f *Failures) Take(_ context.Context, key string, limit int) (id string, wait time.Duration, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.Now()
	h := f.prune(key, now)
	if len(h) >= limit {
		return "", h[len(h)-limit].at.Add(f.Window).Sub(now), nil
	}
	f.seq++
	id = strconv.FormatUint(f.seq, 36)
	f.hits[key] = append(h, hit{at: now, id: id})
	if f.ops++; f.ops%1024 == 0 {
		for k := range f.hits {
			f.prune(k, now)
		}
	}
	return id, 0, nil
}

// Forgive removes the attempt id of key: it succeeded.
func (f *Failures) Forgive(_ context.Context, key, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hits[key]
	for i := range h {
		if h[i].id == id {
			f.hits[key] = append(h[:i:i], h[i+1:]...)
			break
		}
	}
	if len(f.hits[key]) == 0 {
		delete(f.hits, key)
	}
	return nil
}

// prune drops attempts older than the window; the caller holds mu.
func (f *Failures) prune(key string, now time.Time) []hit {
	h := f.hits[key]
	i := 0
	for i < len(h) && !h[i].at.After(now.Add(-f.Window)) {
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
