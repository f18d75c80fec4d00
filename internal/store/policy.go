package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/playbook"
	"github.com/inspector-gadget/gadget/ent/policyentry"
	"github.com/inspector-gadget/gadget/ent/policylist"
	"github.com/inspector-gadget/gadget/ent/sighting"
	"github.com/inspector-gadget/gadget/ent/sightingsummary"
	"github.com/inspector-gadget/gadget/ent/sightinguser"
	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
)

var _ policy.Store = (*Store)(nil)

// Lists are every list with its entry count, by name.
func (s *Store) Lists(ctx context.Context) ([]policy.List, error) {
	ls, err := s.client.PolicyList.Query().Order(ent.Asc(policylist.FieldName)).All(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	var rows []struct {
		List  string `json:"list"`
		Count int    `json:"count"`
	}
	if err := s.client.PolicyEntry.Query().GroupBy(policyentry.FieldList).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		counts[r.List] = r.Count
	}
	out := make([]policy.List, len(ls))
	for i, l := range ls {
		out[i] = policy.List{Name: l.Name, Effect: policy.Effect(l.Effect), Description: l.Description, Owner: l.Owner,
			CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC(), Entries: counts[l.Name]}
	}
	return out, nil
}

// ListEntries are every entry of a list, read without ent's per-row
// objects (a list may hold a million).
func (s *Store) ListEntries(ctx context.Context, list string) ([]*policy.Entry, error) {
	return s.entries(ctx, list, "", 0)
}

// EntriesPage is up to limit entries of a list after the value after.
func (s *Store) EntriesPage(ctx context.Context, list, after string, limit int) ([]*policy.Entry, error) {
	return s.entries(ctx, list, after, limit)
}

