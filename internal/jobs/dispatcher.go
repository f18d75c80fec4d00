package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

	mu      sync.Mutex
	waiters map[string]map[*waiter]struct{} // by cache key
	ready   chan struct{}                   // closed once the first LISTEN is in place
	once    sync.Once
}

type waiter struct {
	key string
	c   chan *Notice
}

// NewDispatcher returns a dispatcher for channel; Run starts it.
func NewDispatcher(pool *pgxpool.Pool, channel string, log *slog.Logger) *Dispatcher {
	return &Dispatcher{pool: pool, channel: channel, log: log, waiters: map[string]map[*waiter]struct{}{}, ready: make(chan struct{})}
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

func (d *Dispatcher) unregister(w *waiter) {
	d.mu.Lock()
	delete(d.waiters[w.key], w)
	if len(d.waiters[w.key]) == 0 {
		delete(d.waiters, w.key)
	}
	d.mu.Unlock()
}

// Run listens until ctx ends, reconnecting after failures. After a
// reconnect, waiters re-read their jobs (a notice may have been missed).
func (d *Dispatcher) Run(ctx context.Context) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := d.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		d.log.WarnContext(ctx, "job result listener lost its connection; reconnecting", "err", err, "in", delay.String())
		d.wakeAll()
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
	d.wakeAll() // anything finished while we were away
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
		default: // full: the waiter re-reads the job on its safety tick
		}
	}
	claimed := len(ws) > 0
	d.mu.Unlock()
	if !claimed && n.Final && d.unclaimed != nil {
		d.unclaimed(ctx, n)
	}
}

// wakeAll sends every waiter an empty notice: re-read your job.
func (d *Dispatcher) wakeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for key, ws := range d.waiters {
		for w := range ws {
			select {
			case w.c <- &Notice{Key: key}:
			default:
			}
		}
	}
}
