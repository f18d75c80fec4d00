package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/inspector-gadget/gadget/internal/clientinfo"
)

func newHandler(log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	noop := func(h http.Handler) http.Handler { return h }
	return New(Config{
		Logger: log, Registry: reg, Resolver: clientinfo.NewResolver(nil), Auth: noop,
		Authenticate: http.NotFoundHandler(), GraphQL: http.NotFoundHandler(),
		Extra: map[string]http.Handler{"GET /boom": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusInternalServerError)
		})},
	}, NewMetrics(reg))
}

// TestAccessLogLevels: a request that went well is logged at debug only, a
// server error at warn; the counters count both.
func TestAccessLogLevels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		level      slog.Level
		path       string
		wantLogged bool
	}{
		{slog.LevelInfo, "/healthz", false},
		{slog.LevelDebug, "/healthz", true},
		{slog.LevelInfo, "/boom", true},
		{slog.LevelError, "/boom", false},
	} {
		var buf bytes.Buffer
		h := newHandler(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.level})))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		logged := strings.Contains(buf.String(), `"msg":"http request"`) && strings.Contains(buf.String(), `"path":"`+tc.path+`"`)
		if logged != tc.wantLogged {
			t.Errorf("%s at log level %s (status %d): logged %t, want %t: %s", tc.path, tc.level, rec.Code, logged, tc.wantLogged, buf.String())
		}
	}
}

// BenchmarkAccessLog serves /healthz through the whole middleware chain
// with the log written as JSON to a file (as to stderr): "every request"
// logs each one, as the access log did at info level before; "default" is
// the info level now, where a request that went well is not logged.
func BenchmarkAccessLog(b *testing.B) {
	for _, bc := range []struct {
		name  string
		level slog.Level
	}{{"every request", slog.LevelDebug}, {"default", slog.LevelInfo}} {
		b.Run(bc.name, func(b *testing.B) {
			f, err := os.Create(b.TempDir() + "/log")
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			h := newHandler(slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: bc.level})))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
				}
			})
		})
	}
}