func (s *Store) entries(ctx context.Context, list, after string, limit int) ([]*policy.Entry, error) {
	q := entsql.Dialect(s.dialect).Select(policyentry.FieldValue, policyentry.FieldType, policyentry.FieldReason,
		policyentry.FieldOwner, policyentry.FieldCreatedAt, policyentry.FieldExpiresAt).From(entsql.Table(policyentry.Table))
	w := entsql.EQ(policyentry.FieldList, list)
	if after != "" {
		w = entsql.And(w, entsql.GT(policyentry.FieldValue, after))
	}
	q.Where(w).OrderBy(policyentry.FieldValue)
	if limit > 0 {
		q.Limit(limit)
	}
	query, args := q.Query()
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*policy.Entry
	for rows.Next() {
		e := &policy.Entry{List: list}
		var typ string
		var created time.Time
		var expires sql.NullTime
		if err := rows.Scan(&e.Value, &typ, &e.Reason, &e.Owner, &created, &expires); err != nil {
			return nil, err
		}
		e.Type, e.CreatedAt = policy.EntryType(typ), created.UTC()
		if expires.Valid {
			e.ExpiresAt = expires.Time.UTC()
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// CreateList creates an empty list (policy.ErrExists when the name is
// taken).
func (s *Store) CreateList(ctx context.Context, l policy.List) error {
	err := s.client.PolicyList.Create().SetName(l.Name).SetEffect(string(l.Effect)).SetDescription(l.Description).
		SetOwner(truncate(l.Owner, 64)).SetCreatedAt(ts(l.CreatedAt)).SetUpdatedAt(ts(l.UpdatedAt)).Exec(ctx)
	if ent.IsConstraintError(err) {
		return policy.ErrExists
	}
	return err
}

// DeleteList deletes a list and its entries in one transaction.
func (s *Store) DeleteList(ctx context.Context, name string) (bool, error) {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	n, err := tx.PolicyList.Delete().Where(policylist.Name(name)).Exec(ctx)
	if err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.PolicyEntry.Delete().Where(policyentry.List(name)).Exec(ctx); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// PutEntries upserts entries (by list and value) and moves the list's
// change time, in one transaction.
func (s *Store) PutEntries(ctx context.Context, list string, es []*policy.Entry, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := s.touchList(ctx, tx, list, at); err != nil {
		return err
	}
	const rows = 500 // 7 columns: 3,500 placeholders a statement
	for start := 0; start < len(es); start += rows {
		ins := entsql.Dialect(s.dialect).Insert(policyentry.Table).Columns(policyentry.FieldList, policyentry.FieldValue,
			policyentry.FieldType, policyentry.FieldReason, policyentry.FieldOwner, policyentry.FieldCreatedAt, policyentry.FieldExpiresAt)
		for _, e := range es[start:min(start+rows, len(es))] {
			var exp any
			if !e.ExpiresAt.IsZero() {
				exp = ts(e.ExpiresAt)
			}
			ins.Values(list, e.Value, string(e.Type), truncate(e.Reason, policy.MaxReasonLen), truncate(e.Owner, 64), ts(e.CreatedAt), exp)
		}
		query, args := ins.OnConflict(entsql.ConflictColumns(policyentry.FieldList, policyentry.FieldValue),
			entsql.ResolveWithNewValues()).Query()
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("put entries: %w", err)
		}
	}
	return tx.Commit()
}

func (s *Store) touchList(ctx context.Context, tx *sql.Tx, list string, at time.Time) error {
	query, args := entsql.Dialect(s.dialect).Update(policylist.Table).Set(policylist.FieldUpdatedAt, ts(at)).
		Where(entsql.EQ(policylist.FieldName, list)).Query()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return policy.ErrNotFound
	}
	return nil
}

// RemoveEntries deletes values from a list and moves its change time.
func (s *Store) RemoveEntries(ctx context.Context, list string, values []string, at time.Time) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := s.touchList(ctx, tx, list, at); err != nil {
		return 0, err
	}
	n := 0
	for part := range batches(values) {
		vs := make([]any, len(part))
		for i, v := range part {
			vs[i] = v
		}
		query, args := entsql.Dialect(s.dialect).Delete(policyentry.Table).
			Where(entsql.And(entsql.EQ(policyentry.FieldList, list), entsql.In(policyentry.FieldValue, vs...))).Query()
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, err
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, tx.Commit()
}

// Playbooks are the live (not deleted) playbooks, by name.
func (s *Store) Playbooks(ctx context.Context) ([]policy.Playbook, error) {
	ps, err := s.client.Playbook.Query().Where(playbook.Deleted(false)).Order(ent.Asc(playbook.FieldName)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]policy.Playbook, len(ps))
	for i, p := range ps {
		tlp, _ := indicator.ParseTLP(p.DefaultTlp)
		out[i] = policy.Playbook{Name: p.Name, Description: p.Description, Members: strings.Fields(p.Members),
			DefaultTLP: tlp, MinCoverage: p.MinCoverage, BuiltIn: p.Builtin, Owner: p.Owner,
			CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
	}
	return out, nil
}

// PutPlaybook creates or replaces a playbook (a deleted one comes back).
func (s *Store) PutPlaybook(ctx context.Context, p policy.Playbook) error {
	return s.client.Playbook.Create().SetName(p.Name).SetDescription(p.Description).SetMembers(strings.Join(p.Members, " ")).
		SetDefaultTlp(p.DefaultTLP.String()).SetMinCoverage(p.MinCoverage).SetBuiltin(p.BuiltIn).SetDeleted(false).
		SetOwner(truncate(p.Owner, 64)).SetCreatedAt(ts(p.CreatedAt)).SetUpdatedAt(ts(p.UpdatedAt)).
		OnConflictColumns(playbook.FieldName).UpdateNewValues().Exec(ctx)
}

// DeletePlaybook marks a playbook deleted.
func (s *Store) DeletePlaybook(ctx context.Context, name string, at time.Time) (bool, error) {
	n, err := s.client.Playbook.Update().Where(playbook.Name(name), playbook.Deleted(false)).
		SetDeleted(true).SetUpdatedAt(ts(at)).Save(ctx)
	return n > 0, err
}

// SeedPlaybooks inserts the playbooks whose name was never stored.
func (s *Store) SeedPlaybooks(ctx context.Context, ps []policy.Playbook) error {
	now := ts(s.now())
	for _, p := range ps {
		err := s.client.Playbook.Create().SetName(p.Name).SetDescription(p.Description).SetMembers(strings.Join(p.Members, " ")).
			SetDefaultTlp(p.DefaultTLP.String()).SetMinCoverage(p.MinCoverage).SetBuiltin(p.BuiltIn).
			SetCreatedAt(now).SetUpdatedAt(now).OnConflictColumns(playbook.FieldName).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}

// valueHash keys a value's sightings: the first 16 bytes of its SHA-256.
func valueHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:16])
}

// SightingSummary reads a value's rolled-up counters: one row.
func (s *Store) SightingSummary(ctx context.Context, kind, value string) (policy.Summary, error) {
	r, err := s.client.SightingSummary.Query().Where(sightingsummary.ValueHash(valueHash(value)), sightingsummary.Kind(kind)).Only(ctx)
	if ent.IsNotFound(err) {
		return policy.Summary{}, nil
	}
	if err != nil {
		return policy.Summary{}, err
	}
	out := policy.Summary{Count: r.Count, DistinctUsers: r.Users, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(),
		LastVerdict: r.LastVerdict, LastUser: r.LastUser}
	if r.ManualAt != nil {
		out.Manual = &policy.Annotation{SightingID: r.ManualSighting, Verdict: policy.ManualVerdict(r.ManualVerdict),
			Note: r.ManualNote, Username: r.ManualBy, At: r.ManualAt.UTC()}
	}
	return out, nil
}

