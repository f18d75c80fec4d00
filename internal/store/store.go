// Package store is the ent-backed storage of users and usage logs, on the
// embedded SQLite default or on PostgreSQL through pgx, with versioned
// migrations applied by Migrate.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/inspector-gadget/gadget/ent"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// Store is the database.
type Store struct {
	db      *sql.DB
	pool    *pgxpool.Pool // nil on SQLite
	queue   *pgxpool.Pool // the job queue's pool, opened on demand
	qmu     sync.Mutex
	client  *ent.Client
	dialect string
	path    string // SQLite file
	now     func() time.Time
}

// Open connects to url: "sqlite://<path>" (the embedded default) or
// "postgres://…"/"postgresql://…". It does not migrate.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	case strings.HasPrefix(rawURL, "sqlite://"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite://"))
	default:
		return nil, errors.New("database url must start with sqlite:// or postgres://")
	}
}

func openPostgres(ctx context.Context, rawURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("postgres url: %s", redactURL(err.Error(), rawURL))
	}
	if !strings.Contains(rawURL, "pool_max_conns") {
		// pgx's default (4 on 2 cores) starves a process whose requests and
		// River workers share the pool; 20 here and 20 for the job queue's
		// pool (QueuePool, plus its two LISTEN connections), at most, per
		// process; pool_max_conns in the URL sets both
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s", redactURL(err.Error(), rawURL))
	}
	db := stdlib.OpenDBFromPool(pool)
	s := &Store{db: db, pool: pool, dialect: dialect.Postgres, now: time.Now}
	s.client = ent.NewClient(ent.Driver(entsql.OpenDB(dialect.Postgres, db)))
	return s, nil
}

// redactURL removes a password that a driver error may echo.
func redactURL(msg, rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "xxxxx")
		}
	}
	return msg
}

func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite url needs a file path, e.g. sqlite://./data/gadget.db")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Store{db: db, dialect: dialect.SQLite, path: path, now: time.Now}
	s.client = ent.NewClient(ent.Driver(entsql.OpenDB(dialect.SQLite, db)))
	return s, nil
}

// Dialect is "postgres" or "sqlite3".
func (s *Store) Dialect() string { return s.dialect }

// Pool is the pgx pool on PostgreSQL (nil on SQLite), for River.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Client is the ent client.
func (s *Store) Client() *ent.Client { return s.client }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// queueListeners is how many connections of the queue pool are held by
// LISTEN for as long as the process runs.
const queueListeners = 2

// QueuePool is a second pool on the same PostgreSQL database for the job
// queue, whose transactions commit asynchronously (synchronous_commit
// off): each one carries a NOTIFY, and PostgreSQL serialises committing
// NOTIFY transactions on one lock held across the WAL flush, which would
// queue every job behind the disk. A PostgreSQL crash can lose the last
// few hundred milliseconds of job state and of the usage rows written with
// it (wal_writer_delay, 200 ms by default, three times at most); an
// application crash loses nothing that was committed.
func (s *Store) QueuePool(ctx context.Context) (*pgxpool.Pool, error) {
	if s.pool == nil {
		return nil, fmt.Errorf("store: the job queue needs PostgreSQL")
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.queue != nil {
		return s.queue, nil
	}
	cfg := s.pool.Config()
	// two of its connections are held for the process's life by LISTENs
	// (River's and the job dispatcher's): as many as the main pool's are
	// left for statements
	cfg.MaxConns += queueListeners
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	// River's statements are planned once per connection instead of on
	// every execution (planning its completing update cost twice its
	// execution); without sequential scans, a plan made while river_job is
	// still small stays an index plan as the table grows.
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	cfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
	// a disabled seq scan costs 1e10 in a plan, which would JIT-compile
	// every statement on the small tables that have no index to use
	// (river_leader): 200 ms of CPU each. Nothing here is worth JIT.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: queue pool: %w", err)
	}
	s.queue = pool
	return pool, nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.client.Close()
	if s.queue != nil {
		s.queue.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Migrate applies every pending migration. It is idempotent and safe with
// several processes starting at once: PostgreSQL serialises them with an
// advisory lock, SQLite with a lock file beside the database.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	var (
		gd   goose.Dialect
		sub  string
		opts []goose.ProviderOption
	)
	if s.dialect == dialect.Postgres {
		gd, sub = goose.DialectPostgres, "migrations/postgres"
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	} else {
		gd, sub = goose.DialectSQLite3, "migrations/sqlite"
		unlock, err := fileLock(s.path + ".migrate.lock")
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	fsys, err := fs.Sub(migrations, sub)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(gd, s.db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, r := range res {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// fileLock takes an exclusive flock on path, waiting for it.
func fileLock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("migrate lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("migrate lock: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
