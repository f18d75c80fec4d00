package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// Limiter is a token bucket per key.
type Limiter interface {
	// Take consumes a token and returns 0, or consumes nothing and returns
	// how long until one is available.
	Take(ctx context.Context, key string, rate provider.Rate) (time.Duration, error)
	// Drain makes no token available for d, for every process sharing it.
	Drain(ctx context.Context, key string, rate provider.Rate, d time.Duration) error
}

// Peeker is a Limiter that can tell, without taking anything, how many
// tokens key's bucket holds and how long until it is full again.
type Peeker interface {
	Peek(ctx context.Context, key string, rate provider.Rate) (tokens int, full time.Duration, err error)
}

// Settings are one provider's budget and cache lifetimes.
type Settings struct {
	Rate provider.Rate
	// Budget is a second, longer budget (e.g. 500/d, GADGET_<P>_BUDGET)
	// honoured like Rate: a call takes a token of each. Zero: none.
	Budget      provider.Rate
	CacheTTL    time.Duration
	NotFoundTTL time.Duration
}

// FetcherConfig wires a Fetcher.
type FetcherConfig struct {
	Registry *provider.Registry  // required
	Settings map[string]Settings // by provider name; missing: the descriptor's defaults
	Cache    Cache               // required
	Limiter  Limiter             // required
	Metrics  *Metrics            // optional
	Logger   *slog.Logger
	// MaxInFlight bounds the upstream calls in flight from this process
	// (default 64), so a large batch cannot open thousands of connections.
	MaxInFlight int
	Now         func() time.Time
}

// DefaultMaxInFlight is FetcherConfig.MaxInFlight's default.
const DefaultMaxInFlight = 64

// Fetcher makes upstream calls: quota → upstream call → cache write →
// outcome. It is the one place a provider is called; the inline executor
// and the River worker both use it.
type Fetcher struct {
	cfg   FetcherConfig
	slots chan struct{}

	mu      sync.Mutex
	waiting map[string]int // by provider: calls in this process waiting for a token
}

