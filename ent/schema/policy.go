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

// PolicyList is an allow-list or block-list (package policy): its entries
// are PolicyEntry rows of the same list name. updated_at moves on every
// change of the list or its entries, which is what processes on SQLite
// poll to learn of changes.
type PolicyList struct {
	ent.Schema
}

// Annotations names the table.
func (PolicyList) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "policy_list"}}
}

// Fields of the PolicyList.
func (PolicyList) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).Unique(),
		field.String("effect").MaxLen(16), // NEVER_SEND KNOWN_GOOD BLOCK
		field.String("description").MaxLen(512).Default(""),
		field.String("owner").MaxLen(64).Default(""),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now),
	}
}

// PolicyEntry is one value of a list.
type PolicyEntry struct {
	ent.Schema
}

// Annotations names the table.
func (PolicyEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "policy_entry"}}
}

// Fields of the PolicyEntry.
func (PolicyEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("list").NotEmpty().MaxLen(64),
		field.String("value").NotEmpty().MaxLen(1024), // canonical (policy.ParseEntry)
		field.String("type").MaxLen(16),               // cidr domain url hash
		field.String("reason").MaxLen(512).Default(""),
		field.String("owner").MaxLen(64).Default(""),
		field.Time("created_at").Default(time.Now),
		field.Time("expires_at").Optional().Nillable(),
	}
}

// Indexes of the PolicyEntry.
func (PolicyEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("list", "value").Unique()}
}

// Playbook is a named set of providers (package policy). A deleted
// playbook keeps its row (deleted set), so a deleted built-in is not
// seeded again.
type Playbook struct {
	ent.Schema
}

// Annotations names the table.
func (Playbook) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "playbook"}}
}

// Fields of the Playbook.
func (Playbook) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(64).Unique(),
		field.String("description").MaxLen(512).Default(""),
		field.Text("members").Default(""), // space-separated names and selectors
		field.String("default_tlp").MaxLen(16).Default(""),
		field.Int("min_coverage").Default(0),
		field.Bool("builtin").Default(false),
		field.Bool("deleted").Default(false),
		field.String("owner").MaxLen(64).Default(""),
		field.Time("created_at").Default(time.Now),
		field.Time("updated_at").Default(time.Now),
	}
}

// Sighting is one lookup of a value by one user, written with the
// request's audit row (audit_id). value_hash is the first 16 bytes of the
// value's SHA-256 in hex, so long URLs index in fixed width.
type Sighting struct {
	ent.Schema
}

// Annotations names the table.
func (Sighting) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "sighting"}}
}

// Fields of the Sighting.
func (Sighting) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("audit_id", uuid.UUID{}).Optional().Nillable(),
		field.String("value_hash").MaxLen(32),
		field.String("kind").MaxLen(16),
		field.Text("value"),
		field.String("username").MaxLen(64),
		field.Time("at"),
		field.String("verdict").MaxLen(16).Default(""),
		field.String("source").MaxLen(16).Default(""),
		field.String("tlp").MaxLen(16).Default(""),
		field.Text("note").Default(""),
		field.String("manual_verdict").MaxLen(16).Default(""),
		field.String("manual_by").MaxLen(64).Default(""),
		field.Time("manual_at").Optional().Nillable(),
	}
}

// Indexes of the Sighting.
func (Sighting) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("value_hash", "kind", "at"),
		index.Fields("value_hash", "kind", "username", "at"),
	}
}

// SightingSummary is the rolled-up counters of a value's sightings,
// upserted with each batch of audit rows: the summary reads one row
// whatever the number of sightings.
type SightingSummary struct {
	ent.Schema
}

// Annotations names the table.
func (SightingSummary) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "sighting_summary"}}
}

// Fields of the SightingSummary.
func (SightingSummary) Fields() []ent.Field {
	return []ent.Field{
		field.String("value_hash").MaxLen(32),
		field.String("kind").MaxLen(16),
		field.Int64("count").Default(0),
		field.Int64("users").Default(0), // distinct users
		field.Time("first_seen"),
		field.Time("last_seen"),
		field.String("last_verdict").MaxLen(16).Default(""),
		field.String("last_user").MaxLen(64).Default(""),
		field.String("manual_verdict").MaxLen(16).Default(""),
		field.String("manual_by").MaxLen(64).Default(""),
		field.Time("manual_at").Optional().Nillable(),
		field.Text("manual_note").Default(""),
		field.String("manual_sighting").MaxLen(36).Default(""),
	}
}

// Indexes of the SightingSummary.
func (SightingSummary) Indexes() []ent.Index {
	return []ent.Index{index.Fields("value_hash", "kind").Unique()}
}

// SightingUser counts one user's sightings of a value; the summary's
// distinct-user count moves when a row here is first inserted.
type SightingUser struct {
	ent.Schema
}

// Annotations names the table.
func (SightingUser) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "sighting_user"}}
}

// Fields of the SightingUser.
func (SightingUser) Fields() []ent.Field {
	return []ent.Field{
		field.String("value_hash").MaxLen(32),
		field.String("kind").MaxLen(16),
		field.String("username").MaxLen(64),
		field.Int64("count").Default(0),
		field.Time("last_seen"),
	}
}

// Indexes of the SightingUser.
func (SightingUser) Indexes() []ent.Index {
	return []ent.Index{index.Fields("value_hash", "kind", "username").Unique()}
}
