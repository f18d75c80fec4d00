package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/cortexjob"
)

// CortexJob is a job of the Cortex API: one analyzer run on one observable.
type CortexJob struct {
	ID           uuid.UUID
	Username     string
	AnalyzerID   string
	AnalyzerName string
	DataType     string
	Data         string
	TLP          int
	PAP          int
	Message      string
	Parameters   json.RawMessage // a JSON object
	Status       string          // Waiting InProgress Success Failure
	Report       json.RawMessage // once Success
	ErrorMessage string          // once Failure
	CreatedAt    time.Time
	StartDate    *time.Time
	EndDate      *time.Time
	Deadline     time.Time // a job not finished by then has failed
}

// ErrCortexJobNotFound is the answer for an unknown job id.
var ErrCortexJobNotFound = errors.New("cortex job not found")

// CreateCortexJob stores a new job.
func (s *Store) CreateCortexJob(ctx context.Context, j *CortexJob) error {
	params := string(j.Parameters)
	if params == "" {
		params = "{}"
	}
	return s.client.CortexJob.Create().SetID(j.ID).SetUsername(j.Username).SetAnalyzerID(j.AnalyzerID).
		SetAnalyzerName(j.AnalyzerName).SetDataType(j.DataType).SetData(j.Data).SetTlp(j.TLP).SetPap(j.PAP).
		SetMessage(j.Message).SetParameters(params).SetStatus(j.Status).SetCreatedAt(ts(j.CreatedAt)).
		SetDeadline(ts(j.Deadline)).Exec(ctx)
}

// SetCortexJobStatus moves job id to status at at: InProgress records the
// start date; Success and Failure the end date and the report or error.
func (s *Store) SetCortexJobStatus(ctx context.Context, id uuid.UUID, status string, report json.RawMessage, errMsg string, at time.Time) error {
	u := s.client.CortexJob.UpdateOneID(id).SetStatus(status)
	switch status {
	case "InProgress":
		u = u.SetStartDate(ts(at))
	case "Success", "Failure":
		u = u.SetEndDate(ts(at))
		if errMsg != "" {
			u = u.SetErrorMessage(truncate(errMsg, 1024))
		}
		if report != nil {
			u = u.SetReport(string(report))
		}
	}
	err := u.Exec(ctx)
	if ent.IsNotFound(err) {
		return ErrCortexJobNotFound
	}
	return err
}

// CortexJobByID returns one job; ErrCortexJobNotFound when absent.
func (s *Store) CortexJobByID(ctx context.Context, id uuid.UUID) (*CortexJob, error) {
	j, err := s.client.CortexJob.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, ErrCortexJobNotFound
	}
	if err != nil {
		return nil, err
	}
	return toCortexJob(j), nil
}

// CortexJobs returns the newest jobs of username ("" for everybody's),
// at most limit of them, newest first.
func (s *Store) CortexJobs(ctx context.Context, username string, limit int) ([]*CortexJob, error) {
	q := s.client.CortexJob.Query()
	if username != "" {
		q = q.Where(cortexjob.Username(username))
	}
	rows, err := q.Order(ent.Desc(cortexjob.FieldCreatedAt), ent.Desc(cortexjob.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*CortexJob, len(rows))
	for i, j := range rows {
		out[i] = toCortexJob(j)
	}
	return out, nil
}

// DeleteCortexJobsBefore removes the jobs created before t.
func (s *Store) DeleteCortexJobsBefore(ctx context.Context, t time.Time) (int, error) {
	return s.client.CortexJob.Delete().Where(cortexjob.CreatedAtLT(ts(t))).Exec(ctx)
}

func toCortexJob(j *ent.CortexJob) *CortexJob {
	out := &CortexJob{ID: j.ID, Username: j.Username, AnalyzerID: j.AnalyzerID, AnalyzerName: j.AnalyzerName,
		DataType: j.DataType, Data: j.Data, TLP: j.Tlp, PAP: j.Pap, Message: j.Message,
		Parameters: json.RawMessage(j.Parameters), Status: j.Status, ErrorMessage: j.ErrorMessage,
		CreatedAt: j.CreatedAt.UTC(), Deadline: j.Deadline.UTC()}
	if j.Report != "" {
		out.Report = json.RawMessage(j.Report)
	}
	if j.StartDate != nil {
		t := j.StartDate.UTC()
		out.StartDate = &t
	}
	if j.EndDate != nil {
		t := j.EndDate.UTC()
		out.EndDate = &t
	}
	return out
}
