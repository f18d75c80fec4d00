package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// UsageStore queues the statements that write the ledger rows of a job's
// calls, for a worker's completing transaction.
type UsageStore interface {
	QueueCalls(b *pgx.Batch, jobID int64, calls []accounting.Call)
}

// Counters adds up the calls a worker recorded into the daily counters,
// in batches (the accounting writer).
type Counters interface {
	Count(ctx context.Context, calls []accounting.Call)
}

// maxTokenSleep is how long a worker sleeps for a token before it snoozes
// the job instead (a snooze frees the worker slot).
const maxTokenSleep = time.Second

// Worker makes provider calls for LookupArgs jobs.
type Worker struct {
	river.WorkerDefaults[LookupArgs]
	pool    *pgxpool.Pool
	fetcher *enrich.Fetcher
	usage   UsageStore
	counts  Counters
	channel string
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
	// committer sends this process's notifying transactions
	committer *committer
	// local hands a committed notice to this process's waiters at once;
	// the NOTIFY still reaches every process (this one again: a waiter
	// ignores what it has already had)
	local func(*Notice)
}

// Timeout bounds one attempt.
func (w *Worker) Timeout(*river.Job[LookupArgs]) time.Duration { return w.timeout }

// NextRetry backs off 1 s, 4 s, 16 s, 1 min, then 5 min, without jitter, so
// waiters know when the next attempt runs.
func (w *Worker) NextRetry(job *river.Job[LookupArgs]) time.Time {
	return w.now().Add(backoff(job.Attempt))
}

func backoff(attempt int) time.Duration {
	switch {
	case attempt <= 1:
		return time.Second
	case attempt == 2:
		return 4 * time.Second
	case attempt == 3:
		return 16 * time.Second
	case attempt == 4:
		return time.Minute
	}
	return 5 * time.Minute
}

// Work runs one attempt: cache check, provider budget, the upstream call,
// then one transaction that writes the usage row, completes the job and
// notifies its waiters.
func (w *Worker) Work(ctx context.Context, job *river.Job[LookupArgs]) error {
	a := job.Args
	ind := indicator.Indicator{Kind: indicator.Kind(a.IndKind), Value: a.Value}
	key := enrich.CacheKey(a.Provider, ind)
	if !a.Fresh { // filled meanwhile (another job, an inline call): no upstream call
		if r := w.fetcher.Cached(ctx, a.Provider, ind); r != nil {
			r.Cached = false
			// an earlier attempt may have called and died before recording
			lost, err := w.marks(ctx, job.ID)
			if err != nil {
				return fmt.Errorf("%s: read call marks: %w", a.Provider, err)
			}
			return w.complete(ctx, job, key, r, w.calls(job, nil, lost))
		}
	}
	// the mark is written alongside the call, not before it (one round
	// trip less on every lookup's path), and is in place before the answer
	// is recorded; a kill within its first millisecond may go unaccounted
	type mark struct {
		id, lost int64
		err      error
	}
	marked := make(chan mark, 1)
	go func() {
		id, lost, err := w.markCall(ctx, job.ID)
		marked <- mark{id, lost, err}
	}()
	out := w.fetcher.Fetch(ctx, enrich.Call{Provider: a.Provider, Indicator: ind, Fresh: a.Fresh}, enrich.FetchOptions{MaxWait: maxTokenSleep})
	m := <-marked
	if len(out.Calls) == 0 { // no call made: the budget is spent, or the wait for it failed
		if m.err == nil {
			if _, err := w.pool.Exec(ctx, `DELETE FROM job_call WHERE id = $1`, m.id); err != nil {
				w.log.WarnContext(ctx, "job call mark not cleared", "job_id", job.ID, "err", err)
			}
		}
		if out.Wait > 0 { // free the worker slot until the budget has a token
			w.notify(ctx, Notice{JobID: job.ID, RetryAt: w.now().Add(out.Wait), Key: key}, out.Result)
			return river.JobSnooze(out.Wait)
		}
		return fmt.Errorf("%s: %s", a.Provider, errMessage(out.Result))
	}
	r := out.Result
	if m.err != nil {
		w.log.WarnContext(ctx, "job call mark failed", "job_id", job.ID, "err", m.err)
	}
	rows := w.calls(job, out.Calls, int(m.lost))
	switch {
	case r.Status == lookup.StatusOK || r.Status == lookup.StatusNotFound:
		return w.complete(ctx, job, key, r, rows)
	case r.Status == lookup.StatusRateLimited: // upstream 429: the budget is drained
		retry := max(r.RetryAfter, time.Second)
		if err := w.finishAttempt(ctx, job, Notice{RetryAt: w.now().Add(retry), Key: key}, r, rows); err != nil {
			return err
		}
		return river.JobSnooze(retry)
	case r.Transient && job.Attempt < job.MaxAttempts:
		if err := w.finishAttempt(ctx, job, Notice{RetryAt: w.NextRetry(job), Key: key}, r, rows); err != nil {
			return err
		}
		return errors.New(errMessage(r))
	case r.Transient: // out of attempts: River discards it
		if err := w.finishAttempt(ctx, job, Notice{Final: true, Key: key}, r, rows); err != nil {
			return err
		}
		return errors.New(errMessage(r))
	default: // authentication, refused input: retrying cannot help
		if err := w.finishAttempt(ctx, job, Notice{Final: true, Key: key}, r, rows); err != nil {
			return err
		}
		return river.JobCancel(errors.New(errMessage(r)))
	}
}

