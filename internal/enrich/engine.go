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
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// ValueCache stores values with a per-entry TTL (package cache).
type ValueCache[V any] interface {
	Get(ctx context.Context, key string) (val V, ttlLeft time.Duration, ok bool, err error)
	Set(ctx context.Context, key string, val V, ttl time.Duration) error
}

// Cache stores provider answers with a per-entry TTL. A *lookup.Result it
// returns may be shared with other readers: copy it, never change it.
type Cache interface {
	ValueCache[*lookup.Result]
	Delete(ctx context.Context, key string) error
}

// Executor makes (or waits for) the upstream call of a cache-missing
// lookup: in this process (Inline) or as a River job (package jobs). Whoever
// makes the call writes its ledger row.
type Executor interface {
	// Execute returns the answer, or a PENDING result with the job's id
	// when c.Deadline comes first.
	Execute(ctx context.Context, c Call) *lookup.Result
}

// Call is one cache-missing provider call handed to an Executor.
type Call struct {
	Provider  string
	Indicator indicator.Indicator
	Fresh     bool
	Caller    lookup.Caller
	Deadline  time.Time
	// MaxWait is the longest the call may wait for the provider's budget
	// (a token, or a 429's Retry-After); a longer wait answers at once:
	// RATE_LIMITED with the wait inline, PENDING with the job queued under
	// River. 0 means until the deadline.
	MaxWait time.Duration
}

// DefaultDeadline is how long a lookup waits for its providers unless
// Config.Deadline says otherwise.
const DefaultDeadline = 20 * time.Second

// DefaultBatchMaxWait is how long a lookup that is part of a batch may wait
// for a provider's budget unless Config.BatchMaxWait says otherwise: a
// provider without budget answers RATE_LIMITED (or PENDING under River) at
// once instead of holding one of the batch's slots, so the providers with
// budget serve every indicator of the batch.
const DefaultBatchMaxWait = time.Second

// Config wires an Engine.
type Config struct {
	Registry *provider.Registry // required
	Policy   indicator.Policy
	// Gate applies lists, TLP and playbooks (package policy) and has
	// lookups noted as sightings; nil: none of them.
	Gate *policy.Service
	// Budgets are the per-user daily budgets of upstream calls; nil: none.
	Budgets  *userbudget.Budgets
	Cache    Cache    // required: the cache the Fetcher fills
	Executor Executor // required: Inline, or the River executor
	Metrics  *Metrics // optional
	Logger   *slog.Logger
	Deadline time.Duration // per lookup (default DefaultDeadline)
	// BatchMaxWait bounds a batch lookup's wait for budget (default
	// DefaultBatchMaxWait; negative: no wait at all).
	BatchMaxWait time.Duration
	Now          func() time.Time
}

// Engine is the one enrichment path used by GraphQL, REST, the portal and
// the CLI: plan → policy → cache → coalesce → Executor.
type Engine struct {
	cfg    Config
	flight singleflight.Group
}

var _ lookup.Service = (*Engine)(nil)

