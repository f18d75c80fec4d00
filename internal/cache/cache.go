// Package cache holds the in-process cache of provider answers (Memory) and
// the two-level cache (Tiered) that puts it in front of a shared one such as
// cache/rediscache.
//
// Every cache here stores opaque bytes with a lifetime per entry and has the
// method set the enrichment engine declares as its Cache:
//
//	Get(ctx, key) (val []byte, ttlLeft time.Duration, ok bool, err error)
//	Set(ctx, key, val, ttl) error
//	Delete(ctx, key) error
//
// The package exports no interface of its own: consumers declare the one
// they use.
package cache

import (
	"context"
	"time"
)

// store is the method set NewTiered combines: the engine's Cache.
type store interface {
	Get(ctx context.Context, key string) (val []byte, ttlLeft time.Duration, ok bool, err error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}
