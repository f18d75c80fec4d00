package cortex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/store"
)

// tlps maps Cortex's TLP numbers (0 white/clear, 1 green, 2 amber, 3 red)
// to TLP 2.0.
var tlps = []indicator.TLP{indicator.TLPClear, indicator.TLPGreen, indicator.TLPAmber, indicator.TLPRed}

// maxData bounds an observable's data and a job's message.
const maxData = 8 << 10

// runInput is the body of POST /api/analyzer/{id}/run: Cortex 2's form
// (JobSrv.create), what TheHive (dto/v0 InputArtifact) and cortex4py
// (controllers/analyzers.py run_by_id) send. Only string data: files are
// not analyzed here.
type runInput struct {
	DataType   *string         `json:"dataType"`
	Data       json.RawMessage `json:"data"`
	TLP        json.RawMessage `json:"tlp"`
	PAP        json.RawMessage `json:"pap"`
	Message    *string         `json:"message"`
	Parameters json.RawMessage `json:"parameters"`
	Force      json.RawMessage `json:"force"`
	Attributes json.RawMessage `json:"attributes"` // Cortex 1's form: refused with a clear message
}

// level03 reads a TLP or PAP number (0–3; a number or its string), 2 when
// absent, as Cortex's TlpAttributeFormat does.
func level03(name string, raw json.RawMessage) (int, *attributeErr) {
	if len(raw) == 0 || string(raw) == "null" {
		return 2, nil
	}
	var n json.Number
	var s string
	switch {
	case json.Unmarshal(raw, &n) == nil:
	case json.Unmarshal(raw, &s) == nil:
		n = json.Number(strings.TrimSpace(s))
	}
	v, err := strconv.Atoi(string(n))
	if err != nil || v < 0 || v > 3 {
		e := invalid(name, "number", json.RawMessage(raw), "a number from 0 (white/clear) to 3 (red)")
		return 0, &e
	}
	return v, nil
}

