package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// safetyTick is how often the dispatcher's sweep reads the jobs waited on,
// in case a notice was lost; notices normally arrive within milliseconds.
const safetyTick = time.Second

// completionLag is how long after a job's final notice a waiter reads the
// job again for the output the notice could not carry: River's completer
// marks finished jobs completed in batches every 50 ms.
const completionLag = 60 * time.Millisecond

// pendingMargin is kept back from the lookup's deadline to answer PENDING
// in time: the engine stops waiting at the deadline itself, so PENDING and
// its job id must reach it first, also when a loaded machine delays the
// waiter by tens of milliseconds.
const pendingMargin = 100 * time.Millisecond

// Executor runs cache-missing provider calls as River jobs and waits for
// their answers (enrich.Executor).
type Executor struct {
	client  *river.Client[pgx.Tx]
	inserts Inserter
	fetcher *enrich.Fetcher // reads the cache when a job finished without a notice reaching us
	disp    *Dispatcher
	log     *slog.Logger
	now     func() time.Time
	// fallback makes the call in this process when its job cannot be
	// queued (nil: the provider answers ERROR)
	fallback enrich.Executor
}

var _ enrich.Executor = (*Executor)(nil)

// Execute inserts the job (or joins the identical one in flight), then
// waits for its notice until the call's deadline; a wait that runs out
// answers PENDING with the job's id.
func (x *Executor) Execute(ctx context.Context, c enrich.Call) *lookup.Result {
	args := LookupArgs{Provider: c.Provider, IndKind: string(c.Indicator.Kind), Value: c.Indicator.Value, Fresh: c.Fresh,
		Username: c.Caller.Username, Endpoint: c.Caller.Endpoint, IP: c.Caller.IP, UserAgent: c.Caller.UserAgent}
	ctx, cancel := context.WithDeadline(ctx, c.Deadline.Add(-pendingMargin))
	defer cancel()
	key := enrich.CacheKey(c.Provider, c.Indicator)
	w := x.disp.register(key)
	defer x.disp.unregister(w)
	res, err := x.inserts.Insert(ctx, args)
	if err != nil {
		if ctx.Err() != nil {
			return failure(c.Provider, lookup.StatusTimeout, errcode.Timeout, "the lookup's deadline passed before its job was queued", 0)
		}
		if x.fallback != nil {
			x.log.WarnContext(ctx, "job insert failed; calling the provider from this process", "provider", c.Provider, "err", err)
			return x.fallback.Execute(ctx, c)
		}
		x.log.ErrorContext(ctx, "job insert failed", "provider", c.Provider, "err", err)
		return failure(c.Provider, lookup.StatusError, errcode.Internal, "the provider call could not be queued", 0)
	}
	id := res.Job.ID
	x.disp.watch(w, id)
	if res.UniqueSkippedAsDuplicate { // a joined job may have finished, or been deferred, before we registered
		if r, done := x.read(ctx, id, c); done {
			return r
		}
	}
	var last *lookup.Result     // the latest attempt's failure, while the job retries
	var reread <-chan time.Time // fires to read job again, whose final notice came without its answer
	var job int64
	for {
		select {
		case <-reread: // the notice may have come before River marked the job completed
			if r, done := x.read(ctx, job, c); done {
				return r
			}
			reread = time.After(completionLag)
		case n := <-w.c:
			if n.row != nil { // the sweep's copy of the job: its notice was lost
				if r, done := x.judge(ctx, n.row, c); done {
					return r
				}
				continue
			}
			if n.JobID != id && (!n.Final || c.Fresh) {
				continue // an earlier job under the same key: retrying, or older than a fresh call may take
			}
			r := n.decode()
			if r == nil { // too large for the notice: in the cache, or the job's output once River has completed it
				if r := x.cached(ctx, c, n.JobID); r != nil {
					return r
				}
				if r, done := x.read(ctx, n.JobID, c); done {
					return r
				}
				job, reread = n.JobID, time.After(completionLag)
				continue
			}
			if n.Final {
				// (an earlier job under this key may answer between our
				// cache miss and our insert: ours then finds the answer in
				// the cache and completes without a call)
				return r
			}
			// a 429, a spent budget or a failed attempt: wait for the next
			// attempt when it comes before the deadline, else answer now
			if dl, _ := ctx.Deadline(); n.RetryAt.After(dl) || (c.MaxWait > 0 && n.RetryAt.Sub(x.now()) > c.MaxWait) {
				switch r.Status {
				case lookup.StatusError, lookup.StatusTimeout:
					r.Err.Message += fmt.Sprintf("; job %d retries at %s", id, n.RetryAt.UTC().Format(time.RFC3339))
				case lookup.StatusRateLimited: // the job stays queued for when budget returns
					r.Status, r.JobID = lookup.StatusPending, id
					r.Err.Message += fmt.Sprintf("; job %d is queued for when budget returns at %s", id, n.RetryAt.UTC().Format(time.RFC3339))
				}
				return r
			}
			last = r
		case <-ctx.Done():
			if last != nil {
				return last
			}
			r := failure(c.Provider, lookup.StatusPending, errcode.Timeout,
				fmt.Sprintf("the call is still running as job %d; ask again for its answer", id), 0)
			r.JobID = id
			return r
		}
	}
}

