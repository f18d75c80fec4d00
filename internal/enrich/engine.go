package enrich

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Cache stores provider answers as opaque bytes with a per-entry TTL.
type Cache interface {
	Get(ctx context.Context, key string) (val []byte, ttlLeft time.Duration, ok bool, err error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Limiter is a token bucket per key.
type Limiter interface {
	// Take consumes a token and returns 0, or consumes nothing and returns
	// how long until one is available.
	Take(ctx context.Context, key string, rate provider.Rate) (time.Duration, error)
	// Drain makes no token available for d, for every process sharing it.
	Drain(ctx context.Context, key string, rate provider.Rate, d time.Duration) error
}

// Locker gives one process at a time the right to call upstream for a key.
type Locker interface {
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// Executor runs the upstream part of a cache-missing lookup somewhere else
// (as a River job on another process, say) and waits for its answer. nil in
// Config means inline: this process calls the provider itself.
type Executor interface {
	// Execute returns the answer, or a PENDING result with the job's id
	// when c.Deadline comes first. A result whose Accounted is set was
	// already written to the usage log by whoever made the call.
	Execute(ctx context.Context, c Call) *Result
}

// Call is one cache-missing provider call handed to an Executor.
type Call struct {
	Provider  string
	Indicator indicator.Indicator
	Fresh     bool
	Caller    Caller
	Deadline  time.Time
}

// Recorder takes usage records (the accounting writer).
type Recorder interface {
	Record(ctx context.Context, r accounting.Record)
}

// Settings are one provider's budget and cache lifetimes.
type Settings struct {
	Rate        provider.Rate
	CacheTTL    time.Duration
	NotFoundTTL time.Duration
}

// DefaultDeadline is how long a lookup waits for its providers unless
// Config.Deadline says otherwise.
const DefaultDeadline = 20 * time.Second

// Config wires an Engine.
type Config struct {
	Registry *provider.Registry
	Policy   indicator.Policy
	Settings map[string]Settings // by provider name; missing: the descriptor's defaults
	Cache    Cache               // required
	Limiter  Limiter             // required
	Locker   Locker              // optional: cross-process coalescing
	Usage    Recorder            // optional
	Executor Executor            // optional: nil runs provider calls inline
	Metrics  *Metrics            // optional
	Logger   *slog.Logger
	Deadline time.Duration // per lookup (default DefaultDeadline)
	// MaxInFlight bounds the upstream calls in flight from this process
	// (default 64), so a large batch cannot open thousands of connections.
	MaxInFlight int
	// MemoEntries bounds the decoded cache entries kept beside an
	// in-process cache (default 10,000; see memo).
	MemoEntries int
	Now         func() time.Time
}

// Engine is the one enrichment path used by GraphQL, REST and the CLI:
// plan → policy → cache → coalesce → rate limit → execute → record.
type Engine struct {
	cfg    Config
	flight singleflight.Group
	slots  chan struct{}
	memo   *memo
}

// New returns an Engine.
func New(c Config) (*Engine, error) {
	if c.Registry == nil || c.Cache == nil || c.Limiter == nil {
		return nil, errors.New("enrich: registry, cache and limiter are required")
	}
	if c.Deadline <= 0 {
		c.Deadline = DefaultDeadline
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
		c.MaxInFlight = 64
	}
	return &Engine{cfg: c, slots: make(chan struct{}, c.MaxInFlight), memo: newMemo(c.MemoEntries)}, nil
}

// Deadline is the per-lookup deadline.
func (e *Engine) Deadline() time.Duration { return e.cfg.Deadline }

// Registry is the live providers.
func (e *Engine) Registry() *provider.Registry { return e.cfg.Registry }

// Caller identifies who receives results, for accounting.
type Caller struct {
	Username  string // empty: not accounted (the CLI)
	Endpoint  string // "POST /graphql indicator", "GET /api/indicator/ipv4/{ipv4}"
	IP        string
	UserAgent string
}

// Options tune one lookup.
type Options struct {
	Fresh  bool // bypass the cache read (the answer still refreshes it)
	Caller Caller
	// Batch, when set, is shared by the lookups of one batch request and
	// bounds how many of them work at once, so a thousand indicators do not
	// hold a thousand fan-outs (goroutines, buffers) at the same time.
	Batch *Batch
}

// Batch bounds the lookups of one batch request that work at once.
type Batch struct{ slots chan struct{} }

// NewBatch allows n lookups of a batch to work at once.
func NewBatch(n int) *Batch { return &Batch{slots: make(chan struct{}, max(n, 1))} }

// enter takes a slot; false when ctx ended first.
func (b *Batch) enter(ctx context.Context) bool {
	if b == nil {
		return true
	}
	select {
	case b.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (b *Batch) leave() {
	if b != nil {
		<-b.slots
	}
}

// Lookup is one indicator's enrichment within one request: each provider is
// asked at most once and accounted once, however many fields select it.
type Lookup struct {
	e        *Engine
	ind      indicator.Indicator
	opts     Options
	policy   error
	deadline time.Time
	mu       sync.Mutex
	calls    map[string]*call
}

type call struct {
	once sync.Once
	res  *Result
}

// Begin starts the lookup of ind. Nothing is called until Get or All.
func (e *Engine) Begin(ind indicator.Indicator, opts Options) *Lookup {
	return &Lookup{e: e, ind: ind, opts: opts, policy: e.cfg.Policy.Check(ind),
		deadline: e.cfg.Now().Add(e.cfg.Deadline), calls: map[string]*call{}}
}

// Indicator is the indicator looked up.
func (l *Lookup) Indicator() indicator.Indicator { return l.ind }

// Providers are the live providers that serve the indicator's kind.
func (l *Lookup) Providers() []string {
	var out []string
	for _, p := range l.e.cfg.Registry.ForKind(l.ind.Kind) {
		out = append(out, p.Descriptor().Name)
	}
	return out
}

// Get returns provider name's answer, asking it the first time.
func (l *Lookup) Get(ctx context.Context, name string) *Result {
	if !l.opts.Batch.enter(ctx) {
		return failed(name, StatusTimeout, errcode.Timeout, "the request ended before this lookup's turn")
	}
	defer l.opts.Batch.leave()
	return l.get(ctx, name)
}

func (l *Lookup) get(ctx context.Context, name string) *Result {
	l.mu.Lock()
	c, ok := l.calls[name]
	if !ok {
		c = &call{}
		l.calls[name] = c
	}
	l.mu.Unlock()
	c.once.Do(func() {
		c.res = l.e.one(ctx, l, name)
		l.e.account(ctx, l, c.res)
	})
	return c.res
}

// All asks the given providers (all that serve the kind when names is
// empty) concurrently and returns their answers in the given order.
func (l *Lookup) All(ctx context.Context, names []string) []*Result {
	if len(names) == 0 {
		names = l.Providers()
	}
	out := make([]*Result, len(names))
	if !l.opts.Batch.enter(ctx) {
		for i, n := range names {
			out[i] = failed(n, StatusTimeout, errcode.Timeout, "the request ended before this lookup's turn")
		}
		return out
	}
	defer l.opts.Batch.leave()
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = l.get(ctx, n)
		}()
	}
	wg.Wait()
	return out
}

// CacheKey is the cache key of a provider's answer about ind.
func CacheKey(name string, ind indicator.Indicator) string {
	sum := sha256.Sum256([]byte(ind.Value))
	return "enrich:v1:" + name + ":" + string(ind.Kind) + ":" + hex.EncodeToString(sum[:16])
}

func (e *Engine) settings(d provider.Descriptor) Settings {
	s, ok := e.cfg.Settings[d.Name]
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

// settingsOf is a provider's settings by name: the live provider's, else
// the registered descriptor's.
func (e *Engine) settingsOf(name string) (Settings, bool) {
	if p, ok := e.cfg.Registry.Get(name); ok {
		return e.settings(p.Descriptor()), true
	}
	if d, ok := provider.Lookup(name); ok {
		return e.settings(d), true
	}
	return Settings{}, false
}

func failed(name string, status Status, code errcode.Code, msg string) *Result {
	return &Result{Provider: name, Status: status, Err: &errcode.Error{Code: code, Message: msg}}
}

// one runs the pipeline for one provider.
func (e *Engine) one(ctx context.Context, l *Lookup, name string) *Result {
	start := e.cfg.Now()
	res := e.pipeline(ctx, l, name)
	res.Latency = e.cfg.Now().Sub(start)
	e.cfg.Metrics.result(name, res)
	return res
}

func (e *Engine) pipeline(ctx context.Context, l *Lookup, name string) *Result {
	ctx, cancelWait := context.WithDeadline(ctx, l.deadline) // nothing waits past the lookup's deadline
	defer cancelWait()
	// plan
	p, ok := e.cfg.Registry.Get(name)
	if !ok {
		if _, known := provider.Lookup(name); known {
			return failed(name, StatusSkipped, errcode.NotConfigured, "provider is disabled")
		}
		return failed(name, StatusError, errcode.BadRequest, "unknown provider")
	}
	d := p.Descriptor()
	if !d.Serves(l.ind.Kind) {
		return failed(name, StatusSkipped, errcode.BadRequest, fmt.Sprintf("%s does not look up %s indicators", name, l.ind.Kind))
	}
	if !p.Configured() {
		return failed(name, StatusNotConfigured, errcode.NotConfigured, "no API key configured")
	}
	// policy: internal indicators are never sent anywhere
	if l.policy != nil {
		return failed(name, StatusSkipped, errcode.BadIndicator, l.policy.Error())
	}
	key := CacheKey(name, l.ind)
	set := e.settings(d)
	// cache
	if !l.opts.Fresh {
		if r := e.cached(ctx, name, key); r != nil {
			return r
		}
	}
	// coalesce: one upstream call per key in this process; waiters keep
	// their own context, the call keeps the lookup's deadline.
	callCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), l.deadline)
	ran := false // set only by the caller whose function runs
	ch := e.flight.DoChan(key, func() (any, error) {
		defer cancel()
		ran = true
		if e.cfg.Executor != nil {
			return e.cfg.Executor.Execute(callCtx, Call{Provider: name, Indicator: l.ind, Fresh: l.opts.Fresh,
				Caller: l.opts.Caller, Deadline: l.deadline}), nil
		}
		return e.fetch(callCtx, p, l.ind, key, set, l.opts.Fresh), nil
	})
	select {
	case r := <-ch:
		if r.Shared {
			e.cfg.Metrics.coalesced(name)
		}
		res := *r.Val.(*Result) // each caller gets its own copy
		if !ran {
			res.Accounted = false // the job accounted its inserter, not this waiter
		}
		return &res
	case <-ctx.Done():
		return failed(name, StatusTimeout, errcode.Timeout, "the lookup's deadline passed before the provider answered")
	}
}

// cached returns the cached answer, or nil on a miss.
func (e *Engine) cached(ctx context.Context, name, key string) *Result {
	b, _, ok, err := e.cfg.Cache.Get(ctx, key)
	if err != nil {
		e.cfg.Logger.WarnContext(ctx, "cache read failed; asking upstream", "provider", name, "err", err)
	}
	if !ok {
		e.cfg.Metrics.cache(name, false)
		return nil
	}
	if d := e.memo.get(key, b); d != nil { // the same bytes as last time: decoded already
		e.cfg.Metrics.cache(name, true)
		r := d.res
		return &r
	}
	var en entry
	if err := json.Unmarshal(b, &en); err != nil {
		e.cfg.Logger.WarnContext(ctx, "unreadable cache entry dropped", "provider", name, "err", err)
		e.cfg.Cache.Delete(ctx, key)
		e.cfg.Metrics.cache(name, false)
		return nil
	}
	e.cfg.Metrics.cache(name, true)
	r := Result{Provider: name, Status: en.Status, Cached: true, FetchedAt: en.FetchedAt, Data: en.Data,
		SummaryJSON: en.Summary, Bytes: en.Bytes, summary: &summaryMemo{},
		Verdict: provider.Assessment{Level: indicator.Level(en.Level), Score: en.Score, Reason: en.Reason}}
	e.memo.put(key, b, r)
	return &r
}

// fetch makes the upstream call under the rate limit, with cross-process
// coalescing when a Locker is set, and caches what may be cached.
func (e *Engine) fetch(ctx context.Context, p provider.Provider, ind indicator.Indicator, key string, set Settings, fresh bool) *Result {
	name := p.Descriptor().Name
	if e.cfg.Locker != nil {
		unlock, ok, err := e.cfg.Locker.TryLock(ctx, "lock:"+key, e.cfg.Deadline)
		switch {
		case err != nil:
			e.cfg.Logger.WarnContext(ctx, "coalescing lock failed; calling anyway", "provider", name, "err", err)
		case ok:
			defer unlock()
		default:
			// another process is calling: wait for its answer in the cache
			e.cfg.Metrics.coalesced(name)
			if r := e.awaitOther(ctx, name, key); r != nil {
				return r
			}
		}
	}
	for {
		if r := e.awaitToken(ctx, name, set); r != nil {
			return r
		}
		r := e.upstream(ctx, p, ind, key, set)
		if r.Status == StatusRateLimited && r.RetryAfter > 0 {
			dl, _ := ctx.Deadline()
			if e.cfg.Now().Add(r.RetryAfter).Before(dl) {
				e.cfg.Metrics.rateLimited(name, "upstream_retry")
				if sleep(ctx, r.RetryAfter) {
					continue
				}
			}
		}
		return r
	}
}

// awaitToken takes a token from the provider's budget, waiting while ctx's
// deadline allows; a non-nil result is the refusal.
func (e *Engine) awaitToken(ctx context.Context, name string, set Settings) *Result {
	for {
		wait, err := e.TakeToken(ctx, name)
		if err != nil {
			return failed(name, StatusError, errcode.Internal, "rate limiter unavailable")
		}
		if wait <= 0 {
			return nil
		}
		dl, _ := ctx.Deadline()
		if e.cfg.Now().Add(wait).After(dl) {
			e.cfg.Metrics.rateLimited(name, "rejected")
			return e.spent(name, set, wait)
		}
		e.cfg.Metrics.rateLimited(name, "waited")
		if !sleep(ctx, wait) {
			return failed(name, StatusTimeout, errcode.Timeout, "the lookup's deadline passed")
		}
	}
}

// spent is the RATE_LIMITED answer when the budget has no token for wait.
func (e *Engine) spent(name string, set Settings, wait time.Duration) *Result {
	r := failed(name, StatusRateLimited, errcode.RateLimited, fmt.Sprintf("%s budget (%s) is spent; retry in %s", name, set.Rate, wait.Round(time.Second)))
	r.RetryAfter, r.Err.RetryAfter = wait, wait
	return r
}

// TakeToken consumes a token of provider name's budget and returns 0, or
// consumes nothing and returns how long until one is available. Job workers
// use it to snooze instead of waiting.
func (e *Engine) TakeToken(ctx context.Context, name string) (time.Duration, error) {
	set, ok := e.settingsOf(name)
	if !ok {
		return 0, fmt.Errorf("enrich: unknown provider %q", name)
	}
	wait, err := e.cfg.Limiter.Take(ctx, "rate:"+name, set.Rate)
	if err != nil {
		e.cfg.Logger.WarnContext(ctx, "rate limiter failed; refusing to call upstream blind", "provider", name, "err", err)
		return 0, err
	}
	return wait, nil
}

// RateLimitedResult is the RATE_LIMITED answer for a budget that has no
// token for wait (for job workers that snooze).
func (e *Engine) RateLimitedResult(name string, wait time.Duration) *Result {
	set, _ := e.settingsOf(name)
	return e.spent(name, set, wait)
}

// Cached returns the cached answer of provider name about ind, or nil.
func (e *Engine) Cached(ctx context.Context, name string, ind indicator.Indicator) *Result {
	return e.cached(ctx, name, CacheKey(name, ind))
}

// Upstream makes one upstream call to provider name about ind, now, under
// this process's in-flight bound, and caches what may be cached. The caller
// has taken a token (TakeToken). A 429 drains the shared budget and gives a
// RATE_LIMITED result with RetryAfter; no retry is made here.
func (e *Engine) Upstream(ctx context.Context, name string, ind indicator.Indicator) *Result {
	p, ok := e.cfg.Registry.Get(name)
	if !ok {
		return failed(name, StatusSkipped, errcode.NotConfigured, "provider is disabled")
	}
	return e.upstream(ctx, p, ind, CacheKey(name, ind), e.settings(p.Descriptor()))
}

func (e *Engine) upstream(ctx context.Context, p provider.Provider, ind indicator.Indicator, key string, set Settings) *Result {
	name := p.Descriptor().Name
	select {
	case e.slots <- struct{}{}:
	case <-ctx.Done():
		return failed(name, StatusTimeout, errcode.Timeout, "the lookup's deadline passed while waiting for a free upstream slot")
	}
	started := e.cfg.Now()
	res, err := p.Lookup(ctx, ind)
	<-e.slots
	e.cfg.Metrics.upstream(name, e.cfg.Now().Sub(started), res, err)
	var pe *provider.Error
	if errors.Is(err, provider.ErrRateLimited) && errors.As(err, &pe) {
		retry := pe.RetryAfter
		if retry <= 0 {
			retry = time.Minute
		}
		// no replica keeps hammering: the whole shared budget waits
		if derr := e.cfg.Limiter.Drain(ctx, "rate:"+name, set.Rate, retry); derr != nil {
			e.cfg.Logger.WarnContext(ctx, "rate limiter drain failed", "provider", name, "err", derr)
		}
		r := failed(name, StatusRateLimited, errcode.RateLimited, fmt.Sprintf("%s answered 429; retry in %s", name, retry.Round(time.Second)))
		r.RetryAfter, r.Err.RetryAfter, r.Bytes, r.FetchedAt = retry, retry, pe.Bytes, started
		return r
	}
	r := e.outcome(name, res, err)
	r.FetchedAt = started
	e.store(ctx, key, r, set)
	return r
}

// awaitOther polls the cache while another process holds the call.
func (e *Engine) awaitOther(ctx context.Context, name, key string) *Result {
	for {
		if !sleep(ctx, 25*time.Millisecond) {
			return nil
		}
		if r := e.cached(ctx, name, key); r != nil {
			return r
		}
		unlock, ok, err := e.cfg.Locker.TryLock(ctx, "lock:"+key, time.Millisecond)
		if err == nil && ok { // the holder finished without caching (an error): call ourselves
			unlock()
			return nil
		}
	}
}

// outcome maps a provider answer to a Result.
func (e *Engine) outcome(name string, res *provider.Result, err error) *Result {
	if err == nil {
		sum, _ := json.Marshal(res.Summary)
		return &Result{Provider: name, Status: StatusOK, Data: res.Raw, Summary: res.Summary, SummaryJSON: sum,
			Verdict: res.Verdict, Bytes: res.Bytes}
	}
	var pe *provider.Error
	errors.As(err, &pe)
	var bytes int64
	if pe != nil {
		bytes = pe.Bytes
	}
	switch {
	case errors.Is(err, provider.ErrNotFound):
		r := &Result{Provider: name, Status: StatusNotFound, Bytes: bytes,
			Verdict: provider.Assessment{Level: indicator.Unknown, Reason: "no record at " + name}}
		if pe != nil && json.Valid(pe.Raw) {
			r.Data = pe.Raw
		}
		return r
	case errors.Is(err, provider.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		r := failed(name, StatusTimeout, errcode.Timeout, name+" did not answer in time")
		r.Bytes, r.transient = bytes, true
		return r
	case errors.Is(err, provider.ErrNotConfigured):
		return failed(name, StatusNotConfigured, errcode.NotConfigured, "no API key configured")
	case errors.Is(err, provider.ErrAuth):
		r := failed(name, StatusError, errcode.UpstreamError, safeMessage(err))
		r.Bytes = bytes
		return r
	case errors.Is(err, provider.ErrBadInput):
		r := failed(name, StatusError, errcode.UpstreamError, safeMessage(err))
		r.Bytes = bytes
		return r
	default: // 5xx, malformed answers, connection failures: worth retrying
		r := failed(name, StatusError, errcode.UpstreamError, safeMessage(err))
		r.Bytes, r.transient = bytes, true
		return r
	}
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
func (e *Engine) store(ctx context.Context, key string, r *Result, set Settings) {
	ttl := set.CacheTTL
	switch r.Status {
	case StatusOK:
	case StatusNotFound:
		ttl = set.NotFoundTTL
	default:
		return
	}
	if ttl <= 0 {
		return
	}
	b, err := json.Marshal(entry{Status: r.Status, Data: r.Data, Summary: r.SummaryJSON, Level: int(r.Verdict.Level),
		Score: r.Verdict.Score, Reason: r.Verdict.Reason, Bytes: r.Bytes, FetchedAt: r.FetchedAt})
	if err == nil {
		err = e.cfg.Cache.Set(ctx, key, b, ttl)
	}
	if err != nil {
		e.cfg.Logger.WarnContext(ctx, "cache write failed", "provider", r.Provider, "err", err)
	}
}

// account writes one usage row per delivered provider result.
func (e *Engine) account(ctx context.Context, l *Lookup, r *Result) {
	c := l.opts.Caller
	if e.cfg.Usage == nil || c.Username == "" || r.Accounted || r.Status == StatusSkipped && r.Err != nil && r.Err.Code == errcode.BadRequest {
		return
	}
	e.cfg.Usage.Record(ctx, UsageRecord(c, l.ind, r, e.cfg.Now()))
}

// UsageRecord is the usage row of result r about ind delivered to c.
func UsageRecord(c Caller, ind indicator.Indicator, r *Result, at time.Time) accounting.Record {
	return accounting.Record{
		Username: c.Username, API: r.Provider, Endpoint: c.Endpoint, Parameters: usageParams(ind),
		UserAgent: c.UserAgent, IP: c.IP, Status: statusWord(r.Status), DataSize: r.Bytes,
		Cached: r.Cached, Latency: r.Latency, At: at,
	}
}

// usageParams is {"kind":…,"value":…}, as json.Marshal of a map writes it,
// without the map.
func usageParams(ind indicator.Indicator) string {
	kind, _ := json.Marshal(string(ind.Kind))
	value, _ := json.Marshal(ind.Value)
	return `{"kind":` + string(kind) + `,"value":` + string(value) + `}`
}

// Fill caches r, an answer about the value behind key that another
// process fetched, when it may be cached.
func (e *Engine) Fill(ctx context.Context, key string, r *Result) {
	if set, ok := e.settingsOf(r.Provider); ok {
		e.store(ctx, key, r, set)
	}
}

func statusWord(s Status) string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusNotFound:
		return "not_found"
	case StatusRateLimited:
		return "rate_limited"
	case StatusTimeout:
		return "timeout"
	case StatusNotConfigured:
		return "not_configured"
	case StatusSkipped:
		return "skipped"
	case StatusPending:
		return "pending"
	}
	return "error"
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
