package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/store"
)

// testUsageStats: the statistics read the counters that usage batches
// add up, by day, api and user.
func testUsageStats(t *testing.T, s *store.Store) {
	ctx := context.Background()
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	lookup := func(user string, at time.Time, a accounting.Answer) accounting.Record {
		return accounting.Record{Username: user, API: "indicator", At: at, Status: "ok", Answers: []accounting.Answer{a}}
	}
	recs := []accounting.Record{
		lookup("alice", day.Add(time.Hour), accounting.Answer{Provider: "virustotal", Status: "ok", Bytes: 100}),
		lookup("alice", day.Add(2*time.Hour), accounting.Answer{Provider: "virustotal", Status: "ok", Cached: true, Bytes: 100}),
		lookup("bob", day.Add(25*time.Hour), accounting.Answer{Provider: "virustotal", Status: "rate_limited"}),
		lookup("bob", day.Add(47*time.Hour), accounting.Answer{Provider: "abuseipdb", Status: "error", Bytes: 7}),
		lookup("bob", day.Add(-time.Second), accounting.Answer{Provider: "abuseipdb", Status: "ok"}), // the day before: outside
		{Username: "bob", API: "authenticate", At: day.Add(3 * time.Hour), Status: "ok"},             // not a provider
	}
	calls := []accounting.Call{ // the upstream calls behind the uncached answers
		{Username: "alice", Provider: "virustotal", Status: "ok", Bytes: 100, Latency: 40 * time.Millisecond, At: day.Add(time.Hour)},
		{Username: "bob", Provider: "abuseipdb", Status: "error", Bytes: 7, Latency: 20 * time.Millisecond, At: day.Add(47 * time.Hour)},
	}
	// written in two batches: counters add up across them
	if err := s.WriteUsage(ctx, accounting.NewBatch(recs[:3], calls[:1])); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteUsage(ctx, accounting.NewBatch(recs[3:], calls[1:])); err != nil {
		t.Fatal(err)
	}
	svc := accounting.NewStatsService(s, nil)
	from, to := day, day.Add(48*time.Hour)
	st, err := svc.Stats(ctx, &from, &to, "", []string{"virustotal", "abuseipdb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Days) != 3 || !st.Days[0].Equal(day) {
		t.Fatalf("days = %v", st.Days)
	}
	wantSeries := []accounting.Series{
		{API: "abuseipdb", Calls: []int64{0, 1, 0}, Bytes: []int64{0, 7, 0}, Upstream: []int64{0, 1, 0}},
		{API: "virustotal", Calls: []int64{2, 1, 0}, Bytes: []int64{200, 0, 0}, Upstream: []int64{1, 0, 0}},
	}
	if diff := cmp.Diff(wantSeries, st.Series); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	wantAPIs := []accounting.APIStats{
		{API: "abuseipdb", Calls: 1, Bytes: 7, Failed: 1, Upstream: 1, AvgLatencyMs: 20},
		{API: "virustotal", Calls: 3, Bytes: 200, CacheHits: 1, RateLimited: 1, Upstream: 1, AvgLatencyMs: 40},
	}
	if diff := cmp.Diff(wantAPIs, st.APIs); diff != "" {
		t.Errorf("apis (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]accounting.UserCalls{{Username: "alice", Calls: 2}, {Username: "bob", Calls: 2}}, st.TopUsers); diff != "" {
		t.Errorf("top users (-want +got):\n%s", diff)
	}
	if st.Calls != 4 || st.CacheHits != 1 || st.RateLimited != 1 || st.Failed != 1 || st.CacheHitRatio() != 0.25 {
		t.Errorf("totals = %d calls, %d hits, %d limited, %d failed", st.Calls, st.CacheHits, st.RateLimited, st.Failed)
	}
	mine, err := svc.Stats(ctx, &from, &to, "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.Series) != 3 || mine.Calls != 3 || len(mine.TopUsers) != 1 {
		t.Errorf("bob's stats = %+v", mine)
	}
	bad := to.AddDate(0, 0, 1)
	if _, err := svc.Stats(ctx, &bad, &to, "", nil); err == nil {
		t.Error("from after to: no error")
	}
}

// A batch written again with the same ids (the Writer's retry after a
// connection lost once the batch had committed) adds no audit or ledger
// row.
func testUsageRetried(t *testing.T, s *store.Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	b := accounting.NewBatch(
		[]accounting.Record{{ID: uuid.NewString(), Username: "alice", API: "indicator", At: at, Status: "ok"}},
		[]accounting.Call{{ID: uuid.New(), Username: "alice", Provider: "abuseipdb", Status: "ok", At: at}})
	for range 2 {
		if err := s.WriteUsage(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	audit, err := s.Client().UsageLog.Query().Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := s.Client().UpstreamCall.Query().Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if audit != 1 || calls != 1 {
		t.Errorf("after writing one batch twice: %d audit rows, %d ledger rows; want 1 and 1", audit, calls)
	}
}
