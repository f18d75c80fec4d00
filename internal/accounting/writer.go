package accounting

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Writer writes usage records in batches off the request path. Record never
// drops a record: when the buffer is full it waits for room. Failed batches
// are retried with backoff; Close flushes everything still buffered.
type Writer struct {
	store     Store
	log       *slog.Logger
	in        chan Record
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
	Buffer    int           // records buffered before Record waits (default 10,000)
	BatchSize int           // records per insert (default 2000)
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
	w := &Writer{store: store, log: c.Logger, in: make(chan Record, c.Buffer), batchSize: c.BatchSize,
		interval: c.Interval, done: make(chan struct{}), closed: make(chan struct{})}
	go w.loop()
	return w
}

// Record queues r for writing. After Close it writes r synchronously.
func (w *Writer) Record(ctx context.Context, r Record) {
	if r.At.IsZero() {
		r.At = time.Now()
	}
	w.mu.RLock()
	if !w.isClosed {
		w.in <- r
		w.mu.RUnlock()
		return
	}
	w.mu.RUnlock()
	w.write(context.WithoutCancel(ctx), []Record{r})
}

func (w *Writer) loop() {
	defer close(w.done)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	batch := make([]Record, 0, w.batchSize)
	flush := func() {
		if len(batch) > 0 {
			w.write(context.Background(), batch)
			batch = make([]Record, 0, w.batchSize)
		}
	}
	for {
		select {
		case r, ok := <-w.in:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) >= w.batchSize {
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
func (w *Writer) write(ctx context.Context, batch []Record) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := w.store.InsertUsage(ctx, batch)
		if err == nil {
			return
		}
		select {
		case <-w.closed:
			if attempt >= 5 {
				w.log.Error("usage records could not be written", "records", len(batch), "attempts", attempt, "err", err)
				return
			}
		default:
		}
		w.log.Warn("usage write failed; retrying", "records", len(batch), "attempt", attempt, "err", err)
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
