package jobs

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Two pgx.Tx shapes that spare round trips on every job's path (autoTx
// here, pipelineTx in committer.go); docs/performance.md has the figures
// behind them.

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
