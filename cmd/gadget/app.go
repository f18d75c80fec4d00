package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/cache/rediscache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/ratelimit/redislimit"
	"github.com/inspector-gadget/gadget/internal/server"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/tasks"
)

// Login throttling: the original allowed 5 attempts a minute per client.
const (
	loginFailures = 5
	loginWindow   = time.Minute
)

// app holds the wired services of one process.
type app struct {
	cfg       *Config
	log       *slog.Logger
	store     *store.Store
	redis     *redis.Client
	writer    *accounting.Writer
	auth      *auth.Service
	acct      *accounting.Service
	providers *provider.Registry
	engine    *enrich.Engine // the one engine: inline, or through River jobs
	jobs      *jobs.Runtime  // nil with the inline executor
	riverUI   http.Handler   // River UI, when jobs run
	tasks     *tasks.Service // the REST layer's two-step lookups (routes_rest.go)
	registry  *prometheus.Registry
	metrics   *server.Metrics
	started   time.Time
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

// newApp opens the database (migrating it when migrate is set) and Redis,
// and wires the services.
func newApp(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool) (*app, error) {
	return newAppWith(ctx, cfg, log, migrate, nil)
}

// newAppWith is newApp whose River runtime works queues (nil: the process
// only inserts jobs and waits for them).
func newAppWith(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool, pickQueues func(*provider.Registry) (map[string]int, error)) (_ *app, err error) {
	a := &app{cfg: cfg, log: log, started: time.Now(), registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.close(context.Background())
		}
	}()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = server.NewMetrics(a.registry)
	a.store, err = store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		applied, err := a.store.Migrate(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range applied {
			log.Info("migration applied", "file", m)
		}
		if cfg.IsPostgres() {
			n, err := jobs.Migrate(ctx, a.store.Pool())
			if err != nil {
				return nil, err
			}
			if n > 0 {
				log.Info("river migrations applied", "count", n)
			}
		}
	}
	var throttle auth.Throttle = ratelimit.NewFailures(loginFailures, loginWindow)
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, errors.New("GADGET_REDIS_URL: cannot parse")
		}
		a.redis = redis.NewClient(opt)
		throttle = redislimit.NewFailures(a.redis, cfg.RedisPrefix+"login:", loginFailures, loginWindow)
	}
	secret, err := cfg.secret()
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	tokens, err := auth.NewTokens(secret, cfg.TokenTTL, nil)
	if err != nil {
		return nil, err
	}
	a.writer = accounting.NewWriter(a.store, accounting.WriterConfig{Logger: log})
	a.auth, err = auth.NewService(auth.Config{Store: a.store, Tokens: tokens, Throttle: throttle, Usage: a.writer, Logger: log,
		OnLogin: a.metrics.Login, BcryptCost: cfg.BcryptCost, AccountCacheTTL: cfg.AccountCacheTTL})
	if err != nil {
		return nil, err
	}
	a.acct = accounting.NewService(a.store, nil)
	a.providers, err = buildProviders(cfg, log)
	if err != nil {
		return nil, err
	}
	var queues map[string]int
	if pickQueues != nil && cfg.Executor == "river" {
		if queues, err = pickQueues(a.providers); err != nil {
			return nil, err
		}
	}
	p := newPipeline(cfg, log, a.providers, a.redis, enrich.NewMetrics(a.registry))
	var exec enrich.Executor = &enrich.Inline{Fetcher: p.fetcher, Locker: p.locker, Ledger: a.writer}
	if cfg.Executor == "river" {
		qp, err := a.store.QueuePool(ctx)
		if err != nil {
			return nil, err
		}
		a.jobs, err = jobs.New(ctx, jobs.Config{Pool: qp, Fetcher: p.fetcher, Usage: a.store, JobTimeout: cfg.JobTimeout,
			RescueAfter: cfg.JobRescueAfter, MaxAttempts: cfg.JobMaxAttempts, Queues: queues, Logger: log,
			// answers of jobs worked elsewhere reach a process-local cache through their notices
			KeepUnclaimed: a.redis == nil})
		if err != nil {
			return nil, err
		}
		exec = a.jobs.Executor
	}
	if a.engine, err = p.engine(exec); err != nil {
		return nil, err
	}
	return a, nil
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
			if _, ok := reg.Get(d.Name); ok {
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
	metrics *enrich.Metrics
}

func newPipeline(cfg *Config, log *slog.Logger, reg *provider.Registry, rdb *redis.Client, m *enrich.Metrics) *pipeline {
	settings := map[string]enrich.Settings{}
	for _, d := range provider.Descriptors() {
		s := cfg.Providers[d.Name]
		settings[d.Name] = enrich.Settings{Rate: s.Rate, CacheTTL: s.CacheTTL, NotFoundTTL: min(d.NotFoundTTL, s.CacheTTL)}
	}
	p := &pipeline{cfg: cfg, log: log, reg: reg, metrics: m}
	mem := cache.NewMemory[*lookup.Result](cfg.CacheEntries)
	var limiter enrich.Limiter
	if rdb != nil {
		p.cache = cache.NewTiered(mem, rediscache.New(rdb, cfg.RedisPrefix+"cache:"), lookup.Codec{}, time.Minute)
		limiter = redislimit.NewBuckets(rdb, cfg.RedisPrefix+"quota:")
		p.locker = redislimit.NewLocker(rdb, cfg.RedisPrefix+"flight:")
	} else {
		p.cache = mem
		limiter = ratelimit.NewBuckets(time.Now)
	}
	// the configuration is validated: the registry, cache and limiter are set
	p.fetcher, _ = enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Settings: settings, Cache: p.cache, Limiter: limiter,
		Metrics: m, Logger: log})
	return p
}

// engine is the process's one engine over exec.
func (p *pipeline) engine(exec enrich.Executor) (*enrich.Engine, error) {
	return enrich.New(enrich.Config{Registry: p.reg, Policy: indicator.NewPolicy(p.cfg.InternalDomains), Cache: p.cache,
		Executor: exec, Metrics: p.metrics, Logger: p.log, Deadline: p.cfg.LookupDeadline})
}

// buildProviders makes the live providers once, from configuration.
func buildProviders(cfg *Config, log *slog.Logger) (*provider.Registry, error) {
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
		p, err := d.New(provider.Config{BaseURL: s.BaseURL, APIKey: s.APIKey, Timeout: s.Timeout, Transport: tr, Logger: log.With("provider", d.Name)})
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", d.Name, err)
		}
		live = append(live, p)
	}
	return provider.NewRegistry(live...)
}

// close stops the job runtime, flushes usage records and closes
// connections.
func (a *app) close(ctx context.Context) {
	if a.tasks != nil && a.tasks.Wait(ctx) != nil {
		a.log.Warn("tasks still running at shutdown; they will be reported failed after their deadline")
	}
	if a.jobs != nil {
		if err := a.jobs.Stop(ctx); err != nil {
			a.log.Error("stop job workers", "err", err)
		}
	}
	if a.writer != nil {
		if err := a.writer.Close(ctx); err != nil {
			a.log.Error("usage flush", "err", err)
		}
	}
	if a.redis != nil {
		a.redis.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
}
