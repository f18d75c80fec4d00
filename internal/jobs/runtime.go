package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/store"
)

// FetchCooldown of 1 ms wakes a worker on each insert's NOTIFY at once
// (River's default, 100 ms, adds about 250 ms before a waiter sees an
// answer). The fetch poll stays River's 1 s: GroupedInserter spaces its
// transactions so that none has its NOTIFY merged away, and polls at
// 100 ms cost an idle process with 24 queues a tenth of a core. Waiters
// take the answer from the worker's notice, not from the job's state, so
// River's batched completer marks jobs completed.
const FetchCooldown = time.Millisecond

// Defaults of Config, and of a provider queue's concurrency.
const (
	DefaultJobTimeout  = 30 * time.Second
	DefaultRescueAfter = time.Minute
	DefaultMaxAttempts = 5
	DefaultWorkers     = 20 // jobs of one provider's queue worked at once per process
)

// Config wires the job runtime of one process.
type Config struct {
	Pool    *pgxpool.Pool
	Fetcher *enrich.Fetcher // makes the workers' provider calls
	Store   Store           // the workers' SQL (store.JobQueue over Pool)
	Counts  Counters        // optional: adds the calls to the daily counters
	// Queues are the provider queues this process works, with their
	// concurrency; empty: this process only inserts and waits (--workers=0).
	Queues      map[string]int
	JobTimeout  time.Duration // one attempt (default DefaultJobTimeout)
	RescueAfter time.Duration // a running job whose worker vanished is retried after this (default DefaultRescueAfter)
	MaxAttempts int           // default DefaultMaxAttempts
	// KeepUnclaimed caches the final answers of jobs nobody in this
	// process waited for (set it when the cache is not shared through
	// Redis).
	KeepUnclaimed bool
	// Fallback, when set, answers a call whose job could not be queued
	// (PostgreSQL restarting): the call is made in this process instead.
	Fallback enrich.Executor
	// ID names this River client (attempted_by, River UI); default
	// gadget-<pid>-<random>@<host>, unique per client.
	ID     string
	Logger *slog.Logger
	Now    func() time.Time
}

// Runtime is the River client, the result dispatcher and the executor of
// one process.
type Runtime struct {
	Client   *river.Client[pgx.Tx]
	Executor *Executor
	disp     *Dispatcher
	notices  *notifier
	cancel   context.CancelFunc
	done     chan struct{}
	working  bool
}

// New builds the runtime; Start runs it.
func New(ctx context.Context, c Config) (*Runtime, error) {
	if c.Pool == nil || c.Fetcher == nil || c.Store == nil {
		return nil, errors.New("jobs: pool, fetcher and store are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = DefaultJobTimeout
	}
	if c.RescueAfter < c.JobTimeout {
		c.RescueAfter = max(c.JobTimeout+30*time.Second, DefaultRescueAfter)
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.ID == "" {
		host, _ := os.Hostname()
		var b [3]byte
		rand.Read(b[:])
		c.ID = fmt.Sprintf("gadget-%d-%x@%s", os.Getpid(), b, host)
	}
	channel, err := c.Store.Channel(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	notices := newNotifier(c.Store, channel, c.Logger)
	w := &Worker{fetcher: c.Fetcher, store: c.Store, counts: c.Counts, notices: notices, timeout: c.JobTimeout,
		log: c.Logger, now: c.Now}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, err
	}
	rc := &river.Config{
		ID:                   c.ID,
		FetchCooldown:        FetchCooldown,
		JobTimeout:           c.JobTimeout,
		RescueStuckJobsAfter: c.RescueAfter,
		MaxAttempts:          c.MaxAttempts,
		Workers:              workers,
		Logger:               c.Logger.With("component", "river"),
	}
	if len(c.Queues) > 0 {
		rc.Queues = map[string]river.QueueConfig{}
		for q, n := range c.Queues {
			rc.Queues[q] = river.QueueConfig{MaxWorkers: max(n, 1)}
		}
	}
	client, err := river.NewClient(riverpgxv5.New(c.Pool), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	disp := NewDispatcher(c.Pool, channel, c.Logger)
	disp.jobs = func(ctx context.Context, ids []int64) ([]*rivertype.JobRow, error) {
		res, err := client.JobList(ctx, river.NewJobListParams().IDs(ids...).First(len(ids)).States(
			rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded,
			rivertype.JobStateScheduled, rivertype.JobStateRetryable))
		if err != nil {
			return nil, err
		}
		return res.Jobs, nil
	}
	w.local = disp.handOff
	if c.KeepUnclaimed {
		disp.unclaimed = func(ctx context.Context, n *Notice) {
			if r := n.decode(); r != nil && n.Key != "" {
				c.Fetcher.Keep(ctx, n.Key, r)
			}
		}
	}
	return &Runtime{Client: client, disp: disp, notices: notices, working: len(c.Queues) > 0,
		Executor: &Executor{client: client, inserts: NewGroupedInserter(client), fetcher: c.Fetcher, disp: disp, log: c.Logger, now: c.Now, fallback: c.Fallback}}, nil
}

// Start runs the dispatcher and, when this process works queues, the
// workers. It returns once the dispatcher listens.
func (r *Runtime) Start(ctx context.Context) error {
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		r.disp.Run(ctx)
	}()
	select {
	case <-r.disp.Ready():
	case <-time.After(10 * time.Second):
		r.cancel()
		return errors.New("jobs: the result listener did not start")
	}
	if r.working {
		if err := r.Client.Start(ctx); err != nil {
			r.cancel()
			return fmt.Errorf("jobs: start workers: %w", err)
		}
	}
	return nil
}

// Stop lets running jobs finish (until ctx ends, then cancels them), sends
// their notices and stops the dispatcher.
func (r *Runtime) Stop(ctx context.Context) error {
	var err error
	if r.working {
		err = r.Client.Stop(ctx)
		if ctx.Err() != nil {
			err = r.Client.StopAndCancel(context.Background())
		}
		r.notices.wait() // the last jobs' notices go out before the pool closes
	}
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
	return err
}

// Migrate applies River's migrations, serialised across processes by an
// advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	const lockID = 0x6761646765747276 // "gadgetrv"
	var applied int
	err := store.Locked(ctx, pool, lockID, func() error {
		m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return err
		}
		res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		applied = len(res.Versions)
		return nil
	})
	return applied, err
}
