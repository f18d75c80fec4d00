// Package redislimit holds Redis-backed limiters, so that every replica
// shares one budget.
package redislimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Failures is a sliding-window failure counter in a Redis sorted set per
// key, shared by every replica.
type Failures struct {
	rdb    redis.UniversalClient
	prefix string
	max    int
	window time.Duration
	now    func() time.Time
}

// NewFailures returns a Failures limiter allowing max failures per window.
func NewFailures(rdb redis.UniversalClient, prefix string, max int, window time.Duration) *Failures {
	return &Failures{rdb: rdb, prefix: prefix, max: max, window: window, now: time.Now}
}

// Wait returns how long key must wait; zero when it may try now.
func (f *Failures) Wait(ctx context.Context, key string) (time.Duration, error) {
	k := f.prefix + key
	now := f.now()
	pipe := f.rdb.TxPipeline()
	pipe.ZRemRangeByScore(ctx, k, "-inf", strconv.FormatInt(now.Add(-f.window).UnixMicro(), 10))
	rng := pipe.ZRevRangeWithScores(ctx, k, 0, int64(f.max-1))
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("redis failures wait: %w", err)
	}
	zs := rng.Val()
	if len(zs) < f.max {
		return 0, nil
	}
	oldest := time.UnixMicro(int64(zs[len(zs)-1].Score))
	if d := oldest.Add(f.window).Sub(now); d > 0 {
		return d, nil
	}
	return 0, nil
}

// Fail records a failure for key.
func (f *Failures) Fail(ctx context.Context, key string) error {
	k := f.prefix + key
	now := f.now()
	pipe := f.rdb.TxPipeline()
	member := uuid.NewString()
	pipe.ZAdd(ctx, k, redis.Z{Score: float64(now.UnixMicro()), Member: member})
	pipe.PExpire(ctx, k, f.window+time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis failures record: %w", err)
	}
	return nil
}
