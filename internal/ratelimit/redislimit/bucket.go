package redislimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// Buckets are token buckets in Redis, one per key and one budget for every
// replica sharing the Redis and the prefix: Rate.Events tokens per Rate.Per,
// burst Rate.Events, refilled continuously (GCRA, by redis_rate).
//
// Keys: the bucket of key lives at "rate:"+prefix+key (redis_rate adds
// "rate:"), a drain at prefix+key+":drain". Both expire by themselves.
type Buckets struct {
	rdb    redis.UniversalClient
	lim    *redis_rate.Limiter
	prefix string
}

// NewBuckets returns Redis-backed buckets under prefix.
func NewBuckets(rdb redis.UniversalClient, prefix string) *Buckets {
	return &Buckets{rdb: rdb, lim: redis_rate.NewLimiter(rdb), prefix: prefix}
}

// limit is rate as redis_rate reads it; rate is not zero.
func limit(rate ratelimit.Rate) redis_rate.Limit {
	return redis_rate.Limit{Rate: rate.Events, Burst: rate.Events, Period: rate.Per}
}

// Take consumes one token of key's bucket when one is available now and
// returns 0; otherwise it consumes nothing and returns how long until a
// token will be available: the rest of a drain, or else redis_rate's
// RetryAfter. A zero rate is unlimited: Take returns 0 without asking Redis.
// It makes two round trips: the drain first, then the bucket.
func (b *Buckets) Take(ctx context.Context, key string, rate ratelimit.Rate) (time.Duration, error) {
	if rate.IsZero() {
		return 0, nil
	}
	left, err := b.rdb.PTTL(ctx, b.prefix+key+":drain").Result()
	if err != nil {
		return 0, fmt.Errorf("redis bucket %s: drain: %w", key, err)
	}
	if left > 0 {
		return left, nil
	}
	res, err := b.lim.AllowN(ctx, b.prefix+key, limit(rate), 1)
	if err != nil {
		return 0, fmt.Errorf("redis bucket %s: %w", key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	// A refusal always waits: 0 would read as a granted token.
	return max(res.RetryAfter, time.Millisecond), nil
}

// extendDrain sets KEYS[1] to expire in ARGV[1] milliseconds unless it
// already lives longer: a later drain never shortens an earlier one.
var extendDrain = redis.NewScript(`
local ms = tonumber(ARGV[1])
if redis.call("PTTL", KEYS[1]) < ms then
	redis.call("SET", KEYS[1], "1", "PX", ms)
end
return 0
`)

// Drain empties key's bucket and makes no token available for d, for every
// replica, as after an upstream 429 with Retry-After d: Take answers the
// rest of the drain until it ends. The bucket refills as usual meanwhile, so
// when the drain ends it holds what it refilled since (at most the burst).
// A later drain never shortens an earlier one. A zero rate is unlimited and
// is not drained.
func (b *Buckets) Drain(ctx context.Context, key string, rate ratelimit.Rate, d time.Duration) error {
	if rate.IsZero() {
		return nil
	}
	var errs []error
	if d > 0 {
		ms := max(d.Milliseconds(), 1)
		if err := extendDrain.Run(ctx, b.rdb, []string{b.prefix + key + ":drain"}, ms).Err(); err != nil {
			errs = append(errs, fmt.Errorf("redis bucket %s: drain: %w", key, err))
		}
	}
	// Taking up to the whole burst takes whatever the bucket holds.
	if _, err := b.lim.AllowAtMost(ctx, b.prefix+key, limit(rate), rate.Events); err != nil {
		errs = append(errs, fmt.Errorf("redis bucket %s: empty: %w", key, err))
	}
	return errors.Join(errs...)
}

// Peek returns how many whole tokens key's bucket holds now and how long
// until it is full again (0 when full), taking nothing (redis_rate with a
// cost of 0). A drained bucket holds none until the drain ends.
func (b *Buckets) Peek(ctx context.Context, key string, rate ratelimit.Rate) (tokens int, full time.Duration, err error) {
	if rate.IsZero() {
		return 0, 0, nil
	}
	left, err := b.rdb.PTTL(ctx, b.prefix+key+":drain").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("redis bucket %s: drain: %w", key, err)
	}
	res, err := b.lim.AllowN(ctx, b.prefix+key, limit(rate), 0)
	if err != nil {
		return 0, 0, fmt.Errorf("redis bucket %s: %w", key, err)
	}
	full = max(res.ResetAfter, 0)
	if left > 0 {
		return 0, max(full, left), nil
	}
	return min(max(res.Remaining, 0), rate.Events), full, nil
}