// NewFetcher returns a Fetcher.
func NewFetcher(c FetcherConfig) (*Fetcher, error) {
	if c.Registry == nil || c.Cache == nil || c.Limiter == nil {
		return nil, errors.New("enrich: fetcher: registry, cache and limiter are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Settings == nil {
		c.Settings = map[string]Settings{}
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	return &Fetcher{cfg: c, slots: make(chan struct{}, c.MaxInFlight), waiting: map[string]int{}}, nil
}

// Fetch is the outcome of Fetcher.Fetch.
type Fetch struct {
	Result *lookup.Result
	// Calls are the upstream calls made, one answer each (a 429 and the
	// call after it are two): each is owed one ledger row, written by
	// whoever asked for the fetch.
	Calls []*lookup.Result
	// Wait, when set, is how long until the provider's budget has a token:
	// the fetch gave up waiting (Result is RATE_LIMITED). A job snoozes
	// for it; an inline lookup answers RATE_LIMITED.
	Wait time.Duration
}

// FetchOptions bound how long a fetch waits.
type FetchOptions struct {
	// MaxWait is the longest wait for a token of the provider's budget
	// (never past ctx's deadline); a longer one gives up with Fetch.Wait.
	MaxWait time.Duration
	// Retry429: after a 429 whose Retry-After fits MaxWait and the
	// deadline, wait and call again. Without it the 429 is the answer (a
	// job snoozes instead).
	Retry429 bool
}

// Fetch calls provider c.Provider about c.Indicator within the provider's
// budget, then caches what may be cached.
func (f *Fetcher) Fetch(ctx context.Context, c Call, o FetchOptions) Fetch {
	name := c.Provider
	p, ok := f.cfg.Registry.Get(name)
	if !ok {
		return Fetch{Result: lookup.Failed(name, lookup.StatusSkipped, errcode.NotConfigured, "provider is disabled")}
	}
	set := f.settings(p.Descriptor())
	return f.budgeted(ctx, name, set, o, func() *lookup.Result {
		r := f.upstream(ctx, name, set, func(ctx context.Context) (*provider.Result, error) { return p.Lookup(ctx, c.Indicator) })
		f.store(ctx, CacheKey(name, c.Indicator), r, set)
		return r
	})
}

// budgeted makes call, one upstream call of provider name, once the
// provider's rate (and daily budget) has a token for it: waiting up to
// o.MaxWait, calling again after a 429 with o.Retry429.
func (f *Fetcher) budgeted(ctx context.Context, name string, set Settings, o FetchOptions, call func() *lookup.Result) Fetch {
	maxWait := o.MaxWait
	out := Fetch{}
	for {
		wait, err := f.take(ctx, name, set)
		if err != nil {
			out.Result = lookup.Failed(name, lookup.StatusError, errcode.Internal, "rate limiter unavailable")
			return out
		}
		if wait > 0 {
			// The calls of this process already waiting are served first:
			// the n-th waiter's turn is n refills after the next token.
			// A turn that cannot come within maxWait and the deadline
			// answers now instead of holding its caller.
			turn := wait + time.Duration(f.queued(name, 0))*refill(set.Rate)
			if !f.fits(ctx, turn, maxWait) {
				f.cfg.Metrics.rateLimited(name, "rejected")
				out.Result, out.Wait = spent(name, fmt.Sprintf("%s budget (%s)", name, set.Rate), turn), turn
				return out
			}
			f.cfg.Metrics.rateLimited(name, "waited")
			f.queued(name, 1)
			ok := sleep(ctx, turn)
			f.queued(name, -1)
			if !ok {
				out.Result = lookup.Failed(name, lookup.StatusTimeout, errcode.Timeout, "the lookup's deadline passed")
				return out
			}
			continue
		}
		if !set.Budget.IsZero() {
			// the rate's token is spent either way: a refused call is cheap
			// next to a daily token lost to a busy minute
			wait, err := f.cfg.Limiter.Take(ctx, "budget:"+name, set.Budget)
			if err != nil {
				f.cfg.Logger.WarnContext(ctx, "rate limiter failed; refusing to call upstream blind", "provider", name, "err", err)
				out.Result = lookup.Failed(name, lookup.StatusError, errcode.Internal, "rate limiter unavailable")
				return out
			}
			if wait > 0 {
				f.cfg.Metrics.rateLimited(name, "budget")
				out.Result, out.Wait = spent(name, fmt.Sprintf("%s budget (%s)", name, set.Budget), wait), wait
				return out
			}
		}
		r := call()
		out.Calls, out.Result = append(out.Calls, r), r
		if o.Retry429 && r.Status == lookup.StatusRateLimited && r.RetryAfter > 0 && f.fits(ctx, r.RetryAfter, maxWait) {
			f.cfg.Metrics.rateLimited(name, "upstream_retry")
			if sleep(ctx, r.RetryAfter) {
				continue
			}
		}
		return out
	}
}

// queued adds delta to the number of this process's calls waiting for a
// token of provider name and returns the number before.
func (f *Fetcher) queued(name string, delta int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.waiting[name]
	f.waiting[name] = max(0, n+delta)
	return n
}

// refill is how long one token of rate takes to come back.
func refill(rate provider.Rate) time.Duration {
	if rate.IsZero() {
		return 0
	}
	return max(rate.Per/time.Duration(rate.Events), 1)
}

// Remaining is what is left of provider name's budget: the daily budget
// (Settings.Budget) when one is set, else the rate's bucket. resetsAt is
// when it is whole again (zero when it is whole now). ok is false when the
// provider is unknown or unlimited, or the limiter cannot tell.
func (f *Fetcher) Remaining(ctx context.Context, name string) (remaining int, resetsAt time.Time, ok bool) {
	p, found := f.cfg.Registry.Get(name)
	pk, can := f.cfg.Limiter.(Peeker)
	if !found || !can {
		return 0, time.Time{}, false
	}
	set := f.settings(p.Descriptor())
	key, rate := "rate:"+name, set.Rate
	if !set.Budget.IsZero() {
		key, rate = "budget:"+name, set.Budget
	}
	if rate.IsZero() {
		return 0, time.Time{}, false
	}
	n, full, err := pk.Peek(ctx, key, rate)
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "rate limiter peek failed", "provider", name, "err", err)
		return 0, time.Time{}, false
	}
	if full > 0 {
		resetsAt = f.cfg.Now().Add(full).UTC().Truncate(time.Second)
	}
	return n, resetsAt, true
}