// New returns an Engine.
func New(c Config) (*Engine, error) {
	if c.Registry == nil || c.Cache == nil || c.Executor == nil {
		return nil, errors.New("enrich: registry, cache and executor are required")
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
	switch {
	case c.BatchMaxWait == 0:
		c.BatchMaxWait = DefaultBatchMaxWait
	case c.BatchMaxWait < 0:
		c.BatchMaxWait = time.Nanosecond
	}
	return &Engine{cfg: c}, nil
}

// Deadline is the per-lookup deadline.
func (e *Engine) Deadline() time.Duration { return e.cfg.Deadline }

// Lookup is one indicator's enrichment within one request: each provider is
// asked at most once and noted once in the request's accounting, however
// many fields select it.
type Lookup struct {
	e        *Engine
	ind      indicator.Indicator
	opts     lookup.Options
	policy   error
	decision *policy.Decision // nil without a Gate
	deadline time.Time
	hash     string // of the value, for cache keys
	mu       sync.Mutex
	calls    map[string]*call
	slab     []call           // the first calls' storage, one allocation for a lookup of every provider
	done     []*lookup.Result // answers delivered, for the sighting's verdict
	sighted  sync.Once
}

type call struct {
	once sync.Once
	res  *lookup.Result
}

// Begin starts the lookup of ind. Nothing is called until Get or All.
func (e *Engine) Begin(ind indicator.Indicator, opts lookup.Options) lookup.Session {
	l := &Lookup{e: e, ind: ind, opts: opts, policy: e.cfg.Policy.Check(ind),
		deadline: e.cfg.Now().Add(e.cfg.Deadline), hash: valueHash(ind.Value)}
	if e.cfg.Gate != nil {
		l.decision = e.cfg.Gate.Decide(ind, opts.TLP, opts.Playbook)
	}
	return l
}

// Local is what the lists say of the indicator (lookup.Judge applies it).
func (l *Lookup) Local() lookup.Local {
	block, good, note := l.decision.Verdict()
	out := lookup.Local{Block: block, Good: good, Note: note}
	if l.decision != nil && l.decision.Playbook != nil {
		out.MinCoverage, out.Playbook = l.decision.Playbook.MinCoverage, l.decision.Playbook.Name
	}
	return out
}

// sight notes the lookup on the request's sightings, once: its verdict is
// judged from the answers delivered when the audit record is written.
// Sightings belong to policy: without a Gate none is noted.
func (l *Lookup) sight(ctx context.Context) {
	if l.e.cfg.Gate == nil {
		return
	}
	l.sighted.Do(func() {
		tlp := l.opts.TLP
		if l.decision != nil {
			tlp = l.decision.TLP
		}
		accounting.Sight(ctx, accounting.Sighting{Kind: string(l.ind.Kind), Value: l.ind.Value,
			Source: policy.SourceOf(l.opts.Caller.Endpoint)}, tlp, func() string {
			l.mu.Lock()
			done := l.done
			l.mu.Unlock()
			return lookup.JudgeLevel(l, done).Level.String()
		})
	})
}

// Indicator is the indicator looked up.
func (l *Lookup) Indicator() indicator.Indicator { return l.ind }

// Providers are the live providers that serve the indicator's kind.
func (l *Lookup) Providers() []string {
	return l.decision.Providers(l.e.cfg.Registry.NamesFor(l.ind.Kind))
}

// Get returns provider name's answer, asking it the first time.
func (l *Lookup) Get(ctx context.Context, name string) *lookup.Result {
	if !l.opts.Batch.Enter(ctx) {
		return lookup.Failed(name, lookup.StatusTimeout, errcode.Timeout, "the request ended before this lookup's turn")
	}
	defer l.opts.Batch.Leave()
	return l.get(ctx, name, 0)
}

func (l *Lookup) get(ctx context.Context, name string, maxAge time.Duration) *lookup.Result {
	if maxAge <= 0 {
		if r := l.quick(ctx, name); r != nil {
			return r
		}
	}
	return l.ask(ctx, name, maxAge)
}

// ask is get past quick: provider name's answer through the pipeline, once
// per lookup (and once more, fresh, when the cached one is older than
// maxAge). A cached answer read only to find it too old is not delivered,
// so the request's accounting holds the fresh answer alone.
func (l *Lookup) ask(ctx context.Context, name string, maxAge time.Duration) *lookup.Result {
	pipeline := func() *lookup.Result { return l.e.pipeline(ctx, l, name, l.opts.Fresh) }
	if maxAge <= 0 {
		return l.memo(ctx, name, name, true, pipeline)
	}
	if r := l.delivered(name); r != nil && !l.tooOld(r, maxAge) {
		return r
	} else if r == nil { // not delivered yet: read it to see its age
		started := l.e.cfg.Now()
		r = pipeline()
		r.Latency = l.e.cfg.Now().Sub(started)
		if !l.tooOld(r, maxAge) {
			return l.memo(ctx, name, name, false, func() *lookup.Result { return r })
		}
	}
	// too old for this caller: ask again, once per lookup
	return l.memo(ctx, name, name+"\x00fresh", true, func() *lookup.Result { return l.e.pipeline(ctx, l, name, true) })
}

// tooOld reports whether r is a cached answer fetched more than maxAge ago.
func (l *Lookup) tooOld(r *lookup.Result, maxAge time.Duration) bool {
	return r.Cached && !r.FetchedAt.IsZero() && l.e.cfg.Now().Sub(r.FetchedAt) > maxAge
}

// memo returns provider name's answer under key in this lookup, from answer
// the first time: measured (when timed; an answer at hand took no time),
// counted and noted once.
func (l *Lookup) memo(ctx context.Context, name, key string, timed bool, answer func() *lookup.Result) *lookup.Result {
	l.mu.Lock()
	c, ok := l.calls[key]
	if !ok {
		if l.calls == nil { // sized for every provider of the kind, as a verdict asks
			n := l.e.cfg.Registry.CountFor(l.ind.Kind)
			l.calls, l.slab, l.done = make(map[string]*call, n), make([]call, 0, n), make([]*lookup.Result, 0, n)
		}
		if len(l.slab) < cap(l.slab) { // never grown: the pointers handed out stay valid
			l.slab = l.slab[:len(l.slab)+1]
			c = &l.slab[len(l.slab)-1]
		} else {
			c = &call{}
		}
		l.calls[key] = c
	}
	l.mu.Unlock()
	c.once.Do(func() {
		var start time.Time
		if timed {
			start = l.e.cfg.Now()
		}
		res := answer()
		if timed {
			res.Latency = l.e.cfg.Now().Sub(start)
		}
		if l.policy == nil {
			if d, ok := provider.Lookup(name); ok {
				res.Link = d.LinkOf(l.ind)
			}
		}
		l.e.cfg.Metrics.result(name, res)
		note(ctx, res)
		l.mu.Lock()
		c.res = res
		l.done = append(l.done, res)
		l.mu.Unlock()
	})
	l.sight(ctx)
	return c.res
}

// delivered is provider name's answer when this lookup already has it.
func (l *Lookup) delivered(name string) *lookup.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.calls[name]; ok {
		return c.res
	}
	return nil
}

