package jobs

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/inspector-gadget/gadget/internal/testenv"
)

func txPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `CREATE TABLE t (v int PRIMARY KEY);
		CREATE TABLE d (v int, CONSTRAINT d_v UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// query reads every row of the pipelined query, as River's generated code
// does, and closes the rows.
func query(tx pgx.Tx, sql string, args ...any) ([]int, error) {
	rows, err := tx.Query(context.Background(), sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func TestPipelineTxCommitsBatchAndQueryTogether(t *testing.T) {
	pool := txPool(t)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO t VALUES (1)`)
	b.Queue(`INSERT INTO t VALUES (2)`)
	tx := &pipelineTx{committer: newCommitter(pool), batch: b}
	got, err := query(tx, `INSERT INTO t VALUES (3) RETURNING v`)
	if err != nil || len(got) != 1 || got[0] != 3 {
		t.Fatalf("query = %v, %v", got, err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, "t"); n != 3 {
		t.Fatalf("rows = %d, want 3", n)
	}
	if _, err := tx.Query(context.Background(), `SELECT 1`); err == nil {
		t.Fatal("a second query was accepted; it could not join the transaction")
	}
	if _, err := tx.Exec(context.Background(), `SELECT 1`); err == nil {
		t.Fatal("Exec was accepted")
	}
}

func TestPipelineTxFailingQueryRollsBackTheBatch(t *testing.T) {
	pool := txPool(t)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO t VALUES (1)`)
	tx := &pipelineTx{committer: newCommitter(pool), batch: b}
	if _, err := query(tx, `SELECT v / 0 FROM t`); err == nil {
		t.Fatal("division by zero did not fail")
	}
	if err := tx.Commit(context.Background()); err == nil {
		t.Fatal("Commit reported success for a failed pipeline")
	}
	if n := count(t, pool, "t"); n != 0 {
		t.Fatalf("rows = %d: the batch outlived its failed query", n)
	}
}

func TestPipelineTxFailingBatchStatementSkipsTheQuery(t *testing.T) {
	pool := txPool(t)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO t VALUES (1)`)
	b.Queue(`INSERT INTO t VALUES (1)`) // duplicate key
	tx := &pipelineTx{committer: newCommitter(pool), batch: b}
	if _, err := query(tx, `INSERT INTO t VALUES (2) RETURNING v`); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("err = %v, want the duplicate key", err)
	}
	if tx.Commit(context.Background()) == nil {
		t.Fatal("Commit reported success")
	}
	if n := count(t, pool, "t"); n != 0 {
		t.Fatalf("rows = %d, want 0", n)
	}
}

// A failure at commit time (a deferred constraint) comes after the query's
// rows were read: Commit must report it.
func TestPipelineTxReportsAFailedCommit(t *testing.T) {
	pool := txPool(t)
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO d VALUES (1)`)
	b.Queue(`INSERT INTO t VALUES (1)`)
	tx := &pipelineTx{committer: newCommitter(pool), batch: b}
	if got, err := query(tx, `INSERT INTO d VALUES (1) RETURNING v`); err != nil || len(got) != 1 {
		t.Fatalf("query = %v, %v (the deferred check runs at commit)", got, err)
	}
	if err := tx.Commit(context.Background()); err == nil || !strings.Contains(err.Error(), "d_v") {
		t.Fatalf("Commit = %v, want the deferred unique violation", err)
	}
	if n := count(t, pool, "t") + count(t, pool, "d"); n != 0 {
		t.Fatalf("rows = %d after a failed commit", n)
	}
}

// The notice of a pipeline that rolled back is never delivered; the next
// committed one is.
func TestPipelineTxNotifiesOnlyOnCommit(t *testing.T) {
	pool := txPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN pipeline_test`); err != nil {
		t.Fatal(err)
	}
	for i, final := range []string{`SELECT v / 0 FROM t`, `SELECT v FROM t`} {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO t VALUES ($1)`, i+1)
		b.Queue(`SELECT pg_notify('pipeline_test', $1)`, final)
		tx := &pipelineTx{committer: newCommitter(pool), batch: b}
		query(tx, final)
	}
	n, err := conn.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n.Payload != `SELECT v FROM t` {
		t.Fatalf("first notice = %q, from the pipeline that rolled back", n.Payload)
	}
}

// autoTx: each statement commits on its own, and Commit and Rollback have
// nothing left to do.
func TestAutoTxCommitsEachStatement(t *testing.T) {
	pool := txPool(t)
	ctx := context.Background()
	tx := autoTx{pool}
	if _, err := tx.Exec(ctx, `INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if got, err := query(tx, `INSERT INTO t VALUES (2) RETURNING v`); err != nil || len(got) != 1 {
		t.Fatalf("query = %v, %v", got, err)
	}
	if n := count(t, pool, "t"); n != 2 {
		t.Fatalf("rows seen by another connection = %d, want 2", n)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, "t"); n != 2 {
		t.Fatalf("rows after Rollback = %d, want 2 (each statement committed)", n)
	}
	if _, err := tx.Begin(ctx); err == nil {
		t.Fatal("Begin (a savepoint) was accepted")
	}
}

// Transactions that go out together stay apart: one failing (in its
// batch, in its query, or at COMMIT) costs only itself; those sent behind
// it in the same pipeline are sent again and commit.
func TestCommitterIsolatesTransactionsInOnePipeline(t *testing.T) {
	pool := txPool(t)
	c := newCommitter(pool)
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			b := &pgx.Batch{}
			b.Queue(`INSERT INTO t VALUES ($1)`, 100+i)
			final := `SELECT v FROM t WHERE v = $1`
			switch i {
			case 7: // fails in its batch
				b.Queue(`INSERT INTO t VALUES ($1)`, 100+i)
			case 13: // fails in its query
				final = `SELECT v / 0 FROM t WHERE v = $1`
			case 21: // fails at COMMIT
				b.Queue(`INSERT INTO d VALUES (1), (1)`)
			}
			tx := &pipelineTx{committer: c, batch: b}
			if _, err := query(tx, final, 100+i); err != nil {
				errs[i] = err
			}
			if err := tx.Commit(context.Background()); err != nil && errs[i] == nil {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if failing := i == 7 || i == 13 || i == 21; failing != (err != nil) {
			t.Errorf("transaction %d: err = %v", i, err)
		}
	}
	var got []int
	rows, err := pool.Query(context.Background(), `SELECT v - 100 FROM t ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		got = append(got, v)
	}
	if len(got) != n-3 || slices.Contains(got, 7) || slices.Contains(got, 13) || slices.Contains(got, 21) {
		t.Fatalf("committed %v: want every transaction but 7, 13 and 21", got)
	}
	if k := count(t, pool, "d"); k != 0 {
		t.Fatalf("d has %d rows from the transaction that failed at COMMIT", k)
	}
}
