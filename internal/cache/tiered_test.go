package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeStore is an L2 whose entries keep the remaining lifetime they were
// given, and which logs its calls.
type fakeStore struct {
	name string
	log  *[]string
	err  error // returned by every call when set

	mu sync.Mutex
	m  map[string]got
}

func newFakeStore(name string, log *[]string) *fakeStore {
	return &fakeStore{name: name, log: log, m: map[string]got{}}
}

func (f *fakeStore) record(op, key string, ttl time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.log != nil {
		*f.log = append(*f.log, fmt.Sprintf("%s %s %s %v", f.name, op, key, ttl))
	}
}

func (f *fakeStore) Get(_ context.Context, key string) ([]byte, time.Duration, bool, error) {
	f.record("get", key, 0)
	if f.err != nil {
		return nil, 0, false, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.m[key]
	return []byte(g.Val), g.Left, ok, nil
}

func (f *fakeStore) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	f.record("set", key, ttl)
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[key] = got{Val: string(val), Left: ttl, OK: true}
	return nil
}

func (f *fakeStore) Delete(_ context.Context, key string) error {
	f.record("delete", key, 0)
	if f.err != nil {
		return f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	return nil
}

func TestTieredGetFillsL1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		l2Left   time.Duration
		l1MaxTTL time.Duration
		wantGet  got // from the tiered Get
		wantL1   got // in L1 afterwards
	}{
		{"remaining lifetime below the cap", 30 * time.Second, time.Minute,
			got{"v", 30 * time.Second, true}, got{"v", 30 * time.Second, true}},
		{"capped at l1MaxTTL", time.Hour, time.Minute,
			got{"v", time.Hour, true}, got{"v", time.Minute, true}},
		{"equal", time.Minute, time.Minute,
			got{"v", time.Minute, true}, got{"v", time.Minute, true}},
		{"no L1 without a cap", time.Hour, 0,
			got{"v", time.Hour, true}, got{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l1 := newMemory[[]byte](100, newFakeClock())
			l2 := newFakeStore("l2", nil)
			l2.m["k"] = got{"v", tt.l2Left, true}
			c := NewTiered(l1, l2, Raw{}, tt.l1MaxTTL)
			if diff := cmp.Diff(tt.wantGet, get(t, c, "k")); diff != "" {
				t.Errorf("tiered Get (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantL1, get(t, l1, "k")); diff != "" {
				t.Errorf("L1 afterwards (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTieredCalls(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		l1Has   bool  // L1 holds "k" before the call
		l2Err   error // every L2 call fails
		call    func(c *Tiered[[]byte]) error
		wantErr error
		wantLog []string
		wantL1  got // L1's "k" afterwards
	}{
		{
			name: "L1 hit does not read L2", l1Has: true,
			call:    func(c *Tiered[[]byte]) error { _, _, _, err := c.Get(context.Background(), "k"); return err },
			wantLog: []string{"l1 get k 0s"},
			wantL1:  got{"old", time.Minute, true},
		},
		{
			name:    "L1 miss reads L2",
			call:    func(c *Tiered[[]byte]) error { _, _, _, err := c.Get(context.Background(), "k"); return err },
			wantLog: []string{"l1 get k 0s", "l2 get k 0s"},
		},
		{
			name: "L2 error on Get is returned", l2Err: boom,
			call:    func(c *Tiered[[]byte]) error { _, _, _, err := c.Get(context.Background(), "k"); return err },
			wantErr: boom,
			wantLog: []string{"l1 get k 0s", "l2 get k 0s"},
		},
		{
			name: "L1 serves while L2 fails", l1Has: true, l2Err: boom,
			call:    func(c *Tiered[[]byte]) error { _, _, _, err := c.Get(context.Background(), "k"); return err },
			wantLog: []string{"l1 get k 0s"},
			wantL1:  got{"old", time.Minute, true},
		},
		{
			name:    "Set writes L2 first, L1 capped",
			call:    func(c *Tiered[[]byte]) error { return c.Set(context.Background(), "k", []byte("new"), time.Hour) },
			wantLog: []string{"l2 set k 1h0m0s", "l1 set k 5m0s"},
			wantL1:  got{"new", 5 * time.Minute, true},
		},
		{
			name:    "Set below the cap",
			call:    func(c *Tiered[[]byte]) error { return c.Set(context.Background(), "k", []byte("new"), time.Minute) },
			wantLog: []string{"l2 set k 1m0s", "l1 set k 1m0s"},
			wantL1:  got{"new", time.Minute, true},
		},
		{
			name: "Set writes L1 even when L2 fails", l2Err: boom,
			call:    func(c *Tiered[[]byte]) error { return c.Set(context.Background(), "k", []byte("new"), time.Hour) },
			wantErr: boom,
			wantLog: []string{"l2 set k 1h0m0s", "l1 set k 5m0s"},
			wantL1:  got{"new", 5 * time.Minute, true},
		},
		{
			name: "Delete both", l1Has: true,
			call:    func(c *Tiered[[]byte]) error { return c.Delete(context.Background(), "k") },
			wantLog: []string{"l2 delete k 0s", "l1 delete k 0s"},
		},
		{
			name: "Delete L1 even when L2 fails", l1Has: true, l2Err: boom,
			call:    func(c *Tiered[[]byte]) error { return c.Delete(context.Background(), "k") },
			wantErr: boom,
			wantLog: []string{"l2 delete k 0s", "l1 delete k 0s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log []string
			l1, l2 := newFakeStore("l1", &log), newFakeStore("l2", &log)
			if tt.l1Has {
				l1.m["k"] = got{"old", time.Minute, true}
			}
			l2.err = tt.l2Err
			err := tt.call(NewTiered(l1, l2, Raw{}, 5*time.Minute))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantLog, log); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantL1, l1.m["k"]); diff != "" {
				t.Errorf("L1 afterwards (-want +got):\n%s", diff)
			}
		})
	}
}
