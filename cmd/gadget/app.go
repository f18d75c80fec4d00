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
	engine    *enrich.Engine
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
func newApp(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool) (_ *app, err error) {
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
	a.engine, err = buildEngine(cfg, log, a.providers, a.redis, a.writer, enrich.NewMetrics(a.registry))
	if err != nil {
		return nil, err
	}
	return a, nil
}

// buildEngine wires the enrichment engine: in-process cache and quotas, or
// Redis-backed ones shared by every replica when Redis is configured.
func buildEngine(cfg *Config, log *slog.Logger, reg *provider.Registry, rdb *redis.Client, usage enrich.Recorder, m *enrich.Metrics) (*enrich.Engine, error) {
	settings := map[string]enrich.Settings{}
	for _, d := range provider.Descriptors() {
		s := cfg.Providers[d.Name]
		settings[d.Name] = enrich.Settings{Rate: s.Rate, CacheTTL: s.CacheTTL, NotFoundTTL: min(d.NotFoundTTL, s.CacheTTL)}
	}
	ec := enrich.Config{
		Registry: reg, Policy: indicator.NewPolicy(cfg.InternalDomains), Settings: settings,
		Usage: usage, Metrics: m, Logger: log, Deadline: cfg.LookupDeadline,
	}
	mem := cache.NewMemory(cfg.CacheEntries)
	if rdb != nil {
		ec.Cache = cache.NewTiered(mem, rediscache.New(rdb, cfg.RedisPrefix+"cache:"), time.Minute)
		ec.Limiter = redislimit.NewBuckets(rdb, cfg.RedisPrefix+"quota:")
		ec.Locker = redislimit.NewLocker(rdb, cfg.RedisPrefix+"flight:")
	} else {
		ec.Cache = mem
		ec.Limiter = ratelimit.NewBuckets(time.Now)
	}
	return enrich.New(ec)
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

// close flushes usage records and closes connections.
func (a *app) close(ctx context.Context) {
	if a.tasks != nil && a.tasks.Wait(ctx) != nil {
		a.log.Warn("tasks still running at shutdown; they will be reported failed after their deadline")
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
