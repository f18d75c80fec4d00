package redislimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Peers counts the processes that take from the shared budgets, so that
// each knows its share when Redis is lost (ratelimit.Fallback). Each Beat
// records this process in a sorted set at key, scored by Redis's clock,
// forgets members not seen for window and returns how many remain.
type Peers struct {
	rdb    redis.UniversalClient
	key    string
	id     string
	window time.Duration
}

// NewPeers returns the peer count at key; a process that has not beaten
// for window is no longer counted.
func NewPeers(rdb redis.UniversalClient, key string, window time.Duration) *Peers {
	return &Peers{rdb: rdb, key: key, id: rand.Text(), window: max(window, time.Second)}
}

// beatScript: ZADD this process at Redis's time, drop the stale, count.
var beatScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call("ZADD", KEYS[1], now, ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", now - window)
redis.call("PEXPIRE", KEYS[1], 2 * window)
return redis.call("ZCARD", KEYS[1])
`)

// Beat records this process and returns the number of processes seen
// within the window, this one included.
func (p *Peers) Beat(ctx context.Context) (int, error) {
	n, err := beatScript.Run(ctx, p.rdb, []string{p.key}, p.id, p.window.Milliseconds()).Int()
	if err != nil {
		return 0, fmt.Errorf("redis peers: %w", err)
	}
	return n, nil
}
