package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"riverqueue.com/riverui"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/auth/redisevents"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/cortex"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/jobs"
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

// loginWindow is the sign-in throttle's window (the limits per window are
// auth.UserAddressAttempts and auth.AddressAttempts).
const loginWindow = time.Minute

// taskGrace is how long a REST task may outlive its lookup's deadline
// (writing its answer).
const taskGrace = 5 * time.Second

// buildOptions say what a command needs besides the services every command
// shares.
type buildOptions struct {
	// migrate applies the database's (and River's) migrations first.
	migrate bool
	// queues picks the River queues this process works, with their
	// concurrency; nil: the process only inserts jobs and waits for them.
	queues func(*provider.Registry) (map[string]int, error)
	// http builds the HTTP surface (a.handler) and what only it uses: the
	// REST tasks and River UI.
	http bool
}

// build wires one process from a validated configuration: storage, Redis,
// accounts, accounting, providers, the engine and its executor, and (with
// opts.http) the whole HTTP surface. Everything is built here, in order,
// and only here; the returned app is complete and nothing mutates it
// afterwards. It starts nothing: start runs the background parts, close
// stops them. On error whatever was opened is closed.
func build(ctx context.Context, cfg *Config, log *slog.Logger, opts buildOptions) (_ *app, err error) {
	a := &app{cfg: cfg, log: log, started: time.Now(), registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.close(context.Background())
		}
	}()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.metrics = server.NewMetrics(a.registry)
	if a.store, err = openStore(ctx, cfg, log, opts.migrate); err != nil {
		return nil, err
	}
	var throttle auth.Throttle = ratelimit.NewFailures(loginWindow)
	if cfg.RedisURL != "" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, errors.New("GADGET_REDIS_URL: cannot parse")
		}
		redisguard.FailFast(opt)
		a.redis = redis.NewClient(opt)
		// a lost Redis fails fast and the process degrades (see docs/resilience.md)
		guard := redisguard.New(redisguard.Config{Logger: log})
		a.redis.AddHook(guard)
		a.redisGuard = guard
		a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gadget_redis_up",
			Help: "1 while Redis answers, 0 while the process runs degraded without it (circuit open or probing)."},
			func() float64 { return map[bool]float64{true: 1}[guard.Up()] }))
		// without Redis, sign-in attempts are counted in process
		throttle = ratelimit.FallbackFailures{Local: ratelimit.NewFailures(loginWindow),
			Shared: redislimit.NewFailures(a.redis, cfg.RedisPrefix+"login:", loginWindow)}
	}
	secret, err := cfg.secret()
	if err != nil {
		return nil, fmt.Errorf("jwt secret: %w", err)
	}
	tokens, err := auth.NewTokens(secret, cfg.TokenTTL, nil)
	if err != nil {
		return nil, err
	}
	// account changes reach the other processes through Redis when it is
	// configured, else through the database
	var events auth.AccountEvents
	if a.redis != nil {
		events = redisevents.New(a.redis, cfg.RedisPrefix+"accounts")
	} else if events, err = a.store.AccountEvents(ctx); err != nil {
		return nil, err
	}
	a.writer = accounting.NewWriter(a.store, accounting.WriterConfig{Logger: log})
	registerWriterMetrics(a.registry, a.writer)
	a.auth, err = auth.NewService(auth.Config{Store: a.store, Tokens: tokens, Throttle: throttle, Usage: a.writer, Logger: log,
		OnLogin: a.metrics.Login, BcryptCost: cfg.BcryptCost, Events: events, AccountMaxAge: cfg.AccountMaxAge, Keys: a.store})
	if err != nil {
		return nil, err
	}
	a.acct = accounting.NewService(a.store, nil)
	if a.providers, err = buildProviders(cfg, log, a.store); err != nil {
		return nil, err
	}
	if a.policy, err = newPolicy(ctx, cfg, log, a.store, a.providers); err != nil {
		return nil, err
	}
	if err := a.buildEngine(ctx, opts.queues); err != nil {
		return nil, err
	}
	a.lookups = a.engine
	if opts.http {
		a.publisher = taxii.NewPublisher(a.store, a.stixExporter(), taxiiTLP, log)
		a.lookups = taxii.Observed(a.engine, a.publisher)
		a.listSync = taxii.NewListSync(a.store, a.policy, taxiiTLP, log)
		a.tasks = tasks.NewService(tasks.Config{Store: a.store, Logger: log, Timeout: cfg.LookupDeadline + taskGrace,
			MaxRunning: cfg.TasksRunning, MaxPerUser: cfg.TasksPerUser})
		a.cortex = cortex.New(cortex.Config{Lookup: a.lookups, Catalog: a.analyzers, Store: a.store, Usage: a.writer, Logger: log, Version: version})
		if a.jobs != nil {
			if a.riverUI, err = newRiverUI(a.jobs, log); err != nil {
				return nil, fmt.Errorf("river ui: %w", err)
			}
		}
		if a.handler, err = a.httpHandler(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// openStore opens the database, applying its migrations (and River's, on
// PostgreSQL) when migrate is set.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool) (*store.Store, error) {
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if !migrate {
		return s, nil
	}
	applied, err := s.Migrate(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, m := range applied {
		log.Info("migration applied", "file", m)
	}
	// usernames became case-insensitive: accounts that differed only in case are reported at every start
	if names, err := s.UsernameCollisions(ctx); err != nil {
		log.Warn("username collisions not checked", "err", err)
	} else if len(names) > 0 {
		log.Warn("accounts whose username differs from an older account's only in case: they sign in only under their exact name; rename or remove them",
			"usernames", names)
	}
	if cfg.IsPostgres() {
		n, err := jobs.Migrate(ctx, s.Pool())
		if err != nil {
			s.Close()
			return nil, err
		}
		if n > 0 {
			log.Info("river migrations applied", "count", n)
		}
	}
	return s, nil
}

// imageCacheEntries bounds the portal's image cache (screenshots of a few
// hundred KiB each; the response cap is 4 MiB).
const imageCacheEntries = 64

// buildEngine builds the engine lookups use: inline, or handing provider
// calls to River jobs (worked here when queues picks any).
func (a *app) buildEngine(ctx context.Context, pickQueues func(*provider.Registry) (map[string]int, error)) error {
	cfg := a.cfg
	var queues map[string]int
	if pickQueues != nil && cfg.Executor == "river" {
		var err error
		if queues, err = pickQueues(a.providers); err != nil {
			return err
		}
	}
	p := newPipeline(cfg, a.log, a.providers, a.redis, enrich.NewMetrics(a.registry))
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gadget_cache_entries",
		Help: "Provider answers held in this process's cache (about; at most GADGET_CACHE_ENTRIES)."},
		func() float64 { return float64(p.mem.Len()) }))
	a.fetcher = p.fetcher
	if !policyOff {
		p.gate = a.policy
	}
	p.budgets = userbudget.New(a.store, p.limiter, a.log, nil)
	a.budgets = p.budgets
	a.images = &enrich.Images{Fetcher: p.fetcher, Ledger: a.writer, Budgets: p.budgets, Cache: cache.NewMemory[*provider.Image](imageCacheEntries)}
	var exec enrich.Executor = &enrich.Inline{Fetcher: p.fetcher, Locker: p.locker, Ledger: a.writer}
	if cfg.Executor == "river" {
		qp, err := a.store.QueuePool(ctx)
		if err != nil {
			return err
		}
		a.jobs, err = jobs.New(ctx, jobs.Config{Pool: qp, Fetcher: p.fetcher, Store: a.store.JobQueue(qp), Counts: a.writer, JobTimeout: cfg.JobTimeout,
			RescueAfter: cfg.JobRescueAfter, MaxAttempts: cfg.JobMaxAttempts, Queues: queues, Logger: a.log,
			// answers of jobs worked elsewhere reach a process-local cache through their notices
			KeepUnclaimed: a.redis == nil,
			Fallback:      exec}) // the inline executor, while jobs cannot be queued
		if err != nil {
			return err
		}
		exec = a.jobs.Executor
	}
	var err error
	a.engine, err = p.engine(exec)
	return err
}

