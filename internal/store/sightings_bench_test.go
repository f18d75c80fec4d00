package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// BenchmarkSightingSummary reads the summary of a value seen 10,000,000
// times on PostgreSQL: 100,000 sightings written through WriteUsage (the
// raw rows and the rolled-up counters, 400 analysts), then the counter
// row's count set to 10,000,000 as ten million lookups would leave it,
// plus 200,000 sightings of other values around it. It prints p50 and p99
// of the summary read (docs/performance.md).
func BenchmarkSightingSummary(b *testing.B) {
	s := storetest.Open(b, testenv.Postgres(b))
	ctx := context.Background()
	base := time.Now().Add(-30 * 24 * time.Hour)
	write := func(value string, n, users int) {
		for start := 0; start < n; start += 5000 {
			recs := make([]accounting.Record, 0, 5000)
			for i := start; i < min(n, start+5000); i++ {
				recs = append(recs, accounting.Record{Username: fmt.Sprintf("analyst%d", i%users), API: "indicator",
					At: base.Add(time.Duration(i) * time.Second), Sightings: []accounting.Sighting{{Kind: "ipv4", Value: value, Verdict: "BENIGN", Source: "rest", TLP: "AMBER"}}})
			}
			if err := s.WriteUsage(ctx, accounting.NewBatch(recs, nil)); err != nil {
				b.Fatal(err)
			}
		}
	}
	write("198.51.100.7", 100_000, 400)
	for i := range 20 {
		write(fmt.Sprintf("192.0.2.%d", i), 10_000, 50)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE sighting_summary SET count = 10000000`); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		sum, err := s.SightingSummary(ctx, "ipv4", "198.51.100.7")
		if err != nil || sum.Count != 10_000_000 || sum.DistinctUsers != 400 {
			b.Fatalf("summary = %+v, %v", sum, err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.Logf("summary of a value with 10,000,000 sightings: p50 %v p99 %v over %d reads", p50, p99, len(lat))
}
