package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// UsageCounter is a user's usage of one api (a provider, or an operation
// such as "authenticate") on one UTC day, upserted in batches. Reports and
// charts read these, so a 30-day report reads at most 30 rows per user and
// api whatever the traffic.
type UsageCounter struct {
	ent.Schema
}

// Annotations names the table.
func (UsageCounter) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "usage_counter"}}
}

// Fields of the UsageCounter.
func (UsageCounter) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").NotEmpty().MaxLen(64),
		field.String("api").NotEmpty().MaxLen(128),
		field.String("day").MaxLen(10),         // YYYY-MM-DD, UTC
		field.Int64("answers").Default(0),      // results delivered, operations run
		field.Int64("cached").Default(0),       // answers from the cache
		field.Int64("calls").Default(0),        // upstream calls made
		field.Int64("bytes").Default(0),        // upstream body bytes
		field.Int64("errors").Default(0),       // answers that were errors or timeouts
		field.Int64("rate_limited").Default(0), // answers refused by a budget or a 429
		field.Int64("latency_ms").Default(0),   // summed over the upstream calls
	}
}

// Indexes of the UsageCounter.
func (UsageCounter) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("username", "api", "day").Unique(),
		index.Fields("day"),
	}
}
