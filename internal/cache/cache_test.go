package cache_test

import (
	"context"
	"time"

	"github.com/inspector-gadget/gadget/internal/cache"
)

// Cache is the interface the enrichment engine declares (enrich.Cache).
type Cache interface {
	Get(ctx context.Context, key string) (val []byte, ttlLeft time.Duration, ok bool, err error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

var (
	_ Cache = (*cache.Memory[[]byte])(nil)
	_ Cache = (*cache.Tiered[[]byte])(nil)
)