// newRiverUI builds River UI over the process's River client; it has no
// authentication of its own, so adminRoutes puts it behind the MON scope.
func newRiverUI(rt *jobs.Runtime, log *slog.Logger) (*riverui.Handler, error) {
	return riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(rt.Client, nil),
		Logger:    log.With("component", "riverui"),
		Prefix:    riverUIPrefix,
	})
}

// listSyncInterval is how often the block-lists' TAXII collections are
// compared with the lists (a list that did not change costs one read); a
// client reading a collection brings it up to date first.
const listSyncInterval = time.Minute

// start runs the background parts: the account change listener, the
// River runtime (dispatcher, and workers when this process works queues)
// and River UI. They run until close, not until ctx ends, so requests and
// tasks in flight at SIGTERM can still finish. Without start (the user
// command) accounts are read from storage on every use.
func (a *app) start(ctx context.Context) error {
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		go a.policy.Run(bg) // list and playbook changes made by other processes
		var runners sync.WaitGroup
		if a.handler != nil { // a process that answers lookups keeps local data sets fresh
			for _, p := range a.providers.All() {
				if r, ok := p.(provider.Runner); ok {
					runners.Go(func() { r.Run(bg) })
				}
			}
		}
		a.auth.Listen(bg)
		runners.Wait() // before the store closes: they write there
	}()
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		if a.listSync != nil { // the block-lists' TAXII collections
			a.listSync.Run(bg, listSyncInterval)
		}
	}()
	a.stopBackground = func() { cancel(); <-listening; <-synced }
	if a.jobs != nil {
		if err := a.jobs.Start(ctx); err != nil {
			return err
		}
	}
	if a.riverUI != nil {
		if err := a.riverUI.Start(bg); err != nil {
			return fmt.Errorf("river ui: %w", err)
		}
	}
	return nil
}