// fits reports whether waiting d stays within maxWait and ctx's deadline.
func (f *Fetcher) fits(ctx context.Context, d, maxWait time.Duration) bool {
	if d > maxWait {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || f.cfg.Now().Add(d).Before(dl)
}

// take consumes a token of the provider's budget and returns 0, or
// consumes nothing and returns how long until one is available.
func (f *Fetcher) take(ctx context.Context, name string, set Settings) (time.Duration, error) {
	wait, err := f.cfg.Limiter.Take(ctx, "rate:"+name, set.Rate)
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "rate limiter failed; refusing to call upstream blind", "provider", name, "err", err)
	}
	return wait, err
}

// userBudget spends one call of username's daily budget for provider name
// and returns nil, or the RATE_LIMITED answer when that budget is spent.
// No budgets, or no user (the CLI), limits nothing.
func userBudget(ctx context.Context, b *userbudget.Budgets, m *Metrics, username, name string) *lookup.Result {
	if b == nil || username == "" {
		return nil
	}
	n, wait := b.Take(ctx, username, name)
	if wait <= 0 {
		return nil
	}
	m.rateLimited(name, "user_budget")
	return spent(name, fmt.Sprintf("your budget of %d %s calls a day", n, name), wait)
}

// spent is provider name's RATE_LIMITED answer when budget (its
// description) has no token for wait.
func spent(name, budget string, wait time.Duration) *lookup.Result {
	r := lookup.Failed(name, lookup.StatusRateLimited, errcode.RateLimited, budget+" is spent; retry in "+wait.Round(time.Second).String())
	r.RetryAfter, r.Err.RetryAfter = wait, wait
	return r
}

// Cached returns the cached answer of provider name about ind, or nil.
func (f *Fetcher) Cached(ctx context.Context, name string, ind indicator.Indicator) *lookup.Result {
	return cached(ctx, f.cfg.Cache, f.cfg.Metrics, f.cfg.Logger, name, CacheKey(name, ind))
}

// Keep caches r, an answer another process fetched for the key, when it
// may be cached (a process-local cache learns the answers of jobs worked
// elsewhere).
func (f *Fetcher) Keep(ctx context.Context, key string, r *lookup.Result) {
	if p, ok := f.cfg.Registry.Get(r.Provider); ok {
		f.store(ctx, key, r, f.settings(p.Descriptor()))
	}
}

// upstream makes call, one call of provider name, under this process's
// in-flight bound. A 429 drains the shared budget and gives a RATE_LIMITED
// result with RetryAfter.
func (f *Fetcher) upstream(ctx context.Context, name string, set Settings, call func(context.Context) (*provider.Result, error)) *lookup.Result {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return lookup.Failed(name, lookup.StatusTimeout, errcode.Timeout, "the lookup's deadline passed while waiting for a free upstream slot")
	}
	started := f.cfg.Now()
	res, err := call(ctx)
	<-f.slots
	took := f.cfg.Now().Sub(started)
	f.cfg.Metrics.upstream(name, took, res, err)
	var pe *provider.Error
	if errors.Is(err, provider.ErrRateLimited) && errors.As(err, &pe) {
		retry := pe.RetryAfter
		if retry <= 0 {
			retry = time.Minute
		}
		// no replica keeps hammering: the whole shared budget waits
		if derr := f.cfg.Limiter.Drain(ctx, "rate:"+name, set.Rate, retry); derr != nil {
			f.cfg.Logger.WarnContext(ctx, "rate limiter drain failed", "provider", name, "err", derr)
		}
		r := lookup.Failed(name, lookup.StatusRateLimited, errcode.RateLimited, fmt.Sprintf("%s answered 429; retry in %s", name, retry.Round(time.Second)))
		r.RetryAfter, r.Err.RetryAfter, r.Bytes, r.FetchedAt, r.Latency = retry, retry, pe.Bytes, started, took
		return r
	}
	r := outcome(name, res, err)
	r.FetchedAt, r.Latency = started, took
	return r
}

