// Package redisguard keeps a lost Redis from stalling the process. A Guard
// is a go-redis hook with a circuit breaker (sony/gobreaker): after a few
// consecutive connection failures or timeouts every command fails at once
// with ErrUnavailable, without touching the network, and one probe command
// is let through every OpenFor to find out whether Redis is back. Callers
// degrade on the error (in-process cache, rate limits and coalescing);
// FailFast sets the client's timeouts and retries so that even the commands
// that trip the breaker fail within about a second.
package redisguard

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"
)

// ErrUnavailable is returned (wrapped) for every command while the breaker
// is open: Redis was found down and has not been probed back yet.
var ErrUnavailable = errors.New("redis unavailable (circuit open)")

// Defaults of Config.
const (
	DefaultFailures = 3
	DefaultOpenFor  = time.Second
)

// Config tunes a Guard.
type Config struct {
	// Failures is how many consecutive failed commands open the breaker
	// (default 3).
	Failures int
	// OpenFor is how long the breaker stays open before one probe command
	// may try Redis again (default 1 s): Redis is found back within about
	// that long after it returns.
	OpenFor time.Duration
	// OnChange is told when Redis is found down (false) and back (true),
	// e.g. to set a gauge. Optional.
	OnChange func(up bool)
	Logger   *slog.Logger
}

// Guard is a redis.Hook; add it with (*redis.Client).AddHook.
type Guard struct {
	cb *gobreaker.CircuitBreaker[struct{}]
}

var _ redis.Hook = (*Guard)(nil)

// New returns a Guard with a closed breaker.
func New(c Config) *Guard {
	if c.Failures <= 0 {
		c.Failures = DefaultFailures
	}
	if c.OpenFor <= 0 {
		c.OpenFor = DefaultOpenFor
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	failures := uint32(c.Failures)
	g := &Guard{}
	g.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis",
		MaxRequests: 1,
		Timeout:     c.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		IsSuccessful: func(err error) bool {
			return !isOutage(err)
		},
		// the caller gave up: says nothing about Redis
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			switch {
			case to == gobreaker.StateOpen && from == gobreaker.StateClosed:
				c.Logger.Error("redis unavailable: degraded to the in-process cache, rate limits and coalescing until it is back",
					"retry_every", c.OpenFor.String())
				if c.OnChange != nil {
					c.OnChange(false)
				}
			case to == gobreaker.StateClosed:
				c.Logger.Warn("redis is back: shared cache, rate limits and coalescing resumed")
				if c.OnChange != nil {
					c.OnChange(true)
				}
			}
		},
	})
	return g
}

// Up reports whether the breaker is closed: Redis answered the last
// commands (or has not failed enough to be judged down).
func (g *Guard) Up() bool { return g.cb.State() == gobreaker.StateClosed }

// State is "up", "down" (open) or "probing" (half-open).
func (g *Guard) State() string {
	switch g.cb.State() {
	case gobreaker.StateClosed:
		return "up"
	case gobreaker.StateHalfOpen:
		return "probing"
	default:
		return "down"
	}
}

// isOutage reports an error that says Redis cannot be used: no connection,
// a timeout, a closed pool, a server still loading its data. Server replies
// (redis.Nil, WRONGTYPE, NOSCRIPT, …) show Redis is there.
func isOutage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		return strings.HasPrefix(msg, "LOADING") || strings.HasPrefix(msg, "MASTERDOWN") || strings.HasPrefix(msg, "READONLY")
	}
	return true // dial and I/O errors, timeouts, a closed client or pool
}

// inside marks the context of a command the breaker already watches: the
// commands go-redis sends to set up a new connection (HELLO, CLIENT
// SETINFO, …) run in it and must not count as requests of their own (in
// the half-open state they would be refused and fail the probe).
type inside struct{}

// do runs one command or pipeline through the breaker.
func (g *Guard) do(ctx context.Context, run func(ctx context.Context) error) error {
	if ctx.Value(inside{}) != nil {
		return run(ctx)
	}
	ctx = context.WithValue(ctx, inside{}, true)
	var inner error
	_, err := g.cb.Execute(func() (struct{}, error) {
		inner = run(ctx)
		return struct{}{}, inner
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return ErrUnavailable
	}
	return inner
}

// DialHook passes dials through: they happen inside the commands the
// breaker watches.
func (g *Guard) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook runs each command through the breaker.
func (g *Guard) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := g.do(ctx, func(ctx context.Context) error { return next(ctx, cmd) })
		if errors.Is(err, ErrUnavailable) {
			cmd.SetErr(err)
		}
		return err
	}
}

// ProcessPipelineHook runs each pipeline (and transaction) through the
// breaker as one command.
func (g *Guard) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := g.do(ctx, func(ctx context.Context) error { return next(ctx, cmds) })
		if errors.Is(err, ErrUnavailable) {
			for _, c := range cmds {
				c.SetErr(err)
			}
		}
		return err
	}
}

// Fail-fast client settings FailFast applies where the URL set none.
const (
	dialTimeout = time.Second
	ioTimeout   = 2 * time.Second
	poolTimeout = 2 * time.Second
)

// FailFast shortens the client's waits where opt leaves go-redis's
// defaults: a 1 s dial without dial retries (go-redis would dial five
// times), 2 s reads and writes, a 2 s wait for a pooled connection and one
// retry of a failed command, so that a command against an unreachable
// Redis fails within a few seconds even before the breaker opens (against
// a stopped one, whose port refuses, at once).
func FailFast(opt *redis.Options) {
	if opt.DialTimeout == 0 {
		opt.DialTimeout = dialTimeout
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = ioTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = ioTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = poolTimeout
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 1
	}
}
