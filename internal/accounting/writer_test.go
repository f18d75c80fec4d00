package accounting

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
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

// closeWriter closes w, flushing what it holds, within 10 s.
func closeWriter(t *testing.T, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWriterBatchesRetriesAndFlushes(t *testing.T) {
	t.Parallel()
	st := &flakyStore{failures: 2}
	w := NewWriter(st, WriterConfig{BatchSize: 10, Interval: time.Hour, Buffer: 5})
	for i := range 25 { // more than the buffer: Record waits, never drops
		w.Record(context.Background(), Record{Username: "u", API: "x", DataSize: int64(i)})
	}
	closeWriter(t, w)
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

// pickyStore refuses any batch holding a record whose username holds a
// U+FFFD (as PostgreSQL refused a 0xFF byte before rows were cleaned; a
// stand-in for any row a database refuses),
// or every write while down; reads fail while down.
type pickyStore struct {
	mu     sync.Mutex
	down   bool
	writes int
	got    []Record
}

func (s *pickyStore) WriteUsage(_ context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.down {
		return errors.New("connection refused")
	}
	for _, r := range b.Audit {
		if strings.ContainsRune(r.Username, '\uFFFD') {
			return errors.New(`invalid byte sequence for encoding "UTF8"`)
		}
	}
	s.got = append(s.got, b.Audit...)
	return nil
}

func (s *pickyStore) UsageRows(context.Context, time.Time, time.Time, string) ([]Row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errors.New("connection refused")
	}
	return nil, nil
}

func (s *pickyStore) AuditLog(context.Context, AuditFilter, int, *Cursor) ([]Record, error) {
	return nil, nil
}

// TestWriterIsolatesARefusedRow is G5's second half: one row the database
// refuses no longer makes the writer retry its whole batch for ever (and
// drop the good rows with it at shutdown): the batch is halved until the
// row is found, the 500 good rows are written, and the bad one is written
// in its safe form.
func TestWriterIsolatesARefusedRow(t *testing.T) {
	t.Parallel()
	st := &pickyStore{}
	w := NewWriter(st, WriterConfig{BatchSize: 1000, Interval: time.Hour})
	for i := range 501 {
		name := "alice"
		if i == 250 {
			name = "poison\xff"
		}
		w.Record(context.Background(), Record{Username: name, API: "authenticate", Parameters: `{"x":1}`})
	}
	closeWriter(t, w)
	st.mu.Lock()
	defer st.mu.Unlock()
	safe := 0
	for _, r := range st.got {
		if strings.Contains(r.Parameters, "safe form") {
			safe++
			if r.Username != `poison\ufffd` {
				t.Errorf("safe form kept the raw username %q", r.Username)
			}
		}
	}
	if len(st.got) != 501 || safe != 1 {
		t.Fatalf("%d rows written, %d in safe form; want 501 and 1", len(st.got), safe)
	}
	if s := w.Stats(); s.Poisoned != 1 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
	if st.writes > 40 {
		t.Errorf("%d writes to isolate one row in 501, want about 2·log2(501)", st.writes)
	}
}

// TestWriterNeverBlocks: with the database down and the buffer full,
// Record returns at once: records go to the bounded overflow, then are
// dropped and counted; Ready reports the failing writer; everything in
// the buffer and overflow is written when the database is back.
func TestWriterNeverBlocks(t *testing.T) {
	t.Parallel()
	st := &pickyStore{down: true}
	w := NewWriter(st, WriterConfig{BatchSize: 2, Buffer: 5, Overflow: 10, Interval: 5 * time.Millisecond, FailingFor: 10 * time.Millisecond})
	done := make(chan struct{})
	go func() {
		for range 40 {
			w.Record(context.Background(), Record{Username: "alice", API: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked while the database was down")
	}
	// The buffer (5) and the overflow (10) fill up. What the writer took
	// for its failing batch is in flight: at most a batch and the overflow
	// it held then (the loop may take the overflow once before the first
	// write blocks, so more than 10 may have passed through it). The rest
	// is dropped.
	s := w.Stats()
	if s.Queued > 5+10 || s.Overflowed < 10 || s.Dropped < 40-(5+10)-(2+10) {
		t.Errorf("stats %+v: want the buffer and overflow full, at most a batch and an overflow in flight, the rest dropped", s)
	}
	time.Sleep(50 * time.Millisecond)
	if err := w.Ready(context.Background()); err == nil {
		t.Error("Ready is nil while writes fail")
	}
	st.mu.Lock()
	st.down = false
	st.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Ready(context.Background()); err != nil {
		t.Errorf("Ready after recovery: %v", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if want := 40 - int(w.Stats().Dropped); len(st.got) != want {
		t.Errorf("%d rows written after recovery, want %d (40 less the dropped)", len(st.got), want)
	}
}

// idStore keeps the ids of every batch it is given and fails the first,
// as when the connection is lost after the batch has committed.
type idStore struct {
	flakyStore
	tries [][]string
}

func (s *idStore) WriteUsage(ctx context.Context, b Batch) error {
	s.mu.Lock()
	var ids []string
	for _, r := range b.Audit {
		ids = append(ids, r.ID)
	}
	for _, c := range b.Calls {
		ids = append(ids, c.ID.String())
	}
	s.tries = append(s.tries, ids)
	s.mu.Unlock()
	return s.flakyStore.WriteUsage(ctx, b)
}

// UsageRows fails too: the database is unreachable, so the whole batch is
// tried again (not isolated row by row).
func (s *idStore) UsageRows(context.Context, time.Time, time.Time, string) ([]Row, error) {
	return nil, errors.New("connection lost")
}

// A batch tried again carries the ids of its first try, so rows that try
// wrote are skipped, not written twice.
func TestWriterRetriesWithTheSameIDs(t *testing.T) {
	t.Parallel()
	st := &idStore{flakyStore: flakyStore{failures: 1}}
	w := NewWriter(st, WriterConfig{Interval: time.Hour})
	w.Record(context.Background(), Record{Username: "u", API: "indicator"})
	w.Call(context.Background(), Call{Username: "u", Provider: "abuseipdb"})
	closeWriter(t, w)
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.tries) != 2 {
		t.Fatalf("%d tries, want the failed one and its retry", len(st.tries))
	}
	first, again := st.tries[0], st.tries[1]
	if len(first) != 2 || first[0] == "" || first[1] == uuid.Nil.String() || strings.Join(first, ",") != strings.Join(again, ",") {
		t.Errorf("ids of the first try %v, of the retry %v; want the same two ids", first, again)
	}
}
