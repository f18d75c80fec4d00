package enrich

import (
	"context"
	"math"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// Locker gives one process at a time the right to call upstream for a key.
type Locker interface {
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// Ledger takes the ledger row of each upstream call (the accounting
// writer).
type Ledger interface {
	Call(ctx context.Context, c accounting.Call)
}

// Inline is the Executor that makes the call in this process: it fetches
// with the Fetcher and writes the ledger row of each call it made. With a
// Locker (Redis), one process at a time calls for a key and the others
// wait for its answer in the shared cache.
type Inline struct {
	Fetcher *Fetcher
	Locker  Locker // optional: cross-process coalescing
	Ledger  Ledger // optional
}

var _ Executor = (*Inline)(nil)

// Execute implements Executor.
func (x *Inline) Execute(ctx context.Context, c Call) *lookup.Result {
	f := x.Fetcher
	if x.Locker != nil {
		key := CacheKey(c.Provider, c.Indicator)
		unlock, ok, err := x.Locker.TryLock(ctx, "lock:"+key, time.Until(c.Deadline))
		switch {
		case err != nil:
			f.cfg.Logger.WarnContext(ctx, "coalescing lock failed; calling anyway", "provider", c.Provider, "err", err)
		case ok:
			defer unlock()
		default:
			// another process is calling: wait for its answer in the cache
			f.cfg.Metrics.coalesced(c.Provider)
			if r := x.awaitOther(ctx, c, key); r != nil {
				return r
			}
		}
	}
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = math.MaxInt64 // until the deadline
	}
	out := f.Fetch(ctx, c, FetchOptions{MaxWait: maxWait, Retry429: true})
	if x.Ledger != nil && c.Caller.Username != "" {
		for _, r := range out.Calls {
			x.Ledger.Call(ctx, CallRow(c.Caller, c.Indicator, r))
		}
	}
	return out.Result
}

// awaitOther polls the cache while another process holds the call; nil
// when the holder finished without caching (an error): call ourselves.
func (x *Inline) awaitOther(ctx context.Context, c Call, key string) *lookup.Result {
	for {
		if !sleep(ctx, 25*time.Millisecond) {
			return nil
		}
		if r := x.Fetcher.Cached(ctx, c.Provider, c.Indicator); r != nil {
			return r
		}
		unlock, ok, err := x.Locker.TryLock(ctx, "lock:"+key, time.Millisecond)
		if err != nil {
			return nil // the lock (Redis) is gone: nobody may be calling; call ourselves
		}
		if ok {
			unlock()
			return nil
		}
	}
}

// NewInlineEngine is an Engine over an Inline executor: the fetcher is
// built from fc, and the engine reads the cache fc fills (tests).
func NewInlineEngine(fc FetcherConfig, c Config, ledger Ledger) (*Engine, error) {
	f, err := NewFetcher(fc)
	if err != nil {
		return nil, err
	}
	c.Cache, c.Executor = fc.Cache, &Inline{Fetcher: f, Ledger: ledger}
	if c.Registry == nil {
		c.Registry = fc.Registry
	}
	return New(c)
}
