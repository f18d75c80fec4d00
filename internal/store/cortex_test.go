package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/store"
)

// TestCortexJobsStored: a job round-trips, moves Waiting → InProgress →
// Success with its dates and report, lists newest first per user (or for
// everybody), and old jobs are removed.
func TestCortexJobsStored(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		mk := func(user string, at time.Time) *store.CortexJob {
			j := &store.CortexJob{ID: uuid.New(), Username: user, AnalyzerID: "gadget_all", AnalyzerName: "InspectorGadget_All",
				DataType: "ip", Data: "203.0.113.45", TLP: 2, PAP: 3, Message: "case 7", Parameters: json.RawMessage(`{"user":"x"}`),
				Status: "Waiting", CreatedAt: at, Deadline: at.Add(25 * time.Second)}
			if err := s.CreateCortexJob(ctx, j); err != nil {
				t.Fatal(err)
			}
			return j
		}
		old := mk("alice", base.Add(-48*time.Hour))
		first := mk("alice", base)
		other := mk("bob", base.Add(time.Minute))
		last := mk("alice", base.Add(2*time.Minute))

		got, err := s.CortexJobByID(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		started, ended := base.Add(time.Second), base.Add(3*time.Second)
		report := json.RawMessage(`{"success":true}`)
		if err := s.SetCortexJobStatus(ctx, first.ID, "InProgress", nil, "", started); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCortexJobStatus(ctx, first.ID, "Success", report, "", ended); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCortexJobStatus(ctx, other.ID, "Failure", nil, "no provider answered", ended); err != nil {
			t.Fatal(err)
		}
		got, _ = s.CortexJobByID(ctx, first.ID)
		if got.Status != "Success" || string(got.Report) != string(report) || got.StartDate == nil || !got.StartDate.Equal(started) ||
			got.EndDate == nil || !got.EndDate.Equal(ended) {
			t.Errorf("after success: %+v", got)
		}
		if got, _ := s.CortexJobByID(ctx, other.ID); got.Status != "Failure" || got.ErrorMessage != "no provider answered" || got.Report != nil {
			t.Errorf("after failure: %+v", got)
		}

		ids := func(js []*store.CortexJob) []uuid.UUID {
			out := []uuid.UUID{}
			for _, j := range js {
				out = append(out, j.ID)
			}
			return out
		}
		alices, err := s.CortexJobs(ctx, "alice", 2)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uuid.UUID{last.ID, first.ID}, ids(alices)); diff != "" {
			t.Errorf("alice's newest two (-want +got):\n%s", diff)
		}
		all, _ := s.CortexJobs(ctx, "", 10)
		if diff := cmp.Diff([]uuid.UUID{last.ID, other.ID, first.ID, old.ID}, ids(all)); diff != "" {
			t.Errorf("everybody's (-want +got):\n%s", diff)
		}

		if n, err := s.DeleteCortexJobsBefore(ctx, base.Add(-time.Hour)); err != nil || n != 1 {
			t.Errorf("DeleteCortexJobsBefore = %d, %v; want 1", n, err)
		}
		if _, err := s.CortexJobByID(ctx, old.ID); !errors.Is(err, store.ErrCortexJobNotFound) {
			t.Errorf("removed job: %v", err)
		}
		if err := s.SetCortexJobStatus(ctx, uuid.New(), "Success", nil, "", ended); !errors.Is(err, store.ErrCortexJobNotFound) {
			t.Errorf("status of an unknown job: %v", err)
		}
	})
}
