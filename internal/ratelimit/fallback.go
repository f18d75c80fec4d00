package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter is a token bucket per key shared by every process (the Redis
// buckets of ratelimit/redislimit); Buckets is the in-process one.
type Limiter interface {
	Take(ctx context.Context, key string, rate Rate) (time.Duration, error)
	Drain(ctx context.Context, key string, rate Rate, d time.Duration) error
}

// Peers counts the processes that share the budgets, this one included,
// recording that this one does.
type Peers interface {
	Beat(ctx context.Context) (int, error)
}

// FallbackConfig wires a Fallback.
type FallbackConfig struct {
	Shared Limiter // required
	// Peers counts the processes taking from the shared budgets; without
	// it (or before the first count) this process assumes it is alone.
	Peers Peers
	// BeatEvery is how often Peers is asked while the shared limiter works
	// (default 10 s).
	BeatEvery time.Duration
	Now       func() time.Time
	Logger    *slog.Logger
}

// Fallback is a shared limiter that, when the shared store fails (Redis
// down), goes on with in-process buckets holding this process's share of
// each budget: the budget divided by the number of processes last seen
// taking from it. No call is made blind and none is refused for the
// outage; the shared buckets are used again as soon as they answer.
// Drains (after an upstream 429) are applied to both, so a 429 just before
// the outage still holds. It is safe for concurrent use.
type Fallback struct {
	cfg     FallbackConfig
	local   *Buckets
	peers   atomic.Int64 // last count, at least 1
	beating atomic.Bool
	mu      sync.Mutex
	beatAt  time.Time // next beat due
	down    atomic.Bool
}

// NewFallback returns a Fallback over c.Shared.
func NewFallback(c FallbackConfig) *Fallback {
	if c.BeatEvery <= 0 {
		c.BeatEvery = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Fallback{cfg: c, local: NewBuckets(c.Now)}
	f.peers.Store(1)
	return f
}

// Take takes from the shared bucket; when that fails, from this process's
// share of it, kept in process. The error is always nil.
func (f *Fallback) Take(ctx context.Context, key string, rate Rate) (time.Duration, error) {
	wait, err := f.cfg.Shared.Take(ctx, key, rate)
	if err == nil {
		f.up(ctx)
		return wait, nil
	}
	f.lost(ctx, err)
	return f.local.Take(ctx, key, f.Share(rate))
}

// Drain drains the shared bucket and this process's share of it. Only the
// in-process drain is sure to hold; a failed shared drain is returned.
func (f *Fallback) Drain(ctx context.Context, key string, rate Rate, d time.Duration) error {
	_ = f.local.Drain(ctx, key, f.Share(rate), d)
	return f.cfg.Shared.Drain(ctx, key, rate, d)
}

// Share is this process's share of rate while the shared buckets are
// unavailable.
func (f *Fallback) Share(rate Rate) Rate { return rate.Share(int(f.peers.Load())) }

// Degraded reports whether the last Take used the in-process buckets.
func (f *Fallback) Degraded() bool { return f.down.Load() }

// up notes that the shared buckets answer and, every BeatEvery, counts
// the peers (in the background: a Take never waits for it).
func (f *Fallback) up(ctx context.Context) {
	if f.down.CompareAndSwap(true, false) {
		f.cfg.Logger.WarnContext(ctx, "shared rate limits answer again")
	}
	if f.cfg.Peers == nil {
		return
	}
	now := f.cfg.Now()
	f.mu.Lock()
	due := !now.Before(f.beatAt)
	if due {
		f.beatAt = now.Add(f.cfg.BeatEvery)
	}
	f.mu.Unlock()
	if !due || !f.beating.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer f.beating.Store(false)
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if n, err := f.cfg.Peers.Beat(bctx); err == nil && n > 0 {
			f.peers.Store(int64(n))
		}
	}()
}

// lost notes that the shared buckets failed, once per outage in the log.
func (f *Fallback) lost(ctx context.Context, err error) {
	if f.down.CompareAndSwap(false, true) {
		f.cfg.Logger.WarnContext(ctx, "shared rate limits unavailable; using this process's share of each budget",
			"processes", f.peers.Load(), "err", err)
	}
}

// FailureCounter counts sign-in attempts per key (auth.Throttle);
// Failures is the in-process one.
type FailureCounter interface {
	Take(ctx context.Context, key string, limit int) (id string, wait time.Duration, err error)
	Forgive(ctx context.Context, key, id string) error
}

// FallbackFailures counts attempts in a shared counter (Redis) and, when
// that fails, in process, so sign-in goes on (throttled per process) while
// Redis is down instead of failing. An id says which counter holds the
// attempt, so Forgive goes to the one that counted it.
type FallbackFailures struct {
	Shared FailureCounter
	Local  *Failures
}

// Take counts the attempt in the shared counter, or in process when the
// shared counter fails.
func (f FallbackFailures) Take(ctx context.Context, key string, limit int) (string, time.Duration, error) {
	id, wait, err := f.Shared.Take(ctx, key, limit)
	if err == nil {
		return tagID("s:", id), wait, nil
	}
	id, wait, err = f.Local.Take(ctx, key, limit)
	return tagID("l:", id), wait, err
}

// Forgive removes the attempt from the counter that counted it.
func (f FallbackFailures) Forgive(ctx context.Context, key, id string) error {
	if rest, ok := strings.CutPrefix(id, "l:"); ok {
		return f.Local.Forgive(ctx, key, rest)
	}
	return f.Shared.Forgive(ctx, key, strings.TrimPrefix(id, "s:"))
}

func tagID(tag, id string) string {
	if id == "" {
		return ""
	}
	return tag + id
}
