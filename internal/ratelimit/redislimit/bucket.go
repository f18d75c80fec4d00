package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// Buckets are token buckets in Redis (GCRA), one budget for every replica.
type Buckets struct {
	rdb    redis.UniversalClient
	lim    *redis_rate.Limiter
	prefix string
}

// NewBuckets returns Redis-backed buckets under prefix.
func NewBuckets(rdb redis.UniversalClient, prefix string) *Buckets {
	return &Buckets{rdb: rdb, lim: redis_rate.NewLimiter(rdb), prefix: prefix}
}

// Take consumes a token and returns 0, or returns how long until one is
// available without consuming.
func (b *Buckets) Take(ctx context.Context, key string, rate provider.Rate) (time.Duration, error) {
	if rate.IsZero() {
		return 0, nil
	}
	if left, err := b.rdb.PTTL(ctx, b.prefix+key+":drain").Result(); err != nil {
		return 0, fmt.Errorf("redis bucket: %w", err)
	} else if left > 0 {
		return left, nil
	}
	res, err := b.lim.Allow(ctx, b.prefix+key, redis_rate.Limit{Rate: rate.Events, Burst: max(rate.Events, 1), Period: rate.Per})
	if err != nil {
		return 0, fmt.Errorf("redis bucket: %w", err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Millisecond), nil
}

// Drain blocks key for d for every replica.
func (b *Buckets) Drain(ctx context.Context, key string, _ provider.Rate, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if err := b.rdb.Set(ctx, b.prefix+key+":drain", "1", d).Err(); err != nil {
		return fmt.Errorf("redis bucket drain: %w", err)
	}
	return nil
}

// Locker hands one process at a time the right to call upstream for a key.
type Locker struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewLocker returns a Redis locker under prefix.
func NewLocker(rdb redis.UniversalClient, prefix string) *Locker {
	return &Locker{rdb: rdb, prefix: prefix}
}

var unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// TryLock takes key for at most ttl. unlock releases it only while we still
// hold it.
func (l *Locker) TryLock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, err
	}
	token := hex.EncodeToString(b[:])
	ok, err := l.rdb.SetNX(ctx, l.prefix+key, token, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("redis lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() { unlockScript.Run(context.WithoutCancel(ctx), l.rdb, []string{l.prefix + key}, token) }, true, nil
}
