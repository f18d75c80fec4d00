package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/tasks"
)

// TestShutdownFinishesRESTTasks stops serve (the run context cancelled, as
// SIGTERM does) while a REST two-step task waits on a slow provider: run()
// returns only once the task has finished, and it finished SUCCESS. On
// PostgreSQL the task's provider calls go through River jobs, which must
// outlive the HTTP shutdown too.
func TestShutdownFinishesRESTTasks(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			env["GADGET_LOOKUP_DEADLINE"] = "10s"
			fake := withFake(t, env)
			const latency = 1500 * time.Millisecond
			fake.SetDefaultLatency(latency)
			in := start(t, env)
			root := in.token("root", rootPW, "")

			var sub struct {
				TaskID string `json:"task_id"`
			}
			if res, body := in.rest(root, "POST", "/api/indicator/ipv4", `{"indicator":"203.0.113.44"}`, &sub); res.StatusCode != 200 || sub.TaskID == "" {
				t.Fatalf("submit: %d %s", res.StatusCode, body)
			}
			// stop while the task is in flight: started, its providers not yet answered
			var polled struct {
				Status string `json:"task_status"`
			}
			for wait := time.Now().Add(latency / 2); polled.Status != string(tasks.Started) && time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
				in.rest(root, "GET", "/api/indicator/ipv4/"+sub.TaskID, "", &polled)
			}
			if polled.Status != string(tasks.Started) {
				t.Fatalf("task before the stop: %q, want STARTED", polled.Status)
			}
			began := time.Now()
			if err := in.stop(); err != nil {
				t.Fatalf("run: %v", err)
			}
			took := time.Since(began)

			// run() has returned: read the task as the next process would
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := store.Open(ctx, env["GADGET_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			task, err := s.TaskByID(ctx, uuid.MustParse(sub.TaskID))
			if err != nil {
				t.Fatal(err)
			}
			if task.Status != tasks.Success || len(task.Result) == 0 {
				t.Fatalf("after run() returned (stop took %v): task %s, error %q, %d bytes of result; want SUCCESS with a result",
					took, task.Status, task.Error, len(task.Result))
			}
			t.Logf("stop took %v; task %s", took, task.Status)
		})
	}
}
