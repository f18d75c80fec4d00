package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestWriteUsageRetriedSQLite(t *testing.T) {
	t.Parallel()
	testWriteUsageRetried(t, storetest.Open(t, storetest.SQLiteURL(t)))
}

func TestWriteUsageRetriedPostgres(t *testing.T) {
	t.Parallel()
	testWriteUsageRetried(t, storetest.Open(t, testenv.Postgres(t)))
}

// A batch written again with the same ids (the Writer's retry after a
// connection lost once the batch had committed) adds no audit or ledger
// row.
func testWriteUsageRetried(t *testing.T, s *store.Store) {
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