func errMessage(r *lookup.Result) string {
	if r.Err != nil {
		return string(r.Err.Code) + ": " + r.Err.Message
	}
	return string(r.Status)
}

// markCall notes, alongside the upstream call, that this attempt is making
// one; it returns the mark's id and how many earlier attempts started a
// call and died before recording it.
func (w *Worker) markCall(ctx context.Context, jobID int64) (id, lost int64, err error) {
	err = w.pool.QueryRow(ctx, `WITH mark AS (INSERT INTO job_call (job_id, started_at) VALUES ($1, now()) RETURNING id)
		SELECT (SELECT id FROM mark), count(*) FROM job_call WHERE job_id = $1`, jobID).Scan(&id, &lost)
	return id, lost, err
}

// calls are the ledger rows of this attempt's upstream calls, plus one
// "interrupted" row per earlier attempt that started a call and died
// before recording it. They are the inserter's.
func (w *Worker) calls(job *river.Job[LookupArgs], made []*lookup.Result, lost int) []accounting.Call {
	a := job.Args
	if a.Username == "" { // not a user's lookup (the CLI): not accounted
		return nil
	}
	c := lookup.Caller{Username: a.Username, Endpoint: a.Endpoint, IP: a.IP, UserAgent: a.UserAgent}
	ind := indicator.Indicator{Kind: indicator.Kind(a.IndKind), Value: a.Value}
	var out []accounting.Call
	for range lost {
		row := enrich.CallRow(c, ind, &lookup.Result{Provider: a.Provider, FetchedAt: w.now()})
		row.Status = "interrupted"
		out = append(out, row)
	}
	for _, r := range made {
		out = append(out, enrich.CallRow(c, ind, r))
	}
	return out
}

// marks counts the call marks earlier attempts left.
func (w *Worker) marks(ctx context.Context, id int64) (int, error) {
	var n int
	err := w.pool.QueryRow(ctx, `SELECT count(*) FROM job_call WHERE job_id = $1`, id).Scan(&n)
	return n, err
}

