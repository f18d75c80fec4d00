package main

import (
	"runtime/debug"
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

func tuneGC(getenv envFunc) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}