// boolParam reads force as Cortex's Fields.getBoolean: true, "true" or 1.
func boolParam(raw json.RawMessage, query string) bool {
	if len(raw) > 0 {
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			return b
		}
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n != "0"
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			query = s
		}
	}
	switch strings.ToLower(strings.TrimSpace(query)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// parseData reads data as one of dataType's kinds.
func parseData(dataType, data string) (indicator.Indicator, error) {
	var lastErr error
	for _, k := range dataTypes[dataType] {
		ind, err := indicator.ParseAs(strings.TrimSpace(data), k)
		if err == nil {
			return ind, nil
		}
		lastErr = err
	}
	if dataType == "hash" {
		return indicator.Indicator{}, errors.New("not an MD5, SHA-1 or SHA-256 hash")
	}
	return indicator.Indicator{}, lastErr
}

// run serves POST /api/analyzer/{id}/run: it checks the request, stores a
// Waiting job owned by the caller, runs it in the background and answers
// the job's record.
func (s *Server) run(w http.ResponseWriter, r *http.Request) {
	start := s.cfg.Now()
	c := soc.Caller(r)
	params := map[string]any{"analyzer": truncate(r.PathValue("id"), 64)}
	fail := func(status int, write func()) {
		write()
		s.record(r.Context(), c, params, status, start, nil)
	}
	a, ok := s.cfg.Catalog.Find(r.PathValue("id"))
	if !ok || len(dataTypeList(a)) == 0 {
		fail(http.StatusNotFound, func() {
			writeError(w, http.StatusNotFound, "NotFoundError", "worker "+truncate(r.PathValue("id"), 64)+" not found")
		})
		return
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		fail(http.StatusBadRequest, func() {
			writeError(w, http.StatusBadRequest, "BadRequest", "files are not analyzed here: send {dataType, data} with a string observable as JSON")
		})
		return
	}
	var in runInput
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err == nil && len(raw) > maxBody {
		err = fmt.Errorf("the body is over %d bytes", maxBody)
	} else if err == nil && json.Unmarshal(raw, &in) != nil {
		err = errNotJSON
	}
	if err != nil {
		fail(http.StatusBadRequest, func() { writeError(w, http.StatusBadRequest, "BadRequest", err.Error()) })
		return
	}
	if len(in.Attributes) > 0 {
		fail(http.StatusBadRequest, func() {
			writeError(w, http.StatusBadRequest, "BadRequest", "Cortex 1's {data, attributes} form is not served: send {dataType, data, tlp, pap, message, parameters}")
		})
		return
	}
	var errs []attributeErr
	var dataType, data string
	switch {
	case in.DataType == nil || *in.DataType == "":
		errs = append(errs, missing("dataType"))
	default:
		dataType = *in.DataType
		if _, ok := dataTypes[dataType]; !ok {
			errs = append(errs, invalid("dataType", "string", truncate(dataType, 40),
				"this service analyzes ip, domain, fqdn, url and hash observables"))
		}
	}
	switch {
	case len(in.Data) == 0 || string(in.Data) == "null":
		errs = append(errs, missing("data"))
	case json.Unmarshal(in.Data, &data) != nil:
		errs = append(errs, invalid("data", "string", nil, "a string (files are not analyzed here)"))
	case strings.TrimSpace(data) == "":
		errs = append(errs, missing("data"))
	case len(data) > maxData:
		errs = append(errs, invalid("data", "string", nil, fmt.Sprintf("over %d bytes", maxData)))
	}
	tlp, tErr := level03("tlp", in.TLP)
	pap, pErr := level03("pap", in.PAP)
	for _, e := range []*attributeErr{tErr, pErr} {
		if e != nil {
			errs = append(errs, *e)
		}
	}
	message := ""
	if in.Message != nil {
		message = *in.Message
		if len(message) > maxData {
			errs = append(errs, invalid("message", "string", nil, fmt.Sprintf("over %d bytes", maxData)))
		}
	}
	parameters := json.RawMessage("{}")
	if len(in.Parameters) > 0 && string(in.Parameters) != "null" {
		var obj map[string]any
		if json.Unmarshal(in.Parameters, &obj) != nil {
			errs = append(errs, invalid("parameters", "object", nil, "a JSON object"))
		} else {
			parameters = in.Parameters
		}
	}
	var ind indicator.Indicator
	if len(errs) == 0 {
		if ind, err = parseData(dataType, data); err != nil {
			errs = append(errs, invalid("data", dataType, truncate(data, 80), errcode.Of(err).Message))
		} else if !a.Serves(ind.Kind) {
			errs = append(errs, invalid("data", dataType, ind.Value, fmt.Sprintf("analyzer %s does not look up %s values", a.ID, ind.Kind)))
		}
	}
	if len(errs) > 0 {
		fail(http.StatusBadRequest, func() { writeAttributeError(w, errs...) })
		return
	}
	force := boolParam(in.Force, r.URL.Query().Get("force"))
	params["dataType"], params["kind"], params["value"], params["tlp"], params["pap"] = dataType, string(ind.Kind), ind.Value, tlp, pap
	if force {
		params["force"] = true
	}
	p := auth.FromContext(r.Context())
	now := s.cfg.Now()
	j := &store.CortexJob{ID: uuid.New(), Username: p.Username, AnalyzerID: a.ID, AnalyzerName: a.Name,
		DataType: dataType, Data: ind.Value, TLP: tlp, PAP: pap, Message: message, Parameters: parameters,
		Status: Waiting, CreatedAt: now, Deadline: now.Add(s.cfg.Lookup.Deadline() + grace)}
	s.prune(r.Context(), now)
	if err := s.cfg.Store.CreateCortexJob(r.Context(), j); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "cortex job not stored", "err", err)
		fail(http.StatusInternalServerError, func() {
			writeError(w, http.StatusInternalServerError, "InternalError", "the job could not be stored")
		})
		return
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.done[j.ID] = done
	s.mu.Unlock()
	s.wg.Add(1)
	opts := lookup.Options{Caller: c, Fresh: force, TLP: tlps[tlp]}
	go s.work(context.WithoutCancel(r.Context()), *j, a, ind, opts, params, start, done)
	writeJSON(w, http.StatusOK, s.jobRecord(j, false))
}

