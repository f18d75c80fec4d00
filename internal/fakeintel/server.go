package fakeintel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

// Options configure a Server. The zero value answers at once and never
// fails on its own.
type Options struct {
	// Latency is added before every provider answer.
	Latency time.Duration
	// ProviderLatency replaces Latency for the named providers.
	ProviderLatency map[string]time.Duration
	// Jitter adds a uniformly random 0–Jitter on top of the latency.
	Jitter time.Duration
	// ErrorRate is the share (0–1) of provider requests answered with a
	// 503 Service Unavailable instead of the recorded answer, chosen at
	// random.
	ErrorRate float64
	// Seed seeds jitter and random errors, so a run can be repeated; 0 picks
	// a random seed.
	Seed int64
	// Now is the clock for recordings whose dates must look recent; nil
	// means time.Now.
	Now func() time.Time
	// Logger receives one debug line per provider request and an info line
	// per control change; nil discards.
	Logger *slog.Logger
}

// RecordedRequest is one request a provider prefix received.
type RecordedRequest struct {
	Method string     `json:"method"`
	Path   string     `json:"path"`            // escaped, relative to /<provider>, e.g. "/ip_addresses/1.2.3.4"
	Query  url.Values `json:"query,omitempty"` // a key in the query (shodan) reads "REDACTED"
	Body   string     `json:"body,omitempty"`  // form or JSON body as received
}

// Failure is a forced answer for every request to one provider.
type Failure struct {
	Status     int
	RetryAfter time.Duration // sent as Retry-After seconds when positive
}

// failureJSON is how a Failure reads in JSON: {"status":429,"retryAfter":"7s"}.
type failureJSON struct {
	Status     int    `json:"status"`
	RetryAfter string `json:"retryAfter"`
}

// MarshalJSON writes {"status":429,"retryAfter":"7s"}.
func (f Failure) MarshalJSON() ([]byte, error) {
	return json.Marshal(failureJSON{f.Status, f.RetryAfter.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Failure) UnmarshalJSON(b []byte) error {
	var j failureJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	d, err := time.ParseDuration(j.RetryAfter)
	if err != nil {
		return fmt.Errorf("fakeintel: retryAfter: %w", err)
	}
	*f = Failure{Status: j.Status, RetryAfter: d}
	return nil
}

// Server is the fake. Build it with New; it is safe for concurrent use.
type Server struct {
	files    map[string][]byte // "virustotal/ip_ok.json" → body; read-only after New
	loadErrs []error
	now      func() time.Time
	log      *slog.Logger
	fakes    map[string]*manifest // provider → its fake.json; read-only after New

	mu        sync.Mutex
	rng       *rand.Rand
	latency   time.Duration
	jitter    time.Duration
	errorRate float64
	perLat    map[string]time.Duration
	failures  map[string]Failure
	calls     map[string]int
	requests  map[string][]RecordedRequest
}

// New returns a Server for every registered provider, answering as each
// provider's manifest (<provider>/fake.json in fsys) says with the
// recordings beside it (os.DirFS("internal/provider/testdata")). New reads
// them at once; Validate reports what is missing or wrong.
func New(fsys fs.FS, o Options) *Server {
	s := &Server{
		files:     map[string][]byte{},
		now:       o.Now,
		log:       o.Logger,
		fakes:     map[string]*manifest{},
		latency:   o.Latency,
		jitter:    o.Jitter,
		errorRate: o.ErrorRate,
		perLat:    map[string]time.Duration{},
		failures:  map[string]Failure{},
		calls:     map[string]int{},
		requests:  map[string][]RecordedRequest{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	seed := uint64(o.Seed)
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for name, d := range o.ProviderLatency {
		s.perLat[name] = d
	}
	for _, name := range Providers() {
		b, err := fs.ReadFile(fsys, name+"/"+ManifestFile)
		if err != nil {
			s.loadErrs = append(s.loadErrs, fmt.Errorf("fakeintel: %s has no fake: %w", name, err))
			continue
		}
		m, err := parseManifest(b)
		if err != nil {
			s.loadErrs = append(s.loadErrs, fmt.Errorf("fakeintel: %s/%s: %w", name, ManifestFile, err))
		}
		if m == nil {
			continue
		}
		s.fakes[name] = m
		entries, err := fs.ReadDir(fsys, name)
		if err != nil {
			s.loadErrs = append(s.loadErrs, fmt.Errorf("fakeintel: %w", err))
			continue
		}
		for _, e := range entries {
			if e.IsDir() || path.Ext(e.Name()) != ".json" && !m.servesText() {
				continue
			}
			file := name + "/" + e.Name()
			b, err := fs.ReadFile(fsys, file)
			if err != nil {
				s.loadErrs = append(s.loadErrs, fmt.Errorf("fakeintel: %w", err))
				continue
			}
			s.files[file] = b
		}
	}
	return s
}

// Validate reports every recording the routes need that is missing or not
// valid JSON, so a wrong data directory fails at start rather than per
// request.
func (s *Server) Validate() error {
	errs := slices.Clone(s.loadErrs)
	var required []string
	for _, name := range slices.Sorted(maps.Keys(s.fakes)) {
		for _, f := range s.fakes[name].files() {
			required = append(required, name+"/"+f)
		}
	}
	for _, f := range required {
		b, ok := s.files[f]
		name, _, _ := strings.Cut(f, "/")
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("fakeintel: recording %s is missing", f))
		case !s.fakes[name].servesText() && !json.Valid(b):
			errs = append(errs, fmt.Errorf("fakeintel: recording %s is not valid JSON", f))
		}
	}
	return errors.Join(errs...)
}

// Providers lists the providers a Server serves, sorted: every registered
// provider (internal/provider) that speaks HTTP, each under /<name>.
func Providers() []string {
	var names []string
	for _, d := range provider.Descriptors() {
		if !d.NotHTTP {
			names = append(names, d.Name)
		}
	}
	return names
}

// SetFailure makes every request to provider that arrives until
// ClearFailure answer status (400–599), with Retry-After set when
// retryAfter is positive. A 429 or
// 401/403 carries the provider's recorded rate-limit or auth body where it
// has one. A status of 0 clears the failure.
func (s *Server) SetFailure(provider string, status int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.failures, provider)
		return
	}
	s.failures[provider] = Failure{Status: status, RetryAfter: retryAfter}
}

