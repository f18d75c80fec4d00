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

// CortexJob is an analysis run through the Cortex API (TheHive, cortex4py):
// who ran which analyzer on what, under which TLP and PAP, its status in
// Cortex's words (Waiting, InProgress, Success, Failure) and, once it has
// run, its report. A job still waiting or in progress after its deadline is
// reported failed (its process died); jobs older than the retention are
// removed.
type CortexJob struct {
	ent.Schema
}

// Annotations names the table.
func (CortexJob) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "cortex_jobs"}}
}

// Fields of the CortexJob.
func (CortexJob) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("username").NotEmpty().MaxLen(64).Immutable(),
		field.String("analyzer_id").NotEmpty().MaxLen(128).Immutable(),
		field.String("analyzer_name").NotEmpty().MaxLen(160).Immutable(),
		field.String("data_type").NotEmpty().MaxLen(32).Immutable(),
		field.Text("data").Immutable(),
		field.Int("tlp").Immutable(),
		field.Int("pap").Immutable(),
		field.Text("message").Default("").Immutable(),
		// the job's parameters as sent, a JSON object
		field.Text("parameters").Default("{}").Immutable(),
		field.String("status").MaxLen(16).Default("Waiting"),
		// the report's JSON once the job succeeded
		field.Text("report").Optional(),
		field.String("error_message").MaxLen(1024).Optional(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("start_date").Optional().Nillable(),
		field.Time("end_date").Optional().Nillable(),
		field.Time("deadline").Immutable(),
	}
}

// Indexes of the CortexJob.
func (CortexJob) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("username", "created_at"),
		index.Fields("created_at"),
	}
}
