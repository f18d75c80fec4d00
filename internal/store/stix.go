package store

import (
	"context"
	"math"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/stixobject"
)

// StixRow is a STIX object of a TAXII collection at its latest version.
type StixRow struct {
	ID         int64
	Collection string
	ObjectID   string
	ObjectType string
	Version    time.Time // the object's modified
	DateAdded  time.Time // when this version was added
	Revoked    bool
	Level      string
	Score      int
	Object     []byte // the STIX object's JSON
}

// StixQuery selects a page of a collection, in (date_added, id) order.
type StixQuery struct {
	Collection string
	// After and AfterID: rows strictly after (After, AfterID); AfterID 0
	// with After set is TAXII's added_after (strictly later than After).
	After   time.Time
	AfterID int64
	Types   []string // match[type]; empty: all
	IDs     []string // match[id]; empty: all
	// Versions is match[version] as timestamps: rows whose version is one
	// of them; empty: all.
	Versions []time.Time
	Limit    int
}

func toStixRow(o *ent.StixObject) StixRow {
	return StixRow{ID: o.ID, Collection: o.Collection, ObjectID: o.ObjectID, ObjectType: o.ObjectType,
		Version: o.Version.UTC(), DateAdded: o.DateAdded.UTC(), Revoked: o.Revoked, Level: o.Level, Score: o.Score, Object: []byte(o.Object)}
}

// LatestStixObject returns collection's row of objectID, nil when none.
func (s *Store) LatestStixObject(ctx context.Context, collection, objectID string) (*StixRow, error) {
	o, err := s.client.StixObject.Query().Where(stixobject.Collection(collection), stixobject.ObjectID(objectID)).
		Order(ent.Desc(stixobject.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := toStixRow(o)
	return &r, nil
}

// PutStixObject stores r as its collection's latest version of the object:
// it replaces the row there is (moving its date_added), or adds one.
func (s *Store) PutStixObject(ctx context.Context, r StixRow) error {
	n, err := s.client.StixObject.Update().Where(stixobject.Collection(r.Collection), stixobject.ObjectID(r.ObjectID)).
		SetVersion(ts(r.Version)).SetDateAdded(ts(r.DateAdded)).SetRevoked(r.Revoked).SetLevel(r.Level).SetScore(r.Score).
		SetObject(string(r.Object)).Save(ctx)
	if err != nil || n > 0 {
		return err
	}
	return s.client.StixObject.Create().SetCollection(r.Collection).SetObjectID(r.ObjectID).SetObjectType(r.ObjectType).
		SetVersion(ts(r.Version)).SetDateAdded(ts(r.DateAdded)).SetRevoked(r.Revoked).SetLevel(r.Level).SetScore(r.Score).
		SetObject(string(r.Object)).Exec(ctx)
}

// PutStixObjects adds rows in one statement (bulk loads and benchmarks).
func (s *Store) PutStixObjects(ctx context.Context, rows []StixRow) error {
	b := make([]*ent.StixObjectCreate, len(rows))
	for i, r := range rows {
		b[i] = s.client.StixObject.Create().SetCollection(r.Collection).SetObjectID(r.ObjectID).SetObjectType(r.ObjectType).
			SetVersion(ts(r.Version)).SetDateAdded(ts(r.DateAdded)).SetRevoked(r.Revoked).SetLevel(r.Level).SetScore(r.Score).
			SetObject(string(r.Object))
	}
	return s.client.StixObject.CreateBulk(b...).Exec(ctx)
}

// StixObjects returns a page of q.Collection by keyset on (date_added,
// id), on the index of those columns: its cost does not grow with the
// collection.
func (s *Store) StixObjects(ctx context.Context, q StixQuery) ([]StixRow, error) {
	query := s.client.StixObject.Query().Where(stixobject.Collection(q.Collection))
	if !q.After.IsZero() || q.AfterID > 0 {
		after, id := ts(q.After), q.AfterID
		if id == 0 { // added_after: strictly later than After, whatever the id
			id = math.MaxInt64
		}
		query = query.Where(func(sel *entsql.Selector) {
			// a row-value comparison: one range of the (collection, date_added, id) index
			sel.Where(entsql.P(func(b *entsql.Builder) {
				b.WriteString("(" + sel.C(stixobject.FieldDateAdded) + ", " + sel.C(stixobject.FieldID) + ") > (")
				b.Arg(after).Comma().Arg(id).WriteString(")")
			}))
		})
	}
	if len(q.Types) > 0 {
		query = query.Where(stixobject.ObjectTypeIn(q.Types...))
	}
	if len(q.IDs) > 0 {
		query = query.Where(stixobject.ObjectIDIn(q.IDs...))
	}
	if len(q.Versions) > 0 {
		vs := make([]time.Time, len(q.Versions))
		for i, v := range q.Versions {
			vs[i] = ts(v)
		}
		query = query.Where(stixobject.VersionIn(vs...))
	}
	os, err := query.Order(ent.Asc(stixobject.FieldDateAdded), ent.Asc(stixobject.FieldID)).Limit(q.Limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]StixRow, len(os))
	for i, o := range os {
		out[i] = toStixRow(o)
	}
	return out, nil
}

// StixObjectStates returns, for every object of a collection, whether its
// latest version is revoked (what a sync compares its source with).
func (s *Store) StixObjectStates(ctx context.Context, collection string) (map[string]bool, error) {
	var rows []struct {
		ObjectID string `json:"object_id"`
		Revoked  bool   `json:"revoked"`
	}
	if err := s.client.StixObject.Query().Where(stixobject.Collection(collection)).
		Select(stixobject.FieldObjectID, stixobject.FieldRevoked).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r.ObjectID] = r.Revoked
	}
	return out, nil
}
