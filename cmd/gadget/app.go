package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"riverqueue.com/riverui"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/cache/rediscache"
	"github.com/inspector-gadget/gadget/internal/cortex"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/ratelimit/redislimit"
	"github.com/inspector-gadget/gadget/internal/redisguard"
	"github.com/inspector-gadget/gadget/internal/server"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/tasks"
	"github.com/inspector-gadget/gadget/internal/taxii"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// app holds the wired services of one process; build makes it, start runs
// its background parts, close stops them.
type app struct {
	cfg   *Config
	log   *slog.Logger
	store *store.Store
	redis *redis.Client
	// redisGuard is the circuit breaker on redis (nil without Redis).
	redisGuard *redisguard.Guard
	writer     *accounting.Writer
	auth       *auth.Service
	acct       *accounting.Service
	providers  *provider.Registry
	engine     *enrich.Engine      // the one engine: inline, or through River jobs
	fetcher    *enrich.Fetcher     // the engine's upstream calls; status reads budgets from it
	budgets    *userbudget.Budgets // per-user daily budgets of upstream calls
	images     *enrich.Images      // the portal's proxied provider images, accounted and budgeted
	lookups    lookup.Service      // the engine as the transports use it: verdicts also published to TAXII
	publisher  *taxii.Publisher    // writes verdicts into the TAXII collections; nil without HTTP
	listSync   *taxii.ListSync     // keeps the block-lists' TAXII collections current; nil without HTTP
	policy     *policy.Service     // lists, TLP, playbooks, sightings
	jobs       *jobs.Runtime       // nil with the inline executor
	tasks      *tasks.Service      // the REST layer's two-step lookups; nil without HTTP
	cortex     *cortex.Server      // the Cortex API and its jobs; nil without HTTP
	riverUI    *riverui.Handler    // River UI, when jobs run and HTTP is served
	handler    http.Handler        // the whole HTTP surface; nil without HTTP
	registry   *prometheus.Registry
	metrics    *server.Metrics
	started    time.Time
	// stopBackground stops what start began besides the jobs: the account
	// change listener and River UI.
	stopBackground func()
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// loadConfig reads and validates the configuration.
func loadConfig(getenv envFunc) (*Config, error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// workQueues are the River queues a process works: every live provider's
// with its configured concurrency (perQueue > 0 overrides it), or only the
// named ones.
func workQueues(cfg *Config, reg *provider.Registry, names []string, perQueue int) (map[string]int, error) {
	out := map[string]int{}
	for _, n := range names {
		if _, ok := reg.Get(n); !ok {
			if _, known := provider.Lookup(n); known {
				return nil, usagef("--queues: provider %q is disabled", n)
			}
			return nil, usagef("--queues: unknown provider %q", n)
		}
		out[n] = cfg.Providers[n].Workers
	}
	if len(names) == 0 {
		for _, d := range provider.Descriptors() {
			if _, ok := reg.Get(d.Name); ok && !d.Local { // a local provider's answers never become jobs
				out[d.Name] = cfg.Providers[d.Name].Workers
			}
		}
	}
	if perQueue > 0 {
		for n := range out {
			out[n] = perQueue
		}
	}
	return out, nil
}

// peerWindow is how long a process that made no upstream call still counts
// as sharing the budgets (it beats every 10 s while it calls).
const peerWindow = 30 * time.Second

// pipeline is the lookup machinery of a process before its executor is
// chosen: in-process cache and quotas, or Redis-backed ones shared by every
// replica when Redis is configured.
type pipeline struct {
	cfg     *Config
	log     *slog.Logger
	reg     *provider.Registry
	cache   enrich.Cache
	fetcher *enrich.Fetcher
	locker  enrich.Locker // nil without Redis
	limiter enrich.Limiter
	budgets *userbudget.Budgets // per-user budgets; nil: none (the CLI's lookups)
	metrics *enrich.Metrics
	gate    *policy.Service               // nil: no lists, TLP or playbooks (tests of the bare pipeline)
	mem     *cache.Memory[*lookup.Result] // the in-process tier of cache
}

func newPipeline(cfg *Config, log *slog.Logger, reg *provider.Registry, rdb *redis.Client, m *enrich.Metrics) *pipeline {
	settings := map[string]enrich.Settings{}
	for _, d := range provider.Descriptors() {
		s := cfg.Providers[d.Name]
		settings[d.Name] = enrich.Settings{Rate: s.Rate, Budget: s.Budget, CacheTTL: s.CacheTTL, NotFoundTTL: min(d.NotFoundTTL, s.CacheTTL)}
	}
	p := &pipeline{cfg: cfg, log: log, reg: reg, metrics: m}
	mem := cache.NewMemory[*lookup.Result](cfg.CacheEntries)
	p.mem = mem
	var limiter enrich.Limiter
	if rdb != nil {
		p.cache = cache.NewTiered(mem, rediscache.New(rdb, cfg.RedisPrefix+"cache:"), lookup.Codec{}, time.Minute)
		// Redis down: this process's share of each budget, in process
		limiter = ratelimit.NewFallback(ratelimit.FallbackConfig{Shared: redislimit.NewBuckets(rdb, cfg.RedisPrefix+"quota:"),
			Peers: redislimit.NewPeers(rdb, cfg.RedisPrefix+"quota-peers", peerWindow), Logger: log})
		p.locker = redislimit.NewLocker(rdb, cfg.RedisPrefix+"flight:")
	} else {
		p.cache = mem
		limiter = ratelimit.NewBuckets(time.Now)
	}
	p.limiter = limiter
	// the configuration is validated: the registry, cache and limiter are set
	p.fetcher, _ = enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Settings: settings, Cache: p.cache, Limiter: limiter,
		Metrics: m, Logger: log})
	return p
}