// record writes the run request's audit record; req carries the job's
// provider answers (nil when the request was refused).
func (s *Server) record(ctx context.Context, c lookup.Caller, params map[string]any, status int, start time.Time, req *accounting.Request) {
	if s.cfg.Usage == nil || c.Username == "" {
		return
	}
	st := "ok"
	switch {
	case status >= 500:
		st = "error"
	case status == http.StatusNotFound:
		st = "not_found"
	case status >= 400:
		st = "bad_request"
	}
	rec := accounting.Record{Username: c.Username, API: "cortex", Endpoint: c.Endpoint, Parameters: accounting.Redact(params),
		UserAgent: c.UserAgent, IP: c.IP, Status: st, Latency: s.cfg.Now().Sub(start), At: start}
	if req != nil {
		req.Fill(&rec)
	}
	s.cfg.Usage.Record(ctx, rec)
}

// prune removes the jobs older than the retention, at most once a minute.
func (s *Server) prune(ctx context.Context, now time.Time) {
	last := s.pruned.Load()
	if now.Unix()-last < 60 || !s.pruned.CompareAndSwap(last, now.Unix()) {
		return
	}
	if _, err := s.cfg.Store.DeleteCortexJobsBefore(ctx, now.Add(-s.cfg.Retention)); err != nil {
		s.cfg.Logger.WarnContext(ctx, "old cortex jobs not removed", "err", err)
	}
}

// work runs job j: InProgress, the lookup up to the job's deadline, then
// Success with the report (or Failure when nothing could be said), and the
// run request's audit record with the providers' answers.
func (s *Server) work(ctx context.Context, j store.CortexJob, a soc.Analyzer, ind indicator.Indicator, opts lookup.Options,
	params map[string]any, start time.Time, done chan struct{}) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.done, j.ID)
		s.mu.Unlock()
		close(done)
	}()
	ctx, cancel := context.WithDeadline(ctx, j.Deadline)
	defer cancel()
	if err := s.cfg.Store.SetCortexJobStatus(ctx, j.ID, InProgress, nil, "", s.cfg.Now()); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "cortex job start not recorded", "job_id", j.ID.String(), "err", err)
	}
	ctx, req := accounting.NewRequest(ctx)
	rep := soc.AnalyzeWith(ctx, s.cfg.Lookup, a, ind, opts, 0)
	status, errMsg := Success, ""
	var report json.RawMessage
	if why, none := lookup.NobodyAnswered(rep.Results); none && rep.Verdict.Level == indicator.Unknown {
		status, errMsg = Failure, why
	} else {
		var err error
		if report, err = json.Marshal(buildReport(a, ind, rep)); err != nil {
			status, errMsg = Failure, "the report could not be encoded"
		}
	}
	// the end is written even when the deadline has just passed
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer wcancel()
	if err := s.cfg.Store.SetCortexJobStatus(wctx, j.ID, status, report, errMsg, s.cfg.Now()); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "cortex job result not recorded", "job_id", j.ID.String(), "err", err)
	}
	s.record(wctx, opts.Caller, params, http.StatusOK, start, req)
}

// errDeadline is the error of a job its process left unfinished.
const errDeadline = "the job did not finish before its deadline"

// job returns job id if the caller may see it: its owner, or a holder of
// the mon scope. Anything else is "not found", so an answer never tells
// whether someone else's job exists.
func (s *Server) job(r *http.Request) (*store.CortexJob, int, string) {
	id := r.PathValue("id")
	notFound := "job " + truncate(id, 64) + " not found"
	jid, err := uuid.Parse(id)
	if err != nil {
		return nil, http.StatusNotFound, notFound
	}
	j, err := s.cfg.Store.CortexJobByID(r.Context(), jid)
	if errors.Is(err, store.ErrCortexJobNotFound) {
		return nil, http.StatusNotFound, notFound
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "cortex job not read", "err", err)
		return nil, http.StatusInternalServerError, "the job could not be read"
	}
	p := auth.FromContext(r.Context())
	if j.Username != p.Username && !p.Has(auth.ScopeMon) {
		return nil, http.StatusNotFound, notFound
	}
	if (j.Status == Waiting || j.Status == InProgress) && s.cfg.Now().After(j.Deadline.Add(time.Second)) {
		j.Status, j.ErrorMessage = Failure, errDeadline
	}
	return j, http.StatusOK, ""
}

