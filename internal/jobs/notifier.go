package jobs

import (
	"context"
	"log/slog"
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
	sends   group[string]
}

func newNotifier(store Store, channel string, log *slog.Logger) *notifier {
	n := &notifier{store: store, channel: channel, log: log}
	n.sends.do = n.sendAll
	return n
}

// send queues a notice for the next NOTIFY statement.
func (n *notifier) send(payload string) { n.sends.add(payload) }

func (n *notifier) sendAll(batch []string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.store.Notify(ctx, n.channel, batch); err != nil {
		n.log.WarnContext(ctx, "job notices not sent; waiters elsewhere get their jobs from the sweep", "notices", len(batch), "err", err)
	}
	return nil
}

// wait returns once everything queued has been sent.
func (n *notifier) wait() { n.sends.wait() }