// peeker is a cache that can answer from this process's memory without
// waiting (cache.Memory, cache.Tiered).
type peeker interface {
	Peek(key string) (*lookup.Result, bool)
}

// quick answers provider name when that needs no waiting: already
// delivered, not asked (plan or policy), local, or in this process's
// memory cache; otherwise it returns nil. A cached lookup thus needs no
// goroutine, deadline or coalescing per provider.
func (l *Lookup) quick(ctx context.Context, name string) *lookup.Result {
	if r := l.delivered(name); r != nil {
		return r
	}
	r, _ := l.e.settle(ctx, l, name)
	if r == nil && !l.opts.Fresh {
		if mem, ok := l.e.cfg.Cache.(peeker); ok {
			if v, ok := mem.Peek(l.key(name)); ok && v != nil {
				l.e.cfg.Metrics.cache(name, true)
				c := *v
				c.Provider, c.Cached, c.Latency = name, true, 0 // read from memory: no wait
				r = &c
			}
		}
	}
	if r == nil {
		return nil
	}
	return l.memo(ctx, name, name, false, func() *lookup.Result { return r })
}

// All asks the given providers (all that serve the kind when names is
// empty) concurrently and returns their answers in the given order.
func (l *Lookup) All(ctx context.Context, names []string) []*lookup.Result {
	return l.AllWithin(ctx, names, 0)
}

// AllWithin is All where a cached answer older than maxAge is asked again
// (PENDING under CachedOnly); maxAge ≤ 0 takes any cached answer.
func (l *Lookup) AllWithin(ctx context.Context, names []string, maxAge time.Duration) []*lookup.Result {
	if len(names) == 0 {
		names = l.Providers()
	}
	out := make([]*lookup.Result, len(names))
	if !l.opts.Batch.Enter(ctx) {
		for i, n := range names {
			out[i] = lookup.Failed(n, lookup.StatusTimeout, errcode.Timeout, "the request ended before this lookup's turn")
		}
		return out
	}
	defer l.opts.Batch.Leave()
	// the answers that need no waiting first, without a goroutine each
	var missing []int
	for i, n := range names {
		if maxAge <= 0 {
			out[i] = l.quick(ctx, n)
		}
		if out[i] == nil {
			missing = append(missing, i)
		}
	}
	var wg sync.WaitGroup
	for _, i := range missing {
		wg.Go(func() { out[i] = l.ask(ctx, names[i], maxAge) })
	}
	wg.Wait()
	return out
}

// Start delivers the answers of names that need no waiting and asks the
// others in one background All (lookup.Session).
func (l *Lookup) Start(ctx context.Context, names []string) {
	if !l.opts.Batch.Enter(ctx) {
		return
	}
	var missing []string
	for _, n := range names {
		if l.quick(ctx, n) == nil {
			missing = append(missing, n)
		}
	}
	l.opts.Batch.Leave()
	if len(missing) > 0 {
		go l.AllWithin(ctx, missing, 0)
	}
}

