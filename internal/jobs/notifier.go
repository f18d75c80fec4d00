package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// notifier sends a process's job notices to every process's Dispatcher,
// after the transactions that recorded them have committed: one NOTIFY
// statement at a time, carrying every notice queued meanwhile.
//
// Why not NOTIFY inside the job's transaction: PostgreSQL serialises the
// commits of all transactions that sent a NOTIFY on one database-wide
// lock, so twenty workers completing at once would queue on it. Job
// transactions here send none, and a process has at most one notifying
// statement in flight. Waiters in this process get the notice at once
// (the worker's hand-off); a notice lost to a crash between the commit
// and the NOTIFY costs other processes' waiters a wait for the dispatcher's
// sweep (a second at most).
type notifier struct {
	store   Store
	channel string
	log     *slog.Logger

	mu      sync.Mutex
	queue   []string
	sending bool
	idle    sync.WaitGroup // a sender is running
}

// send queues a notice and starts a sender when none runs.
func (n *notifier) send(payload string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.queue = append(n.queue, payload)
	if !n.sending {
		n.sending = true
		n.idle.Add(1)
		go n.drain()
	}
}

// drain sends what is queued, batch after batch, until nothing is.
func (n *notifier) drain() {
	defer n.idle.Done()
	for {
		n.mu.Lock()
		batch := n.queue
		n.queue = nil
		if len(batch) == 0 {
			n.sending = false
			n.mu.Unlock()
			return
		}
		n.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := n.store.Notify(ctx, n.channel, batch); err != nil {
			n.log.WarnContext(ctx, "job notices not sent; waiters elsewhere get their jobs from the sweep", "notices", len(batch), "err", err)
		}
		cancel()
	}
}

// wait returns once everything queued has been sent.
func (n *notifier) wait() { n.idle.Wait() }
