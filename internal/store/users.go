package store

import (
	"context"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/user"
	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
)

var _ auth.UserStore = (*Store)(nil)

func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func toUser(u *ent.User) *auth.User {
	out := &auth.User{
		ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash, Active: u.Active, Admin: u.Admin,
		CreatedAt: u.CreatedAt.UTC(), PasswordChangedAt: u.PasswordChangedAt.UTC(),
		LastLoginIP: u.LastLoginIP, LastLoginUserAgent: u.LastLoginUserAgent,
	}
	if u.LastLoginAt != nil {
		t := u.LastLoginAt.UTC()
		out.LastLoginAt = &t
	}
	return out
}

// CreateUser stores a new account; auth.ErrUserExists on a taken username.
func (s *Store) CreateUser(ctx context.Context, nu auth.NewUser) (*auth.User, error) {
	at := nu.CreatedAt
	if at.IsZero() {
		at = s.now()
	}
	u, err := s.client.User.Create().
		SetUsername(nu.Username).SetUsernameKey(strings.ToLower(nu.Username)).SetPasswordHash(nu.PasswordHash).
		SetAdmin(nu.Admin).SetActive(nu.Active).
		SetCreatedAt(ts(at)).SetPasswordChangedAt(ts(at)).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, auth.ErrUserExists
	}
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

// UserByUsername returns one account, matching the username in any case;
// auth.ErrUserNotFound when absent.
func (s *Store) UserByUsername(ctx context.Context, username string) (*auth.User, error) {
	u, err := findUser(ctx, s.client.User, username)
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

// findUser finds username in any case: the account of that exact name
// first (two kept apart by the case-insensitive migration), else the one
// whose key is its lower case. auth.ErrUserNotFound when none.
func findUser(ctx context.Context, q *ent.UserClient, username string) (*ent.User, error) {
	us, err := q.Query().Where(user.Or(user.Username(username), user.UsernameKey(strings.ToLower(username)))).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		if u.Username == username {
			return u, nil
		}
	}
	if len(us) == 0 {
		return nil, auth.ErrUserNotFound
	}
	return us[0], nil
}

// UsernameCollisions are the accounts whose names differ from an older
// account's only in case, kept apart by the migration that made usernames
// case-insensitive: each should be renamed or removed.
func (s *Store) UsernameCollisions(ctx context.Context) ([]string, error) {
	return s.client.User.Query().Where(user.UsernameKeyContains("#")).Order(ent.Asc(user.FieldUsername)).Select(user.FieldUsername).Strings(ctx)
}

// ListUsers returns every account by username.
func (s *Store) ListUsers(ctx context.Context) ([]*auth.User, error) {
	us, err := s.client.User.Query().Order(ent.Asc(user.FieldUsername)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*auth.User, len(us))
	for i, u := range us {
		out[i] = toUser(u)
	}
	return out, nil
}

func (s *Store) updateUser(ctx context.Context, username string, set func(*ent.UserUpdateOne) *ent.UserUpdateOne) (*auth.User, error) {
	u, err := findUser(ctx, s.client.User, username)
	if err != nil {
		return nil, err
	}
	u, err = set(s.client.User.UpdateOneID(u.ID)).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, auth.ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

// SetPassword replaces an account's password hash and stamps the change.
func (s *Store) SetPassword(ctx context.Context, username, hash string, changedAt time.Time) (*auth.User, error) {
	return s.updateUser(ctx, username, func(u *ent.UserUpdateOne) *ent.UserUpdateOne {
		return u.SetPasswordHash(hash).SetPasswordChangedAt(ts(changedAt))
	})
}

// accountsLock is the PostgreSQL advisory lock that serialises changes to
// who is an active administrator (SQLite's immediate transactions already
// run one at a time).
const accountsLock = 0x6761646765740001

// SetActive enables or disables an account in one transaction. Disabling
// stamps the credentials as changed, so tokens issued before stay dead after
// a re-enable; disabling the last active administrator is refused with
// auth.ErrLastAdmin, even when two administrators disable each other at once.
func (s *Store) SetActive(ctx context.Context, username string, active bool) (*auth.User, error) {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if s.dialect == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(accountsLock)); err != nil {
			return nil, err
		}
	}
	u, err := findUser(ctx, tx.User, username)
	if err != nil {
		return nil, err
	}
	upd := tx.User.UpdateOneID(u.ID).SetActive(active)
	if !active && u.Active {
		if u.Admin {
			others, err := tx.User.Query().Where(user.Admin(true), user.Active(true), user.IDNEQ(u.ID)).Count(ctx)
			if err != nil {
				return nil, err
			}
			if others == 0 {
				return nil, auth.ErrLastAdmin
			}
		}
		upd.SetPasswordChangedAt(ts(s.now()))
	}
	if u, err = upd.Save(ctx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return toUser(u), nil
}

// RecordLogin stores the last sign-in's time, IP and user agent.
func (s *Store) RecordLogin(ctx context.Context, username string, l auth.Login) error {
	_, err := s.updateUser(ctx, username, func(u *ent.UserUpdateOne) *ent.UserUpdateOne {
		return u.SetLastLoginAt(ts(l.At)).SetLastLoginIP(truncate(l.IP, 64)).SetLastLoginUserAgent(truncate(l.UserAgent, 512))
	})
	return err
}

// CountUsers returns the number of accounts.
func (s *Store) CountUsers(ctx context.Context) (int, error) { return s.client.User.Query().Count(ctx) }

// truncate makes client-controlled text safe for a text column of n bytes
// (accounting.Clean: valid UTF-8, no NUL, cut on a rune boundary).
func truncate(s string, n int) string { return accounting.Clean(s, n) }