// close waits for REST tasks in flight (until ctx ends), stops the job
// runtime, flushes usage records and closes connections, in that order:
// a task's lookup may still need the jobs, and both write usage.
func (a *app) close(ctx context.Context) {
	if a.tasks != nil && a.tasks.Wait(ctx) != nil {
		a.log.Warn("tasks still running at shutdown; they will be reported failed after their deadline")
	}
	if a.cortex != nil && a.cortex.Wait(ctx) != nil {
		a.log.Warn("cortex jobs still running at shutdown; they will be reported failed after their deadline")
	}
	if a.jobs != nil {
		if err := a.jobs.Stop(ctx); err != nil {
			a.log.Error("stop job workers", "err", err)
		}
	}
	if a.stopBackground != nil { // the account listener and River UI
		a.stopBackground()
	}
	if a.publisher != nil { // before the store closes: it writes there
		a.publisher.Close()
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

// httpHandler wires the HTTP surface from the finished services.
func (a *app) httpHandler() (http.Handler, error) {
	extra := map[string]http.Handler{}
	portal, err := a.portalRoutes()
	if err != nil {
		return nil, err
	}
	for _, part := range []map[string]http.Handler{a.restRoutes(), portal, a.adminRoutes(), a.socRoutes()} {
		for pattern, h := range part {
			if _, dup := extra[pattern]; dup {
				return nil, fmt.Errorf("route %q registered twice", pattern)
			}
			extra[pattern] = h
		}
	}
	return a.serverHandler(extra), nil
}

// registerWriterMetrics exports the usage writer's counts: alert on
// gadget_usage_rows_dropped_total > 0 and on a growing overflow.
func registerWriterMetrics(reg prometheus.Registerer, w *accounting.Writer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gadget_usage_rows_queued", Help: "Usage rows waiting to be written (buffer and overflow)."},
			func() float64 { return float64(w.Stats().Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gadget_usage_rows_overflowed_total", Help: "Usage rows that found the writer's buffer full and went to its bounded overflow."},
			func() float64 { return float64(w.Stats().Overflowed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gadget_usage_rows_dropped_total", Help: "Usage rows lost because the buffer and the overflow were full, or the database refused them at shutdown."},
			func() float64 { return float64(w.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gadget_usage_rows_safe_form_total", Help: "Usage rows the database refused, written in a safe form instead."},
			func() float64 { return float64(w.Stats().Poisoned) }),
	)
}
