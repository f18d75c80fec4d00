// Package redisevents carries account changes between processes through
// Redis pub/sub, for auth.Service when Redis is configured.
package redisevents

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/inspector-gadget/gadget/internal/auth"
)

// Events publishes and listens on one Redis channel.
type Events struct {
	rdb     *redis.Client
	channel string
}

var _ auth.AccountEvents = (*Events)(nil)

// New returns Events on channel (give it the deployment's key prefix).
func New(rdb *redis.Client, channel string) *Events {
	return &Events{rdb: rdb, channel: channel}
}

// Publish tells every subscribed process that username's account changed.
func (e *Events) Publish(ctx context.Context, username string) error {
	return e.rdb.Publish(ctx, e.channel, username).Err()
}

// Listen delivers changes until ctx ends or the subscription fails. It
// returns on the first error instead of letting go-redis resubscribe
// silently, so that the caller knows notices may have been missed.
func (e *Events) Listen(ctx context.Context, changed func(string), synced func(bool)) error {
	ps := e.rdb.Subscribe(ctx, e.channel)
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		return fmt.Errorf("account events: subscribe: %w", err)
	}
	synced(true)
	defer synced(false)
	// go-redis does not end a blocked read when ctx ends; closing does
	defer context.AfterFunc(ctx, func() { ps.Close() })()
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return fmt.Errorf("account events: %w", err)
		}
		changed(msg.Payload)
	}
}
