package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// committer sends the transactions of a process's workers that NOTIFY
// (the completing transaction of each job, the record of a failed
// attempt): one pipeline at a time, each transaction in it its own BEGIN
// … COMMIT. A transaction that arrives while no pipeline is out is sent
// at once by its own goroutine; those that arrive while one is out wait,
// and the first of them sends them all together next.
//
// Why: PostgreSQL serialises every committing transaction that has sent a
// NOTIFY on one database-wide lock; sent one after another on one
// connection, the commits never queue for it, and a burst of completions
// costs a round trip or two (measurements: docs/performance.md).
//
// A failure aborts only its own transaction. Those behind it in the same
// pipeline are skipped by PostgreSQL (everything after an error up to the
// pipeline's end is) and go out again in the next one.
type committer struct {
	pool    *pgxpool.Pool
	timeout time.Duration // one pipeline, from send to its last result

	mu      sync.Mutex
	queue   []*commitReq
	running bool // a pipeline is out; its sender hands the queue on
}

func newCommitter(pool *pgxpool.Pool) *committer {
	return &committer{pool: pool, timeout: 10 * time.Second}
}

// commitReq is one transaction: stmts, then, when query is set, one
// query whose rows the requester gets (River's completing update), then
// COMMIT.
type commitReq struct {
	stmts []*pgx.QueuedQuery
	query *pgx.QueuedQuery
	// wake tells a queued requester how its transaction ended, or hands
	// it the queue to send
	wake chan wakeMsg
	// set once it ran
	rows *bufferedRows
	err  error
}

type wakeMsg struct {
	lead []*commitReq // send these (this request among them); nil: done
}

// do runs r's transaction and returns once it has ended.
func (c *committer) do(r *commitReq) {
	r.wake = make(chan wakeMsg, 1)
	c.mu.Lock()
	if c.running {
		c.queue = append(c.queue, r)
		c.mu.Unlock()
		m := <-r.wake
		if m.lead == nil {
			return // another sender ran it
		}
		c.lead(m.lead)
		return
	}
	c.running = true
	c.mu.Unlock()
	c.lead([]*commitReq{r})
}

// lead sends group (and whatever was skipped behind a failure, until
// all of it ran), tells the other requesters of group how theirs ended,
// then hands what queued meanwhile to the first of it, or goes idle.
func (c *committer) lead(group []*commitReq) {
	for len(group) > 0 {
		skipped := c.send(group)
		for _, r := range group[:len(group)-len(skipped)] {
			r.wake <- wakeMsg{}
		}
		group = skipped
	}
	c.mu.Lock()
	next := c.queue
	c.queue = nil
	if len(next) == 0 {
		c.running = false
	}
	c.mu.Unlock()
	if len(next) > 0 {
		next[0].wake <- wakeMsg{lead: next}
	}
}

// send runs group as one pipeline; it returns the requests behind a
// failure, which did not run.
func (c *committer) send(group []*commitReq) []*commitReq {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		for _, r := range group {
			r.err = err
		}
		return nil
	}
	defer conn.Release()
	// queued afresh: pgx keeps a connection's prepared statement in a
	// queued query, and a request sent again may go out on another one
	b := &pgx.Batch{}
	for _, r := range group {
		b.Queue("BEGIN")
		for _, q := range r.stmts {
			b.Queue(q.SQL, q.Arguments...)
		}
		if r.query != nil {
			b.Queue(r.query.SQL, r.query.Arguments...)
		}
		b.Queue("COMMIT")
	}
	br := conn.SendBatch(ctx, b)
	defer br.Close() // reads what a failure left unread: the connection is idle after it
	for i, r := range group {
		if r.err = run1(br, r); r.err != nil {
			return group[i+1:]
		}
	}
	return nil
}

// run1 reads one transaction's results.
func run1(br pgx.BatchResults, r *commitReq) error {
	for range 1 + len(r.stmts) { // BEGIN and the statements
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	if r.query != nil {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		if r.rows, err = buffer(rows); err != nil {
			return err
		}
	}
	_, err := br.Exec() // COMMIT
	return err
}

// pipelineTx is a transaction of one query after a queued batch, sent
// through the committer: BEGIN, the batch, the query and COMMIT in one
// round trip (with whatever else is being committed). A worker completes
// its job with it: the usage rows, the call mark, the NOTIFY to waiters
// and River's completing update, in one transaction. The query's rows
// come back once the transaction has ended; Commit reports how. A second
// statement is refused.
type pipelineTx struct {
	committer *committer
	batch     *pgx.Batch
	req       *commitReq
}

var _ pgx.Tx = (*pipelineTx)(nil)

func (t *pipelineTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.req != nil {
		return nil, errors.New("jobs: the pipelined transaction takes one query")
	}
	t.req = &commitReq{stmts: t.batch.QueuedQueries, query: &pgx.QueuedQuery{SQL: sql, Arguments: args}}
	t.committer.do(t.req)
	if t.req.rows == nil { // it failed before them
		return nil, t.req.err
	}
	return t.req.rows, nil
}

func (t *pipelineTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return errRow{rows: rows, err: err}
}

// Commit reports how the transaction ended.
func (t *pipelineTx) Commit(context.Context) error {
	if t.req == nil {
		return errors.New("jobs: the pipelined transaction was never sent")
	}
	return t.req.err
}

// Rollback: the transaction has ended by the time Query returns (a failed
// one rolled back); there is nothing to undo.
func (t *pipelineTx) Rollback(context.Context) error { return nil }

func (t *pipelineTx) Begin(context.Context) (pgx.Tx, error) { return nil, errTxShape }
func (t *pipelineTx) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errTxShape
}
func (t *pipelineTx) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{err: errTxShape}
}
func (t *pipelineTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t *pipelineTx) Prepare(context.Context, string, string) (*pgconn.StatementDescription, error) {
	return nil, errTxShape
}
func (t *pipelineTx) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errTxShape
}
func (t *pipelineTx) Conn() *pgx.Conn { return nil }

