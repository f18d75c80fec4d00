// Package schema holds the hand-written ent schemas.
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

// User is an account. Its table and column names are the original project's
// (`auth`), so an existing installation's users can be imported as they are.
type User struct {
	ent.Schema
}

// Annotations names the table.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "auth"}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.String("username").NotEmpty().MaxLen(64).Unique().Immutable(),
		// the username in lower case, unique: usernames are case-insensitive
		// (issue 16). Accounts that differed only in case before are kept
		// apart by the migration with "#<id>" after the later one's key.
		field.String("username_key").NotEmpty().Unique().Immutable(),
		field.String("password_hash").StorageKey("password").Sensitive().NotEmpty(),
		field.Bool("active").StorageKey("account_active").Default(false),
		field.Bool("admin").StorageKey("account_admin").Default(false),
		field.Time("created_at").StorageKey("created_date").Default(time.Now).Immutable(),
		field.Time("password_changed_at").Default(time.Now),
		field.Time("last_login_at").Optional().Nillable(),
		field.String("last_login_ip").Optional().MaxLen(64),
		field.String("last_login_user_agent").Optional().MaxLen(512),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{index.Fields("created_at")}
}
