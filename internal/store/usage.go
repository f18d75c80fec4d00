package store

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/predicate"
	"github.com/inspector-gadget/gadget/ent/upstreamcall"
	"github.com/inspector-gadget/gadget/ent/usagecounter"
	"github.com/inspector-gadget/gadget/ent/usagelog"
	"github.com/inspector-gadget/gadget/internal/accounting"
)

var _ accounting.Store = (*Store)(nil)

// WriteUsage writes b in one transaction: audit rows and ledger calls with
// multi-row INSERTs (no RETURNING; a row whose id is already present is
// skipped, so a retried batch is not written twice), counters with one
// upsert.
func (s *Store) WriteUsage(ctx context.Context, b accounting.Batch) error {
	for i := range b.Audit { // the sightings name their audit row
		if _, err := uuid.Parse(b.Audit[i].ID); err != nil {
			b.Audit[i].ID = newID().String()
		}
	}
	stmts := append(s.usageInserts(b.Audit), s.callInserts(b.Calls, 0)...)
	stmts = append(stmts, s.counterUpserts(b.Counters)...)
	stmts = append(stmts, s.sightingWrites(b.Audit)...)
	if len(stmts) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q.query, q.args...); err != nil {
			return fmt.Errorf("write usage: %w", err)
		}
	}
	return tx.Commit()
}

type statement struct {
	query string
	args  []any
}

// chunk bounds the rows of one statement: at 14 columns, 7,168
// placeholders, under SQLite's 32,766 and PostgreSQL's 65,535.
const chunk = 512

// batches splits rows into consecutive runs whose lengths are powers of
// two, at most chunk, largest first (slices.Chunk with varying sizes). A
// multi-row statement then has at most ten shapes: pgx prepares every
// distinct statement text and keeps it on its connection (up to 512), with
// its plan on the server, so batches of every length would keep hundreds
// of long statements per table and connection.
func batches[T any](rows []T) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		for len(rows) > 0 {
			size := chunk
			for size > len(rows) {
				size /= 2
			}
			if !yield(rows[:size:size]) {
				return
			}
			rows = rows[size:]
		}
	}
}

// usageInserts are the multi-row INSERTs of audit records, skipping
// existing ids.
func (s *Store) usageInserts(recs []accounting.Record) []statement {
	var out []statement
	for part := range batches(recs) {
		ins := sql.Dialect(s.dialect).Insert(usagelog.Table).Columns(
			usagelog.FieldID, usagelog.FieldUsername, usagelog.FieldAPI, usagelog.FieldDataSize, usagelog.FieldEndpoint,
			usagelog.FieldParameters, usagelog.FieldUserAgent, usagelog.FieldIPAddress, usagelog.FieldQueryDate,
			usagelog.FieldStatus, usagelog.FieldCached, usagelog.FieldLatencyMs, usagelog.FieldProviders, usagelog.FieldTlp)
		for _, r := range part {
			id := newID()
			if r.ID != "" {
				if parsed, err := uuid.Parse(r.ID); err == nil {
					id = parsed
				}
			}
			status := r.Status
			if status == "" {
				status = "ok"
			}
			ins.Values(id, truncate(orDash(r.Username), 64), truncate(r.API, 128), max(r.DataSize, 0), truncate(r.Endpoint, 2048),
				truncate(r.Parameters, accounting.MaxParameters), truncate(r.UserAgent, 512), truncate(r.IP, 64), ts(s.at(r.At)), truncate(status, 32), r.Cached,
				max(r.Latency.Milliseconds(), 0), r.Providers(), truncate(r.TLP, 16))
		}
		query, args := ins.OnConflict(sql.DoNothing()).Query()
		out = append(out, statement{query, args})
	}
	return out
}

// callInserts are the multi-row INSERTs of ledger rows; jobID, when not 0,
// is the River job that made the calls.
func (s *Store) callInserts(calls []accounting.Call, jobID int64) []statement {
	var out []statement
	for part := range batches(calls) {
		ins := sql.Dialect(s.dialect).Insert(upstreamcall.Table).Columns(
			upstreamcall.FieldID, upstreamcall.FieldAt, upstreamcall.FieldUsername, upstreamcall.FieldProvider,
			upstreamcall.FieldEndpoint, upstreamcall.FieldParameters, upstreamcall.FieldStatus, upstreamcall.FieldBytes,
			upstreamcall.FieldLatencyMs, upstreamcall.FieldJobID)
		for _, c := range part {
			var job any
			if id := cmp.Or(c.JobID, jobID); id != 0 {
				job = id
			}
			id := c.ID
			if id == uuid.Nil {
				id = newID()
			}
			ins.Values(id, ts(s.at(c.At)), truncate(orDash(c.Username), 64), truncate(c.Provider, 128),
				truncate(c.Endpoint, 2048), truncate(c.Parameters, accounting.MaxParameters), truncate(cmp.Or(c.Status, "ok"), 32), max(c.Bytes, 0),
				max(c.Latency.Milliseconds(), 0), job)
		}
		query, args := ins.OnConflict(sql.ConflictColumns(upstreamcall.FieldID), sql.DoNothing()).Query()
		out = append(out, statement{query, args})
	}
	return out
}

