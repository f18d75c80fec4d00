package jobs_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/lookup"
)

// BenchmarkRoundTrip: cold provider calls through River (insert, work,
// complete + notify, dispatch) against a fake answering at once; the figure
// is the whole round trip as a caller sees it. BENCH_CALLERS sets the
// concurrency (default 1).
func BenchmarkRoundTrip(b *testing.B) {
	callers := 1
	if n, err := strconv.Atoi(os.Getenv("BENCH_CALLERS")); err == nil && n > 0 {
		callers = n
	}
	r := newRigTB(b, map[string]int{"abuseipdb": 20})
	const each = 100
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				start := time.Now()
				res := r.call("abuseipdb", fmt.Sprintf("45.1.%d.%d", c, i), 5*time.Second)
				took := time.Since(start)
				if res.Status != lookup.StatusOK {
					panic(fmt.Sprintf("%+v", res))
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*q))].Microseconds()) / 1000
	}
	fmt.Printf("river round trip, %d callers × %d: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms\n", callers, each, p(.5), p(.9), p(.99))
}
