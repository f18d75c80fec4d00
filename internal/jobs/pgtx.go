package jobs

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Two pgx.Tx shapes that spare round trips on every job's path. Each
// round trip on a busy two-core machine waits for the scheduler twice
// (PostgreSQL's backend, then this process), so BEGIN and COMMIT of their
// own cost more than the statements between them.

var errTxShape = errors.New("jobs: not supported by this transaction shape")

// autoTx runs each statement in its own implicit transaction. River's
// InsertTx gets it for a job insert: the insert commits, then (when due)
// the NOTIFY that wakes the producers, in one or two round trips instead
// of four (BEGIN, insert, NOTIFY, COMMIT). Atomicity is not needed there:
// the NOTIFY only asks producers to fetch, and is sent once the job is
// visible.
type autoTx struct{ pool *pgxpool.Pool }

var _ pgx.Tx = autoTx{}

func (t autoTx) Begin(context.Context) (pgx.Tx, error) { return nil, errTxShape }
func (t autoTx) Commit(context.Context) error          { return nil }
func (t autoTx) Rollback(context.Context) error        { return nil }
func (t autoTx) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errTxShape
}
func (t autoTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.pool.SendBatch(ctx, b)
}
func (t autoTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t autoTx) Prepare(context.Context, string, string) (*pgconn.StatementDescription, error) {
	return nil, errTxShape
}
func (t autoTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.pool.Exec(ctx, sql, args...)
}
func (t autoTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.pool.Query(ctx, sql, args...)
}
func (t autoTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.pool.QueryRow(ctx, sql, args...)
}
func (t autoTx) Conn() *pgx.Conn { return nil }

// pipelineTx is a transaction of exactly one query after a queued batch:
// the query is appended to the batch, and the whole goes to PostgreSQL as
// one pipeline, which runs as one implicit transaction committed at its
// end (or rolled back whole on any error). A worker completes its job
// with it: the usage rows, the call mark, the NOTIFY to waiters and
// River's completing update travel in one round trip instead of four.
// Commit reports how the pipeline ended; a second statement is refused
// (it could no longer join the transaction).
type pipelineTx struct {
	pool  *pgxpool.Pool
	batch *pgx.Batch
	// gate, when set, is held from sending the pipeline until its end
	// has been read (see notifyGate)
	gate *notifyGate
	sent bool
	err  error
}

// notifyGate lets one transaction that NOTIFYs commit at a time from
// this process. PostgreSQL serialises every committing transaction that
// has sent a NOTIFY on one database-wide lock; twenty workers committing
// at once queue for it inside PostgreSQL, each wait a backend put to
// sleep and woken, and on two cores the lock's holder is often preempted
// with the whole queue behind it. Queued here instead, a waiter is a
// parked goroutine. (Measured with BenchmarkRiverOverhead: the River
// round trip's p50 overhead fell from about 18 ms to under 10.)
type notifyGate struct{ c chan struct{} }

func newNotifyGate() *notifyGate { return &notifyGate{c: make(chan struct{}, 1)} }

// enter waits for the gate (nil: no gate); the returned func leaves it.
func (g *notifyGate) enter(ctx context.Context) (func(), error) {
	if g == nil {
		return func() {}, nil
	}
	select {
	case g.c <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-g.c }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

var _ pgx.Tx = (*pipelineTx)(nil)

func (t *pipelineTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.sent {
		return nil, errors.New("jobs: the pipelined transaction takes one query")
	}
	t.sent = true
	leave, err := t.gate.enter(ctx)
	if err != nil {
		t.err = err
		return nil, err
	}
	n := t.batch.Len()
	t.batch.Queue(sql, args...)
	br := t.pool.SendBatch(ctx, t.batch)
	for range n {
		if _, err := br.Exec(); err != nil {
			t.err = err
			br.Close()
			leave()
			return nil, err
		}
	}
	rows, err := br.Query()
	if err != nil {
		t.err = err
		br.Close()
		leave()
		return nil, err
	}
	return &pipelineRows{Rows: rows, br: br, tx: t, leave: leave}, nil
}

func (t *pipelineTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return errRow{rows: rows, err: err}
}

// Commit reports whether the pipeline committed.
func (t *pipelineTx) Commit(context.Context) error {
	if !t.sent {
		return errors.New("jobs: the pipelined transaction was never sent")
	}
	return t.err
}

// Rollback: a pipeline that failed rolled back on its own; one never sent
// has nothing to undo.
func (t *pipelineTx) Rollback(context.Context) error { return nil }

func (t *pipelineTx) Begin(context.Context) (pgx.Tx, error) { return nil, errTxShape }
func (t *pipelineTx) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errTxShape
}
func (t *pipelineTx) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{err: errTxShape}
}
func (t *pipelineTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *pipelineTx) Prepare(context.Context, string, string) (*pgconn.StatementDescription, error) {
	return nil, errTxShape
}
func (t *pipelineTx) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errTxShape
}
func (t *pipelineTx) Conn() *pgx.Conn { return nil }

// pipelineRows ends the pipeline when its rows are closed, keeping the
// first error (a failed commit included) for Commit.
type pipelineRows struct {
	pgx.Rows
	br     pgx.BatchResults
	tx     *pipelineTx
	leave  func()
	closed bool
}

func (r *pipelineRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	err := r.Rows.Err()
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	r.leave()
	if r.tx.err == nil {
		r.tx.err = err
	}
}

// errRow is QueryRow over Query.
type errRow struct {
	rows pgx.Rows
	err  error
}

func (r errRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// errBatch refuses a batch; its other methods are never reached.
type errBatch struct {
	pgx.BatchResults
	err error
}

func (b errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b errBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b errBatch) QueryRow() pgx.Row                { return errRow{err: b.err} }
func (b errBatch) Close() error                     { return b.err }
