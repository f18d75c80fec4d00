package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
)

// Dispatcher is the one LISTEN connection of a process: it hands each job
// notice to the callers waiting on that job.
type Dispatcher struct {
	pool    *pgxpool.Pool
	channel string
	log     *slog.Logger
	// unclaimed, when set, is given the final notices nobody here waits for
	// (to fill a process-local cache).
	unclaimed func(ctx context.Context, n *Notice)
	// jobs, when set, reads the rows of jobs that are finished or deferred
	// among ids: the sweep's one query for every waiter of the process.
	jobs func(ctx context.Context, ids []int64) ([]*rivertype.JobRow, error)

	mu      sync.Mutex
	waiters map[string]map[*waiter]struct{} // by cache key
	ready   chan struct{}                   // closed once the first LISTEN is in place
	kick    chan struct{}                   // sweep now: notices may have been lost
	once    sync.Once
}

type waiter struct {
	key   string
	c     chan *Notice
	job   int64     // the job waited on, once inserted (under Dispatcher.mu)
	since time.Time // when the wait on job began
}

// NewDispatcher returns a dispatcher for channel; Run starts it.
func NewDispatcher(pool *pgxpool.Pool, channel string, log *slog.Logger) *Dispatcher {
	return &Dispatcher{pool: pool, channel: channel, log: log, waiters: map[string]map[*waiter]struct{}{},
		ready: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Ready is closed once the dispatcher listens.
func (d *Dispatcher) Ready() <-chan struct{} { return d.ready }

// register starts a wait for the answer under a cache key; call it before
// inserting the job, so no notice can be missed.
func (d *Dispatcher) register(key string) *waiter {
	w := &waiter{key: key, c: make(chan *Notice, 8)}
	d.mu.Lock()
	if d.waiters[key] == nil {
		d.waiters[key] = map[*waiter]struct{}{}
	}
	d.waiters[key][w] = struct{}{}
	d.mu.Unlock()
	return w
}

// watch records the job w waits on, for the sweep.
func (d *Dispatcher) watch(w *waiter, job int64) {
	d.mu.Lock()
	w.job, w.since = job, time.Now()
	d.mu.Unlock()
}

func (d *Dispatcher) unregister(w *waiter) {
	d.mu.Lock()
	delete(d.waiters[w.key], w)
	if len(d.waiters[w.key]) == 0 {
		delete(d.waiters, w.key)
	}
	d.mu.Unlock()
}

// Run listens until ctx ends, reconnecting after failures. After a
// reconnect the sweep runs at once (a notice may have been missed).
func (d *Dispatcher) Run(ctx context.Context) {
	if d.jobs != nil {
		go d.sweep(ctx)
	}
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		d.log.WarnContext(ctx, "job result listener lost its connection; reconnecting", "err", err, "in", delay.String())
		d.sweepNow()
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

func (d *Dispatcher) listen(ctx context.Context) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// the connection is LISTENing: never hand it back to the pool
	pc := conn.Hijack()
	defer pc.Close(context.WithoutCancel(ctx))
	if _, err := pc.Exec(ctx, "LISTEN "+pgx.Identifier{d.channel}.Sanitize()); err != nil {
		return err
	}
	d.once.Do(func() { close(d.ready) })
	d.sweepNow() // anything finished while we were away
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var notice Notice
		if err := json.Unmarshal([]byte(n.Payload), &notice); err != nil {
			d.log.WarnContext(ctx, "unreadable job notice dropped", "err", err)
			continue
		}
		d.deliver(ctx, &notice)
	}
}

// handOff delivers a notice committed by a worker of this process to
// its waiters, without waiting for the NOTIFY to come back (which then
// delivers it again: a waiter returns on the first final notice, and a
// retry notice read twice says the same). Nobody waiting: the NOTIFY
// deals with it.
func (d *Dispatcher) handOff(n *Notice) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for w := range d.waiters[n.Key] {
		select {
		case w.c <- n:
		default:
		}
	}
}

func (d *Dispatcher) deliver(ctx context.Context, n *Notice) {
	d.mu.Lock()
	ws := d.waiters[n.Key]
	for w := range ws {
		select {
		case w.c <- n:
		default: // full: the sweep hands the waiter its job's row
		}
	}
	claimed := len(ws) > 0
	d.mu.Unlock()
	if !claimed && n.Final && d.unclaimed != nil {
		d.unclaimed(ctx, n)
	}
}

// sweepNow asks the sweep to run at once, over every job waited on.
func (d *Dispatcher) sweepNow() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// sweep is the safety net for a notice that never came (its NOTIFY failed,
// a waiter's channel was full, the listener reconnected): every safetyTick,
// one query reads those jobs waited on for a tick or longer that have
// finished or been deferred, and hands each row to its waiters; after a
// reconnect it reads every job waited on, at once. One query a tick per
// process, however many callers wait, so waiting never takes connections
// from the workers.
func (d *Dispatcher) sweep(ctx context.Context) {
	t := time.NewTicker(safetyTick)
	defer t.Stop()
	for {
		age := safetyTick
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
			age = 0
		}
		for ids := range slices.Chunk(d.waitedOn(time.Now().Add(-age)), sweepChunk) {
			rows, err := d.jobs(ctx, ids)
			if err != nil {
				if ctx.Err() == nil {
					d.log.WarnContext(ctx, "job sweep failed", "err", err)
				}
				break
			}
			d.handRows(rows, age)
		}
	}
}

// sweepChunk bounds the ids of one sweep query.
const sweepChunk = 1000

// waitedOn is the distinct jobs waited on since before then (since
// before now: those waited on now).
func (d *Dispatcher) waitedOn(before time.Time) []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[int64]bool{}
	var ids []int64
	for _, ws := range d.waiters {
		for w := range ws {
			if w.job != 0 && !seen[w.job] && w.since.Before(before) {
				seen[w.job] = true
				ids = append(ids, w.job)
			}
		}
	}
	return ids
}

// handRows gives each job row to the waiters of that job. A job finished
// less than age ago is left to its notice, which may still be on its way
// with the answer.
func (d *Dispatcher) handRows(rows []*rivertype.JobRow, age time.Duration) {
	byID := make(map[int64]*rivertype.JobRow, len(rows))
	for _, r := range rows {
		if r.FinalizedAt == nil || time.Since(*r.FinalizedAt) >= age {
			byID[r.ID] = r
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for key, ws := range d.waiters {
		for w := range ws {
			if r := byID[w.job]; r != nil {
				select {
				case w.c <- &Notice{JobID: r.ID, Key: key, row: r}:
				default:
				}
			}
		}
	}
}
