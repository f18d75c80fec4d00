package ratelimit

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// flaky is a shared limiter that fails while down is set, and otherwise
// always grants.
type flaky struct {
	down    atomic.Bool
	drained atomic.Int64
}

func (f *flaky) Take(context.Context, string, Rate) (time.Duration, error) {
	if f.down.Load() {
		return 0, errors.New("redis: connection refused")
	}
	return 0, nil
}

func (f *flaky) Drain(context.Context, string, Rate, time.Duration) error {
	f.drained.Add(1)
	if f.down.Load() {
		return errors.New("redis: connection refused")
	}
	return nil
}

type fixedPeers int

func (p fixedPeers) Beat(context.Context) (int, error) { return int(p), nil }

func TestRateShare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    Rate
		n    int
		want Rate
	}{
		{Rate{60, time.Minute}, 1, Rate{60, time.Minute}},
		{Rate{60, time.Minute}, 0, Rate{60, time.Minute}},
		{Rate{60, time.Minute}, 4, Rate{15, time.Minute}},
		{Rate{10, time.Minute}, 3, Rate{3, time.Minute}},
		{Rate{4, time.Minute}, 8, Rate{1, 2 * time.Minute}},
		{Rate{}, 4, Rate{}},
	}
	for _, tt := range tests {
		if got := tt.r.Share(tt.n); got != tt.want {
			t.Errorf("%s.Share(%d) = %s, want %s", tt.r, tt.n, got, tt.want)
		}
	}
}

// With the shared limiter failing (Redis down), Take neither errors (which
// refused every upstream call: "refusing to call upstream blind") nor grants
// without limit: it grants this process's share of the budget, the budget
// divided by the peers last counted, and goes back to the shared limiter
// when it answers.
func TestFallbackHoldsTheProcessShare(t *testing.T) {
	t.Parallel()
	shared := &flaky{}
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	f := NewFallback(FallbackConfig{Shared: shared, Peers: fixedPeers(4), Now: clk.Now})
	ctx := context.Background()
	rate := Rate{Events: 20, Per: time.Minute}
	if w, err := f.Take(ctx, "rate:x", rate); w != 0 || err != nil {
		t.Fatalf("Take with the shared limiter up = %s, %v", w, err)
	}
	// the peer count is taken in the background
	deadline := time.Now().Add(2 * time.Second)
	for f.Share(rate) != (Rate{5, time.Minute}) {
		if time.Now().After(deadline) {
			t.Fatalf("share = %s, want 5/m (20/m over 4 peers)", f.Share(rate))
		}
		time.Sleep(5 * time.Millisecond)
	}
	shared.down.Store(true)
	granted := 0
	for i := 0; i < 50; i++ {
		w, err := f.Take(ctx, "rate:x", rate)
		if err != nil {
			t.Fatalf("Take with the shared limiter down = %v, want no error", err)
		}
		if w == 0 {
			granted++
		}
	}
	if granted != 5 || !f.Degraded() {
		t.Errorf("granted %d of 50 with the shared limiter down (degraded %v), want this process's share: 5", granted, f.Degraded())
	}
	clk.Advance(12 * time.Second) // one token of 5/m
	if w, _ := f.Take(ctx, "rate:x", rate); w != 0 {
		t.Errorf("after 12 s Take waits %s, want a refilled token", w)
	}
	// a 429 while down drains the local share
	if err := f.Drain(ctx, "rate:x", rate, time.Minute); err == nil {
		t.Error("Drain with the shared limiter down = nil, want its error reported")
	}
	clk.Advance(30 * time.Second)
	if w, _ := f.Take(ctx, "rate:x", rate); w < 29*time.Second {
		t.Errorf("Take after a local drain waits %s, want the rest of the drain (30 s)", w)
	}
	shared.down.Store(false)
	if w, err := f.Take(ctx, "rate:x", rate); w != 0 || err != nil || f.Degraded() {
		t.Errorf("Take with the shared limiter back = %s, %v (degraded %v); want the shared answer", w, err, f.Degraded())
	}
}

// FallbackFailures counts sign-in attempts in process while the shared
// counter fails, so the throttle holds (per process) through an outage
// instead of failing every sign-in; Forgive reaches the counter that
// counted.
func TestFallbackFailures(t *testing.T) {
	t.Parallel()
	f := FallbackFailures{Shared: failingCounter{}, Local: NewFailures(time.Minute)}
	ctx := context.Background()
	var ids []string
	for i := 0; i < 2; i++ {
		id, wait, err := f.Take(ctx, "ip:1", 2)
		if err != nil || wait != 0 || id == "" {
			t.Fatalf("Take %d with the shared counter down = %q, %s, %v; want counted in process", i, id, wait, err)
		}
		ids = append(ids, id)
	}
	if _, wait, err := f.Take(ctx, "ip:1", 2); err != nil || wait <= 0 {
		t.Errorf("third Take over limit 2 = %s, %v; want a wait and no error", wait, err)
	}
	if err := f.Forgive(ctx, "ip:1", ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, wait, _ := f.Take(ctx, "ip:1", 2); wait != 0 {
		t.Errorf("Take after Forgive waits %s, want the forgiven attempt's room", wait)
	}
}

type failingCounter struct{}

func (failingCounter) Take(context.Context, string, int) (string, time.Duration, error) {
	return "", 0, errors.New("redis down")
}
func (failingCounter) Forgive(context.Context, string, string) error { return errors.New("redis down") }
