package redislimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// Limiter is the interface the enrichment engine declares (enrich.Limiter).
type Limiter interface {
	Take(ctx context.Context, key string, rate ratelimit.Rate) (wait time.Duration, err error)
	Drain(ctx context.Context, key string, rate ratelimit.Rate, d time.Duration) error
}

var _ Limiter = (*Buckets)(nil)

// redisEnv is testenv.Redis, also cleaning the buckets redis_rate keeps
// under "rate:"+prefix.
func redisEnv(t *testing.T) (*redis.Client, string) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	t.Cleanup(func() { // runs before testenv's cleanup closes rdb
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, "rate:"+prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return rdb, prefix
}

// deadRedis is a client of an address where nothing listens.
func deadRedis(t *testing.T) *redis.Client {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func TestBucketsSharedByReplicas(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	tests := []struct {
		name string
		rate ratelimit.Rate
		want int64 // tokens granted of 20 concurrent Takes
	}{
		{"5 per minute", ratelimit.Rate{Events: 5, Per: time.Minute}, 5},
		{"1 per hour", ratelimit.Rate{Events: 1, Per: time.Hour}, 1},
		{"7 per day", ratelimit.Rate{Events: 7, Per: 24 * time.Hour}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			replicas := []*Buckets{NewBuckets(rdb, prefix), NewBuckets(rdb, prefix)}
			every := tt.rate.Per / time.Duration(tt.rate.Events)
			var granted atomic.Int64
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					w, err := replicas[i%2].Take(ctx, tt.name, tt.rate)
					switch {
					case err != nil:
						t.Error(err)
					case w == 0:
						granted.Add(1)
					case w > every:
						t.Errorf("wait %v, want at most one token interval (%v)", w, every)
					}
				})
			}
			wg.Wait()
			if got := granted.Load(); got != tt.want {
				t.Errorf("granted %d of 20 across two replicas, want %d", got, tt.want)
			}
		})
	}
}

func TestBucketsWait(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	ctx := context.Background()
	b := NewBuckets(rdb, prefix)
	rate := ratelimit.Rate{Events: 5, Per: time.Minute} // a token every 12s
	for i := range 5 {
		if w, err := b.Take(ctx, "k", rate); w != 0 || err != nil {
			t.Fatalf("burst token %d: wait %v err %v", i+1, w, err)
		}
	}
	for range 3 { // refusals consume nothing: the wait does not grow
		if w, err := b.Take(ctx, "k", rate); err != nil || w < 11*time.Second || w > 12*time.Second {
			t.Errorf("empty bucket: wait %v err %v, want just under 12s", w, err)
		}
	}
	if w, err := b.Take(ctx, "other", rate); w != 0 || err != nil {
		t.Errorf("another key: wait %v err %v", w, err)
	}
}

func TestBucketsRefill(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	ctx := context.Background()
	b := NewBuckets(rdb, prefix)
	rate := ratelimit.Rate{Events: 2, Per: 200 * time.Millisecond} // a token every 100ms
	for range 2 {
		if w, err := b.Take(ctx, "k", rate); w != 0 || err != nil {
			t.Fatalf("burst: wait %v err %v", w, err)
		}
	}
	w, err := b.Take(ctx, "k", rate)
	if err != nil || w <= 0 || w > 100*time.Millisecond {
		t.Fatalf("empty bucket: wait %v err %v, want at most 100ms", w, err)
	}
	time.Sleep(w)
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		w, err := b.Take(ctx, "k", rate)
		if err != nil {
			t.Fatal(err)
		}
		if w == 0 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("no token 5s after the announced wait; still waiting %v", w)
		}
	}
}

func TestBucketsUnlimited(t *testing.T) {
	t.Parallel()
	b := NewBuckets(deadRedis(t), "x:") // a zero rate never asks Redis
	for _, rate := range []ratelimit.Rate{{}, {Events: 5}, {Per: time.Second}} {
		if w, err := b.Take(context.Background(), "k", rate); w != 0 || err != nil {
			t.Errorf("Take(%v): wait %v err %v", rate, w, err)
		}
		if err := b.Drain(context.Background(), "k", rate, time.Minute); err != nil {
			t.Errorf("Drain(%v): %v", rate, err)
		}
	}
}

func TestBucketsRedisDown(t *testing.T) {
	t.Parallel()
	b := NewBuckets(deadRedis(t), "x:")
	rate := ratelimit.Rate{Events: 5, Per: time.Minute}
	if _, err := b.Take(context.Background(), "k", rate); err == nil {
		t.Error("Take: no error")
	}
	if err := b.Drain(context.Background(), "k", rate, time.Minute); err == nil {
		t.Error("Drain: no error")
	}
}

