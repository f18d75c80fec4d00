package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/graph"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/playground"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/rest"
	"github.com/inspector-gadget/gadget/internal/server"
)

const serveUsage = `Usage: gadget serve [flags]

Runs the API: GraphQL at /graphql, GraphiQL at /, POST /api/authenticate,
/healthz, /readyz and /metrics. Migrates the database and, on an empty one,
creates the root administrator (GADGET_ROOT_PASSWORD, or a random password
printed once). Stops gracefully on SIGTERM, finishing requests in flight.

With the River executor (the default on PostgreSQL) it also works every
provider's job queue in-process, GADGET_<P>_WORKERS at a time; --workers N
sets N per queue, and --workers=0 leaves the jobs to "gadget worker".`

func cmdServe(ctx context.Context, args []string, getenv envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("serve", serveUsage, stdout)
	addr := fs.String("addr", "", "listen address (overrides GADGET_ADDR)")
	workers := fs.Int("workers", -1, "River workers per provider queue in this process (0: none; default GADGET_<P>_WORKERS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	// the configuration is checked, and the address taken, before anything
	// is created or printed (such as root's one-time password)
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	tuneGC(ctx, getenv, log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GADGET_ADDR: %w", err)
	}
	defer ln.Close() // after Serve, a no-op
	opts := buildOptions{migrate: true, http: true}
	if *workers != 0 {
		opts.queues = func(reg *provider.Registry) (map[string]int, error) {
			return workQueues(cfg, reg, nil, max(*workers, 0))
		}
	}
	a, err := build(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	// One GADGET_SHUTDOWN_TIMEOUT covers the whole stop: requests in flight,
	// then REST tasks in flight, jobs, the usage flush.
	var stopBy time.Time
	defer func() {
		if stopBy.IsZero() { // stopped by an error, not by ctx
			stopBy = time.Now().Add(cfg.ShutdownTimeout)
		}
		stopCtx, cancel := context.WithDeadline(context.Background(), stopBy)
		defer cancel()
		a.close(stopCtx)
	}()
	a.auth.WarmUp()
	created, generated, err := a.auth.Bootstrap(ctx, cfg.RootPassword)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created && generated != "" {
		fmt.Fprintf(stdout, "Created the administrator \"root\" with the password:\n\n    %s\n\nIt is shown only this once. Change it with: gadget user passwd root\n\n", generated)
	} else if created {
		log.Info("created the administrator root from GADGET_ROOT_PASSWORD")
	}
	if err := a.start(ctx); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	// One write, so whoever waits for "listening on" reads the banner with it.
	var banner bytes.Buffer
	fmt.Fprintf(&banner, "listening on http://%s\n", displayAddr(ln.Addr()))
	printBanner(&banner, "http://"+displayAddr(ln.Addr()), cfg)
	_, _ = stdout.Write(banner.Bytes())
	log.Info("listening", "addr", ln.Addr().String(), "version", version, "database", a.store.Dialect())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests and tasks in flight", "timeout", cfg.ShutdownTimeout.String())
	stopBy = time.Now().Add(cfg.ShutdownTimeout)
	shutCtx, cancel := context.WithDeadline(context.Background(), stopBy)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") {
		return "localhost:" + strings.TrimPrefix(s, "[::]:")
	}
	return s
}

// serverHandler is the HTTP surface: GraphQL, GraphiQL, sign-in, health
// and metrics, plus the extra routes (REST, portal, admin mounts).
func (a *app) serverHandler(extra map[string]http.Handler) http.Handler {
	resolver := &graph.Resolver{Auth: a.auth, Accounting: a.acct, StatusInfo: statusSource{a}, Engine: a.lookups, Policy: a.policy, Extractor: newExtractor(a.cfg), STIX: a.stixExporter(),
		UserBudgets: a.budgets}
	checks := []server.Checker{{Name: "database", Check: a.store.Ping}, {Name: "usage_writer", Check: a.writer.Ready}}
	if a.redis != nil {
		// without Redis the process is degraded, not down: /readyz says so and stays 200
		checks = append(checks, server.Checker{Name: "redis", Degrades: true, Check: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }})
	}
	return server.New(server.Config{
		Logger:       a.log,
		Registry:     a.registry,
		Resolver:     clientinfo.NewResolver(a.cfg.TrustedProxies),
		Authenticate: rest.Authenticate(a.auth, a.log),
		Auth:         a.auth.Middleware,
		GraphQL:      graph.NewHandler(resolver, graph.Options{Logger: a.log, Usage: a.writer}),
		Playground:   playground.Handler(playgroundOptions()),
		Ready:        checks,
		Extra:        extra,
		// 0 in the configuration is no bound; -1 says so to the server
		CallsPerRequest: cmp.Or(a.cfg.CallsPerRequest, -1),
	}, a.metrics)
}

// statusSource answers the public status query.
type statusSource struct{ a *app }

func (s statusSource) Version() string { return version }

func (s statusSource) Uptime() time.Duration { return time.Since(s.a.started) }

// Providers is every known provider's state, for the GraphQL and REST
// status and the portal's overview.
func (s statusSource) Providers() []lookup.ProviderStatus {
	var out []lookup.ProviderStatus
	ctx, cancel := context.WithTimeout(context.Background(), time.Second) // a Redis peek per provider at most
	defer cancel()
	for _, d := range provider.Descriptors() {
		set := s.a.cfg.Providers[d.Name]
		info := lookup.ProviderStatus{Name: d.Name, Enabled: set.Enabled,
			Keyless: d.Key != provider.KeyRequired, Rate: set.Rate.String()}
		if !set.Budget.IsZero() {
			info.Budget = set.Budget.String()
		}
		if s.a.fetcher != nil && set.Enabled {
			if n, at, ok := s.a.fetcher.Remaining(ctx, d.Name); ok {
				info.Remaining = &n
				if !at.IsZero() {
					info.ResetsAt = &at
				}
			}
		}
		if p, ok := s.a.providers.Get(d.Name); ok {
			info.Configured = p.Configured()
			if r, ok := p.(provider.DatasetReporter); ok {
				info.Datasets = r.DatasetStatus(time.Now())
			}
		} else {
			info.Configured = d.Key != provider.KeyRequired || s.a.cfg.Providers[d.Name].APIKey != ""
		}
		for _, k := range d.Kinds {
			info.Kinds = append(info.Kinds, string(k))
		}
		out = append(out, info)
	}
	return out
}
