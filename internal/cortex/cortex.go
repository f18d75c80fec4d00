// Package cortex serves the subset of Cortex's REST API that TheHive and
// cortex4py use, under /cortex/ (clients take a base URL and append
// /api/…), so that TheHive lists this service as a Cortex server and each
// analyzer (every provider together, each playbook, each provider) as a
// Cortex analyzer: status, the current user, analyzers (list, by type, by
// id, _search), responders (none), running an analyzer as a job, and a
// job's record, report and waitreport, and _search.
//
// Shapes follow TheHive-Project/Cortex (conf/routes, controllers/JobCtrl,
// AnalyzerCtrl, StatusCtrl, models/Job, services/ErrorHandler) and its two
// clients, TheHive's cortex/client (CortexClient.scala, dto/v0) and
// cortex4py (api.py, controllers/). A job is persisted, owned by the user
// who ran it (and visible to holders of the mon scope), and runs once in
// the background through the same lookup pipeline as every other
// transport: playbook, TLP (Cortex's 0–3), cache (force: fresh),
// accounting under api "cortex".
package cortex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/store"
)

// Prefix is where the API is mounted.
const Prefix = "/cortex/"

// APIVersion is the Cortex version this API speaks, what TheHive reads from
// versions.Cortex and shows beside the server.
const APIVersion = "3.1.8"

// The job statuses, as Cortex names them.
const (
	Waiting    = "Waiting"
	InProgress = "InProgress"
	Success    = "Success"
	Failure    = "Failure"
)

// DefaultRetention is how long a job is kept.
const DefaultRetention = 30 * 24 * time.Hour

// grace is added to the lookup deadline for a job's own deadline: the
// report is built and written after the providers have answered.
const grace = 5 * time.Second

// maxWait bounds one waitreport, under the server's write timeout.
const maxWait = 60 * time.Second

// maxScan bounds the jobs a job search reads: the newest of the user's.
const maxScan = 10000

// maxBody bounds a request body.
const maxBody = 64 << 10

// Store persists jobs.
type Store interface {
	CreateCortexJob(ctx context.Context, j *store.CortexJob) error
	SetCortexJobStatus(ctx context.Context, id uuid.UUID, status string, report json.RawMessage, errMsg string, at time.Time) error
	CortexJobByID(ctx context.Context, id uuid.UUID) (*store.CortexJob, error)
	CortexJobs(ctx context.Context, username string, limit int) ([]*store.CortexJob, error)
	DeleteCortexJobsBefore(ctx context.Context, t time.Time) (int, error)
}

// Config wires the server.
type Config struct {
	Lookup       lookup.Service
	Catalog      soc.Catalog
	Store        Store
	Usage        soc.Recorder
	Logger       *slog.Logger
	Version      string        // this service's version, each analyzer's
	Organization string        // the organization jobs and users belong to (default "inspector-gadget")
	Retention    time.Duration // how long jobs are kept (default DefaultRetention)
	Now          func() time.Time
}

// Server is the Cortex API.
type Server struct {
	cfg    Config
	wg     sync.WaitGroup
	mu     sync.Mutex
	done   map[uuid.UUID]chan struct{} // jobs running in this process
	pruned atomic.Int64                // when old jobs were last removed (unix seconds)
}

