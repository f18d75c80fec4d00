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

// APIKey is a per-user API key for clients that cannot do the OAuth2
// password grant (MISP, TheHive, TAXII pollers). Only the SHA-256 of the
// key is kept: the key itself is shown once, when it is created. A revoked
// key keeps its row (revoked_at set) so the audit trail can still name it.
type APIKey struct {
	ent.Schema
}

// Annotations names the table.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "api_keys"}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("username").NotEmpty().MaxLen(64).Immutable(),
		field.String("name").NotEmpty().MaxLen(64).Immutable(),
		// hex SHA-256 of the whole key
		field.String("hash").NotEmpty().MaxLen(64).Unique().Immutable().Sensitive(),
		// the key's first characters, shown so a user can tell keys apart
		field.String("prefix").MaxLen(16).Immutable(),
		// space-separated OAuth2 scopes the key grants (within the account's)
		field.String("scopes").MaxLen(64).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("username", "created_at")}
}
