package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// UpstreamCall is the ledger: one row per call made to a provider, written
// exactly once by whoever made it (the inline executor through the usage
// writer, a River worker in its job's completing transaction).
type UpstreamCall struct {
	ent.Schema
}

// Annotations names the table.
func (UpstreamCall) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "upstream_call"}}
}

// Fields of the UpstreamCall.
func (UpstreamCall) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.Time("at").Default(time.Now).Immutable(),
		field.String("username").NotEmpty().MaxLen(64).Immutable(),
		field.String("provider").NotEmpty().MaxLen(128).Immutable(),
		field.String("endpoint").MaxLen(2048).Immutable(),
		field.Text("parameters").Immutable(),
		field.String("status").MaxLen(32).Immutable(),
		field.Int64("bytes").Default(0).NonNegative().Immutable(),
		field.Int64("latency_ms").Default(0).NonNegative().Immutable(),
		field.Int64("job_id").Optional().Immutable(), // the River job that made it
	}
}

// Indexes of the UpstreamCall.
func (UpstreamCall) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("at"),
		index.Fields("username", "at"),
		index.Fields("provider", "at"),
	}
}
