package accounting

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Writer writes audit records and ledger calls in batches off the request
// path, with the counters they add up to (summed per user, api and day
// within a batch, so a batch upserts each counter once).
//
// It never blocks a request: when the buffer is full, records go to a
// bounded overflow (Stats().Overflowed counts them, and an ERROR is logged
// at most every ten seconds); only past the overflow are records dropped
// (Stats().Dropped, ERROR). A batch the database refuses while it still
// answers reads is split in halves until the row it refuses is found; the
// others are written, and that row is logged and written in a safe form
// (SafeForm). A database that does not answer is retried with backoff;
// Ready reports it. Close flushes everything still buffered.
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

	ovMu       sync.Mutex
	overflow   []item
	maxOver    int
	lastAlarm  time.Time
	failingFor time.Duration

	overflowed, dropped, poisoned atomic.Int64
	failingSince                  atomic.Int64 // unix nanos of the first failed write since the last success; 0: writing
}

// WriterConfig tunes a Writer. Zero values take defaults.
type WriterConfig struct {
	Buffer    int           // records and calls buffered before the overflow is used (default 10,000)
	Overflow  int           // records and calls held beyond the buffer before any is dropped (default 100,000)
	BatchSize int           // records and calls per batch (default 2000)
	Interval  time.Duration // longest a record waits before its batch is written (default 200ms)
	// FailingFor is how long writes may fail before Ready reports the
	// writer (default 5s).
	FailingFor time.Duration
	Logger     *slog.Logger
}

// WriterStats are the Writer's counts since it started.
type WriterStats struct {
	Queued     int   // records waiting (buffer and overflow)
	Overflowed int64 // records that found the buffer full and went to the overflow
	Dropped    int64 // records lost because the overflow was full too
	Poisoned   int64 // rows the database refused, written in a safe form
}

// Stats returns the Writer's counts.
func (w *Writer) Stats() WriterStats {
	w.ovMu.Lock()
	n := len(w.overflow)
	w.ovMu.Unlock()
	return WriterStats{Queued: len(w.in) + n, Overflowed: w.overflowed.Load(), Dropped: w.dropped.Load(), Poisoned: w.poisoned.Load()}
}

// Ready fails while writes have been failing for more than a few
// seconds, or records are being dropped: the readiness check.
func (w *Writer) Ready(context.Context) error {
	if since := w.failingSince.Load(); since != 0 && time.Since(time.Unix(0, since)) > w.failingFor {
		return errors.New("usage writer: writes failing since " + time.Unix(0, since).UTC().Format(time.RFC3339))
	}
	w.ovMu.Lock()
	full := len(w.overflow) >= w.maxOver
	w.ovMu.Unlock()
	if full {
		return errors.New("usage writer: buffer and overflow full, records are being dropped")
	}
	return nil
}

// NewWriter starts a Writer over store.
func NewWriter(store Store, c WriterConfig) *Writer {
	if c.Buffer <= 0 {
		c.Buffer = 10_000
	}
	if c.Overflow <= 0 {
		c.Overflow = 100_000
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 2000
	}
	if c.Interval <= 0 {
		c.Interval = 200 * time.Millisecond
	}
	if c.FailingFor <= 0 {
		c.FailingFor = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{failingFor: c.FailingFor, store: store, log: c.Logger, in: make(chan item, c.Buffer), batchSize: c.BatchSize,
		interval: c.Interval, done: make(chan struct{}), closed: make(chan struct{}), maxOver: c.Overflow}
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
	if r.ID == "" { // fixed here: every retry of its batch skips it once written
		r.ID = uuid.Must(uuid.NewV7()).String()
	}
	r.Answers = slices.Clone(r.Answers)
	r.Sightings = slices.Clone(r.Sightings)
	r.clean()
	w.queue(ctx, item{rec: &r})
}

// Count queues the counters of calls whose ledger rows were written
// elsewhere (by a River worker).
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
	c.Identify()
	c.clean()
	w.queue(ctx, item{call: &c})
}

func (w *Writer) queue(ctx context.Context, it item) {
	w.mu.RLock()
	if !w.isClosed {
		select {
		case w.in <- it:
		default:
			w.spill(it)
		}
		w.mu.RUnlock()
		return
	}
	w.mu.RUnlock()
	w.writeItems(context.WithoutCancel(ctx), []item{it})
}

