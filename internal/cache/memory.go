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
type item[V any] struct {
	val V
	ttl time.Duration
}

// itemExpiry gives each entry the lifetime stored with it, from its latest
// write; reads leave it unchanged.
func itemExpiry[V any]() otter.ExpiryCalculator[string, item[V]] {
	return otter.ExpiryWritingFunc(func(e otter.Entry[string, item[V]]) time.Duration { return e.Value.ttl })
}

// Memory is a size-bounded in-process cache (otter, S3-FIFO eviction) with a
// lifetime per entry. It holds values as they are, so a cached value is
// never encoded or decoded: readers share it and must not change it. It is
// safe for concurrent use.
type Memory[V any] struct {
	c *otter.Cache[string, item[V]]
}

// NewMemory returns a cache holding at most maxEntries values; a
// non-positive maxEntries means DefaultMaxEntries.
func NewMemory[V any](maxEntries int) *Memory[V] {
	return newMemory[V](maxEntries, nil)
}

// newMemory is NewMemory with otter's clock; nil means the real one.
func newMemory[V any](maxEntries int, clock otter.Clock) *Memory[V] {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	// The options are valid for every maxEntries > 0, so Must cannot panic.
	return &Memory[V]{c: otter.Must(&otter.Options[string, item[V]]{
		MaximumSize:      maxEntries,
		ExpiryCalculator: itemExpiry[V](),
		Clock:            clock,
	})}
}

// Len is about how many entries the cache holds (otter's estimate).
func (m *Memory[V]) Len() int { return m.c.EstimatedSize() }

// Get returns key's value and its remaining lifetime. The value is shared
// with the cache and later readers: do not modify it. The error is always
// nil.
func (m *Memory[V]) Get(_ context.Context, key string) (V, time.Duration, bool, error) {
	var zero V
	e, ok := m.c.GetEntry(key)
	if !ok {
		return zero, 0, false, nil
	}
	// Both times are in the cache clock's units.
	left := time.Duration(e.ExpiresAtNano - e.SnapshotAtNano)
	if left <= 0 {
		return zero, 0, false, nil
	}
	return e.Value.val, left, true, nil
}

// Peek is Get without a context: the memory cache never waits.
func (m *Memory[V]) Peek(key string) (V, bool) {
	v, _, ok, _ := m.Get(context.Background(), key)
	return v, ok
}

// Set stores val under key for ttl, replacing any earlier value and its
// lifetime; a byte slice is copied, any other value is kept as it is. A
// non-positive ttl removes key. The error is always nil.
func (m *Memory[V]) Set(_ context.Context, key string, val V, ttl time.Duration) error {
	if ttl <= 0 {
		m.c.Invalidate(key)
		return nil
	}
	if b, ok := any(val).([]byte); ok {
		val = any(bytes.Clone(b)).(V)
	}
	m.c.Set(key, item[V]{val: val, ttl: ttl})
	return nil
}

// Delete removes key. The error is always nil.
func (m *Memory[V]) Delete(_ context.Context, key string) error {
	m.c.Invalidate(key)
	return nil
}