// CacheKey is the cache key of a provider's answer about ind.
func CacheKey(name string, ind indicator.Indicator) string {
	return cacheKey(name, ind.Kind, valueHash(ind.Value))
}

func cacheKey(name string, kind indicator.Kind, hash string) string {
	return "enrich:v1:" + name + ":" + string(kind) + ":" + hash
}

func valueHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:16])
}

// key is the cache key of provider name's answer in this lookup.
func (l *Lookup) key(name string) string { return cacheKey(name, l.ind.Kind, l.hash) }

// pipeline plans, applies the policy, reads the cache and hands a miss to
// the executor, one call per key at a time in this process. The result is
// the caller's own copy.
func (e *Engine) pipeline(ctx context.Context, l *Lookup, name string, fresh bool) *lookup.Result {
	r, cacheOnly := e.settle(ctx, l, name)
	if r != nil {
		return r
	}
	key := l.key(name)
	// cache
	if !fresh || cacheOnly != "" {
		if r := cached(ctx, e.cfg.Cache, e.cfg.Metrics, e.cfg.Logger, name, key); r != nil {
			return r
		}
	}
	if cacheOnly != "" { // a block-list or the TLP: nothing is sent upstream
		return lookup.Failed(name, lookup.StatusSkipped, errcode.Forbidden, cacheOnly)
	}
	if l.opts.CachedOnly {
		return lookup.Failed(name, lookup.StatusPending, errcode.NotFound, "not cached (cachedOnly: no upstream call)")
	}
	// the request's budget of upstream calls, shared by its aliases and batches
	if ok, limit := lookup.TakeCall(ctx); !ok {
		e.cfg.Metrics.rateLimited(name, "request_budget")
		return lookup.Failed(name, lookup.StatusRateLimited, errcode.RateLimited,
			fmt.Sprintf("this request's budget of %d upstream calls is spent; ask for fewer indicators or providers per request", limit))
	}
	if r := userBudget(ctx, e.cfg.Budgets, e.cfg.Metrics, l.opts.Caller.Username, name); r != nil {
		return r
	}
	var maxWait time.Duration
	if l.opts.Batch != nil {
		maxWait = e.cfg.BatchMaxWait
	}
	ctx, cancelWait := context.WithDeadline(ctx, l.deadline) // nothing waits past the lookup's deadline
	defer cancelWait()
	// coalesce: one call per key in this process; waiters keep their own
	// context, the call keeps the lookup's deadline.
	callCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), l.deadline)
	ch := e.flight.DoChan(key, func() (any, error) {
		defer cancel()
		return e.cfg.Executor.Execute(callCtx, Call{Provider: name, Indicator: l.ind, Fresh: fresh,
			Caller: l.opts.Caller, Deadline: l.deadline, MaxWait: maxWait}), nil
	})
	select {
	case r := <-ch:
		if r.Shared {
			e.cfg.Metrics.coalesced(name)
		}
		res := *r.Val.(*lookup.Result) // each caller gets its own copy
		return &res
	case <-ctx.Done():
		return lookup.Failed(name, lookup.StatusTimeout, errcode.Timeout, "the lookup's deadline passed before the provider answered")
	}
}

// settle answers provider name in l when no cache or upstream is needed:
// refused by the plan or the policy, not configured, or local. Otherwise it
// returns nil, with cacheOnly set when the policy allows only a cached
// answer.
func (e *Engine) settle(ctx context.Context, l *Lookup, name string) (r *lookup.Result, cacheOnly string) {
	// plan
	p, refused := e.plan(l, name)
	if refused != nil {
		return refused, ""
	}
	// policy: lists, playbook, TLP (package policy)
	skip, cacheOnly := l.decision.Provider(p.Descriptor())
	if skip != "" {
		return lookup.Failed(name, lookup.StatusSkipped, errcode.Forbidden, skip), ""
	}
	if !p.Configured() {
		return lookup.Failed(name, lookup.StatusNotConfigured, errcode.NotConfigured, p.Descriptor().NotConfiguredReason()), ""
	}
	// policy: internal indicators are never sent anywhere
	if l.policy != nil {
		return lookup.Failed(name, lookup.StatusSkipped, errcode.BadIndicator, l.policy.Error()), ""
	}
	if p.Descriptor().Local { // answers from data in this process: no cache, budget or executor
		return local(ctx, p, l.ind), ""
	}
	return nil, cacheOnly
}

