package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// StixObject is one version of a STIX 2.1 object in a TAXII collection:
// the indicators of the values this service found malicious or suspicious,
// and of block-list entries. A change of verdict adds a version (a verdict
// that no longer qualifies adds a revoked one), so pollers see every
// change after their last added_after. Pages are read by keyset on
// (collection, date_added, id): the cost of a page does not grow with the
// size of the table.
type StixObject struct {
	ent.Schema
}

// Annotations names the table.
func (StixObject) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "stix_objects"}}
}

// Fields of the StixObject.
func (StixObject) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("collection").NotEmpty().MaxLen(80).Immutable(),
		field.String("object_id").NotEmpty().MaxLen(80).Immutable(),
		field.String("object_type").NotEmpty().MaxLen(32).Immutable(),
		// the object's modified timestamp: its version
		field.Time("version").Immutable(),
		field.Time("date_added").Immutable(),
		field.Bool("revoked").Default(false).Immutable(),
		// the verdict level and score this version carries
		field.String("level").MaxLen(16).Default("").Immutable(),
		field.Int("score").Default(0).Immutable(),
		// the STIX object as served
		field.Text("object").Immutable(),
	}
}

// Indexes of the StixObject.
func (StixObject) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("collection", "date_added", "id"),
		index.Fields("collection", "object_id", "id"),
	}
}
