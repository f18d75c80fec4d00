package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// safetyTick is how often a waiter re-reads its job in case a notice was
// lost; notices normally arrive within milliseconds.
const safetyTick = time.Second

// pendingMargin is kept back from the lookup's deadline to answer PENDING
// in time.
const pendingMargin = 25 * time.Millisecond

// Executor runs cache-missing provider calls as River jobs and waits for
// their answers (enrich.Executor).
type Executor struct {
	client  *river.Client[pgx.Tx]
	fetcher *enrich.Fetcher // reads the cache when a job finished without a notice reaching us
	pool    *pgxpool.Pool
	disp    *Dispatcher
	log     *slog.Logger
	now     func() time.Time
}

var _ enrich.Executor = (*Executor)(nil)

// Execute inserts the job (or joins the identical one in flight), then
// waits for its notice until the call's deadline; a wait that runs out
// answers PENDING with the job's id.
func (x *Executor) Execute(ctx context.Context, c enrich.Call) (*lookup.Result, bool) {
	args := LookupArgs{Provider: c.Provider, IndKind: string(c.Indicator.Kind), Value: c.Indicator.Value, Fresh: c.Fresh,
		Username: c.Caller.Username, Endpoint: c.Caller.Endpoint, IP: c.Caller.IP, UserAgent: c.Caller.UserAgent}
	ctx, cancel := context.WithDeadline(ctx, c.Deadline.Add(-pendingMargin))
	defer cancel()
	key := enrich.CacheKey(c.Provider, c.Indicator)
	w := x.disp.register(key)
	defer x.disp.unregister(w)
	res, err := x.client.InsertTx(ctx, autoTx{x.pool}, args, nil)
	if err != nil {
		if ctx.Err() != nil {
			return failure(c.Provider, lookup.StatusTimeout, errcode.Timeout, "the lookup's deadline passed before its job was queued", 0), false
		}
		x.log.ErrorContext(ctx, "job insert failed", "provider", c.Provider, "err", err)
		return failure(c.Provider, lookup.StatusError, errcode.Internal, "the provider call could not be queued", 0), false
	}
	id, owner := res.Job.ID, !res.UniqueSkippedAsDuplicate
	var last *lookup.Result // the latest attempt's failure, while the job retries
	lastRecorded := false
	recheck := !owner // a joined job may have finished before we registered
	tick := time.NewTicker(safetyTick)
	defer tick.Stop()
	for {
		if recheck {
			recheck = false
			if r, recorded, done := x.read(ctx, id, owner, c); done {
				return r, recorded
			}
		}
		select {
		case n := <-w.c:
			if !n.Final && n.RetryAt.IsZero() && len(n.Result) == 0 { // wake-up after a reconnect
				recheck = true
				continue
			}
			if n.JobID != id && !n.Final {
				continue // an earlier job under the same key, retrying
			}
			r := n.decode()
			if r == nil { // too large for the notice
				if r, recorded, done := x.read(ctx, n.JobID, owner && n.JobID == id, c); done {
					return r, recorded
				}
				continue
			}
			// the job wrote the usage row of its call for its inserter
			recorded := owner && n.Upstream && n.JobID == id
			if n.Final {
				// (an earlier job under this key may answer between our
				// cache miss and our insert: ours then finds the answer in
				// the cache and completes without a call)
				return r, recorded
			}
			// a 429, a spent budget or a failed attempt: wait for the next
			// attempt when it comes before the deadline, else answer now
			if dl, _ := ctx.Deadline(); n.RetryAt.After(dl) {
				if r.Status == lookup.StatusError || r.Status == lookup.StatusTimeout {
					r.Err.Message += fmt.Sprintf("; job %d retries at %s", id, n.RetryAt.UTC().Format(time.RFC3339))
				}
				return r, recorded
			}
			last, lastRecorded = r, recorded
		case <-tick.C:
			recheck = true
		case <-ctx.Done():
			if last != nil {
				return last, lastRecorded
			}
			r := failure(c.Provider, lookup.StatusPending, errcode.Timeout,
				fmt.Sprintf("the call is still running as job %d; ask again for its answer", id), 0)
			r.JobID = id
			return r, false
		}
	}
}

// read looks at the job itself: done with its answer when it has finished
// (from its output when it recorded one, else from the cache it filled);
// recorded as Execute says.
func (x *Executor) read(ctx context.Context, id int64, owner bool, c enrich.Call) (res *lookup.Result, recorded, done bool) {
	job, err := x.client.JobGet(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			x.log.WarnContext(ctx, "job read failed", "job_id", id, "err", err)
		}
		return nil, false, false
	}
	r, recorded, done := finished(job, owner)
	if done && r.Status == lookup.StatusError { // cancelled, discarded or without output: the cache may hold the answer
		if cached := x.fetcher.Cached(ctx, c.Provider, c.Indicator); cached != nil {
			cached.Cached, cached.JobID = false, id
			return cached, recorded, true
		}
	}
	return r, recorded, done
}

// finished is a finished job's answer, and whether the job wrote its
// inserter's usage row.
func finished(job *rivertype.JobRow, owner bool) (*lookup.Result, bool, bool) {
	switch job.State {
	case rivertype.JobStateCompleted:
		var n Notice
		if out := job.Output(); len(out) > 0 && json.Unmarshal(out, &n) == nil {
			n.JobID = job.ID
			if r := n.decode(); r != nil {
				return r, owner && n.Upstream, true
			}
		}
		return failure(job.Queue, lookup.StatusError, errcode.Internal, fmt.Sprintf("job %d completed without an answer", job.ID), job.ID), false, true
	case rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		msg := fmt.Sprintf("job %d failed", job.ID)
		if len(job.Errors) > 0 {
			msg = job.Errors[len(job.Errors)-1].Error
		}
		// the worker accounted its calls; this waiter learns the outcome
		return failure(job.Queue, lookup.StatusError, errcode.UpstreamError, msg, job.ID), owner, true
	}
	return nil, false, false
}

func failure(name string, status lookup.Status, code errcode.Code, msg string, id int64) *lookup.Result {
	r := lookup.Failed(name, status, code, msg)
	r.JobID = id
	return r
}
