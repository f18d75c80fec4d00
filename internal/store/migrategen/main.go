// Command migrategen writes versioned migration files (goose format) for
// PostgreSQL and SQLite from the ent schema, without the Atlas CLI. It replays
// the existing files into a clean development database and writes a new file
// only when the schema has changed, so running it on an unchanged schema
// changes nothing.
//
//	go run ./internal/store/migrategen -name add_x [-pg postgres://...]
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/inspector-gadget/gadget/ent/migrate"
)

func main() {
	name := flag.String("name", "change", "name of the new migration, if one is needed")
	dir := flag.String("dir", "internal/store/migrations", "folder holding postgres/ and sqlite/")
	pg := flag.String("pg", envOr("GADGET_DEV_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server used to create a throw-away dev database")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, *name, *dir, *pg); err != nil {
		fmt.Fprintln(os.Stderr, "migrategen:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, name, dir, pgURL string) error {
	sqliteDB, err := sql.Open("sqlite", "file:migrategen?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return err
	}
	defer sqliteDB.Close()
	if err := diff(ctx, sqliteDB, dialect.SQLite, dir+"/sqlite", name); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}

	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	devName := fmt.Sprintf("gadget_migrategen_%d", os.Getpid())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+devName); err != nil {
		return fmt.Errorf("create dev database: %w", err)
	}
	defer admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+devName+" WITH (FORCE)")
	u, err := url.Parse(pgURL)
	if err != nil {
		return err
	}
	u.Path = "/" + devName
	devDB, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer devDB.Close()
	if err := diff(ctx, devDB, dialect.Postgres, dir+"/postgres", name); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func diff(ctx context.Context, db *sql.DB, dialectName, path, name string) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	d, err := sqltool.NewGooseDir(path)
	if err != nil {
		return err
	}
	m := migrate.NewSchema(entsql.OpenDB(dialectName, db))
	return m.NamedDiff(ctx, strings.ReplaceAll(name, " ", "_"),
		schema.WithDir(d),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
}
