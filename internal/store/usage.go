package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/predicate"
	"github.com/inspector-gadget/gadget/ent/usagelog"
	"github.com/inspector-gadget/gadget/internal/accounting"
)

var _ accounting.Store = (*Store)(nil)

// InsertUsage writes records with multi-row INSERTs (no RETURNING), in one
// transaction; a record whose id already exists is skipped, so a retried
// batch is not written twice.
func (s *Store) InsertUsage(ctx context.Context, recs []accounting.Record) error {
	if len(recs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range s.usageInserts(recs) {
		if _, err := tx.ExecContext(ctx, q.query, q.args...); err != nil {
			return fmt.Errorf("insert usage: %w", err)
		}
	}
	return tx.Commit()
}

// QueueUsage adds the INSERTs of recs to b, a pgx batch a job worker sends
// inside its completing transaction (PostgreSQL).
func (s *Store) QueueUsage(b *pgx.Batch, recs []accounting.Record) {
	for _, q := range s.usageInserts(recs) {
		b.Queue(q.query, q.args...)
	}
}

type statement struct {
	query string
	args  []any
}

// usageInserts are the multi-row INSERTs of recs, skipping existing ids.
func (s *Store) usageInserts(recs []accounting.Record) []statement {
	var out []statement
	const chunk = 1000 // 12,000 placeholders: under SQLite's 32,766 and PostgreSQL's 65,535
	for start := 0; start < len(recs); start += chunk {
		ins := sql.Dialect(s.dialect).Insert(usagelog.Table).Columns(
			usagelog.FieldID, usagelog.FieldUsername, usagelog.FieldAPI, usagelog.FieldDataSize, usagelog.FieldEndpoint,
			usagelog.FieldParameters, usagelog.FieldUserAgent, usagelog.FieldIPAddress, usagelog.FieldQueryDate,
			usagelog.FieldStatus, usagelog.FieldCached, usagelog.FieldLatencyMs)
		for _, r := range recs[start:min(start+chunk, len(recs))] {
			id, err := uuid.NewV7() // time-ordered: appends to the index instead of random inserts
			if err != nil {
				id = uuid.New()
			}
			if r.ID != "" {
				if parsed, err := uuid.Parse(r.ID); err == nil {
					id = parsed
				}
			}
			at := r.At
			if at.IsZero() {
				at = s.now()
			}
			status := r.Status
			if status == "" {
				status = "ok"
			}
			ins.Values(id, truncate(orDash(r.Username), 64), truncate(r.API, 128), max(r.DataSize, 0), truncate(r.Endpoint, 2048),
				r.Parameters, truncate(r.UserAgent, 512), truncate(r.IP, 64), ts(at), truncate(status, 32), r.Cached,
				max(r.Latency.Milliseconds(), 0))
		}
		query, args := ins.OnConflict(sql.DoNothing()).Query()
		out = append(out, statement{query, args})
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// UsageRows groups usage in [from, to) by username and api.
func (s *Store) UsageRows(ctx context.Context, from, to time.Time, username string) ([]accounting.Row, error) {
	q := s.client.UsageLog.Query().Where(usagelog.QueryDateGTE(ts(from)), usagelog.QueryDateLT(ts(to)))
	if username != "" {
		q = q.Where(usagelog.Username(username))
	}
	var rows []struct {
		Username string `json:"username"`
		API      string `json:"api"`
		Calls    int64  `json:"calls"`
		Bytes    int64  `json:"bytes"`
	}
	err := q.GroupBy(usagelog.FieldUsername, usagelog.FieldAPI).
		Aggregate(ent.As(ent.Count(), "calls"), ent.As(ent.Sum(usagelog.FieldDataSize), "bytes")).
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
		ps = append(ps, usagelog.Username(f.Username))
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
		}
	}
	return out
}