// counterUpserts add counter deltas to the stored counters, one statement
// per batch. Names are cut to their columns first and the deltas summed
// again, since one upsert may not touch a row twice.
func (s *Store) counterUpserts(cs []accounting.Counter) []statement {
	cut := make([]accounting.Counter, len(cs))
	for i, c := range cs {
		c.Username, c.API = truncate(orDash(c.Username), 64), truncate(c.API, 128)
		cut[i] = c
	}
	cs = accounting.SumCounters(cut)
	cols := []string{usagecounter.FieldAnswers, usagecounter.FieldCached, usagecounter.FieldCalls, usagecounter.FieldBytes,
		usagecounter.FieldErrors, usagecounter.FieldRateLimited, usagecounter.FieldLatencyMs}
	var out []statement
	for part := range batches(cs) {
		ins := sql.Dialect(s.dialect).Insert(usagecounter.Table).Columns(append([]string{
			usagecounter.FieldUsername, usagecounter.FieldAPI, usagecounter.FieldDay}, cols...)...)
		for _, c := range part {
			ins.Values(c.Username, c.API, c.Day.UTC().Format(time.DateOnly),
				c.Answers, c.Cached, c.Calls, c.Bytes, c.Errors, c.RateLimited, c.LatencyMs)
		}
		excluded := sql.Dialect(s.dialect).Table("excluded")
		query, args := ins.OnConflict(
			sql.ConflictColumns(usagecounter.FieldUsername, usagecounter.FieldAPI, usagecounter.FieldDay),
			sql.ResolveWith(func(u *sql.UpdateSet) {
				for _, c := range cols {
					u.Set(c, sql.Expr(u.Table().C(c)+" + "+excluded.C(c)))
				}
			}),
		).Query()
		out = append(out, statement{query, args})
	}
	return out
}

// newID is a time-ordered id: it appends to the index instead of inserting
// at random places.
func newID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

func (s *Store) at(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// storedUsername is the spelling under which username's rows are written:
// its account's name when one matches in any case, else username itself
// (the rows of a removed account, or a failed sign-in's name).
func (s *Store) storedUsername(ctx context.Context, username string) string {
	if u, err := findUser(ctx, s.client.User, username); err == nil {
		return u.Username
	}
	return username
}

// UsageRows sums the counters of the days in [from, to) by username and
// api: calls are the answers delivered (or operations run), bytes the
// bytes delivered.
func (s *Store) UsageRows(ctx context.Context, from, to time.Time, username string) ([]accounting.Row, error) {
	q := s.client.UsageCounter.Query().Where(usagecounter.DayGTE(from.UTC().Format(time.DateOnly)),
		usagecounter.DayLT(to.UTC().Format(time.DateOnly)))
	if username != "" {
		q = q.Where(usagecounter.Username(s.storedUsername(ctx, username)))
	}
	var rows []struct {
		Username string `json:"username"`
		API      string `json:"api"`
		Calls    int64  `json:"calls"`
		Bytes    int64  `json:"bytes"`
	}
	err := q.GroupBy(usagecounter.FieldUsername, usagecounter.FieldAPI).
		Aggregate(ent.As(ent.Sum(usagecounter.FieldAnswers), "calls"), ent.As(ent.Sum(usagecounter.FieldBytes), "bytes")).
		Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make([]accounting.Row, len(rows))
	for i, r := range rows {
		out[i] = accounting.Row{Username: r.Username, API: r.API, Calls: r.Calls, Bytes: r.Bytes}
	}
	sortRows(out)
	return out, nil
}

func sortRows(rows []accounting.Row) {
	slices.SortFunc(rows, func(a, b accounting.Row) int {
		return cmp.Or(strings.Compare(a.Username, b.Username), strings.Compare(a.API, b.API))
	})
}

// AuditLog lists records newest first, filtered, after the cursor.
func (s *Store) AuditLog(ctx context.Context, f accounting.AuditFilter, limit int, after *accounting.Cursor) ([]accounting.Record, error) {
	var ps []predicate.UsageLog
	if f.Username != "" {
		ps = append(ps, usagelog.Username(s.storedUsername(ctx, f.Username)))
	}
	if f.API != "" {
		ps = append(ps, usagelog.API(f.API))
	}
	if f.Status != "" {
		ps = append(ps, usagelog.Status(f.Status))
	}
	if !f.From.IsZero() {
		ps = append(ps, usagelog.QueryDateGTE(ts(f.From)))
	}
	if !f.To.IsZero() {
		ps = append(ps, usagelog.QueryDateLT(ts(f.To)))
	}
	if after != nil {
		id, err := uuid.Parse(after.ID)
		if err != nil {
			return nil, fmt.Errorf("audit cursor: %w", err)
		}
		at := ts(after.At)
		ps = append(ps, usagelog.Or(
			usagelog.QueryDateLT(at),
			usagelog.And(usagelog.QueryDate(at), usagelog.IDLT(id)),
		))
	}
	logs, err := s.client.UsageLog.Query().Where(ps...).
		Order(ent.Desc(usagelog.FieldQueryDate), ent.Desc(usagelog.FieldID)).
		Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	return toRecords(logs), nil
}

// toRecords maps stored usage logs to accounting records.
func toRecords(logs []*ent.UsageLog) []accounting.Record {
	out := make([]accounting.Record, len(logs))
	for i, l := range logs {
		out[i] = accounting.Record{
			ID: l.ID.String(), Username: l.Username, API: l.API, Endpoint: l.Endpoint, Parameters: l.Parameters,
			UserAgent: l.UserAgent, IP: l.IPAddress, Status: l.Status, DataSize: l.DataSize, Cached: l.Cached,
			Latency: time.Duration(l.LatencyMs) * time.Millisecond, At: l.QueryDate.UTC(),
			Answers: accounting.ParseProviders(l.Providers), TLP: l.Tlp,
		}
	}
	return out
}
