// Package rediscache is the shared cache of provider answers in Redis.
package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache stores values under prefix+key with PX expiry.
type Cache struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Redis cache.
func New(rdb redis.UniversalClient, prefix string) *Cache { return &Cache{rdb: rdb, prefix: prefix} }

// Get returns the value and its remaining lifetime (one round trip).
func (c *Cache) Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	pipe := c.rdb.Pipeline()
	get := pipe.Get(ctx, c.prefix+key)
	ttl := pipe.PTTL(ctx, c.prefix+key)
	_, err := pipe.Exec(ctx)
	if errors.Is(err, redis.Nil) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("redis cache get: %w", err)
	}
	v, err := get.Bytes()
	if err != nil {
		return nil, 0, false, nil
	}
	left := ttl.Val()
	if left <= 0 {
		return nil, 0, false, nil
	}
	return v, left, true, nil
}

// Set stores val for ttl.
func (c *Cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	if err := c.rdb.Set(ctx, c.prefix+key, val, ttl).Err(); err != nil {
		return fmt.Errorf("redis cache set: %w", err)
	}
	return nil
}

// Delete removes key.
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+key).Err(); err != nil {
		return fmt.Errorf("redis cache delete: %w", err)
	}
	return nil
}
