package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/inspector-gadget/gadget/internal/accounting"
)

// JobQueue is the SQL of the River lookup workers, on the job queue's pool:
// the call marks that make a killed worker's upstream call accountable,
// the writes of an attempt's transaction, and the notices to the callers
// waiting for a job.
type JobQueue struct {
	s    *Store
	pool *pgxpool.Pool
}

// JobQueue returns the job workers' statements over pool (QueuePool, or
// the main pool in tests).
func (s *Store) JobQueue(pool *pgxpool.Pool) *JobQueue { return &JobQueue{s: s, pool: pool} }

// Channel is the NOTIFY channel of job notices for the schema the pool
// works in: tests and tenants in other schemas of the same database do not
// hear each other's jobs.
func (q *JobQueue) Channel(ctx context.Context) (string, error) {
	var schema string
	if err := q.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(schema))
	return "gadget_job_" + hex.EncodeToString(sum[:6]), nil
}

// MarkCall notes that an attempt of job jobID is making an upstream call.
// It returns the mark, and how many marks the job now has beside it: calls
// of earlier attempts that died before they were recorded.
func (q *JobQueue) MarkCall(ctx context.Context, jobID int64) (mark int64, lost int, err error) {
	err = q.pool.QueryRow(ctx, `WITH mark AS (INSERT INTO job_call (job_id, started_at) VALUES ($1, now()) RETURNING id)
		SELECT (SELECT id FROM mark), count(*) FROM job_call WHERE job_id = $1`, jobID).Scan(&mark, &lost)
	return mark, lost, err
}

// UnmarkCall removes a mark whose call was not made after all (the budget
// was spent).
func (q *JobQueue) UnmarkCall(ctx context.Context, mark int64) error {
	_, err := q.pool.Exec(ctx, `DELETE FROM job_call WHERE id = $1`, mark)
	return err
}

// CallMarks counts the marks earlier attempts of job jobID left.
func (q *JobQueue) CallMarks(ctx context.Context, jobID int64) (int, error) {
	var n int
	err := q.pool.QueryRow(ctx, `SELECT count(*) FROM job_call WHERE job_id = $1`, jobID).Scan(&n)
	return n, err
}

// RecordAttempt writes an attempt's ledger rows and clears the job's call
// marks in one round trip: the statements of one batch run in one implicit
// transaction (PostgreSQL commits at the batch's single Sync).
func (q *JobQueue) RecordAttempt(ctx context.Context, jobID int64, calls []accounting.Call) error {
	b := &pgx.Batch{}
	for _, st := range q.s.callInserts(calls, jobID) {
		b.Queue(st.query, st.args...)
	}
	b.Queue(`DELETE FROM job_call WHERE job_id = $1`, jobID)
	return q.pool.SendBatch(ctx, b).Close()
}

// Notify sends notices on channel, in order, in one statement.
func (q *JobQueue) Notify(ctx context.Context, channel string, notices []string) error {
	_, err := q.pool.Exec(ctx, `SELECT pg_notify($1, n) FROM unnest($2::text[]) WITH ORDINALITY AS t(n, i) ORDER BY i`, channel, notices)
	return err
}

// Locked runs fn while holding the PostgreSQL advisory lock id on one
// connection of pool: processes that start at once take turns.
func Locked(ctx context.Context, pool *pgxpool.Pool, id int64, fn func() error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, id)
	return fn()
}
