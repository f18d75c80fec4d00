package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inspector-gadget/gadget/ent/playbook"
	"github.com/inspector-gadget/gadget/ent/policylist"
	"github.com/inspector-gadget/gadget/internal/policy"
)

// PolicyEvents returns how this database tells every process of a change
// to a list or playbook: PostgreSQL LISTEN/NOTIFY on a channel of the
// store's schema, or on SQLite a poll of the lists' and playbooks' change
// times every PolicyPollInterval.
func (s *Store) PolicyEvents(ctx context.Context) (policy.Events, error) {
	if s.pool == nil {
		return &policyPoll{s: s, every: PolicyPollInterval}, nil
	}
	var schema string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("policy events: %w", err)
	}
	sum := sha256.Sum256([]byte(schema))
	return &policyNotify{s: s, channel: "gadget_policy_" + hex.EncodeToString(sum[:6])}, nil
}

// PolicyPollInterval is how often a process on SQLite looks for list and
// playbook changes made by another process.
const PolicyPollInterval = time.Second

type policyNotify struct {
	s       *Store
	channel string
}

func (n *policyNotify) Publish(ctx context.Context, what string) error {
	_, err := n.s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, n.channel, what)
	return err
}

func (n *policyNotify) Listen(ctx context.Context, changed func(string), synced func(bool)) error {
	conn, err := pgx.ConnectConfig(ctx, n.s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("policy events: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{n.channel}.Sanitize()); err != nil {
		return fmt.Errorf("policy events: listen: %w", err)
	}
	synced(true)
	defer synced(false)
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("policy events: %w", err)
		}
		changed(msg.Payload)
	}
}

// policyPoll compares the change times of lists and playbooks each
// interval; Publish has nothing to do.
type policyPoll struct {
	s     *Store
	every time.Duration
}

func (p *policyPoll) Publish(context.Context, string) error { return nil }

func (p *policyPoll) Listen(ctx context.Context, changed func(string), synced func(bool)) error {
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
		for what, at := range now {
			if old, ok := last[what]; !ok || !old.Equal(at) {
				changed(what)
			}
		}
		for what := range last {
			if _, ok := now[what]; !ok {
				changed(what)
			}
		}
		last = now
	}
}

func (p *policyPoll) read(ctx context.Context) (map[string]time.Time, error) {
	ls, err := p.s.client.PolicyList.Query().Select(policylist.FieldName, policylist.FieldUpdatedAt).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy events: %w", err)
	}
	ps, err := p.s.client.Playbook.Query().Select(playbook.FieldName, playbook.FieldUpdatedAt).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("policy events: %w", err)
	}
	out := make(map[string]time.Time, len(ls)+len(ps))
	for _, l := range ls {
		out["list:"+l.Name] = l.UpdatedAt
	}
	for _, pb := range ps {
		out["playbook:"+pb.Name] = pb.UpdatedAt
	}
	return out, nil
}
