// Package redislimit holds Redis-backed limiters, so that every replica
// shares one budget.
package redislimit

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Failures is a sliding-window attempt counter in a Redis sorted set per
// key, shared by every replica. Take counts an attempt and checks the
// limit in one script, so concurrent attempts cannot all pass; Forgive
// removes a successful one.
type Failures struct {
	rdb    redis.UniversalClient
	prefix string
	window time.Duration
	now    func() time.Time
}

// NewFailures returns a Failures limiter over a window.
func NewFailures(rdb redis.UniversalClient, prefix string, window time.Duration) *Failures {
	return &Failures{rdb: rdb, prefix: prefix, window: window, now: time.Now}
}

// take: KEYS[1] the set; ARGV now (µs), window (µs), limit, id. Returns 0
// when the attempt is counted, else the wait in µs.
var take = redis.NewScript(`
local k = KEYS[1]
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
local n = redis.call('ZCARD', k)
if n >= limit then
  local z = redis.call('ZRANGE', k, n - limit, n - limit, 'WITHSCORES')
  local wait = tonumber(z[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
redis.call('ZADD', k, now, ARGV[4])
redis.call('PEXPIRE', k, math.floor(window / 1000) + 1000)
return 0
`)

// Take counts an attempt for key unless key already has limit attempts in
// the window; then it counts nothing and returns how long to wait.
func (f *Failures) Take(ctx context.Context, key string, limit int) (id string, wait time.Duration, err error) {
	id = uuid.NewString()
	us, err := take.Run(ctx, f.rdb, []string{f.prefix + key}, f.now().UnixMicro(), f.window.Microseconds(), limit, id).Int64()
	if err != nil {
		return "", 0, fmt.Errorf("redis failures take: %w", err)
	}
	if us > 0 {
		return "", time.Duration(us) * time.Microsecond, nil
	}
	return id, 0, nil
}

// Forgive removes the attempt id of key: it succeeded.
func (f *Failures) Forgive(ctx context.Context, key, id string) error {
	if err := f.rdb.ZRem(ctx, f.prefix+key, id).Err(); err != nil {
		return fmt.Errorf("redis failures forgive: %w", err)
	}
	return nil
}
