package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/task"
	"github.com/inspector-gadget/gadget/internal/tasks"
)

var _ tasks.Store = (*Store)(nil)

// CreateTask stores a new task.
func (s *Store) CreateTask(ctx context.Context, t *tasks.Task) error {
	return s.client.Task.Create().SetID(t.ID).SetUsername(t.Username).SetKind(t.Kind).SetValue(t.Value).
		SetProviders(t.Providers).SetStatus(string(t.Status)).SetCreatedAt(ts(t.CreatedAt)).
		SetDeadline(ts(t.Deadline)).SetExpiresAt(ts(t.ExpiresAt)).Exec(ctx)
}

// SetTaskStatus moves a task to status; Success and Failure also record
// the result or error and the finish time.
func (s *Store) SetTaskStatus(ctx context.Context, id uuid.UUID, status tasks.Status, result json.RawMessage, errMsg string, at time.Time) error {
	u := s.client.Task.UpdateOneID(id).SetStatus(string(status))
	if status == tasks.Success || status == tasks.Failure {
		u = u.SetFinishedAt(ts(at)).SetError(truncate(errMsg, 1024))
		if result != nil {
			u = u.SetResult(string(result))
		}
	}
	err := u.Exec(ctx)
	if ent.IsNotFound(err) {
		return tasks.ErrNotFound
	}
	return err
}

// TaskByID returns one task; tasks.ErrNotFound when absent.
func (s *Store) TaskByID(ctx context.Context, id uuid.UUID) (*tasks.Task, error) {
	t, err := s.client.Task.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, tasks.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	out := &tasks.Task{ID: t.ID, Username: t.Username, Kind: t.Kind, Value: t.Value, Providers: t.Providers,
		Status: tasks.Status(t.Status), Error: t.Error, CreatedAt: t.CreatedAt.UTC(), Deadline: t.Deadline.UTC(),
		ExpiresAt: t.ExpiresAt.UTC()}
	if t.Result != "" {
		out.Result = json.RawMessage(t.Result)
	}
	if t.FinishedAt != nil {
		f := t.FinishedAt.UTC()
		out.FinishedAt = &f
	}
	return out, nil
}

// DeleteExpiredTasks removes the tasks that expired before now.
func (s *Store) DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error) {
	return s.client.Task.Delete().Where(task.ExpiresAtLT(ts(now))).Exec(ctx)
}
