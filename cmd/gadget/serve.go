package main

import (
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
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	log := newLogger(stderr, cfg.LogLevel)
	tuneGC(getenv)
	var pick func(*provider.Registry) (map[string]int, error)
	if *workers != 0 {
		pick = func(reg *provider.Registry) (map[string]int, error) {
			return workQueues(cfg, reg, nil, max(*workers, 0))
		}
	}
	a, err := newAppWith(ctx, cfg, log, true, pick)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.close(flushCtx)
	}()
	created, generated, err := a.auth.Bootstrap(ctx, cfg.RootPassword)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if created && generated != "" {
		fmt.Fprintf(stdout, "Created the administrator \"root\" with the password:\n\n    %s\n\nIt is shown only this once. Change it with: gadget user passwd root\n\n", generated)
	} else if created {
		log.Info("created the administrator root from GADGET_ROOT_PASSWORD")
	}

	if a.jobs != nil {
		if err := a.jobs.Start(ctx); err != nil {
			return err
		}
		if err := a.startRiverUI(ctx); err != nil {
			return fmt.Errorf("river ui: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	fmt.Fprintf(stdout, "listening on http://%s\n", displayAddr(ln.Addr()))
	log.Info("listening", "addr", ln.Addr().String(), "version", version, "database", a.store.Dialect())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight", "timeout", cfg.ShutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
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

// handler wires the HTTP surface.
func (a *app) handler() http.Handler {
	resolver := &graph.Resolver{Auth: a.auth, Accounting: a.acct, StatusInfo: statusSource{a}, Engine: a.engine}
	checks := []server.Checker{{Name: "database", Check: a.store.Ping}}
	if a.redis != nil {
		checks = append(checks, server.Checker{Name: "redis", Check: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }})
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
		Extra:        a.extraRoutes(),
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
	for _, d := range provider.Descriptors() {
		info := lookup.ProviderStatus{Name: d.Name, Enabled: s.a.cfg.Providers[d.Name].Enabled,
			Keyless: d.Key != provider.KeyRequired, Rate: s.a.cfg.Providers[d.Name].Rate.String()}
		if p, ok := s.a.providers.Get(d.Name); ok {
			info.Configured = p.Configured()
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

// extraRoutes gathers the routes of the REST layer, the portal and the
// admin mounts; each lives in its own file (routes_*.go).
func (a *app) extraRoutes() map[string]http.Handler {
	out := map[string]http.Handler{}
	for _, part := range []map[string]http.Handler{a.restRoutes(), a.portalRoutes(), a.adminRoutes()} {
		for pattern, h := range part {
			out[pattern] = h
		}
	}
	return out
}
