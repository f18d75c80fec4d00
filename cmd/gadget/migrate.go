package main

import (
	"context"
	"fmt"
	"io"

	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/store"
)

const migrateUsage = `Usage: gadget migrate

Applies pending database migrations (GADGET_DATABASE_URL), and on
PostgreSQL River's job tables. Idempotent, and safe when several processes
run it at once. "gadget serve" and "gadget worker" also run it.`

func cmdMigrate(ctx context.Context, args []string, getenv envFunc, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", migrateUsage, stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("migrate: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	river := 0
	if cfg.IsPostgres() {
		if river, err = jobs.Migrate(ctx, s.Pool()); err != nil {
			return err
		}
	}
	if len(applied) == 0 && river == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	if river > 0 {
		fmt.Fprintf(stdout, "applied %d River migrations\n", river)
	}
	return nil
}