// Sightings are a value's latest sightings, newest first (only
// username's when it is not empty).
func (s *Store) Sightings(ctx context.Context, kind, value, username string, limit int) ([]policy.Sighting, error) {
	q := s.client.Sighting.Query().Where(sighting.ValueHash(valueHash(value)), sighting.Kind(kind))
	if username != "" {
		q = q.Where(sighting.Username(username))
	}
	rs, err := q.Order(ent.Desc(sighting.FieldAt)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]policy.Sighting, 0, len(rs))
	for _, r := range rs {
		out = append(out, toSighting(r))
	}
	return out, nil
}

func toSighting(r *ent.Sighting) policy.Sighting {
	sg := policy.Sighting{ID: r.ID.String(), At: r.At.UTC(), Username: r.Username, Kind: r.Kind, Value: r.Value,
		Verdict: r.Verdict, Source: r.Source, TLP: r.Tlp}
	if r.ManualAt != nil {
		sg.Note = &policy.Annotation{SightingID: sg.ID, Verdict: policy.ManualVerdict(r.ManualVerdict), Note: r.Note,
			Username: r.ManualBy, At: r.ManualAt.UTC()}
	}
	return sg
}

// Annotate sets a sighting's note and verdict and, with a verdict, makes
// it the value's latest manual verdict, in one transaction.
func (s *Store) Annotate(ctx context.Context, a policy.Annotation, author string) (policy.Sighting, error) {
	id, err := uuid.Parse(a.SightingID)
	if err != nil {
		return policy.Sighting{}, policy.ErrNotFound
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return policy.Sighting{}, err
	}
	defer tx.Rollback()
	q := tx.Sighting.Query().Where(sighting.ID(id))
	if author != "" {
		q = q.Where(sighting.Username(author))
	}
	r, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return policy.Sighting{}, policy.ErrNotFound
	}
	if err != nil {
		return policy.Sighting{}, err
	}
	at := ts(a.At)
	r, err = tx.Sighting.UpdateOne(r).SetNote(a.Note).SetManualVerdict(string(a.Verdict)).
		SetManualBy(truncate(a.Username, 64)).SetManualAt(at).Save(ctx)
	if err != nil {
		return policy.Sighting{}, err
	}
	if a.Verdict != "" {
		_, err = tx.SightingSummary.Update().Where(sightingsummary.ValueHash(r.ValueHash), sightingsummary.Kind(r.Kind)).
			SetManualVerdict(string(a.Verdict)).SetManualBy(truncate(a.Username, 64)).SetManualAt(at).
			SetManualNote(a.Note).SetManualSighting(r.ID.String()).Save(ctx)
		if err != nil {
			return policy.Sighting{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return policy.Sighting{}, err
	}
	return toSighting(r), nil
}

// sightingWrites are the statements that write the sightings of a batch
// of audit records: the rows, then per value and user the upserted
// counters, then each touched summary's distinct-user count. A value is
// summed within the batch first, so each counter row is upserted once.
func (s *Store) sightingWrites(recs []accounting.Record) []statement {
	type key struct{ hash, kind string }
	type ukey struct {
		key
		user string
	}
	type sum struct {
		count        int64
		first, last  time.Time
		verdict, who string
	}
	var rows [][]any
	sums := map[key]*sum{}
	var order []key
	users := map[ukey]*sum{}
	var uorder []ukey
	for _, r := range recs {
		at := ts(s.at(r.At))
		who := truncate(orDash(r.Username), 64)
		var audit any
		if id, err := uuid.Parse(r.ID); err == nil {
			audit = id
		}
		for _, sg := range r.Sightings {
			k := key{valueHash(sg.Value), truncate(sg.Kind, 16)}
			rows = append(rows, []any{newID(), audit, k.hash, k.kind, sg.Value, who, at, truncate(sg.Verdict, 16),
				truncate(sg.Source, 16), truncate(sg.TLP, 16)})
			t, ok := sums[k]
			if !ok {
				t = &sum{first: at}
				sums[k] = t
				order = append(order, k)
			}
			t.count++
			if !at.Before(t.last) {
				t.last, t.verdict, t.who = at, truncate(sg.Verdict, 16), who
			}
			t.first = minTime(t.first, at)
			uk := ukey{k, who}
			u, ok := users[uk]
			if !ok {
				u = &sum{}
				users[uk] = u
				uorder = append(uorder, uk)
			}
			u.count++
			if at.After(u.last) {
				u.last = at
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	d := entsql.Dialect(s.dialect)
	var out []statement
	for part := range batches(rows) {
		ins := d.Insert(sighting.Table).Columns(sighting.FieldID, sighting.FieldAuditID, sighting.FieldValueHash, sighting.FieldKind,
			sighting.FieldValue, sighting.FieldUsername, sighting.FieldAt, sighting.FieldVerdict, sighting.FieldSource, sighting.FieldTlp)
		for _, row := range part {
			ins.Values(row...)
		}
		query, args := ins.Query()
		out = append(out, statement{query, args})
	}
	greatest, least := "GREATEST", "LEAST"
	if s.pool == nil {
		greatest, least = "MAX", "MIN" // SQLite's scalar forms
	}
	excluded := d.Table("excluded")
	for part := range batches(uorder) {
		ins := d.Insert(sightinguser.Table).Columns(sightinguser.FieldValueHash, sightinguser.FieldKind, sightinguser.FieldUsername,
			sightinguser.FieldCount, sightinguser.FieldLastSeen)
		for _, k := range part {
			u := users[k]
			ins.Values(k.hash, k.kind, k.user, u.count, u.last)
		}
		query, args := ins.OnConflict(entsql.ConflictColumns(sightinguser.FieldValueHash, sightinguser.FieldKind, sightinguser.FieldUsername),
			entsql.ResolveWith(func(u *entsql.UpdateSet) {
				t := u.Table()
				u.Set(sightinguser.FieldCount, entsql.Expr(t.C(sightinguser.FieldCount)+" + "+excluded.C(sightinguser.FieldCount)))
				u.Set(sightinguser.FieldLastSeen, entsql.Expr(greatest+"("+t.C(sightinguser.FieldLastSeen)+", "+excluded.C(sightinguser.FieldLastSeen)+")"))
			})).Query()
		out = append(out, statement{query, args})
	}
	for part := range batches(order) {
		ins := d.Insert(sightingsummary.Table).Columns(sightingsummary.FieldValueHash, sightingsummary.FieldKind, sightingsummary.FieldCount,
			sightingsummary.FieldFirstSeen, sightingsummary.FieldLastSeen, sightingsummary.FieldLastVerdict, sightingsummary.FieldLastUser)
		for _, k := range part {
			t := sums[k]
			ins.Values(k.hash, k.kind, t.count, t.first, t.last, t.verdict, t.who)
		}
		query, args := ins.OnConflict(entsql.ConflictColumns(sightingsummary.FieldValueHash, sightingsummary.FieldKind),
			entsql.ResolveWith(func(u *entsql.UpdateSet) {
				t := u.Table()
				newer := excluded.C(sightingsummary.FieldLastSeen) + " >= " + t.C(sightingsummary.FieldLastSeen)
				u.Set(sightingsummary.FieldCount, entsql.Expr(t.C(sightingsummary.FieldCount)+" + "+excluded.C(sightingsummary.FieldCount)))
				u.Set(sightingsummary.FieldFirstSeen, entsql.Expr(least+"("+t.C(sightingsummary.FieldFirstSeen)+", "+excluded.C(sightingsummary.FieldFirstSeen)+")"))
				u.Set(sightingsummary.FieldLastVerdict, entsql.Expr("CASE WHEN "+newer+" THEN "+excluded.C(sightingsummary.FieldLastVerdict)+" ELSE "+t.C(sightingsummary.FieldLastVerdict)+" END"))
				u.Set(sightingsummary.FieldLastUser, entsql.Expr("CASE WHEN "+newer+" THEN "+excluded.C(sightingsummary.FieldLastUser)+" ELSE "+t.C(sightingsummary.FieldLastUser)+" END"))
				u.Set(sightingsummary.FieldLastSeen, entsql.Expr(greatest+"("+t.C(sightingsummary.FieldLastSeen)+", "+excluded.C(sightingsummary.FieldLastSeen)+")"))
			})).Query()
		out = append(out, statement{query, args})
		// the distinct users of the values just written, in one statement:
		// each summary row counts its own users (a row of another kind
		// under the same hash is recounted, to the same number)
		hashes := make([]any, len(part))
		for i, k := range part {
			hashes[i] = k.hash
		}
		query, args = d.Update(sightingsummary.Table).Set(sightingsummary.FieldUsers, entsql.ExprFunc(func(b *entsql.Builder) {
			b.WriteString("(SELECT COUNT(*) FROM ").Ident(sightinguser.Table).WriteString(" WHERE ")
			for i, c := range []string{sightinguser.FieldValueHash, sightinguser.FieldKind} {
				if i > 0 {
					b.WriteString(" AND ")
				}
				b.Ident(sightinguser.Table).WriteString(".").Ident(c).WriteString(" = ").Ident(sightingsummary.Table).WriteString(".").Ident(c)
			}
			b.WriteString(")")
		})).Where(entsql.In(sightingsummary.FieldValueHash, hashes...)).Query()
		out = append(out, statement{query, args})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