// plan finds provider name, or says why it is not asked in l: disabled,
// unknown, or not serving the kind.
func (e *Engine) plan(l *Lookup, name string) (provider.Provider, *lookup.Result) {
	p, ok := e.cfg.Registry.Get(name)
	if !ok {
		if _, known := provider.Lookup(name); known {
			return nil, lookup.Failed(name, lookup.StatusSkipped, errcode.NotConfigured, "provider is disabled")
		}
		return nil, lookup.Failed(name, lookup.StatusError, errcode.BadRequest, "unknown provider")
	}
	if !p.Descriptor().Serves(l.ind.Kind) {
		return nil, lookup.Failed(name, lookup.StatusSkipped, errcode.BadRequest, fmt.Sprintf("%s does not look up %s indicators", name, l.ind.Kind))
	}
	return p, nil
}

// local asks a local provider (provider.Descriptor.Local), which answers
// from memory without an upstream call. Its answer is marked cached: it
// comes from data downloaded before the lookup, at no upstream cost.
func local(ctx context.Context, p provider.Provider, ind indicator.Indicator) *lookup.Result {
	started := time.Now()
	res, err := p.Lookup(ctx, ind)
	r := outcome(p.Descriptor().Name, res, err)
	var pe *provider.Error
	if r.Status == lookup.StatusNotFound && errors.As(err, &pe) && pe.Message != "" {
		r.Verdict.Reason += " (" + pe.Message + ")" // e.g. which of its data sets are stale
	}
	r.FetchedAt, r.Latency = started, time.Since(started)
	r.Cached = r.Status == lookup.StatusOK || r.Status == lookup.StatusNotFound
	return r
}

// cached returns a copy of the cached answer, marked cached, or nil on a
// miss.
func cached(ctx context.Context, c Cache, m *Metrics, log *slog.Logger, name, key string) *lookup.Result {
	v, _, ok, err := c.Get(ctx, key)
	if err != nil {
		log.WarnContext(ctx, "cache read failed; asking upstream", "provider", name, "err", err)
	}
	if !ok || v == nil {
		m.cache(name, false)
		return nil
	}
	m.cache(name, true)
	r := *v
	r.Provider, r.Cached = name, true
	return &r
}

// note tells the request's accounting how a provider answered; a provider
// that does not serve the kind was not asked.
func note(ctx context.Context, r *lookup.Result) {
	if r.Status == lookup.StatusSkipped && r.Err != nil && r.Err.Code == errcode.BadRequest {
		return
	}
	accounting.Note(ctx, accounting.Answer{Provider: r.Provider, Status: StatusWord(r.Status), Cached: r.Cached, Bytes: r.Bytes})
}

// CallRow is the ledger row of r, an upstream call's answer about ind,
// made for c.
func CallRow(c lookup.Caller, ind indicator.Indicator, r *lookup.Result) accounting.Call {
	return callRow(c, usageParams(ind), r)
}

// callRow is the ledger row of r, an upstream call made for c about params
// (the JSON the row shows as its parameters).
func callRow(c lookup.Caller, params string, r *lookup.Result) accounting.Call {
	return accounting.Call{Username: c.Username, Provider: r.Provider, Endpoint: c.Endpoint, Parameters: params,
		Status: StatusWord(r.Status), Bytes: r.Bytes, Latency: r.Latency, At: r.FetchedAt}
}

// usageParams is {"kind":…,"value":…}, as json.Marshal of a map writes it,
// without the map.
func usageParams(ind indicator.Indicator) string {
	kind, _ := json.Marshal(string(ind.Kind))
	value, _ := json.Marshal(ind.Value)
	return `{"kind":` + string(kind) + `,"value":` + string(value) + `}`
}

// StatusWord is the accounting form of a status: "ok", "not_found", …
func StatusWord(s lookup.Status) string {
	switch s {
	case lookup.StatusOK:
		return "ok"
	case lookup.StatusNotFound:
		return "not_found"
	case lookup.StatusRateLimited:
		return "rate_limited"
	case lookup.StatusTimeout:
		return "timeout"
	case lookup.StatusNotConfigured:
		return "not_configured"
	case lookup.StatusSkipped:
		return "skipped"
	case lookup.StatusPending:
		return "pending"
	}
	return "error"
}
