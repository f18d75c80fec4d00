package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// UserBudget is an administrator's daily limit of one user's upstream calls
// to one provider (issue 16): beyond it the user's lookups of that provider
// answer RATE_LIMITED until the budget refills. No row: no per-user limit.
type UserBudget struct {
	ent.Schema
}

// Annotations names the table.
func (UserBudget) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "user_budgets"}}
}

// Fields of the UserBudget.
func (UserBudget) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").NotEmpty().MaxLen(64),
		field.String("provider").NotEmpty().MaxLen(64),
		field.Int("per_day").Positive(),
		field.Time("updated_at").Default(time.Now),
	}
}

// Indexes of the UserBudget.
func (UserBudget) Indexes() []ent.Index {
	return []ent.Index{index.Fields("username", "provider").Unique()}
}
