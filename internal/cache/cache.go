// Package cache holds the in-process cache of provider answers (Memory) and
// the two-level cache (Tiered) that puts it in front of a shared one such as
// cache/rediscache.
//
// Every cache here stores values of one type with a lifetime per entry and
// has the method set the enrichment engine declares as its Cache:
//
//	Get(ctx, key) (val V, ttlLeft time.Duration, ok bool, err error)
//	Set(ctx, key, val, ttl) error
//	Delete(ctx, key) error
//
// Memory keeps values as they are; a shared cache (rediscache) keeps bytes,
// and Tiered encodes and decodes between the two with a Codec.
//
// The package exports no interface of its own: consumers declare the one
// they use.
package cache

import (
	"context"
	"time"
)

// store is the method set NewTiered combines: the engine's Cache.
type store[V any] interface {
	Get(ctx context.Context, key string) (val V, ttlLeft time.Duration, ok bool, err error)
	Set(ctx context.Context, key string, val V, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}

// Codec turns values into the bytes a shared cache keeps, and back.
type Codec[V any] interface {
	Encode(V) ([]byte, error)
	Decode([]byte) (V, error)
}

// Raw is the Codec of byte values: it keeps them as they are.
type Raw struct{}

// Encode returns b.
func (Raw) Encode(b []byte) ([]byte, error) { return b, nil }

// Decode returns b.
func (Raw) Decode(b []byte) ([]byte, error) { return b, nil }
