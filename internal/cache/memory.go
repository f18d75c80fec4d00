package cache

import (
	"bytes"
	"context"
	"time"

	"github.com/maypok86/otter/v2"
)

// DefaultMaxEntries bounds a Memory built with a non-positive size, and is
// the size gadget gives its in-process cache unless configured.
const DefaultMaxEntries = 100_000

// item is a cached value with the lifetime it was stored for; otter's
// ExpiryCalculator reads the lifetime from it.
type item struct {
	val []byte
	ttl time.Duration
}

// itemExpiry gives each entry the lifetime stored with it, from its latest
// write; reads leave it unchanged.
var itemExpiry = otter.ExpiryWritingFunc(func(e otter.Entry[string, item]) time.Duration { return e.Value.ttl })

// Memory is a size-bounded in-process cache (otter, S3-FIFO eviction) with a
// lifetime per entry. It is safe for concurrent use.
type Memory struct {
	c *otter.Cache[string, item]
}

// NewMemory returns a cache holding at most maxEntries values; a
// non-positive maxEntries means DefaultMaxEntries.
func NewMemory(maxEntries int) *Memory {
	return newMemory(maxEntries, nil)
}

// newMemory is NewMemory with otter's clock; nil means the real one.
func newMemory(maxEntries int, clock otter.Clock) *Memory {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	// The options are valid for every maxEntries > 0, so Must cannot panic.
	return &Memory{c: otter.Must(&otter.Options[string, item]{
		MaximumSize:      maxEntries,
		ExpiryCalculator: itemExpiry,
		Clock:            clock,
	})}
}

// Get returns key's value and its remaining lifetime. The returned slice is
// shared with the cache and later readers: do not modify it. The error is
// always nil.
func (m *Memory) Get(_ context.Context, key string) ([]byte, time.Duration, bool, error) {
	e, ok := m.c.GetEntry(key)
	if !ok {
		return nil, 0, false, nil
	}
	// Both times are in the cache clock's units.
	left := time.Duration(e.ExpiresAtNano - e.SnapshotAtNano)
	if left <= 0 {
		return nil, 0, false, nil
	}
	return e.Value.val, left, true, nil
}

// Set stores a copy of val under key for ttl, replacing any earlier value
// and its lifetime. A non-positive ttl removes key. The error is always nil.
func (m *Memory) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		m.c.Invalidate(key)
		return nil
	}
	m.c.Set(key, item{val: bytes.Clone(val), ttl: ttl})
	return nil
}

// Delete removes key. The error is always nil.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.c.Invalidate(key)
	return nil
}
