package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/inspector-gadget/gadget/internal/provider"
)

const workerUsage = `Usage: gadget worker [--queues virustotal,abuseipdb] [--workers N]

Works provider calls queued as River jobs (GADGET_EXECUTOR=river, on
PostgreSQL): one queue per provider, GADGET_<P>_WORKERS jobs at a time
(--workers N sets N per queue). --queues names the providers whose jobs
this process takes (default: every enabled provider). Stops gracefully on
SIGTERM: jobs in progress finish within GADGET_SHUTDOWN_TIMEOUT.`

func cmdWorker(ctx context.Context, args []string, getenv envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("worker", workerUsage, stdout)
	queues := fs.String("queues", "", "comma-separated providers whose queues to work (default: all enabled)")
	workers := fs.Int("workers", 0, "workers per queue (default GADGET_<P>_WORKERS)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("worker: unexpected argument %q", fs.Arg(0))
	}
	if *workers < 0 {
		return usagef("worker: --workers must be positive")
	}
	var names []string
	for _, n := range strings.Split(*queues, ",") {
		if n = strings.TrimSpace(strings.ToLower(n)); n != "" {
			names = append(names, n)
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.Executor != "river" {
		return usagef("worker: needs the River executor (GADGET_EXECUTOR=river on PostgreSQL); %s runs provider calls in the API", cfg.Executor)
	}
	log := newLogger(stderr, cfg.LogLevel)
	tuneGC(ctx, getenv, log)
	a, err := build(ctx, cfg, log, buildOptions{migrate: true, queues: func(reg *provider.Registry) (map[string]int, error) {
		return workQueues(cfg, reg, names, *workers)
	}})
	if err != nil {
		return err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		a.close(stopCtx)
	}()
	if err := a.start(ctx); err != nil {
		return err
	}
	var list []string
	for _, d := range provider.Descriptors() {
		if _, ok := a.providers.Get(d.Name); ok && (len(names) == 0 || slices.Contains(names, d.Name)) {
			list = append(list, d.Name)
		}
	}
	fmt.Fprintf(stdout, "working queues %s\n", strings.Join(list, ","))
	log.Info("worker started", "queues", strings.Join(list, ","), "version", version)
	<-ctx.Done()
	log.Info("shutting down: finishing jobs in progress", "timeout", cfg.ShutdownTimeout.String())
	return nil
}
