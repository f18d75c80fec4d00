package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// /readyz: a failed check of a dependency the service works without
// (Degrades, e.g. Redis) answers 200 "degraded", so an orchestrator keeps
// the replicas in service; a failed required check (the database) 503.
func TestReadyzDegraded(t *testing.T) {
	t.Parallel()
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errors.New("dial tcp: connection refused") }
	tests := []struct {
		name   string
		checks []Checker
		code   int
		want   map[string]any
	}{
		{"all ok", []Checker{{Name: "database", Check: ok}, {Name: "redis", Check: ok, Degrades: true}}, 200,
			map[string]any{"status": "ok", "checks": map[string]any{"database": "ok", "redis": "ok"}}},
		{"redis down", []Checker{{Name: "database", Check: ok}, {Name: "redis", Check: fail, Degrades: true}}, 200,
			map[string]any{"status": "degraded", "checks": map[string]any{"database": "ok", "redis": "degraded"}}},
		{"database down", []Checker{{Name: "database", Check: fail}, {Name: "redis", Check: fail, Degrades: true}}, 503,
			map[string]any{"status": "unavailable", "checks": map[string]any{"database": "unavailable", "redis": "degraded"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			readyz(tt.checks, slog.New(slog.DiscardHandler)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tt.code {
				t.Errorf("status = %d, want %d", rec.Code, tt.code)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
}
