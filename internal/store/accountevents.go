package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inspector-gadget/gadget/ent/user"
	"github.com/inspector-gadget/gadget/internal/auth"
)

// AccountEvents returns how this database tells every process of an
// account change: PostgreSQL LISTEN/NOTIFY on a channel of the store's
// schema, or on SQLite a poll of the accounts every PollInterval (the other
// processes on an SQLite file are the CLI's, which cannot notify).
func (s *Store) AccountEvents(ctx context.Context) (auth.AccountEvents, error) {
	if s.pool == nil {
		return &accountPoll{s: s, every: AccountPollInterval}, nil
	}
	var schema string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("account events: %w", err)
	}
	sum := sha256.Sum256([]byte(schema))
	return &accountNotify{s: s, channel: "gadget_account_" + hex.EncodeToString(sum[:6])}, nil
}

// AccountPollInterval is how often a process on SQLite reads the accounts
// to find changes made by another process.
const AccountPollInterval = 250 * time.Millisecond

// accountNotify publishes with pg_notify and listens on a connection of
// its own, outside the pool, so that it never takes one from requests.
type accountNotify struct {
	s       *Store
	channel string
}

func (n *accountNotify) Publish(ctx context.Context, username string) error {
	_, err := n.s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, n.channel, username)
	return err
}

func (n *accountNotify) Listen(ctx context.Context, changed func(string), synced func(bool)) error {
	conn, err := pgx.ConnectConfig(ctx, n.s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("account events: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{n.channel}.Sanitize()); err != nil {
		return fmt.Errorf("account events: listen: %w", err)
	}
	synced(true)
	defer synced(false)
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("account events: %w", err)
		}
		changed(msg.Payload)
	}
}

// accountPoll finds account changes by reading every account's state
// (username, active, admin, password change) each interval and comparing.
// Publish has nothing to do: the next poll of every process sees the row.
type accountPoll struct {
	s     *Store
	every time.Duration
}

type accountState struct {
	active, admin bool
	pwChanged     time.Time
}

func (p *accountPoll) Publish(context.Context, string) error { return nil }

func (p *accountPoll) Listen(ctx context.Context, changed func(string), synced func(bool)) error {
	last, err := p.read(ctx)
	if err != nil {
		return err
	}
	synced(true)
	defer synced(false)
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		now, err := p.read(ctx)
		if err != nil {
			return err
		}
		// an account new since the last read counts as changed too: it may
		// have been created, signed in and disabled within one interval
		for name, st := range now {
			if o, ok := last[name]; !ok || o != st {
				changed(name)
			}
		}
		for name := range last {
			if _, ok := now[name]; !ok {
				changed(name)
			}
		}
		last = now
	}
}

func (p *accountPoll) read(ctx context.Context) (map[string]accountState, error) {
	us, err := p.s.client.User.Query().Select(user.FieldUsername, user.FieldActive, user.FieldAdmin, user.FieldPasswordChangedAt).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("account events: read accounts: %w", err)
	}
	out := make(map[string]accountState, len(us))
	for _, u := range us {
		out[u.Username] = accountState{active: u.Active, admin: u.Admin, pwChanged: u.PasswordChangedAt}
	}
	return out, nil
}
