package ratelimit

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Limiter (fallback.go) is the interface the enrichment engine declares
// (enrich.Limiter); Buckets and Fallback have it.
var (
	_ Limiter = (*Buckets)(nil)
	_ Limiter = (*Fallback)(nil)
)

// clock is a settable time for Buckets.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestBuckets(t *testing.T) {
	t.Parallel()
	perMin4 := Rate{Events: 4, Per: time.Minute} // a token every 15s, burst 4
	perHour7 := Rate{Events: 7, Per: time.Hour}  // a token every 3600s/7
	// op is one call: Take by default, Drain when drain is set.
	type op struct {
		advance time.Duration
		key     string // "k" when empty
		rate    Rate
		drain   bool
		d       time.Duration // drain duration
		n       int           // repeat the Take n times (1 when 0); each must wait want
		want    time.Duration // Take's wait
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"burst, then a token every interval", []op{
			{rate: perMin4, n: 4, want: 0},
			{rate: perMin4, want: 15 * time.Second},
			{advance: 5 * time.Second, rate: perMin4, want: 10 * time.Second},
			{advance: 10*time.Second - 1, rate: perMin4, want: 1},
			{advance: 1, rate: perMin4, want: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"a refused Take consumes nothing", []op{
			{rate: perMin4, n: 4},
			{rate: perMin4, n: 10, want: 15 * time.Second},
			{advance: 15 * time.Second, rate: perMin4, want: 0},
		}},
		{"refill stops at the burst", []op{
			{rate: perMin4, n: 4},
			{advance: time.Hour, rate: perMin4, n: 4, want: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"partial refill", []op{
			{rate: perMin4, n: 4},
			{advance: 35 * time.Second, rate: perMin4, n: 2, want: 0},
			{rate: perMin4, want: 10 * time.Second},
		}},
		{"interval not a whole number of seconds", []op{
			{rate: perHour7, n: 7},
			{rate: perHour7, want: time.Hour / 7},
		}},
		{"keys are independent", []op{
			{rate: perMin4, n: 4},
			{key: "other", rate: perMin4, n: 4, want: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"zero rate is unlimited", []op{
			{rate: Rate{}, n: 1000, want: 0},
			{rate: Rate{Events: 5}, n: 10, want: 0},
			{rate: Rate{Per: time.Second}, n: 10, want: 0},
			{drain: true, rate: Rate{}, d: time.Hour},
			{rate: Rate{}, want: 0},
		}},
		{"drain blocks for d", []op{
			{rate: perMin4},
			{drain: true, rate: perMin4, d: 10 * time.Second},
			{rate: perMin4, want: 10 * time.Second},
			{advance: 4 * time.Second, rate: perMin4, want: 6 * time.Second},
			// the drain ended; the empty bucket refilled for 10s of 15
			{advance: 6 * time.Second, rate: perMin4, want: 5 * time.Second},
			{advance: 5 * time.Second, rate: perMin4, want: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"drain empties a full bucket; it refills meanwhile", []op{
			{drain: true, rate: perMin4, d: 30 * time.Second},
			{advance: 30*time.Second - 1, rate: perMin4, want: 1},
			{advance: 1, rate: perMin4, n: 2, want: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"after a long drain the bucket is full", []op{
			{rate: perMin4, n: 3},
			{drain: true, rate: perMin4, d: time.Hour},
			{advance: time.Hour, rate: perMin4, n: 4, want: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"drain without a duration only empties", []op{
			{drain: true, rate: perMin4, d: 0},
			{rate: perMin4, want: 15 * time.Second},
		}},
		{"a shorter drain does not shorten a longer one", []op{
			{drain: true, rate: perMin4, d: time.Hour},
			{advance: time.Minute, drain: true, rate: perMin4, d: time.Second},
			{rate: perMin4, want: 59 * time.Minute},
		}},
		{"a longer drain extends a shorter one", []op{
			{drain: true, rate: perMin4, d: time.Second},
			{drain: true, rate: perMin4, d: time.Hour},
			{rate: perMin4, want: time.Hour},
		}},
		{"drain is per key", []op{
			{drain: true, rate: perMin4, d: time.Hour},
			{key: "other", rate: perMin4, want: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			b := NewBuckets(c.Now)
			for i, o := range tt.ops {
				c.Advance(o.advance)
				key := o.key
				if key == "" {
					key = "k"
				}
				if o.drain {
					if err := b.Drain(ctx, key, o.rate, o.d); err != nil {
						t.Fatalf("op %d: Drain: %v", i, err)
					}
					continue
				}
				for j := range max(o.n, 1) {
					w, err := b.Take(ctx, key, o.rate)
					if err != nil {
						t.Fatalf("op %d: Take: %v", i, err)
					}
					if diff := cmp.Diff(o.want, w); diff != "" {
						t.Fatalf("op %d, take %d: wait (-want +got):\n%s", i, j+1, diff)
					}
				}
			}
		})
	}
}

func TestBucketsNeverOverGrant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rate  Rate
		drain bool
		want  int64
	}{
		{"burst 7", Rate{Events: 7, Per: time.Hour}, false, 7},
		{"burst 1", Rate{Events: 1, Per: time.Second}, false, 1},
		{"burst above the callers", Rate{Events: 80, Per: time.Second}, false, 50},
		{"drained", Rate{Events: 7, Per: time.Hour}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := NewBuckets(newClock().Now) // time stands still: no refill
			if tt.drain {
				b.Drain(ctx, "k", tt.rate, time.Minute)
			}
			var granted atomic.Int64
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					w, err := b.Take(ctx, "k", tt.rate)
					switch {
					case err != nil:
						t.Error(err)
					case w == 0:
						granted.Add(1)
					case w < 0 || w > max(tt.rate.Per/time.Duration(tt.rate.Events), time.Minute):
						t.Errorf("wait %v", w)
					}
				})
			}
			wg.Wait()
			if got := granted.Load(); got != tt.want {
				t.Errorf("granted %d of 50, want %d", got, tt.want)
			}
		})
	}
}

func TestBucketsForgetIdleKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	b := NewBuckets(c.Now)
	perSec := Rate{Events: 1, Per: time.Second}
	perDay := Rate{Events: 1, Per: 24 * time.Hour}
	b.Take(ctx, "busy", perDay)                // refilling for a day
	b.Drain(ctx, "drained", perSec, time.Hour) // blocked for an hour
	b.Take(ctx, "fresh-then-full", perSec)     // full again in a second
	for i := range 5 * minSweep {
		b.Take(ctx, "idle"+strconv.Itoa(i), perSec) // full again in a second
	}
	c.Advance(time.Minute)
	// New keys, live for a second: adding them sweeps the idle ones.
	for i := range 5 * minSweep {
		b.Take(ctx, "new"+strconv.Itoa(i), perSec)
	}
	b.mu.Lock()
	n := len(b.m)
	b.mu.Unlock()
	if live := 5*minSweep + 2; n > live {
		t.Errorf("%d buckets kept, want at most the %d live ones", n, live)
	}
	for _, tt := range []struct {
		key  string
		rate Rate
		want time.Duration
	}{
		{"busy", perDay, 24*time.Hour - time.Minute},
		{"drained", perSec, time.Hour - time.Minute},
		{"fresh-then-full", perSec, 0},
		{"idle7", perSec, 0},
	} {
		if w, _ := b.Take(ctx, tt.key, tt.rate); w != tt.want {
			t.Errorf("%s after the sweep: wait %v, want %v", tt.key, w, tt.want)
		}
	}
}
