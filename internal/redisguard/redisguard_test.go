package redisguard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/redisguard"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func client(t *testing.T, url string, g *redisguard.Guard) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	redisguard.FailFast(opt)
	c := redis.NewClient(opt)
	c.AddHook(g)
	t.Cleanup(func() { c.Close() })
	return c
}

// With its Redis killed, a guarded client fails its first commands within
// the fail-fast timeouts, then every command at once with ErrUnavailable
// (no network), and is found back within about OpenFor once Redis returns.
// Redteam: before, every Redis operation waited for five dial attempts.
// The Redis is the test's own, so killing it disturbs nobody.
func TestGuardFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedis(t)
	var changes []bool
	g := redisguard.New(redisguard.Config{OpenFor: 300 * time.Millisecond, OnChange: func(up bool) { changes = append(changes, up) }})
	c := client(t, srv.URL(), g)
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil || !g.Up() {
		t.Fatalf("Set = %v, up = %v; want ok, up", err, g.Up())
	}
	if err := c.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) || !g.Up() {
		t.Fatalf("a miss (redis.Nil) = %v, up = %v: a reply is not an outage", err, g.Up())
	}

	srv.Kill()
	start := time.Now()
	for i := 0; i < redisguard.DefaultFailures; i++ {
		if err := c.Get(ctx, "k").Err(); err == nil {
			t.Fatal("Get succeeded with Redis killed")
		}
	}
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("the %d failing commands took %s; want each at once (the port refuses)", redisguard.DefaultFailures, took)
	}
	if g.Up() || g.State() != "down" {
		t.Fatalf("state = %s after %d failures, want down", g.State(), redisguard.DefaultFailures)
	}
	start = time.Now()
	for i := 0; i < 100; i++ {
		if err := c.Get(ctx, "k").Err(); !errors.Is(err, redisguard.ErrUnavailable) {
			t.Fatalf("Get while open = %v, want ErrUnavailable", err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("100 commands while open took %s; want no network wait", took)
	}
	pipe := c.Pipeline()
	get := pipe.Get(ctx, "k")
	if _, err := pipe.Exec(ctx); !errors.Is(err, redisguard.ErrUnavailable) || !errors.Is(get.Err(), redisguard.ErrUnavailable) {
		t.Errorf("pipeline while open = %v / %v, want ErrUnavailable on both", err, get.Err())
	}

	srv.Start()
	deadline := time.Now().Add(5 * time.Second)
	for c.Set(ctx, "k", "again", time.Minute).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("Redis restarted but the guard still says %s after 5 s", g.State())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !g.Up() {
		t.Errorf("state = %s after a successful command, want up", g.State())
	}
	if len(changes) != 2 || changes[0] || !changes[1] {
		t.Errorf("OnChange calls = %v, want [false true]", changes)
	}
}

// FailFast shortens only what the URL left to go-redis's defaults.
func TestFailFast(t *testing.T) {
	t.Parallel()
	opt, _ := redis.ParseURL("redis://127.0.0.1:6379/0?dial_timeout=3s")
	redisguard.FailFast(opt)
	if opt.DialTimeout != 3*time.Second || opt.ReadTimeout != 2*time.Second || opt.DialerRetries != 1 || opt.MaxRetries != 1 || opt.PoolTimeout != 2*time.Second {
		t.Errorf("options = dial %s read %s dial retries %d retries %d pool %s", opt.DialTimeout, opt.ReadTimeout, opt.DialerRetries, opt.MaxRetries, opt.PoolTimeout)
	}
}
