package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// StixObject is a STIX 2.1 object in a TAXII collection, at its latest
// version: the indicators of the values this service found malicious or
// suspicious (and this service's identity and marking). A change of
// verdict replaces the row's version and moves its date_added (a verdict
// that no longer qualifies makes a revoked version), so pollers see every
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
		field.Time("version"),
		field.Time("date_added"),
		field.Bool("revoked").Default(false),
		// the verdict level and score this version carries
		field.String("level").MaxLen(16).Default(""),
		field.Int("score").Default(0),
		// the STIX object as served
		field.Text("object"),
	}
}

// Indexes of the StixObject.
func (StixObject) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("collection", "date_added", "id"),
		index.Fields("collection", "object_id", "id"),
	}
}
