package cache

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is an otter.Clock that moves only when told to and never ticks
// (so the cache runs no clean-up goroutine).
type fakeClock struct{ nanos atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) NowNano() int64                      { return c.nanos.Load() }
func (c *fakeClock) Tick(time.Duration) <-chan time.Time { return nil }
func (c *fakeClock) Advance(d time.Duration)             { c.nanos.Add(int64(d)) }

// got is what one Get returned.
type got struct {
	Val  string
	Left time.Duration
	OK   bool
}

func get(t *testing.T, c store[[]byte], key string) got {
	t.Helper()
	v, left, ok, err := c.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return got{Val: string(v), Left: left, OK: ok}
}

func TestMemoryExpiry(t *testing.T) {
	t.Parallel()
	type step struct {
		advance time.Duration
		set     string // value to store under "k" for ttl, unless empty
		ttl     time.Duration
		del     bool
		want    got // Get("k") after the step, checked after every step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fresh entry has its whole ttl", []step{
			{set: "a", ttl: time.Minute, want: got{"a", time.Minute, true}},
		}},
		{"remaining lifetime counts down", []step{
			{set: "a", ttl: time.Minute, want: got{"a", time.Minute, true}},
			{advance: 20 * time.Second, want: got{"a", 40 * time.Second, true}},
			{advance: 39 * time.Second, want: got{"a", time.Second, true}},
		}},
		{"expires at its ttl", []step{
			{set: "a", ttl: time.Minute, want: got{"a", time.Minute, true}},
			{advance: time.Minute - 1, want: got{"a", 1, true}},
			{advance: 1, want: got{}},
		}},
		{"each entry has its own ttl; a rewrite restarts it", []step{
			{set: "a", ttl: time.Minute, want: got{"a", time.Minute, true}},
			{advance: 50 * time.Second, set: "b", ttl: time.Hour, want: got{"b", time.Hour, true}},
			{advance: 30 * time.Minute, want: got{"b", 30 * time.Minute, true}},
		}},
		{"a rewrite may shorten the ttl", []step{
			{set: "a", ttl: time.Hour, want: got{"a", time.Hour, true}},
			{set: "b", ttl: time.Second, want: got{"b", time.Second, true}},
			{advance: time.Second, want: got{}},
		}},
		{"reads do not extend the ttl", []step{
			{set: "a", ttl: 10 * time.Second, want: got{"a", 10 * time.Second, true}},
			{advance: 5 * time.Second, want: got{"a", 5 * time.Second, true}},
			{advance: 5 * time.Second, want: got{}},
		}},
		{"a non-positive ttl stores nothing", []step{
			{set: "a", ttl: 0, want: got{}},
			{set: "a", ttl: -time.Second, want: got{}},
		}},
		{"a non-positive ttl removes an earlier value", []step{
			{set: "a", ttl: time.Hour, want: got{"a", time.Hour, true}},
			{set: "b", ttl: 0, want: got{}},
		}},
		{"delete", []step{
			{set: "a", ttl: time.Hour, want: got{"a", time.Hour, true}},
			{del: true, want: got{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newFakeClock()
			m := newMemory[[]byte](100, clock)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				if s.set != "" {
					if err := m.Set(ctx, "k", []byte(s.set), s.ttl); err != nil {
						t.Fatal(err)
					}
				}
				if s.del {
					if err := m.Delete(ctx, "k"); err != nil {
						t.Fatal(err)
					}
				}
				if diff := cmp.Diff(s.want, get(t, m, "k")); diff != "" {
					t.Errorf("step %d: Get (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestMemoryKeepsACopy(t *testing.T) {
	t.Parallel()
	m := newMemory[[]byte](10, newFakeClock())
	buf := []byte("answer")
	m.Set(context.Background(), "k", buf, time.Minute)
	copy(buf, "xxxxxx") // the caller reuses its buffer
	if diff := cmp.Diff(got{"answer", time.Minute, true}, get(t, m, "k")); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		max    int
		writes int
		want   int // at most this many entries kept
	}{
		{"below the bound keeps everything", 100, 50, 50},
		{"far above the bound", 100, 5000, 100},
		{"non-positive size uses the default", 0, 20_000, DefaultMaxEntries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			m := newMemory[[]byte](tt.max, newFakeClock())
			for i := range tt.writes {
				m.Set(ctx, "k"+strconv.Itoa(i), []byte("x"), time.Hour)
			}
			m.c.CleanUp()
			hits := 0
			for i := range tt.writes {
				if _, _, ok, _ := m.Get(ctx, "k"+strconv.Itoa(i)); ok {
					hits++
				}
			}
			if hits > tt.want || hits == 0 {
				t.Errorf("%d of %d entries kept, want 1 to %d", hits, tt.writes, tt.want)
			}
			if tt.writes <= tt.want && hits != tt.writes {
				t.Errorf("%d of %d entries kept below the bound", hits, tt.writes)
			}
		})
	}
}

// TestMemoryRealClock checks expiry on the real clock, as NewMemory is used.
func TestMemoryRealClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemory[[]byte](100)
	m.Set(ctx, "short", []byte("a"), 50*time.Millisecond)
	m.Set(ctx, "long", []byte("b"), time.Hour)
	start := time.Now()
	for {
		_, _, ok, _ := m.Get(ctx, "short")
		if !ok {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("a 50ms entry still there after 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if g := get(t, m, "long"); !g.OK || g.Val != "b" || g.Left <= 59*time.Minute || g.Left > time.Hour {
		t.Errorf("long entry: %+v, want b with about 1h left", g)
	}
}