func writeJobError(w http.ResponseWriter, status int, msg string) {
	typ := "NotFoundError"
	if status >= 500 {
		typ = "InternalError"
	}
	writeError(w, status, typ, msg)
}

// jobGet serves a job's record, with its report when withReport.
func (s *Server) jobGet(withReport bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		j, status, msg := s.job(r)
		if j == nil {
			writeJobError(w, status, msg)
			return
		}
		writeJSON(w, http.StatusOK, s.jobRecord(j, withReport))
	}
}

// jobArtifacts serves a job's artifacts (cortex4py's jobs.get_artifacts):
// the observables its analyzer extracted, which here are none, since a
// report's evidence is in its full part.
func (s *Server) jobArtifacts(w http.ResponseWriter, r *http.Request) {
	j, status, msg := s.job(r)
	if j == nil {
		writeJobError(w, status, msg)
		return
	}
	writeList(w, []any{}, 0)
}

// jobWaitReport serves waitreport?atMost=: the job with its report once it
// has ended, or after atMost (a Scala duration, "1 second", "1minute",
// "Inf"; default one minute), bounded by the job's own deadline.
func (s *Server) jobWaitReport(w http.ResponseWriter, r *http.Request) {
	atMost := time.Minute
	if v := r.URL.Query().Get("atMost"); v != "" {
		d, err := parseDuration(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "atMost: "+err.Error())
			return
		}
		atMost = d
	}
	j, status, msg := s.job(r)
	if j == nil {
		writeJobError(w, status, msg)
		return
	}
	until := s.cfg.Now().Add(min(atMost, maxWait))
	if dl := j.Deadline.Add(time.Second + 10*time.Millisecond); dl.Before(until) {
		until = dl
	}
	for j.Status == Waiting || j.Status == InProgress {
		left := until.Sub(s.cfg.Now())
		if left <= 0 {
			break
		}
		s.mu.Lock()
		done := s.done[j.ID]
		s.mu.Unlock()
		// a job running in another process is polled
		t := time.NewTimer(min(left, 250*time.Millisecond))
		select {
		case <-done:
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
		t.Stop()
		if j, status, msg = s.job(r); j == nil {
			writeJobError(w, status, msg)
			return
		}
	}
	writeJSON(w, http.StatusOK, s.jobRecord(j, true))
}

func (s *Server) jobFind(w http.ResponseWriter, r *http.Request) {
	sq, err := readSearch(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	p := auth.FromContext(r.Context())
	owner := p.Username
	if p.Has(auth.ScopeMon) {
		owner = ""
	}
	jobs, err := s.cfg.Store.CortexJobs(r.Context(), owner, maxScan)
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "cortex jobs not read", "err", err)
		writeError(w, http.StatusInternalServerError, "InternalError", "the jobs could not be read")
		return
	}
	recs := make([]jobJSON, len(jobs))
	for i, j := range jobs {
		if (j.Status == Waiting || j.Status == InProgress) && s.cfg.Now().After(j.Deadline.Add(time.Second)) {
			j.Status, j.ErrorMessage = Failure, errDeadline
		}
		recs[i] = s.jobRecord(j, false)
	}
	page, total, err := search(recs, sq, []string{"-createdAt"})
	if err != nil {
		writeError(w, http.StatusBadRequest, "SearchError", err.Error())
		return
	}
	writeList(w, page, total)
}

