package tasks_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/tasks"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	run(t, func(t testing.TB) tasks.Store { return storetest.Open(t, storetest.SQLiteURL(t)) })
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	run(t, func(t testing.TB) tasks.Store { return storetest.Open(t, testenv.Postgres(t)) })
}

// clock is real time plus an offset the test moves forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func newService(st tasks.Store, c *clock) *tasks.Service {
	return tasks.NewService(tasks.Config{Store: st, Now: c.now, Timeout: 2 * time.Second, Retention: time.Hour})
}

func run(t *testing.T, open func(testing.TB) tasks.Store) {
	ctx := context.Background()
	t.Run("SuccessBelongsToItsUser", func(t *testing.T) {
		st, c := open(t), &clock{}
		s := newService(st, c)
		task, err := s.Submit(ctx, tasks.Task{Username: "alice", Kind: "ipv4", Value: "198.51.100.1"},
			func(ctx context.Context, id string) (json.RawMessage, error) {
				return json.Marshal(map[string]string{"task_id": id})
			})
		if err != nil || task.Status != tasks.Pending {
			t.Fatalf("submit: %+v %v", task, err)
		}
		s.Wait(ctx)
		got, err := s.Get(ctx, "alice", task.ID.String())
		if err != nil || got.Status != tasks.Success || string(got.Result) != `{"task_id":"`+task.ID.String()+`"}` || got.FinishedAt == nil {
			t.Fatalf("get: %+v %v", got, err)
		}
		for _, c := range []struct{ user, id string }{{"bob", task.ID.String()}, {"alice", uuid.NewString()}, {"alice", "not-an-id"}} {
			if _, err := s.Get(ctx, c.user, c.id); errcode.CodeOf(err) != errcode.NotFound {
				t.Errorf("get %s as %s: %v, want NOT_FOUND", c.id, c.user, err)
			}
		}
	})
	t.Run("WorkErrorAndDeadline", func(t *testing.T) {
		st, c := open(t), &clock{}
		s := newService(st, c)
		bad, _ := s.Submit(ctx, tasks.Task{Username: "alice", Kind: "ipv4", Value: "x"}, func(context.Context, string) (json.RawMessage, error) {
			return nil, errcode.New(errcode.UpstreamError, "upstream said no")
		})
		slow, _ := s.Submit(ctx, tasks.Task{Username: "alice", Kind: "ipv4", Value: "y"}, func(ctx context.Context, _ string) (json.RawMessage, error) {
			<-ctx.Done() // the task's deadline bounds the work
			return nil, ctx.Err()
		})
		s.Wait(ctx)
		for id, want := range map[uuid.UUID]string{bad.ID: "upstream said no", slow.ID: "the task did not finish before its deadline"} {
			got, err := s.Get(ctx, "alice", id.String())
			if err != nil || got.Status != tasks.Failure || got.Error != want {
				t.Errorf("task %s: %+v %v, want FAILURE %q", id, got, err, want)
			}
		}
	})
	t.Run("DiedMidTaskIsNotPendingForever", func(t *testing.T) {
		st, c := open(t), &clock{}
		s := newService(st, c)
		now := c.now()
		orphan := &tasks.Task{ID: uuid.New(), Username: "alice", Kind: "url", Value: "http://x.example/", Status: tasks.Started,
			CreatedAt: now, Deadline: now.Add(2 * time.Second), ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateTask(ctx, orphan); err != nil { // as a process that then died left it
			t.Fatal(err)
		}
		if got, _ := s.Get(ctx, "alice", orphan.ID.String()); got.Status != tasks.Started {
			t.Fatalf("before the deadline: %+v", got)
		}
		c.advance(5 * time.Second)
		if got, err := s.Get(ctx, "alice", orphan.ID.String()); err != nil || got.Status != tasks.Failure || got.Error == "" {
			t.Fatalf("after the deadline: %+v %v", got, err)
		}
	})
	t.Run("Expiry", func(t *testing.T) {
		st, c := open(t), &clock{}
		s := newService(st, c)
		done := func(context.Context, string) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }
		old, _ := s.Submit(ctx, tasks.Task{Username: "alice", Kind: "ipv4", Value: "x"}, done)
		s.Wait(ctx)
		c.advance(2 * time.Hour)
		if _, err := s.Get(ctx, "alice", old.ID.String()); errcode.CodeOf(err) != errcode.NotFound {
			t.Errorf("expired task: %v, want NOT_FOUND", err)
		}
		s.Submit(ctx, tasks.Task{Username: "alice", Kind: "ipv4", Value: "y"}, done) // removes expired tasks
		s.Wait(ctx)
		if _, err := st.TaskByID(ctx, old.ID); !errors.Is(err, tasks.ErrNotFound) {
			t.Errorf("expired task still stored: %v", err)
		}
	})
	t.Run("RunningTasksAreBounded", func(t *testing.T) {
		st, c := open(t), &clock{}
		s := tasks.NewService(tasks.Config{Store: st, Now: c.now, Timeout: 5 * time.Second, MaxRunning: 3, MaxPerUser: 2})
		release := make(chan struct{})
		var ran atomic.Int32
		hold := func(ctx context.Context, _ string) (json.RawMessage, error) {
			ran.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return json.RawMessage(`{}`), nil
		}
		submit := func(user string) error {
			_, err := s.Submit(ctx, tasks.Task{Username: user, Kind: "ipv4", Value: "192.0.2.1"}, hold)
			return err
		}
		for _, c := range []struct {
			user string
			ok   bool
		}{{"alice", true}, {"alice", true}, {"alice", false}, {"bob", true}, {"carol", false}} {
			err := submit(c.user)
			if c.ok != (err == nil) {
				t.Fatalf("submit as %s: %v, want ok=%v", c.user, err, c.ok)
			}
			if e := errcode.Of(err); err != nil && (e.Code != errcode.RateLimited || e.RetryAfter <= 0) {
				t.Fatalf("submit as %s refused with %+v, want RATE_LIMITED with RetryAfter", c.user, e)
			}
		}
		close(release)
		s.Wait(ctx)
		if n := ran.Load(); n != 3 {
			t.Errorf("%d tasks ran, want 3: a refused submission must not run", n)
		}
		for _, u := range []string{"alice", "alice", "carol"} { // slots come back when tasks end
			if err := submit(u); err != nil {
				t.Errorf("submit as %s after the others finished: %v", u, err)
			}
		}
		s.Wait(ctx)
	})
}
