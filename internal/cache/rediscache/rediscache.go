// Package rediscache is the cache of provider answers shared by every replica
// through Redis. It has the method set of the enrichment engine's Cache (see
// package cache).
package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/redisguard"
)

// Cache stores values under prefix+key, each with its own expiry. It is safe
// for concurrent use, and caches sharing a Redis and a prefix share their
// entries.
//
// While a redisguard.Guard on the client has Redis marked down
// (redisguard.ErrUnavailable), Get is a miss and Set and Delete do nothing,
// without an error: the process runs on its in-process level (cache.Tiered's
// L1) and the guard has logged the outage once. Other Redis errors are
// returned.
type Cache struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a cache storing its keys under prefix in rdb.
func New(rdb redis.UniversalClient, prefix string) *Cache {
	return &Cache{rdb: rdb, prefix: prefix}
}

// Get returns key's value and its remaining lifetime (from PTTL), reading
// both in one round trip. A key without an expiry, which Set never writes,
// reads as a miss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, time.Duration, bool, error) {
	k := c.prefix + key
	pipe := c.rdb.Pipeline()
	get := pipe.Get(ctx, k)
	pttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		if errors.Is(err, redisguard.ErrUnavailable) {
			return nil, 0, false, nil
		}
		return nil, 0, false, fmt.Errorf("redis cache get: %w", err)
	}
	v, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("redis cache get: %w", err)
	}
	left, err := pttl.Result()
	if err != nil {
		return nil, 0, false, fmt.Errorf("redis cache get: %w", err)
	}
	// PTTL answers -2 when the key expired since the GET, -1 without expiry.
	if left <= 0 {
		return nil, 0, false, nil
	}
	return v, left, true, nil
}

// Set stores val under key for ttl (at least a millisecond, Redis's
// resolution), replacing any earlier value and expiry. A non-positive ttl
// removes key.
func (c *Cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return c.Delete(ctx, key)
	}
	if err := c.rdb.Set(ctx, c.prefix+key, val, max(ttl, time.Millisecond)).Err(); err != nil && !errors.Is(err, redisguard.ErrUnavailable) {
		return fmt.Errorf("redis cache set: %w", err)
	}
	return nil
}

// Delete removes key.
func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+key).Err(); err != nil && !errors.Is(err, redisguard.ErrUnavailable) {
		return fmt.Errorf("redis cache delete: %w", err)
	}
	return nil
}