// commitBatch runs b's statements as one transaction through the
// committer: a failed attempt's record and notice.
func (c *committer) commitBatch(b *pgx.Batch) error {
	r := &commitReq{stmts: b.QueuedQueries}
	c.do(r)
	return r.err
}

// bufferedRows are a query's rows read off the connection, so the
// pipeline can go on before the requester looks at them.
type bufferedRows struct {
	fields []pgconn.FieldDescription
	values [][][]byte
	tag    pgconn.CommandTag
	m      *pgtype.Map
	i      int // the current row is values[i-1]
	err    error
}

var _ pgx.Rows = (*bufferedRows)(nil)

// typeMaps decode buffered rows: a connection's own map is not safe to
// share once the connection is back in the pool. (A fresh map knows what
// a connection's does: nothing here registers types.)
var typeMaps = sync.Pool{New: func() any { return pgtype.NewMap() }}

func buffer(rows pgx.Rows) (*bufferedRows, error) {
	defer rows.Close()
	b := &bufferedRows{fields: append([]pgconn.FieldDescription(nil), rows.FieldDescriptions()...),
		m: typeMaps.Get().(*pgtype.Map)}
	for rows.Next() {
		raw := rows.RawValues()
		row := make([][]byte, len(raw))
		for i, v := range raw {
			if v != nil {
				row[i] = append([]byte{}, v...)
			}
		}
		b.values = append(b.values, row)
	}
	rows.Close()
	b.tag = rows.CommandTag()
	return b, rows.Err()
}

// Close gives the type map back.
func (b *bufferedRows) Close() {
	if b.m != nil {
		typeMaps.Put(b.m)
		b.m = nil
	}
	b.i = len(b.values)
}

func (b *bufferedRows) Err() error                                   { return b.err }
func (b *bufferedRows) CommandTag() pgconn.CommandTag                { return b.tag }
func (b *bufferedRows) FieldDescriptions() []pgconn.FieldDescription { return b.fields }
func (b *bufferedRows) Conn() *pgx.Conn                              { return nil }
func (b *bufferedRows) TypeMap() *pgtype.Map                         { return b.m }

func (b *bufferedRows) Next() bool {
	if b.err != nil || b.i >= len(b.values) || b.m == nil {
		return false
	}
	b.i++
	return true
}

func (b *bufferedRows) RawValues() [][]byte {
	if b.i == 0 {
		return nil
	}
	return b.values[b.i-1]
}

func (b *bufferedRows) Scan(dest ...any) error {
	if b.m == nil {
		return errors.New("jobs: scan of closed rows")
	}
	row := b.RawValues()
	if row == nil || len(dest) != len(row) {
		b.err = fmt.Errorf("jobs: scan of %d values into %d destinations", len(row), len(dest))
		return b.err
	}
	for i, d := range dest {
		if d == nil {
			continue
		}
		if err := b.m.Scan(b.fields[i].DataTypeOID, b.fields[i].Format, row[i], d); err != nil {
			b.err = fmt.Errorf("jobs: scan column %s: %w", b.fields[i].Name, err)
			return b.err
		}
	}
	return nil
}

func (b *bufferedRows) Values() ([]any, error) {
	if b.m == nil {
		return nil, errors.New("jobs: values of closed rows")
	}
	row := b.RawValues()
	out := make([]any, len(row))
	for i, v := range row {
		if v == nil {
			continue
		}
		f := b.fields[i]
		t, ok := b.m.TypeForOID(f.DataTypeOID)
		if !ok {
			return nil, fmt.Errorf("jobs: unknown type %d of column %s", f.DataTypeOID, f.Name)
		}
		val, err := t.Codec.DecodeValue(b.m, f.DataTypeOID, f.Format, v)
		if err != nil {
			return nil, err
		}
		out[i] = val
	}
	return out, nil
}