// New returns the server.
func New(c Config) *Server {
	c.Logger = soc.Logger(c.Logger)
	if c.Organization == "" {
		c.Organization = "inspector-gadget"
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return &Server{cfg: c, done: map[uuid.UUID]chan struct{}{}}
}

// Routes returns pattern → handler. The bearer middleware must run first:
// it puts the principal of the API key Cortex clients send
// (Authorization: Bearer <key>) in the context.
func (s *Server) Routes() map[string]http.Handler {
	read := func(h http.HandlerFunc) http.Handler { return s.authed(soc.Audit("cortex", s.cfg.Usage, h)) }
	return map[string]http.Handler{
		"GET /cortex/api/status":                   http.HandlerFunc(s.status),
		"GET /cortex/api/user/current":             read(s.currentUser),
		"GET /cortex/api/analyzer":                 read(s.analyzerFind),
		"POST /cortex/api/analyzer/_search":        read(s.analyzerFind),
		"GET /cortex/api/analyzer/type/{dataType}": read(s.analyzersForType),
		"GET /cortex/api/analyzer/{id}":            read(s.analyzerGet),
		// its audit record is written when the job ends, with the providers' answers
		"POST /cortex/api/analyzer/{id}/run":        s.authed(http.HandlerFunc(s.run)),
		"GET /cortex/api/responder":                 read(s.responders),
		"POST /cortex/api/responder/_search":        read(s.responders),
		"GET /cortex/api/responder/type/{dataType}": read(s.responders),
		"GET /cortex/api/job":                       read(s.jobFind),
		"POST /cortex/api/job/_search":              read(s.jobFind),
		"GET /cortex/api/job/{id}":                  read(s.jobGet(false)),
		"GET /cortex/api/job/{id}/report":           read(s.jobGet(true)),
		"GET /cortex/api/job/{id}/waitreport":       read(s.jobWaitReport),
		"GET /cortex/api/job/{id}/artifacts":        read(s.jobArtifacts),
		Prefix: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "NotFoundError", "no such path: this Cortex API serves status, user/current, analyzer, responder and job (with its report, waitreport and artifacts) under /cortex/api/")
		}),
	}
}

// Wait returns when every job started by this process has finished, or ctx
// ends.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errorJSON is Cortex's error body (services/ErrorHandler.scala).
type errorJSON struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, errorJSON{Type: typ, Message: msg})
}

// attributeError is Cortex's AttributeCheckingError (elastic4play
// JsonFormat): the job's attributes that are missing or malformed.
type attributeError struct {
	TableName string         `json:"tableName"`
	Type      string         `json:"type"`
	Message   string         `json:"message"`
	Errors    []attributeErr `json:"errors"`
}

type attributeErr struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // MissingAttributeError, InvalidFormatAttributeError
	Format  string `json:"format,omitempty"`
	Value   any    `json:"value,omitempty"`
	Message string `json:"message"`
}

func writeAttributeError(w http.ResponseWriter, errs ...attributeErr) {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	writeJSON(w, http.StatusBadRequest, attributeError{TableName: "job", Type: "AttributeCheckingError",
		Message: strings.Join(msgs, "; "), Errors: errs})
}

func missing(name string) attributeErr {
	return attributeErr{Name: name, Type: "MissingAttributeError", Message: "Attribute " + name + " is missing"}
}

func invalid(name, format string, value any, why string) attributeErr {
	return attributeErr{Name: name, Type: "InvalidFormatAttributeError", Format: format, Value: value,
		Message: fmt.Sprintf("Invalid format for %s: %s", name, why)}
}

// authed answers 401 without valid credentials and 403 without the tasks
// scope, as Cortex does (AuthenticationError, AuthorizationError).
func (s *Server) authed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil {
			msg := "authentication required: send Authorization: Bearer <Inspector Gadget API key>"
			if err := auth.AuthErrorFromContext(r.Context()); err != nil {
				msg = errcode.Of(err).Message
			}
			writeError(w, http.StatusUnauthorized, "AuthenticationError", msg)
			return
		}
		if !p.Has(auth.ScopeTasks) {
			writeError(w, http.StatusForbidden, "AuthorizationError", "this key lacks the tasks scope that analyzers need")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"versions": map[string]string{"Cortex": APIVersion, "InspectorGadget": s.cfg.Version},
		"config": map[string]any{"protectDownloadsWith": "malware", "authType": []string{"key"},
			"capabilities": []string{"authByKey"}, "ssoAutoLogin": false},
	})
}

func (s *Server) currentUser(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	roles := []string{"read", "analyze"}
	if p.Has(auth.ScopeMon) {
		roles = append(roles, "orgadmin")
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": p.Username, "_id": p.Username, "_type": "user", "login": p.Username, "name": p.Username,
		"organization": s.cfg.Organization, "roles": roles, "status": "Ok",
		"hasKey": p.APIKeyID != "", "hasPassword": true, "preferences": map[string]any{},
	})
}

// dataTypes maps Cortex's (and TheHive's) observable data types to the
// kinds they carry.
var dataTypes = map[string][]indicator.Kind{
	"ip":     {indicator.IPv4, indicator.IPv6},
	"domain": {indicator.Domain},
	"fqdn":   {indicator.Domain},
	"url":    {indicator.URL},
	"hash":   {indicator.MD5, indicator.SHA1, indicator.SHA256},
}

