// Package server is the http.Handler of Inspector Gadget: routes,
// middleware, health, metrics, and the mounting of GraphQL, GraphiQL and
// REST.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// Checker is a readiness check (the database, Redis).
type Checker struct {
	Name  string
	Check func(ctx context.Context) error
	// Degrades marks a dependency the service works without, worse: its
	// failure makes /readyz answer 200 with status "degraded" (the check
	// "degraded") instead of 503, so that an orchestrator keeps every
	// replica in service through, say, a Redis outage.
	Degrades bool
}

// Config wires the handler.
type Config struct {
	Logger       *slog.Logger
	Registry     *prometheus.Registry // metrics are registered here and served at /metrics
	Resolver     *clientinfo.Resolver
	Authenticate http.Handler                    // POST /api/authenticate
	Auth         func(http.Handler) http.Handler // bearer-token middleware
	GraphQL      http.Handler                    // /graphql
	Playground   http.Handler                    // GET / and its assets under /graphiql/
	Extra        map[string]http.Handler         // further routes (pattern → handler)
	Ready        []Checker
	MaxBodyBytes int64 // request body cap for every route, checked before any parsing (default 1 MiB)
	// CallsPerRequest bounds the upstream calls one request may start, over
	// all its aliases and batches (default lookup.DefaultCallsPerRequest;
	// negative: no bound).
	CallsPerRequest int
}

// Metrics are the HTTP metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
	logins   *prometheus.CounterVec
}

// NewMetrics registers the HTTP and login metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gadget_http_requests_total", Help: "HTTP requests by route, method and status code."}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gadget_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gadget_http_requests_in_flight", Help: "HTTP requests being served."}),
		logins:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gadget_logins_total", Help: "Sign-in attempts by outcome (ok, denied, throttled)."}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.latency, m.inflight, m.logins)
	return m
}

// Login counts a sign-in attempt by outcome.
func (m *Metrics) Login(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// New returns the handler.
func New(c Config, m *Metrics) http.Handler {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.CallsPerRequest == 0 {
		c.CallsPerRequest = lookup.DefaultCallsPerRequest
	}
	mux := http.NewServeMux()
	route := func(pattern, name string, h http.Handler) {
		mux.Handle(pattern, m.instrument(name, h))
	}
	route("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	route("GET /readyz", "readyz", readyz(c.Ready, c.Logger))
	route("GET /metrics", "metrics", promhttp.HandlerFor(c.Registry, promhttp.HandlerOpts{}))
	route("/api/authenticate", "authenticate", c.Authenticate)
	route("/graphql", "graphql", c.Auth(c.GraphQL))
	if c.Playground != nil {
		route("GET /{$}", "graphiql", c.Playground)
		route("GET /graphiql/", "graphiql", c.Playground)
	}
	for pattern, h := range c.Extra {
		route(pattern, routeName(pattern), h)
	}
	return maxBody(c.MaxBodyBytes, c.Resolver.Middleware(requestID(callBudget(c.CallsPerRequest, securityHeaders(accessLog(c.Logger, mux))))))
}

// callBudget gives each request its budget of upstream calls.
func callBudget(n int, h http.Handler) http.Handler {
	if n <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(lookup.WithCallBudget(r.Context(), n)))
	})
}

func (m *Metrics) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inflight.Inc()
		defer m.inflight.Dec()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
		m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxBody caps every request body before anything reads it: a declared
// length over n is refused at once with 413, and a body that turns out
// longer (chunked) fails its reader there. A multipart form parsed on this
// request is removed afterwards (handlers parse copies of it too: those
// stay under n, below the 32 MiB net/http keeps in memory, so nothing is
// spooled to disk).
func maxBody(n int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			msg := "request body too large: at most " + strconv.FormatInt(n, 10) + " bytes"
			if strings.HasPrefix(r.URL.Path, "/graphql") {
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"errors": []map[string]any{{"message": msg, "extensions": map[string]string{"code": "BAD_REQUEST"}}}})
			} else {
				writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"detail": msg, "code": "BAD_REQUEST", "field": "body"})
			}
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		h.ServeHTTP(w, r)
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
	})
}

func readyz(checks []Checker, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		results := make(map[string]string, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		ok, degraded := true, false
		for _, c := range checks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status := "ok"
				if err := c.Check(ctx); err != nil {
					log.WarnContext(ctx, "readiness check failed", "check", c.Name, "err", err)
					status = "unavailable"
					if c.Degrades {
						status = "degraded"
					}
				}
				mu.Lock()
				defer mu.Unlock()
				results[c.Name] = status
				ok = ok && status != "unavailable"
				degraded = degraded || status == "degraded"
			}()
		}
		wg.Wait()
		code := http.StatusOK
		overall := "ok"
		switch {
		case !ok:
			code, overall = http.StatusServiceUnavailable, "unavailable"
		case degraded:
			overall = "degraded"
		}
		writeJSON(w, code, map[string]any{"status": overall, "checks": results})
	})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// requestID tags each request with a process-unique id: a random prefix
// chosen at start and a counter (no system call per request).
func requestID(h http.Handler) http.Handler {
	var b [6]byte
	rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "-"
	var n atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := prefix + strconv.FormatUint(n.Add(1), 36)
		w.Header().Set("X-Request-Id", id)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// SlowRequest is the duration past which a request is logged at info level.
const SlowRequest = time.Second

// accessLog logs each request: at debug level when it went well, at info
// when it was slow, at warn when it failed on our side (5xx). Logging every
// request at info cost as much as serving a cached lookup (a JSON record and
// a write to stderr each); the counts by route, method and status are in
// gadget_http_requests_total, and the per-user record of every API call is
// the usage log.
func accessLog(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if !log.Enabled(ctx, slog.LevelDebug) && !log.Enabled(ctx, slog.LevelWarn) {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		took := time.Since(start)
		level := slog.LevelDebug
		switch {
		case sw.status >= 500:
			level = slog.LevelWarn
		case took >= SlowRequest:
			level = slog.LevelInfo
		}
		if !log.Enabled(ctx, level) {
			return
		}
		id, _ := ctx.Value(requestIDKey{}).(string)
		log.LogAttrs(ctx, level, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.Duration("duration", took), slog.String("client_ip", clientinfo.From(ctx).IP),
			slog.String("request_id", id))
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// routeName is the metrics label of an extra route: its path up to the
// first wildcard, without the method (bounded cardinality).
func routeName(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	if i := strings.IndexByte(pattern, '{'); i >= 0 {
		pattern = pattern[:i]
	}
	return pattern
}
