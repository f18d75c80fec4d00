// Package tasks runs the REST layer's two-step lookups (the original's
// POST-then-poll form) as persisted tasks: a task belongs to the user who
// submitted it, runs once in the background under a deadline, and expires.
// A task still pending after its deadline is reported FAILURE, so a process
// that died mid-task never leaves it pending for ever.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// Status is a task's state, in the original's (Celery's) words.
type Status string

// The task states.
const (
	Pending Status = "PENDING"
	Started Status = "STARTED"
	Success Status = "SUCCESS"
	Failure Status = "FAILURE"
)

// Task is one submitted lookup.
type Task struct {
	ID         uuid.UUID
	Username   string
	Kind       string
	Value      string
	Providers  string // comma-separated selection; empty: all
	Status     Status
	Result     json.RawMessage // the answer, once Success
	Error      string          // why it failed, once Failure
	CreatedAt  time.Time
	Deadline   time.Time // a task not finished by then has failed
	ExpiresAt  time.Time // after this the task is gone
	FinishedAt *time.Time
}

// ErrNotFound is the store's answer for an unknown task id.
var ErrNotFound = errors.New("task not found")

// Store persists tasks.
type Store interface {
	CreateTask(ctx context.Context, t *Task) error
	// SetTaskStatus moves a task to status, recording result or error and
	// the finish time for Success and Failure.
	SetTaskStatus(ctx context.Context, id uuid.UUID, status Status, result json.RawMessage, errMsg string, at time.Time) error
	TaskByID(ctx context.Context, id uuid.UUID) (*Task, error)
	// DeleteExpiredTasks removes tasks whose ExpiresAt is before now.
	DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error)
}

// Work computes the answer of task id; it must respect ctx's deadline.
type Work func(ctx context.Context, id string) (json.RawMessage, error)

// Config wires a Service. Zero durations take the defaults.
type Config struct {
	Store     Store
	Logger    *slog.Logger
	Now       func() time.Time
	Timeout   time.Duration // how long a task may run (default 30s)
	Retention time.Duration // how long a task is kept (default 1h)
	// MaxRunning bounds the tasks running at once in this process (default
	// DefaultMaxRunning); MaxPerUser bounds one user's (default
	// DefaultMaxPerUser). A submission beyond either is refused with
	// RATE_LIMITED and RetryAfter: nothing is queued.
	MaxRunning int
	MaxPerUser int
}

// The defaults of Config.MaxRunning and Config.MaxPerUser, and the
// Retry-After of a refused submission.
const (
	DefaultMaxRunning = 256
	DefaultMaxPerUser = 32
	RetryBusy         = 2 * time.Second
)

// Service submits and answers tasks.
type Service struct {
	cfg Config
	wg  sync.WaitGroup

	mu      sync.Mutex
	running int            // tasks running in this process
	perUser map[string]int // of them, by username
}

// NewService returns a Service.
func NewService(c Config) *Service {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Retention <= 0 {
		c.Retention = time.Hour
	}
	if c.MaxRunning <= 0 {
		c.MaxRunning = DefaultMaxRunning
	}
	if c.MaxPerUser <= 0 {
		c.MaxPerUser = DefaultMaxPerUser
	}
	return &Service{cfg: c, perUser: map[string]int{}}
}

// acquire takes a running slot for username, or says which bound is full.
func (s *Service) acquire(username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var msg string
	switch {
	case s.perUser[username] >= s.cfg.MaxPerUser:
		msg = fmt.Sprintf("you have %d tasks running, the most allowed; retry when one has finished", s.cfg.MaxPerUser)
	case s.running >= s.cfg.MaxRunning:
		msg = fmt.Sprintf("the server is running %d tasks, the most allowed; retry shortly", s.cfg.MaxRunning)
	default:
		s.running++
		s.perUser[username]++
		return nil
	}
	return &errcode.Error{Code: errcode.RateLimited, Message: msg, RetryAfter: RetryBusy}
}

// release gives back username's running slot.
func (s *Service) release(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if s.perUser[username]--; s.perUser[username] <= 0 {
		delete(s.perUser, username)
	}
}

// Submit stores a pending task for t's user, kind, value and providers and
// runs work in the background under the task's deadline. Beyond the running
// bounds it refuses with RATE_LIMITED before storing anything.
func (s *Service) Submit(ctx context.Context, t Task, work Work) (*Task, error) {
	if err := s.acquire(t.Username); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			s.release(t.Username)
		}
	}()
	now := s.cfg.Now()
	if _, err := s.cfg.Store.DeleteExpiredTasks(ctx, now); err != nil {
		s.cfg.Logger.WarnContext(ctx, "expired tasks not removed", "err", err)
	}
	t.ID = uuid.New()
	t.Status = Pending
	t.CreatedAt = now
	t.Deadline = now.Add(s.cfg.Timeout)
	t.ExpiresAt = now.Add(s.cfg.Retention)
	if err := s.cfg.Store.CreateTask(ctx, &t); err != nil {
		return nil, errcode.Wrap(err)
	}
	s.wg.Add(1)
	started = true
	go s.run(context.WithoutCancel(ctx), t, work)
	return &t, nil
}

func (s *Service) run(ctx context.Context, t Task, work Work) {
	defer s.wg.Done()
	defer s.release(t.Username)
	ctx, cancel := context.WithDeadline(ctx, t.Deadline)
	defer cancel()
	if err := s.cfg.Store.SetTaskStatus(ctx, t.ID, Started, nil, "", s.cfg.Now()); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "task start not recorded", "task_id", t.ID.String(), "err", err)
	}
	res, err := work(ctx, t.ID.String())
	status, msg := Success, ""
	switch {
	case err == nil:
	case ctx.Err() != nil && errcode.CodeOf(err) == errcode.Internal:
		status, msg, res = Failure, errDeadline, nil
	default:
		status, msg, res = Failure, errcode.Of(err).Message, nil
		if errcode.CodeOf(err) == errcode.Internal {
			s.cfg.Logger.ErrorContext(ctx, "task failed", "task_id", t.ID.String(), "err", err)
		}
	}
	// the answer is written even when the deadline has just passed
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if err := s.cfg.Store.SetTaskStatus(wctx, t.ID, status, res, msg, s.cfg.Now()); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "task result not recorded", "task_id", t.ID.String(), "err", err)
	}
}

// Wait returns when every task started by this process has finished, or
// ctx ends.
func (s *Service) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

const errDeadline = "the task did not finish before its deadline"

// errNoTask answers every id that is unknown, expired or another user's,
// so an answer never tells whether someone else's task exists.
var errNoTask = &errcode.Error{Code: errcode.NotFound, Field: "task_id", Message: "no such task"}

// Get returns username's task id. A task still pending or started after its
// deadline is answered as Failure.
func (s *Service) Get(ctx context.Context, username, id string) (*Task, error) {
	tid, err := uuid.Parse(id)
	if err != nil {
		return nil, errNoTask
	}
	t, err := s.cfg.Store.TaskByID(ctx, tid)
	if errors.Is(err, ErrNotFound) {
		return nil, errNoTask
	}
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	now := s.cfg.Now()
	if t.Username != username || !now.Before(t.ExpiresAt) {
		return nil, errNoTask
	}
	if (t.Status == Pending || t.Status == Started) && now.After(t.Deadline.Add(time.Second)) {
		t.Status, t.Error = Failure, errDeadline
	}
	return t, nil
}

// IsID reports whether s has the shape of a task id.
func IsID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}