// ClearFailure ends a forced failure of provider.
func (s *Server) ClearFailure(provider string) { s.SetFailure(provider, 0, 0) }

// SetLatency sets provider's latency, replacing the default latency for it.
func (s *Server) SetLatency(provider string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perLat[provider] = max(d, 0)
}

// ClearLatency returns provider to the default latency.
func (s *Server) ClearLatency(provider string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.perLat, provider)
}

// SetDefaultLatency changes the latency of every provider without its own.
func (s *Server) SetDefaultLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = max(d, 0)
}

// Calls returns how many requests provider received since New or Reset.
func (s *Server) Calls(provider string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[provider]
}

// Requests returns the requests provider received since New or Reset, oldest
// first.
func (s *Server) Requests(provider string) []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests[provider])
}

// Reset zeroes the counters and forgets the recorded requests. Failures and
// latencies stay as they are.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
	clear(s.requests)
}

// maxBody bounds what a request body may hold.
const maxBody = 1 << 20

// ServeHTTP routes /<provider>/… to the provider and /_fakeintel/… to the
// controls.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if rest, ok := strings.CutPrefix(p, "/_fakeintel/"); ok {
		s.control(w, r, rest)
		return
	}
	if p == "/" || p == "" {
		s.index(w)
		return
	}
	name, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	m, ok := s.fakes[name]
	if !ok {
		writeReply(w, jsonReply(http.StatusNotFound, map[string]string{"error": "fakeintel: no provider " + strconv.Quote(name) + "; see GET /"}), 0)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeReply(w, jsonReply(http.StatusBadRequest, map[string]string{"error": "fakeintel: cannot read the body"}), 0)
		return
	}
	rest = "/" + rest
	failure := s.record(name, r, rest, body)

	start := time.Now()
	if !s.wait(r.Context(), name) {
		s.log.Debug("client gave up during injected latency", "provider", name)
		return
	}
	rep, retryAfter := s.answer(name, m, r, rest, body, failure)
	writeReply(w, rep, retryAfter)
	s.log.Debug("provider request", "provider", name, "method", r.Method, "path", rest,
		"status", rep.status, "latency_ms", time.Since(start).Milliseconds())
}

// answer picks the reply: the forced failure f when given, a random error,
// an auth refusal or the provider's answer.
func (s *Server) answer(name string, m *manifest, r *http.Request, rest string, body []byte, f *Failure) (reply, time.Duration) {
	s.mu.Lock()
	random := f == nil && s.errorRate > 0 && s.rng.Float64() < s.errorRate
	s.mu.Unlock()

	var rep reply
	var retryAfter time.Duration
	switch {
	case f != nil:
		rep, retryAfter = s.injected(name, m, f.Status), f.RetryAfter
	case random:
		rep = s.injected(name, m, http.StatusServiceUnavailable)
	case !m.Key.authorized(r):
		rep = s.render(name, m.Denied, nil)
	default:
		rep = s.route(name, m, &call{r: r, segs: segments(rest), body: body})
	}
	if rep.contentType == "" {
		rep.contentType = m.ContentType
	}
	return rep, retryAfter
}