// later answers PENDING at once when the joined job is not due before the
// call's deadline (or its MaxWait): it waits for a provider's budget or
// its next retry, so waiting for it would only hold the caller.
func (x *Executor) later(ctx context.Context, job *rivertype.JobRow, c enrich.Call) *lookup.Result {
	if job.State != rivertype.JobStateScheduled && job.State != rivertype.JobStateRetryable {
		return nil
	}
	dl, _ := ctx.Deadline()
	if !job.ScheduledAt.After(dl) && (c.MaxWait <= 0 || job.ScheduledAt.Sub(x.now()) <= c.MaxWait) {
		return nil
	}
	code, why := errcode.RateLimited, "waiting for the provider's rate or budget"
	if job.State == rivertype.JobStateRetryable && len(job.Errors) > 0 { // retrying after a failed attempt
		code, why = errcode.UpstreamError, job.Errors[len(job.Errors)-1].Error
	}
	r := failure(c.Provider, lookup.StatusPending, code,
		fmt.Sprintf("the call is queued as job %d for %s (%s)", job.ID, job.ScheduledAt.UTC().Format(time.RFC3339), why), job.ID)
	r.RetryAfter = job.ScheduledAt.Sub(x.now())
	return r
}

// read reads the job itself and judges it.
func (x *Executor) read(ctx context.Context, id int64, c enrich.Call) (*lookup.Result, bool) {
	job, err := x.client.JobGet(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			x.log.WarnContext(ctx, "job read failed", "job_id", id, "err", err)
		}
		return nil, false
	}
	return x.judge(ctx, job, c)
}

// judge is done with the job's answer when it has finished (from its
// output when it recorded one, else from the cache it filled), or PENDING
// when it is deferred past the call's deadline.
func (x *Executor) judge(ctx context.Context, job *rivertype.JobRow, c enrich.Call) (*lookup.Result, bool) {
	r, done := finished(job)
	// the cache may hold the answer: of a job cancelled, discarded or
	// completed without output, or of one whose notice went out before we
	// joined it and which River has not yet marked completed (not for a
	// fresh call, which must not take an older answer than its job's)
	if (done && r.Status == lookup.StatusError) || (!done && !c.Fresh) {
		if cached := x.cached(ctx, c, job.ID); cached != nil {
			return cached, true
		}
	}
	if !done { // a notice of its deferral may have come before we waited
		if r := x.later(ctx, job, c); r != nil {
			return r, true
		}
	}
	return r, done
}

// cached is the cache's answer to c, as the answer of job id.
func (x *Executor) cached(ctx context.Context, c enrich.Call, id int64) *lookup.Result {
	r := x.fetcher.Cached(ctx, c.Provider, c.Indicator)
	if r != nil {
		r.Cached, r.JobID = false, id
	}
	return r
}

// finished is a finished job's answer.
func finished(job *rivertype.JobRow) (*lookup.Result, bool) {
	switch job.State {
	case rivertype.JobStateCompleted:
		var n Notice
		if out := job.Output(); len(out) > 0 && json.Unmarshal(out, &n) == nil {
			n.JobID = job.ID
			if r := n.decode(); r != nil {
				return r, true
			}
		}
		return failure(job.Queue, lookup.StatusError, errcode.Internal, fmt.Sprintf("job %d completed without an answer", job.ID), job.ID), true
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		msg := fmt.Sprintf("job %d failed", job.ID)
		if len(job.Errors) > 0 {
			msg = job.Errors[len(job.Errors)-1].Error
		}
		return failure(job.Queue, lookup.StatusError, errcode.UpstreamError, msg, job.ID), true
	}
	return nil, false
}

func failure(name string, status lookup.Status, code errcode.Code, msg string, id int64) *lookup.Result {
	r := lookup.Failed(name, status, code, msg)
	r.JobID = id
	return r
}
