package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// Store is the workers' SQL (store.JobQueue).
type Store interface {
	// Channel is the NOTIFY channel of job notices.
	Channel(ctx context.Context) (string, error)
	// MarkCall notes an upstream call of job jobID, and counts the marks
	// left by earlier attempts that died mid-call.
	MarkCall(ctx context.Context, jobID int64) (mark int64, lost int, err error)
	UnmarkCall(ctx context.Context, mark int64) error
	CallMarks(ctx context.Context, jobID int64) (int, error)
	// RecordAttempt writes the ledger rows of an attempt's calls and
	// clears the job's call marks, in one transaction.
	RecordAttempt(ctx context.Context, jobID int64, calls []accounting.Call) error
	// Notify sends notices on channel.
	Notify(ctx context.Context, channel string, notices []string) error
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
	fetcher *enrich.Fetcher
	store   Store
	counts  Counters
	notices *notifier
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
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
// then one transaction that writes the ledger rows, then the notice to the
// waiters; River completes, snoozes, retries or cancels the job by what
// Work returns.
func (w *Worker) Work(ctx context.Context, job *river.Job[LookupArgs]) error {
	a := job.Args
	ind := indicator.Indicator{Kind: indicator.Kind(a.IndKind), Value: a.Value}
	key := enrich.CacheKey(a.Provider, ind)
	if !a.Fresh { // filled meanwhile (another job, an inline call): no upstream call
		if r := w.fetcher.Cached(ctx, a.Provider, ind); r != nil {
			r.Cached = false
			// an earlier attempt may have called and died before recording
			lost, err := w.store.CallMarks(ctx, job.ID)
			if err != nil {
				return fmt.Errorf("%s: read call marks: %w", a.Provider, err)
			}
			return w.record(ctx, job, w.calls(job, nil, lost), Notice{Final: true, Key: key}, r)
		}
	}
	// the mark is written alongside the call, not before it (one round
	// trip less on every lookup's path), and is in place before the answer
	// is recorded; a kill within its first millisecond may go unaccounted
	type mark struct {
		id   int64
		lost int
		err  error
	}
	marked := make(chan mark, 1)
	go func() {
		id, lost, err := w.store.MarkCall(ctx, job.ID)
		marked <- mark{id, lost, err}
	}()
	out := w.fetcher.Fetch(ctx, enrich.Call{Provider: a.Provider, Indicator: ind, Fresh: a.Fresh}, enrich.FetchOptions{MaxWait: maxTokenSleep})
	m := <-marked
	if len(out.Calls) == 0 { // no call made: the budget is spent, or the wait for it failed
		if m.err == nil {
			if err := w.store.UnmarkCall(ctx, m.id); err != nil {
				w.log.WarnContext(ctx, "job call mark not cleared", "job_id", job.ID, "err", err)
			}
		}
		if out.Wait > 0 { // free the worker slot until the budget has a token
			n, err := withResult(Notice{JobID: job.ID, RetryAt: w.now().Add(out.Wait), Key: key}, out.Result)
			if err != nil {
				return err
			}
			w.notify(n)
			return river.JobSnooze(out.Wait)
		}
		return fmt.Errorf("%s: %s", a.Provider, errMessage(out.Result))
	}
	r := out.Result
	if m.err != nil {
		w.log.WarnContext(ctx, "job call mark failed", "job_id", job.ID, "err", m.err)
	}
	rows := w.calls(job, out.Calls, m.lost)
	switch {
	case r.Status == lookup.StatusOK || r.Status == lookup.StatusNotFound:
		return w.record(ctx, job, rows, Notice{Final: true, Key: key}, r)
	case r.Status == lookup.StatusRateLimited: // upstream 429: the budget is drained
		retry := max(r.RetryAfter, time.Second)
		if err := w.record(ctx, job, rows, Notice{RetryAt: w.now().Add(retry), Key: key}, r); err != nil {
			return err
		}
		return river.JobSnooze(retry)
	case r.Transient && job.Attempt < job.MaxAttempts:
		if err := w.record(ctx, job, rows, Notice{RetryAt: w.NextRetry(job), Key: key}, r); err != nil {
			return err
		}
		return errors.New(errMessage(r))
	case r.Transient: // out of attempts: River discards it
		if err := w.record(ctx, job, rows, Notice{Final: true, Key: key}, r); err != nil {
			return err
		}
		return errors.New(errMessage(r))
	default: // authentication, refused input: retrying cannot help
		if err := w.record(ctx, job, rows, Notice{Final: true, Key: key}, r); err != nil {
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

// record writes the attempt's ledger rows (and those of killed earlier
// attempts) and clears the job's call marks, in one implicit transaction;
// River's completer then completes, snoozes, retries or cancels the job.
// Once written, the notice (with r when given) goes to this process's
// waiters at once and to the other processes through the notifier, and
// the calls to the daily counters.
//
// Why not in the job's completing transaction (river.JobCompleteTx): the
// marks already make every upstream call counted exactly once (a rerun of
// the job finds none left and writes no row for this attempt's call), and
// a transaction of its own per job cost about 4 ms of the River overhead
// at p50 against River's batched completion (docs/performance.md). A waiter
// never depends on the job's state: the answer is in the notice, the cache
// and, when too large for a notice, the job's output.
func (w *Worker) record(ctx context.Context, job *river.Job[LookupArgs], rows []accounting.Call, n Notice, r *lookup.Result) error {
	n, err := withResult(n, r)
	if err != nil {
		return err
	}
	n.JobID = job.ID
	if n.Final && len(n.Result) > notifyLimit {
		// too large for a notification: kept as the job's output for waiters
		// elsewhere to read (small answers are not, sparing a rewrite of
		// river_job's metadata index)
		if err := river.RecordOutput(ctx, n); err != nil {
			return err
		}
	}
	// the call was made: record it even when the attempt's time ran out,
	// and through a database restart (a connection that failed is tried
	// again for up to recordPatience; an error PostgreSQL answered is not).
	// The rows' ids are fixed first: a try whose connection was lost after
	// it committed leaves the next one nothing to write.
	for i := range rows {
		rows[i].Identify()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordPatience)
	defer cancel()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		err = w.store.RecordAttempt(ctx, job.ID, rows)
		if err == nil || !connectionLost(err) || ctx.Err() != nil {
			break
		}
		w.log.WarnContext(ctx, "job attempt not recorded: the database is unreachable; trying again", "job_id", job.ID, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	if err != nil {
		return fmt.Errorf("record job %d attempt: %w", job.ID, err)
	}
	w.notify(n)
	if w.counts != nil && len(rows) > 0 {
		w.counts.Count(ctx, rows)
	}
	return nil
}

// recordPatience bounds how long an attempt's calls wait to be recorded
// while the database is unreachable (a PostgreSQL restart takes seconds).
const recordPatience = time.Minute

// connectionLost reports whether err is the database being unreachable
// (no connection, or the server shutting down) rather than an answer to
// the statement, which trying again would not change.
func connectionLost(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// 08: connection exception; 57P01-03: shutdown, crash shutdown, cannot connect now
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err)
}

// withResult is n carrying r (lookup.Codec) when r is given.
func withResult(n Notice, r *lookup.Result) (Notice, error) {
	if r == nil {
		return n, nil
	}
	b, err := lookup.Codec{}.Encode(r)
	n.Result = b
	return n, err
}

// notify hands n to this process's waiters whole, and sends it to every
// process without a result too large for a notification.
func (w *Worker) notify(n Notice) {
	if w.local != nil {
		whole := n // the waiters keep it: n is cut below
		w.local(&whole)
	}
	if len(n.Result) > notifyLimit {
		n.Result = nil
	}
	b, err := json.Marshal(n)
	if err != nil {
		w.log.Warn("job notice not encoded", "job_id", n.JobID, "err", err)
		return
	}
	w.notices.send(string(b))
}
