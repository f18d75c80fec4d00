package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Dataset is one data set a local provider downloads on a schedule (a
// feed of the feeds provider), as last downloaded: every replica loads it
// from here. due_at is the refresh lease: the replica that moves it
// forward (WHERE due_at <= now) refreshes, the others reload when version
// changes.
type Dataset struct {
	ent.Schema
}

// Annotations names the table.
func (Dataset) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "datasets"}}
}

// Fields of the Dataset.
func (Dataset) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").NotEmpty().MaxLen(40).Immutable(),
		field.String("name").NotEmpty().MaxLen(40).Immutable(),
		// the provider's encoding of the data (the gzipped download); empty
		// until the first successful refresh
		field.Bytes("data").Optional(),
		field.Int("entries").Default(0),
		field.Time("fetched_at").Optional().Nillable(),
		field.Int64("version").Default(0),
		field.Time("due_at"),
		field.String("last_error").MaxLen(500).Default(""),
	}
}

// Indexes of the Dataset.
func (Dataset) Indexes() []ent.Index {
	return []ent.Index{index.Fields("provider", "name").Unique()}
}