// engine is the process's one engine over exec.
func (p *pipeline) engine(exec enrich.Executor) (*enrich.Engine, error) {
	return enrich.New(enrich.Config{Registry: p.reg, Policy: indicator.NewPolicy(p.cfg.InternalDomains), Gate: p.gate, Cache: p.cache,
		Executor: exec, Metrics: p.metrics, Logger: p.log, Deadline: p.cfg.LookupDeadline, Budgets: p.budgets})
}

// buildProviders makes the live providers once, from configuration; a
// local provider keeps its data sets in st (nil: in memory only).
func buildProviders(cfg *Config, log *slog.Logger, st provider.DatasetStore) (*provider.Registry, error) {
	var live []provider.Provider
	// one pooled transport: keeps connections to each provider alive
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	tr.MaxIdleConns = 512
	for _, d := range provider.Descriptors() {
		s := cfg.Providers[d.Name]
		if !s.Enabled {
			continue
		}
		p, err := d.New(provider.Config{BaseURL: s.BaseURL, APIKey: s.APIKey, Timeout: s.Timeout, Transport: tr, Logger: log.With("provider", d.Name),
			Settings: s.Settings, Store: st, Setting: s.Setting})
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", d.Name, err)
		}
		live = append(live, p)
	}
	return provider.NewRegistry(live...)
}

// newPolicy builds the lists, TLP and playbook service over the store and
// loads it (the database is migrated).
func newPolicy(ctx context.Context, cfg *Config, log *slog.Logger, st *store.Store, reg *provider.Registry) (*policy.Service, error) {
	events, err := st.PolicyEvents(ctx)
	if err != nil {
		return nil, err
	}
	pc := policyConfig(cfg, log, reg)
	pc.Store, pc.Events = st, events
	svc, err := policy.New(pc)
	if err != nil {
		return nil, err
	}
	if err := svc.Load(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// policyConfig is the policy service's configuration, without its store:
// the default TLP and every provider's configured maximum.
func policyConfig(cfg *Config, log *slog.Logger, reg *provider.Registry) policy.Config {
	maxTLP := map[string]indicator.TLP{}
	for name, s := range cfg.Providers {
		maxTLP[name] = s.MaxTLP
	}
	return policy.Config{Registry: reg, DefaultTLP: cfg.DefaultTLP, MaxTLP: maxTLP, Logger: log}
}
