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

// UsageLog is the audit log: one row per request (a login, a GraphQL
// operation, a REST call, a portal lookup), as the original project wrote
// one `logging` row per API call. Table and column names are the
// original's; status, cached, latency_ms and providers are additions. Rows
// written before the audit model hold one provider result each.
type UsageLog struct {
	ent.Schema
}

// Annotations names the table.
func (UsageLog) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "logging"}}
}

// Fields of the UsageLog.
func (UsageLog) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("username").NotEmpty().MaxLen(64).Immutable(),
		field.String("api").NotEmpty().MaxLen(128).Immutable(),
		field.Int64("data_size").Default(0).NonNegative().Immutable(),
		field.String("endpoint").MaxLen(2048).Immutable(),
		field.Text("parameters").Immutable(),
		field.String("user_agent").MaxLen(512).Immutable(),
		field.String("ip_address").MaxLen(64).Immutable(),
		field.Time("query_date").Default(time.Now).Immutable(),
		field.String("status").MaxLen(32).Default("ok").Immutable(),
		field.Bool("cached").Default(false).Immutable(),
		field.Int64("latency_ms").Default(0).NonNegative().Immutable(),
		// providers asked and how each answered: "virustotal:ok abuseipdb:cached"
		field.Text("providers").Default("").Immutable(),
		// the TLP the request's lookups carried ("" for other operations)
		field.String("tlp").MaxLen(16).Default("").Immutable(),
	}
}

// Indexes of the UsageLog.
func (UsageLog) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("query_date"),
		index.Fields("username", "query_date"),
		index.Fields("api", "query_date"),
	}
}
