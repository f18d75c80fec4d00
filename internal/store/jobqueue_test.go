package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// RecordAttempt's ledger rows and the clearing of the job's call marks
// commit together (one batch, one implicit transaction): when the clearing
// fails, the rows written before it in the batch are rolled back, and the
// mark stays for the job's next attempt to find. Rows with ids are written
// once however often RecordAttempt is tried.
func TestRecordAttemptIsOneTransaction(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, testenv.Postgres(t))
	ctx := context.Background()
	q := s.JobQueue(s.Pool())
	const job = 7
	if _, _, err := q.MarkCall(ctx, job); err != nil {
		t.Fatal(err)
	}
	count := func(query string) int {
		t.Helper()
		var n int
		if err := s.Pool().QueryRow(ctx, query, job).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	calls := []accounting.Call{{Username: "analyst", Provider: "abuseipdb", Status: "ok", At: time.Now(), ID: uuid.New()}}
	if _, err := s.Pool().Exec(ctx, `CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
		CREATE TRIGGER refuse_delete BEFORE DELETE ON job_call FOR EACH ROW EXECUTE FUNCTION refuse_delete()`); err != nil {
		t.Fatal(err)
	}
	if err := q.RecordAttempt(ctx, job, calls); err == nil {
		t.Fatal("RecordAttempt succeeded although clearing the mark failed")
	}
	if rows, marks := count(`SELECT count(*) FROM upstream_call WHERE job_id = $1`), count(`SELECT count(*) FROM job_call WHERE job_id = $1`); rows != 0 || marks != 1 {
		t.Errorf("after a failed clearing: %d ledger rows, %d marks; want 0 and 1", rows, marks)
	}
	if _, err := s.Pool().Exec(ctx, `DROP TRIGGER refuse_delete ON job_call`); err != nil {
		t.Fatal(err)
	}
	if err := q.RecordAttempt(ctx, job, calls); err != nil {
		t.Fatal(err)
	}
	if rows, marks := count(`SELECT count(*) FROM upstream_call WHERE job_id = $1`), count(`SELECT count(*) FROM job_call WHERE job_id = $1`); rows != 1 || marks != 0 {
		t.Errorf("after RecordAttempt: %d ledger rows, %d marks; want 1 and 0", rows, marks)
	}
	// tried again, as after a connection lost once the batch had committed
	if err := q.RecordAttempt(ctx, job, calls); err != nil {
		t.Fatal(err)
	}
	if rows := count(`SELECT count(*) FROM upstream_call WHERE job_id = $1`); rows != 1 {
		t.Errorf("after RecordAttempt again: %d ledger rows, want 1", rows)
	}
}