// jobJSON is a job as Cortex renders it (models/Job.toJson) and its
// clients read it (TheHive's dto/v0 OutputJob, cortex4py's models/job.py).
type jobJSON struct {
	ID                   string          `json:"id"`
	MID                  string          `json:"_id"`
	MType                string          `json:"_type"`
	MRouting             string          `json:"_routing"`
	MParent              *string         `json:"_parent"`
	MVersion             int             `json:"_version"`
	CreatedBy            string          `json:"createdBy"`
	CreatedAt            int64           `json:"createdAt"`
	UpdatedAt            *int64          `json:"updatedAt,omitempty"`
	WorkerDefinitionID   string          `json:"workerDefinitionId"`
	WorkerID             string          `json:"workerId"`
	WorkerName           string          `json:"workerName"`
	AnalyzerDefinitionID string          `json:"analyzerDefinitionId"`
	AnalyzerID           string          `json:"analyzerId"`
	AnalyzerName         string          `json:"analyzerName"`
	Organization         string          `json:"organization"`
	Status               string          `json:"status"`
	StartDate            *int64          `json:"startDate,omitempty"`
	EndDate              *int64          `json:"endDate,omitempty"`
	DataType             string          `json:"dataType"`
	Data                 string          `json:"data"`
	TLP                  int             `json:"tlp"`
	PAP                  int             `json:"pap"`
	Message              string          `json:"message"`
	Parameters           json.RawMessage `json:"parameters"`
	Type                 string          `json:"type"`
	Date                 int64           `json:"date"`
	ErrorMessage         string          `json:"errorMessage,omitempty"`
	Report               any             `json:"report,omitempty"`
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func msp(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}

// jobRecord renders j; withReport adds its report as JobCtrl does: the
// report object once Success, {errorMessage, input, success: false} once
// Failure, else the status ("Running", "Waiting").
func (s *Server) jobRecord(j *store.CortexJob, withReport bool) jobJSON {
	params := j.Parameters
	if len(params) == 0 {
		params = json.RawMessage("{}")
	}
	out := jobJSON{ID: j.ID.String(), MID: j.ID.String(), MType: "job", MRouting: j.ID.String(), MVersion: 1,
		CreatedBy: j.Username, CreatedAt: ms(j.CreatedAt), WorkerDefinitionID: j.AnalyzerID, WorkerID: j.AnalyzerID,
		WorkerName: j.AnalyzerName, AnalyzerDefinitionID: j.AnalyzerID, AnalyzerID: j.AnalyzerID, AnalyzerName: j.AnalyzerName,
		Organization: s.cfg.Organization, Status: j.Status, StartDate: msp(j.StartDate), EndDate: msp(j.EndDate),
		DataType: j.DataType, Data: j.Data, TLP: j.TLP, PAP: j.PAP, Message: j.Message, Parameters: params,
		Type: "analyzer", Date: ms(j.CreatedAt)}
	if j.EndDate != nil {
		out.UpdatedAt = msp(j.EndDate)
	} else if j.StartDate != nil {
		out.UpdatedAt = msp(j.StartDate)
	}
	if j.Status == Failure {
		out.ErrorMessage = j.ErrorMessage
	}
	if !withReport {
		return out
	}
	switch j.Status {
	case Success:
		out.Report = json.RawMessage(j.Report)
	case Failure:
		input, _ := json.Marshal(map[string]any{"dataType": j.DataType, "data": j.Data, "tlp": j.TLP, "pap": j.PAP,
			"message": j.Message, "parameters": params})
		out.Report = map[string]any{"errorMessage": j.ErrorMessage, "input": string(input), "success": false}
	case InProgress:
		out.Report = "Running"
	default:
		out.Report = j.Status
	}
	return out
}

// durationRE is a Scala duration ("1 second", "1minute", "500 millis",
// "10s") as scala.concurrent.duration.Duration(String) reads it.
var durationRE = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Zµ]+)\s*$`)

var durationUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute, "m": time.Minute,
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"ms": time.Millisecond, "milli": time.Millisecond, "millis": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"µs": time.Microsecond, "micro": time.Microsecond, "micros": time.Microsecond,
	"microsecond": time.Microsecond, "microseconds": time.Microsecond,
	"ns": time.Nanosecond, "nano": time.Nanosecond, "nanos": time.Nanosecond,
	"nanosecond": time.Nanosecond, "nanoseconds": time.Nanosecond,
}

// parseDuration reads a Scala duration; "Inf" (cortex4py's default) is as
// long as the job may take.
func parseDuration(s string) (time.Duration, error) {
	switch strings.TrimSpace(s) {
	case "Inf", "PlusInf", "+Inf":
		return maxWait, nil
	case "MinusInf", "-Inf":
		return 0, nil
	}
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration: write e.g. \"1 second\", \"30seconds\", \"1minute\" or \"Inf\"", truncate(s, 40))
	}
	unit, ok := durationUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q: use ms, s, second(s), min, minute(s), h, hour(s)", truncate(m[2], 20))
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil || f*float64(unit) > float64(24*time.Hour) {
		return maxWait, nil // longer than any job may take
	}
	return time.Duration(f * float64(unit)), nil
}
