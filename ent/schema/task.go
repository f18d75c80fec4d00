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

// Task is a lookup submitted through the REST layer's two-step form (POST
// /api/indicator/{kind}, then GET …/{task_id}): who asked, for what, and,
// once it has run, the answer. A task that is still pending after its
// deadline is reported failed (its process died); after expires_at it is
// gone.
type Task struct {
	ent.Schema
}

// Annotations names the table.
func (Task) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "tasks"}}
}

// Fields of the Task.
func (Task) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("username").NotEmpty().MaxLen(64).Immutable(),
		field.String("kind").NotEmpty().MaxLen(16).Immutable(),
		field.Text("value").Immutable(),
		field.String("providers").MaxLen(1024).Default("").Immutable(),
		field.String("status").MaxLen(16).Default("PENDING"),
		field.Text("result").Optional(),
		field.String("error").MaxLen(1024).Optional(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("deadline").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("finished_at").Optional().Nillable(),
	}
}

// Indexes of the Task.
func (Task) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("expires_at"),
		index.Fields("username", "created_at"),
	}
}