// record counts the request and keeps its method, path, query and body,
// and returns the forced failure in force as it arrives: a request counted
// while a failure is set is answered with it, even when the failure is
// cleared during its latency (tests clear a failure once Calls shows the
// request that was to get it).
func (s *Server) record(name string, r *http.Request, rest string, body []byte) *Failure {
	q := r.URL.Query()
	if q.Has("key") {
		q["key"] = []string{"REDACTED"}
	}
	if q.Has("token") {
		q["token"] = []string{"REDACTED"}
	}
	if len(q) == 0 {
		q = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[name]++
	s.requests[name] = append(s.requests[name], RecordedRequest{Method: r.Method, Path: rest, Query: q, Body: string(body)})
	if f, ok := s.failures[name]; ok {
		return &f
	}
	return nil
}

// wait sleeps the provider's latency plus jitter. It returns false when the
// client went away first.
func (s *Server) wait(ctx context.Context, name string) bool {
	s.mu.Lock()
	d, ok := s.perLat[name]
	if !ok {
		d = s.latency
	}
	if s.jitter > 0 {
		d += time.Duration(s.rng.Int64N(int64(s.jitter) + 1))
	}
	s.mu.Unlock()
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// index lists the providers and controls.
func (s *Server) index(w http.ResponseWriter) {
	prefixes := map[string]string{}
	for _, name := range Providers() {
		prefixes[name] = "/" + name
	}
	writeReply(w, jsonReply(http.StatusOK, map[string]any{
		"providers": prefixes,
		"controls":  []string{"GET /_fakeintel/stats", "GET /_fakeintel/requests?provider=", "POST /_fakeintel/reset", "POST /_fakeintel/fail?provider=&status=&retry_after=", "POST /_fakeintel/latency?provider=&d="},
	}), 0)
}

// reply is an answer before it is written.
type reply struct {
	status      int
	body        []byte
	contentType string // "" means the service's, then application/json
}

// jsonReply encodes v without HTML escaping.
func jsonReply(status int, v any) reply {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return reply{status: http.StatusInternalServerError, body: []byte(`{"error":"fakeintel: cannot encode the answer"}`)}
	}
	return reply{status: status, body: bytes.TrimRight(b.Bytes(), "\n")}
}

// writeReply writes rep, with Retry-After in whole seconds when positive.
func writeReply(w http.ResponseWriter, rep reply, retryAfter time.Duration) {
	ct := rep.contentType
	if ct == "" {
		ct = "application/json"
	}
	h := w.Header()
	if len(rep.body) > 0 {
		h.Set("Content-Type", ct)
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// call is one provider request as a service sees it.
type call struct {
	r    *http.Request
	segs []string // unescaped path segments after the provider prefix, without a trailing empty one
	body []byte
}

// segments splits an escaped path into unescaped segments, so an escaped
// slash (OTX URLs) stays inside its segment. A trailing slash is dropped:
// "/host/" and "/host" are both ["host"], "/" is none.
func segments(escaped string) []string {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// form parses a form-urlencoded body; another content type reads as empty,
// as at the real services.
func (c *call) form() url.Values {
	ct := c.r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded") {
		return url.Values{}
	}
	v, err := url.ParseQuery(string(c.body))
	if err != nil {
		return url.Values{}
	}
	return v
}

// injected is the answer to a forced or random failure: the manifest's
// answer for the status (a recorded rate-limit or auth body where the
// provider has one), else a short JSON message.
func (s *Server) injected(name string, m *manifest, status int) reply {
	msg := "fakeintel: injected HTTP " + http.StatusText(status)
	for _, key := range []string{strconv.Itoa(status), strconv.Itoa(status/100) + "xx", "default"} {
		a := m.Errors[key]
		switch {
		case a == nil:
			continue
		case a.File != "":
			if _, ok := s.files[name+"/"+a.File]; !ok {
				continue
			}
			rep := s.render(name, a, nil)
			rep.status = status
			return rep
		}
		body := bytes.ReplaceAll(a.Body, []byte(`"{status:int}"`), []byte(strconv.Itoa(status)))
		body = bytes.ReplaceAll(body, []byte("{message}"), []byte(jsonEscape(msg)))
		return reply{status: status, body: body}
	}
	return jsonReply(status, map[string]string{"message": msg})
}

func methodNotAllowed(allow string) reply {
	return jsonReply(http.StatusMethodNotAllowed, map[string]string{"message": "fakeintel: use " + allow})
}
