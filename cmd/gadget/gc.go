package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Garbage-collector defaults for the long-running commands, unless the
// standard GOGC and GOMEMLIMIT variables are set. A cached lookup allocates
// little but often: collecting at 200 % heap growth instead of 100 % costs
// a few MB and gives back about a tenth of the CPU (make bench, cached
// throughput). The soft memory limit keeps big batches (1,000 indicators)
// from doubling their peak: near it the collector runs as often as needed.
const (
	defaultGCPercent   = 200
	defaultMemoryLimit = 100 << 20
)

// tuneGC sets those defaults and gives memory back while the process is
// idle, until ctx ends.
func tuneGC(ctx context.Context, getenv envFunc, log *slog.Logger) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	go releaseWhenIdle(ctx, log)
}

// After a burst the heap keeps room for about three times what is live
// (GOGC 200), and the runtime gives memory back to the system only as the
// next collections shrink that goal. An idle process therefore collects
// once and returns its free memory at once, as the JVM's G1 does when idle
// (JEP 346): idle means it allocated less than idleAllocBytes in the last
// idleWindow (an idle server's River pollers allocate about 1 MB/s, a
// cached lookup about 60 KB), and it releases only when its heap holds at
// least releasableBytes (and a quarter) more than is live.
const (
	idleWindow      = 30 * time.Second
	idleAllocBytes  = 64 << 20
	releasableBytes = 16 << 20
)

// heapSample is what releaseWhenIdle reads of the runtime each window.
type heapSample struct {
	allocated uint64 // heap bytes allocated since the process started
	live      uint64 // live heap marked by the latest collection
	retained  uint64 // heap memory not yet returned to the system
}

// shouldRelease says whether a process whose heap was prev a window ago and
// is now cur is idle and holds enough memory to give back.
func shouldRelease(prev, cur heapSample) bool {
	if cur.allocated-prev.allocated >= idleAllocBytes {
		return false // busy: the memory will be used again soon
	}
	return cur.retained > cur.live+max(releasableBytes, cur.live/4)
}

// readHeap reads a heapSample from runtime/metrics.
func readHeap() heapSample {
	s := []metrics.Sample{
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	metrics.Read(s)
	u := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return heapSample{allocated: u(0), live: u(1), retained: u(2) + u(3) + u(4)}
}

// releaseWhenIdle checks every idleWindow until ctx ends and, when the
// process is idle with memory to spare, collects and returns it to the
// system (a single collection of the live heap: milliseconds).
func releaseWhenIdle(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(idleWindow)
	defer t.Stop()
	prev := readHeap()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := readHeap()
		if shouldRelease(prev, cur) {
			start := time.Now()
			debug.FreeOSMemory()
			after := readHeap()
			log.Debug("idle: returned free memory to the system", "retained_mb", cur.retained>>20,
				"live_mb", after.live>>20, "took", time.Since(start).Round(time.Microsecond).String())
			cur = after
		}
		prev = cur
	}
}
