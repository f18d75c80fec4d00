package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// JobCall marks a River job attempt that has started an upstream call whose
// usage row is not written yet. The row that records the call deletes the
// mark in the same transaction; a worker killed mid-call leaves it, and the
// job's next attempt writes an "interrupted" usage row for it. (A separate
// table: marks in river_job's metadata would rewrite its GIN index twice per
// job.)
type JobCall struct {
	ent.Schema
}

// Annotations names the table.
func (JobCall) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "job_call"}}
}

// Fields of the JobCall.
func (JobCall) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("job_id").Immutable(),
		field.Time("started_at").Default(time.Now).Immutable(),
	}
}

// Indexes of the JobCall.
func (JobCall) Indexes() []ent.Index {
	return []ent.Index{index.Fields("job_id")}
}