// complete writes the usage rows, records the answer as the job's output,
// completes the job and notifies the waiters, in one transaction: a waiter
// never sees an answer whose job could still roll back, and a duplicate
// delivery (the job no longer running) writes nothing.
func (w *Worker) complete(ctx context.Context, job *river.Job[LookupArgs], key string, r *lookup.Result, rows []accounting.Call) error {
	b, err := lookup.Codec{}.Encode(r)
	if err != nil {
		return err
	}
	n := Notice{JobID: job.ID, Final: true, Key: key, Result: b}
	if len(b) > notifyLimit {
		// too large for the notice: kept as the job's output for waiters
		// to read (small answers are not, sparing a rewrite of
		// river_job's metadata index)
		if err := river.RecordOutput(ctx, n); err != nil {
			return err
		}
	}
	batch, sent, err := w.attemptBatch(job, rows, n, nil)
	if err != nil {
		return err
	}
	// the call was made: record it even when the attempt's time ran out
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// one transaction: the batch, River's completing update and COMMIT, in
	// one round trip through the committer
	tx := &pipelineTx{committer: w.committer, batch: batch}
	if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, pgx.Tx(tx), job); err != nil {
		return fmt.Errorf("complete job %d: %w", job.ID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("complete job %d: %w", job.ID, err)
	}
	w.handOff(sent)
	w.count(ctx, rows)
	return nil
}

// count hands the committed calls to the daily counters.
func (w *Worker) count(ctx context.Context, rows []accounting.Call) {
	if w.counts != nil && len(rows) > 0 {
		w.counts.Count(context.WithoutCancel(ctx), rows)
	}
}

// handOff gives a committed notice to this process's waiters.
func (w *Worker) handOff(n *Notice) {
	if w.local != nil {
		w.local(n)
	}
}

// finishAttempt writes this attempt's usage rows and tells the waiters how
// it ended, in one transaction through the committer; River then
// snoozes, retries or cancels the job.
func (w *Worker) finishAttempt(ctx context.Context, job *river.Job[LookupArgs], n Notice, r *lookup.Result, rows []accounting.Call) error {
	n.JobID = job.ID
	// (the committer works under its own timeout: a timed-out attempt
	// still records its call)
	batch, sent, err := w.attemptBatch(job, rows, n, r)
	if err != nil {
		return err
	}
	if err := w.committer.commitBatch(batch); err != nil {
		return fmt.Errorf("record job %d attempt: %w", job.ID, err)
	}
	w.handOff(sent)
	w.count(ctx, rows)
	return nil
}

// attemptBatch is an attempt's writes: its usage rows (and those of killed
// earlier attempts), clearing the call marks, and the notice to waiters.
// It also returns the notice as sent.
func (w *Worker) attemptBatch(job *river.Job[LookupArgs], rows []accounting.Call, n Notice, r *lookup.Result) (*pgx.Batch, *Notice, error) {
	b := &pgx.Batch{}
	if len(rows) > 0 {
		w.usage.QueueCalls(b, job.ID, rows)
	}
	b.Queue(`DELETE FROM job_call WHERE job_id = $1`, job.ID)
	sent, payload, err := w.payload(n, r)
	if err != nil {
		return nil, nil, err
	}
	b.Queue(`SELECT pg_notify($1, $2)`, w.channel, payload)
	return b, sent, nil
}

// payload is n as a notification (with r as its result when given, and
// without a result too large for a notification), and the notice it says.
func (w *Worker) payload(n Notice, r *lookup.Result) (*Notice, string, error) {
	if r != nil {
		if b, err := (lookup.Codec{}).Encode(r); err == nil {
			n.Result = b
		}
	}
	if len(n.Result) > notifyLimit {
		n.Result = nil
	}
	b, err := json.Marshal(n)
	return &n, string(b), err
}

// notify tells the waiters about an attempt that ends without a
// transaction of its own (a snooze for a spent budget); a lost notice only
// costs them a wait until their one-second re-read.
func (w *Worker) notify(ctx context.Context, n Notice, r *lookup.Result) {
	_, payload, err := w.payload(n, r)
	if err == nil {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_notify($1, $2)`, w.channel, payload)
		err = w.committer.commitBatch(b)
	}
	if err != nil {
		w.log.WarnContext(ctx, "job notification failed", "job_id", n.JobID, "err", err)
	}
}
