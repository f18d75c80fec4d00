package accounting

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// flakyStore fails its first failures inserts, then records.
type flakyStore struct {
	mu       sync.Mutex
	failures int
	calls    int
	got      []Record
}

func (s *flakyStore) WriteUsage(_ context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failures > 0 {
		s.failures--
		return errors.New("database unavailable")
	}
	s.got = append(s.got, b.Audit...)
	return nil
}

func (s *flakyStore) UsageRows(context.Context, time.Time, time.Time, string) ([]Row, error) {
	return nil, nil
}

func (s *flakyStore) AuditLog(context.Context, AuditFilter, int, *Cursor) ([]Record, error) {
	return nil, nil
}

func TestWriterBatchesRetriesAndFlushes(t *testing.T) {
	t.Parallel()
	st := &flakyStore{failures: 2}
	w := NewWriter(st, WriterConfig{BatchSize: 10, Interval: time.Hour, Buffer: 5})
	for i := range 25 { // more than the buffer: Record waits, never drops
		w.Record(context.Background(), Record{Username: "u", API: "x", DataSize: int64(i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	if len(st.got) != 25 {
		t.Fatalf("written %d records, want 25", len(st.got))
	}
	seen := map[int64]bool{}
	for _, r := range st.got {
		if seen[r.DataSize] {
			t.Fatalf("record %d written twice", r.DataSize)
		}
		seen[r.DataSize] = true
		if r.At.IsZero() {
			t.Error("record without a time")
		}
	}
	if st.calls < 5 { // 3 batches + 2 failed attempts
		t.Errorf("insert calls = %d, want the failed batch retried", st.calls)
	}
	st.mu.Unlock()
	// after Close, a record is written synchronously
	w.Record(context.Background(), Record{Username: "late", API: "x"})
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.got[len(st.got)-1].Username != "late" {
		t.Error("record after Close was not written")
	}
}

func TestRangeWholeDays(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 15, 17, 30, 0, 0, time.UTC)
	s := NewService(nil, func() time.Time { return now })
	from, to, err := s.Range(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !to.Equal(time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)) || !from.Equal(to.AddDate(0, 0, -DefaultReportDays)) {
		t.Errorf("default range = [%v, %v)", from, to)
	}
	end := time.Date(2026, 3, 10, 9, 0, 0, 0, time.FixedZone("x", 5*3600)) // 04:00 UTC on the 10th
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	from, to, err = s.Range(&start, &end)
	if err != nil || !from.Equal(start) || !to.Equal(time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("range = [%v, %v) err %v: the whole end day must be included", from, to, err)
	}
	if _, _, err := s.Range(&end, &start); err == nil {
		t.Error("from after to accepted")
	}
}