// TestBucketsDrainShared: a drain by one replica blocks the other for about
// d, then the bucket serves again.
func TestBucketsDrainShared(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	ctx := context.Background()
	a, b := NewBuckets(rdb, prefix), NewBuckets(rdb, prefix)
	rate := ratelimit.Rate{Events: 100, Per: time.Second} // a token every 10ms
	const d = 500 * time.Millisecond
	start := time.Now()
	if err := a.Drain(ctx, "k", rate, d); err != nil {
		t.Fatal(err)
	}
	w, err := b.Take(ctx, "k", rate)
	if err != nil || w < d/2 || w > d {
		t.Fatalf("right after the drain: wait %v err %v, want just under %v", w, err, d)
	}
	for ; ; time.Sleep(5 * time.Millisecond) {
		w, err := b.Take(ctx, "k", rate)
		if err != nil {
			t.Fatal(err)
		}
		if w == 0 {
			break
		}
		if w > d {
			t.Fatalf("wait %v during a %v drain", w, d)
		}
		if time.Since(start) > d+5*time.Second {
			t.Fatalf("still drained %v after a %v drain", time.Since(start), d)
		}
	}
	if el := time.Since(start); el < d-50*time.Millisecond {
		t.Errorf("a token %v after a %v drain", el, d)
	}
	// The bucket refilled during the drain: the burst is back.
	for i := range 10 {
		if w, err := a.Take(ctx, "k", rate); w != 0 || err != nil {
			t.Fatalf("token %d after the drain: wait %v err %v", i+2, w, err)
		}
	}
}

// TestBucketsDrainEmpties: whatever the bucket held, a drain leaves no token
// once the drain key has expired: the next comes a token interval later.
func TestBucketsDrainEmpties(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	rate := ratelimit.Rate{Events: 5, Per: time.Minute} // a token every 12s
	tests := []struct {
		name  string
		taken int
		d     time.Duration
	}{
		{"full bucket, no block", 0, 0},
		{"partly used, no block", 2, 0},
		{"empty bucket, no block", 5, 0},
		{"full bucket, short block", 0, 30 * time.Millisecond},
		{"partly used, short block", 3, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			a, b := NewBuckets(rdb, prefix), NewBuckets(rdb, prefix)
			for range tt.taken {
				if w, err := a.Take(ctx, tt.name, rate); w != 0 || err != nil {
					t.Fatalf("setup: wait %v err %v", w, err)
				}
			}
			if err := a.Drain(ctx, tt.name, rate, tt.d); err != nil {
				t.Fatal(err)
			}
			for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
				w, err := b.Take(ctx, tt.name, rate)
				if err != nil {
					t.Fatal(err)
				}
				if w == 0 {
					t.Fatalf("a token %v after the drain", time.Since(start))
				}
				if w > time.Second { // the block ended: the bucket answers
					if w > 12*time.Second {
						t.Errorf("wait %v, want at most one interval (12s)", w)
					}
					break
				}
				if time.Since(start) > 5*time.Second {
					t.Fatalf("still blocked after 5s: wait %v", w)
				}
			}
		})
	}
}

func TestBucketsDrainNeverShortens(t *testing.T) {
	t.Parallel()
	rdb, prefix := redisEnv(t)
	ctx := context.Background()
	a, b := NewBuckets(rdb, prefix), NewBuckets(rdb, prefix)
	rate := ratelimit.Rate{Events: 1000, Per: time.Second}
	tests := []struct {
		name   string
		drains []time.Duration
		min    time.Duration // Take's wait afterwards is in [min, max]
		max    time.Duration
	}{
		{"shorter after longer", []time.Duration{time.Minute, 100 * time.Millisecond}, 50 * time.Second, time.Minute},
		{"longer after shorter", []time.Duration{100 * time.Millisecond, time.Minute}, 50 * time.Second, time.Minute},
		{"one", []time.Duration{2 * time.Second}, time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		for i, d := range tt.drains {
			if err := []*Buckets{a, b}[i%2].Drain(ctx, tt.name, rate, d); err != nil {
				t.Fatal(err)
			}
		}
		if w, err := a.Take(ctx, tt.name, rate); err != nil || w < tt.min || w > tt.max {
			t.Errorf("%s: wait %v err %v, want %v to %v", tt.name, w, err, tt.min, tt.max)
		}
	}
}
