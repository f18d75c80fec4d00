package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
)

// BenchmarkWriteUsageSQLite is the usage writer's database cost per cached
// lookup on the default database: batches of 1,400 audit records (what
// 200 ms of cmd/loadgen's cached lookups leave), each with loadgen's eleven
// cached provider answers, and with or without the lookup's sighting. It
// prints µs/record (docs/performance.md).
func BenchmarkWriteUsageSQLite(b *testing.B) {
	providers := []string{"feeds", "abuseipdb", "ipinfo", "urlscan", "spamhaus", "rdap", "greynoise", "internetdb", "virustotal", "urlhaus", "dshield"}
	for _, sighting := range []bool{false, true} {
		name := "audit"
		if sighting {
			name = "audit+sighting"
		}
		b.Run(name, func(b *testing.B) {
			s := storetest.Open(b, "sqlite://"+b.TempDir()+"/gadget.db")
			ctx := context.Background()
			const n = 1400
			for range b.N {
				b.StopTimer()
				recs := make([]accounting.Record, n)
				for i := range recs {
					r := accounting.Record{Username: "root", API: "indicator", Endpoint: "POST /graphql indicator", Parameters: `{"value":"198.51.100.77"}`,
						UserAgent: "Go-http-client/1.1", IP: "127.0.0.1", Status: "ok", Cached: true, Latency: time.Millisecond, At: time.Now(), TLP: "AMBER"}
					for _, p := range providers {
						r.Answers = append(r.Answers, accounting.Answer{Provider: p, Status: "ok", Cached: true, Bytes: 300})
					}
					if sighting {
						r.Sightings = []accounting.Sighting{{Kind: "ipv4", Value: "198.51.100.77", Verdict: "MALICIOUS", Source: "graphql", TLP: "AMBER"}}
					}
					recs[i] = r
				}
				batch := accounting.NewBatch(recs, nil)
				b.StartTimer()
				if err := s.WriteUsage(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/record")
		})
	}
}
