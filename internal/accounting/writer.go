package accounting

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Writer writes audit records and ledger calls in batches off the request
// path, with the counters they add up to (summed per user, api and day
// within a batch, so a batch upserts each counter once). It never drops
// a record: when the buffer is full Record waits for room. Failed batches
// are retried with backoff; Close flushes everything still buffered.
type Writer struct {
	store     Store
	log       *slog.Logger
	in        chan item
	batchSize int
	interval  time.Duration
	done      chan struct{}
	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.RWMutex // held for reading by Record, for writing by Close
	isClosed  bool
}

// WriterConfig tunes a Writer. Zero values take defaults.
type WriterConfig struct {
	Buffer    int           // records and calls buffered before Record waits (default 10,000)
	BatchSize int           // records and calls per batch (default 2000)
	Interval  time.Duration // longest a record waits before its batch is written (default 200ms)
	Logger    *slog.Logger
}

// NewWriter starts a Writer over store.
func NewWriter(store Store, c WriterConfig) *Writer {
	if c.Buffer <= 0 {
		c.Buffer = 10_000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 2000
	}
	if c.Interval <= 0 {
		c.Interval = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{store: store, log: c.Logger, in: make(chan item, c.Buffer), batchSize: c.BatchSize,
		interval: c.Interval, done: make(chan struct{}), closed: make(chan struct{})}
	go w.loop()
	return w
}

// item is a queued audit record, ledger call or counter delta.
type item struct {
	rec     *Record
	call    *Call
	counter *Counter
}

// Record queues an audit record for writing, its text made safe to store
// (Clean). After Close it writes r synchronously.
func (w *Writer) Record(ctx context.Context, r Record) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	r.Answers = slices.Clone(r.Answers)
	r.Sightings = slices.Clone(r.Sightings)
	r.clean()
	w.queue(ctx, item{rec: &r})
}

// Count queues the counters of calls whose ledger rows were written
// elsewhere (in a River job's completing transaction).
func (w *Writer) Count(ctx context.Context, calls []Call) {
	for i := range calls {
		call := calls[i]
		call.clean()
		c := call.Counter()
		w.queue(ctx, item{counter: &c})
	}
}

// Call queues a ledger row for an upstream call, its text made safe to
// store (Clean).
func (w *Writer) Call(ctx context.Context, c Call) {
	if c.At.IsZero() {
		c.At = time.Now()
	}
	c.clean()
	w.queue(ctx, item{call: &c})
}

func (w *Writer) queue(ctx context.Context, it item) {
	w.mu.RLock()
	if !w.isClosed {
		w.in <- it
		w.mu.RUnlock()
		return
	}
	w.mu.RUnlock()
	var b batcher
	b.add(it)
	w.write(context.WithoutCancel(ctx), b.batch())
}

// NewBatch is the batch of audit records and calls with the counters they
// add up to.
func NewBatch(recs []Record, calls []Call) Batch {
	var b batcher
	for i := range recs {
		b.add(item{rec: &recs[i]})
	}
	for i := range calls {
		b.add(item{call: &calls[i]})
	}
	return b.batch()
}

// batcher gathers items into a Batch, summing their counters.
type batcher struct {
	audit    []Record
	calls    []Call
	counters map[counterKey]*Counter
	order    []counterKey
}

type counterKey struct {
	username, api string
	day           time.Time
}

func (b *batcher) len() int { return len(b.audit) + len(b.calls) + len(b.counters) }

func (b *batcher) add(it item) {
	switch {
	case it.rec != nil:
		b.audit = append(b.audit, *it.rec)
		b.count(it.rec.counters()...)
	case it.call != nil:
		b.calls = append(b.calls, *it.call)
		b.count(it.call.Counter())
	default:
		b.count(*it.counter)
	}
}

// count adds counter deltas, summing those of one user, api and day.
func (b *batcher) count(cs ...Counter) {
	if b.counters == nil {
		b.counters = map[counterKey]*Counter{}
	}
	for _, c := range cs {
		k := counterKey{c.Username, c.API, c.Day}
		t, ok := b.counters[k]
		if !ok {
			t = &Counter{Username: c.Username, API: c.API, Day: c.Day}
			b.counters[k] = t
			b.order = append(b.order, k)
		}
		t.Answers += c.Answers
		t.Cached += c.Cached
		t.Calls += c.Calls
		t.Bytes += c.Bytes
		t.Errors += c.Errors
		t.RateLimited += c.RateLimited
		t.LatencyMs += c.LatencyMs
	}
}

// SumCounters sums the deltas of one user, api and day, in first-seen
// order (the store sums again after cutting names to its columns' width).
func SumCounters(cs []Counter) []Counter {
	var b batcher
	b.count(cs...)
	return b.batch().Counters
}

func (b *batcher) batch() Batch {
	out := Batch{Audit: b.audit, Calls: b.calls, Counters: make([]Counter, len(b.order))}
	for i, k := range b.order {
		out.Counters[i] = *b.counters[k]
	}
	return out
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	var b batcher
	flush := func() {
		if b.len() > 0 {
			w.write(context.Background(), b.batch())
			b = batcher{}
		}
	}
	for {
		select {
		case it, ok := <-w.in:
			if !ok {
				flush()
				return
			}
			b.add(it)
			if b.len() >= w.batchSize {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// write inserts a batch, retrying with backoff until it succeeds or the
// writer is closing and a last attempt has failed, which is logged with the
// records' count (and never silently dropped).
func (w *Writer) write(ctx context.Context, batch Batch) {
	n := len(batch.Audit) + len(batch.Calls)
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := w.store.WriteUsage(ctx, batch)
		if err == nil {
			return
		}
		select {
		case <-w.closed:
			if attempt >= 5 {
				w.log.Error("usage records could not be written", "records", n, "attempts", attempt, "err", err)
				return
			}
		default:
		}
		w.log.Warn("usage write failed; retrying", "records", n, "attempt", attempt, "err", err)
		time.Sleep(backoff)
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// Close stops accepting queued records, flushes the buffer and returns when
// everything is written or ctx ends.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() {
		close(w.closed)
		w.mu.Lock()
		w.isClosed = true
		close(w.in)
		w.mu.Unlock()
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("usage writer: flush did not finish"), ctx.Err())
	}
}