// outcome maps a provider answer to a Result; the typed summary is kept as
// it is (encoded only if the answer leaves the process).
func outcome(name string, res *provider.Result, err error) *lookup.Result {
	if err == nil {
		return &lookup.Result{Provider: name, Status: lookup.StatusOK, Data: res.Raw, Summary: res.Summary,
			Verdict: res.Verdict, Bytes: res.Bytes}
	}
	var pe *provider.Error
	errors.As(err, &pe)
	var bytes int64
	if pe != nil {
		bytes = pe.Bytes
	}
	var r *lookup.Result
	switch {
	case errors.Is(err, provider.ErrNotFound):
		r = &lookup.Result{Provider: name, Status: lookup.StatusNotFound,
			Verdict: provider.Assessment{Level: indicator.Unknown, Reason: "no record at " + name}}
		if pe != nil && json.Valid(pe.Raw) {
			r.Data = pe.Raw
		}
	case errors.Is(err, provider.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		r = lookup.Failed(name, lookup.StatusTimeout, errcode.Timeout, name+" did not answer in time")
		r.Transient = true
	case errors.Is(err, provider.ErrNotConfigured):
		return lookup.Failed(name, lookup.StatusNotConfigured, errcode.NotConfigured, "no API key configured")
	case errors.Is(err, provider.ErrAuth), errors.Is(err, provider.ErrBadInput):
		r = lookup.Failed(name, lookup.StatusError, errcode.UpstreamError, safeMessage(err))
	default: // 5xx, malformed answers, connection failures: worth retrying
		r = lookup.Failed(name, lookup.StatusError, errcode.UpstreamError, safeMessage(err))
		r.Transient = true
	}
	r.Bytes = bytes
	return r
}

// safeMessage is a provider error's text: provider.Error never holds keys.
func safeMessage(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return "upstream call failed"
}

// store caches OK and NOT_FOUND answers; errors are not cached.
func (f *Fetcher) store(ctx context.Context, key string, r *lookup.Result, set Settings) {
	ttl := set.CacheTTL
	switch r.Status {
	case lookup.StatusOK:
	case lookup.StatusNotFound:
		ttl = set.NotFoundTTL
	default:
		return
	}
	if ttl <= 0 {
		return
	}
	kept := *r // the cache's own copy: callers may set per-delivery fields on r
	if err := f.cfg.Cache.Set(ctx, key, &kept, ttl); err != nil {
		f.cfg.Logger.WarnContext(ctx, "cache write failed", "provider", r.Provider, "err", err)
	}
}

func (f *Fetcher) settings(d provider.Descriptor) Settings {
	s, ok := f.cfg.Settings[d.Name]
	if !ok {
		s = Settings{Rate: d.Rate, CacheTTL: d.CacheTTL, NotFoundTTL: d.NotFoundTTL}
	}
	if s.NotFoundTTL <= 0 {
		s.NotFoundTTL = d.NotFoundTTL
	}
	if s.NotFoundTTL <= 0 || (s.CacheTTL > 0 && s.NotFoundTTL > s.CacheTTL) {
		s.NotFoundTTL = s.CacheTTL
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