// spill keeps it in the overflow, or drops it when that is full too.
func (w *Writer) spill(it item) {
	w.ovMu.Lock()
	defer w.ovMu.Unlock()
	msg := "usage buffer full: records go to the overflow"
	if len(w.overflow) < w.maxOver {
		w.overflow = append(w.overflow, it)
		w.overflowed.Add(1)
	} else {
		w.dropped.Add(1)
		msg = "usage buffer and overflow full: records are being dropped"
	}
	if now := time.Now(); now.Sub(w.lastAlarm) >= 10*time.Second {
		w.lastAlarm = now
		w.log.Error(msg, "overflow", len(w.overflow), "overflowed", w.overflowed.Load(), "dropped", w.dropped.Load())
	}
}

// takeOverflow returns the overflowed items, oldest first.
func (w *Writer) takeOverflow() []item {
	w.ovMu.Lock()
	defer w.ovMu.Unlock()
	out := w.overflow
	w.overflow = nil
	return out
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

func (b *batcher) add(it item) {
	switch {
	case it.rec != nil:
		b.audit = append(b.audit, *it.rec)
		it.rec.counters(b.count)
	case it.call != nil:
		b.calls = append(b.calls, *it.call)
		b.count(it.call.Counter())
	default:
		b.count(*it.counter)
	}
}

// count adds a counter delta, summed with those of its user, api and day.
func (b *batcher) count(c Counter) {
	if b.counters == nil {
		b.counters = map[counterKey]*Counter{}
	}
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

// SumCounters sums the deltas of one user, api and day, in first-seen
// order (the store sums again after cutting names to its columns' width).
func SumCounters(cs []Counter) []Counter {
	var b batcher
	for _, c := range cs {
		b.count(c)
	}
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
	var pending []item
	flush := func() {
		pending = append(pending, w.takeOverflow()...)
		for len(pending) > 0 {
			n := min(len(pending), w.batchSize)
			w.writeItems(context.Background(), pending[:n])
			pending = pending[n:]
		}
		pending = nil
	}
	for {
		select {
		case it, ok := <-w.in:
			if !ok {
				flush()
				return
			}
			pending = append(pending, it)
			if len(pending) >= w.batchSize {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

func batchOf(items []item) Batch {
	var b batcher
	for _, it := range items {
		b.add(it)
	}
	return b.batch()
}

// writeItems writes items as one batch. When the database refuses it but
// still answers a read, the refused rows are found by halving (isolate)
// and the rest is written; when it does not answer, the batch is retried
// with backoff until it succeeds, or the writer is closing and five
// attempts have failed, which is logged with the records' count.
func (w *Writer) writeItems(ctx context.Context, items []item) {
	backoff := 100 * time.Millisecond
	for attempt := 1; len(items) > 0; attempt++ {
		err := w.store.WriteUsage(ctx, batchOf(items))
		if err == nil {
			w.failingSince.Store(0)
			return
		}
		w.failingSince.CompareAndSwap(0, time.Now().UnixNano())
		if _, rerr := w.store.UsageRows(ctx, time.Unix(0, 0), time.Unix(0, 0), ""); rerr == nil {
			// the database answers: the batch holds a row it refuses
			if items = w.isolate(ctx, items, err); len(items) == 0 {
				w.failingSince.Store(0)
				return
			}
		}
		select {
		case <-w.closed:
			if attempt >= 5 {
				w.dropped.Add(int64(len(items)))
				w.log.Error("usage records could not be written", "records", len(items), "attempts", attempt, "err", err)
				return
			}
		default:
		}
		w.log.Warn("usage write failed; retrying", "records", len(items), "attempt", attempt, "err", err)
		time.Sleep(backoff)
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

// isolate writes what it can of items, which the database refused as one
// batch with err: halves are written apart, a lone refused row in its
// safe form. It returns the items still unwritten (a safe form refused
// too: the database refuses writes, not a row).
func (w *Writer) isolate(ctx context.Context, items []item, err error) []item {
	if len(items) == 1 {
		safe := items[0].safeForm()
		if serr := w.store.WriteUsage(ctx, batchOf([]item{safe})); serr != nil {
			return items
		}
		w.poisoned.Add(1)
		w.log.Error("usage row refused by the database; written in a safe form", "api", safe.api(), "err", err)
		return nil
	}
	var left []item
	for _, half := range [][]item{items[:len(items)/2], items[len(items)/2:]} {
		herr := w.store.WriteUsage(ctx, batchOf(half))
		if herr == nil {
			continue
		}
		left = append(left, w.isolate(ctx, half, herr)...)
	}
	return left
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
