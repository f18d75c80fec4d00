package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// preUsernameKey is after the last migration before usernames became
// case-insensitive (both dialects' files of that change are later).
const preUsernameKey = 20261202232050

// Accounts that differed only in case before the migration keep working
// under their exact names, the later one is reported, and from then on a
// username is found in any case and cannot be taken again in another case.
func TestMigrationCaseInsensitiveUsernamesSQLite(t *testing.T) {
	t.Parallel()
	testCaseInsensitiveUsernames(t, "sqlite://"+filepath.Join(t.TempDir(), "gadget.db"))
}

func TestMigrationCaseInsensitiveUsernamesPostgres(t *testing.T) {
	t.Parallel()
	testCaseInsensitiveUsernames(t, testenv.Postgres(t))
}

func testCaseInsensitiveUsernames(t *testing.T, url string) {
	ctx := context.Background()
	s := openMigratedTo(t, url, preUsernameKey)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"bob", "BOB", "Carol", "dave"} {
		query, args := entsql.Dialect(s.dialect).Insert("auth").
			Columns("id", "username", "password", "account_active", "account_admin", "created_date", "password_changed_at").
			Values(uuid.New(), name, "h", true, false, at.Add(time.Duration(i)*time.Hour), at).Query()
		if _, err := s.db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("old account %s: %v", name, err)
		}
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate with accounts that differ only in case: %v", err)
	}
	got, err := s.UsernameCollisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"BOB"}, got); diff != "" {
		t.Errorf("collisions reported (-want +got):\n%s", diff)
	}
	for ask, want := range map[string]string{"bob": "bob", "BOB": "BOB", "Bob": "bob", "carol": "Carol", "CAROL": "Carol", "DAVE": "dave"} {
		u, err := s.UserByUsername(ctx, ask)
		if err != nil || u.Username != want {
			t.Errorf("UserByUsername(%q) = %v %v, want %s", ask, u, err, want)
		}
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "DAVE", PasswordHash: "h", Active: true}); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("creating DAVE beside dave: %v, want ErrUserExists", err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "Erin", PasswordHash: "h", Active: true}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.SetPassword(ctx, "ERIN", "h2", at); err != nil || u.Username != "Erin" || u.PasswordHash != "h2" {
		t.Errorf("SetPassword(ERIN) = %+v %v", u, err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "erin", PasswordHash: "h", Active: true}); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("creating erin beside Erin: %v, want ErrUserExists", err)
	}
}
