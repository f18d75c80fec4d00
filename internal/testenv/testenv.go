// Package testenv gives tests the real PostgreSQL and Redis of the machine,
// each test isolated: a fresh PostgreSQL schema, a Redis key prefix. Tests
// fail (never skip) when a service does not answer: CI starts them.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// PostgresBaseURL is the server tests use: GADGET_TEST_DATABASE_URL or the
// local trust-auth default.
func PostgresBaseURL() string {
	if v := os.Getenv("GADGET_TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// RedisURL is the server tests use: GADGET_TEST_REDIS_URL or the local one.
func RedisURL() string {
	if v := os.Getenv("GADGET_TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

// Name returns a short random name for isolation.
func Name(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// PoolConns bounds each pgx pool opened on a URL from Postgres in a test
// (not a benchmark): the store's pool and its job-queue pool alike, so an
// app in a test holds at most 2×PoolConns connections. The bound that
// keeps go test ./... under PostgreSQL's default max_connections (100, 3
// reserved): at default parallelism on 2 cores, 2 packages run at once and
// each runs at most 2 tests at once; only cmd/gadget runs apps, at most 4
// in one test (TestRiverAcrossProcesses) and 2 in any other, so
// (4+2)×2×PoolConns = 48, plus a test's own pool and set-up connections
// (≤ 8), plus the other package (internal/jobs: 2 tests × 2 pools ×
// PoolConns = 16) = 72. Pools open connections on demand, so fewer are
// used in practice.
const PoolConns = 4

// Postgres creates a fresh schema, drops it when the test ends, and returns
// a URL whose search_path is that schema, and (in a test) whose pools hold
// at most PoolConns connections. A pgx.Connect on the URL needs the
// pool_max_conns parameter removed; pgxpool.New takes it as it is.
func Postgres(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := PostgresBaseURL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s does not answer (start it; see .ci/run): %v", base, err)
	}
	defer conn.Close(ctx)
	schema := Name("t_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if _, bench := t.(*testing.B); !bench && !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", strconv.Itoa(PoolConns))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns a client of the test Redis and a key prefix unique to the
// test; keys under the prefix are deleted when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s does not answer (start it; see .ci/run): %v", RedisURL(), err)
	}
	prefix := Name("test:") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}