// dataTypeOrder is the order of an analyzer's dataTypeList.
var dataTypeOrder = []string{"ip", "domain", "fqdn", "url", "hash"}

// dataTypeList is the data types analyzer a takes.
func dataTypeList(a soc.Analyzer) []string {
	out := []string{}
	for _, dt := range dataTypeOrder {
		if slices.ContainsFunc(dataTypes[dt], a.Serves) {
			out = append(out, dt)
		}
	}
	return out
}

// analyzerJSON is an analyzer as Cortex renders it (models/Worker with
// analyzerDefinitionId) and TheHive reads it (dto/v0 OutputWorker).
type analyzerJSON struct {
	ID                   string   `json:"id"`
	MID                  string   `json:"_id"`
	MType                string   `json:"_type"`
	Name                 string   `json:"name"`
	Version              string   `json:"version"`
	Description          string   `json:"description"`
	Author               string   `json:"author"`
	DataTypeList         []string `json:"dataTypeList"`
	MaxTLP               int      `json:"maxTlp"`
	MaxPAP               int      `json:"maxPap"`
	WorkerDefinitionID   string   `json:"workerDefinitionId"`
	AnalyzerDefinitionID string   `json:"analyzerDefinitionId"`
	BaseConfig           string   `json:"baseConfig"`
	Type                 string   `json:"type"`
	CreatedBy            string   `json:"createdBy"`
}

func (s *Server) analyzerRecord(a soc.Analyzer) analyzerJSON {
	// every TLP and PAP is taken: the policy decides, provider by provider,
	// what may leave (a provider whose maximum TLP is lower answers from the
	// cache only), and a lookup is passive
	return analyzerJSON{ID: a.ID, MID: a.ID, MType: "worker", Name: a.Name, Version: s.cfg.Version,
		Description: a.Description, Author: "Inspector Gadget", DataTypeList: dataTypeList(a), MaxTLP: 3, MaxPAP: 3, WorkerDefinitionID: a.ID,
		AnalyzerDefinitionID: a.ID, BaseConfig: "InspectorGadget", Type: "analyzer", CreatedBy: "root"}
}

// analyzers are the catalog's analyzers that take at least one data type.
func (s *Server) analyzers() []analyzerJSON {
	var out []analyzerJSON
	for _, a := range s.cfg.Catalog() {
		if rec := s.analyzerRecord(a); len(rec.DataTypeList) > 0 {
			out = append(out, rec)
		}
	}
	return out
}

func (s *Server) analyzerFind(w http.ResponseWriter, r *http.Request) {
	sq, err := readSearch(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	page, total, err := search(s.analyzers(), sq, nil)
	if err != nil {
		writeError(w, http.StatusBadRequest, "SearchError", err.Error())
		return
	}
	writeList(w, page, total)
}

func (s *Server) analyzersForType(w http.ResponseWriter, r *http.Request) {
	dt := r.PathValue("dataType")
	out := []analyzerJSON{}
	for _, a := range s.analyzers() {
		if slices.Contains(a.DataTypeList, dt) {
			out = append(out, a)
		}
	}
	writeList(w, out, len(out))
}

func (s *Server) analyzerGet(w http.ResponseWriter, r *http.Request) {
	a, ok := s.cfg.Catalog.Find(r.PathValue("id"))
	if !ok || len(dataTypeList(a)) == 0 {
		writeError(w, http.StatusNotFound, "NotFoundError", "worker "+truncate(r.PathValue("id"), 64)+" not found")
		return
	}
	writeJSON(w, http.StatusOK, s.analyzerRecord(a))
}

// responders: this service runs none; TheHive asks for them by data type.
func (s *Server) responders(w http.ResponseWriter, r *http.Request) {
	writeList(w, []any{}, 0)
}

// writeList writes a page with its total in X-Total, as Cortex's renderer does.
func writeList[T any](w http.ResponseWriter, page []T, total int) {
	w.Header().Set("X-Total", fmt.Sprint(total))
	if page == nil {
		page = []T{}
	}
	writeJSON(w, http.StatusOK, page)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// errNotJSON answers a body that is not a JSON object.
var errNotJSON = errors.New("the body must be a JSON object")
