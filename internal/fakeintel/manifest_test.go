package fakeintel

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newProviderManifest is the fake of a provider the server has no code for:
// a keyed GET API with listed, ordinary and not-found answers, a recorded
// body and an inline one.
const newProviderManifest = `{
 "source": "test",
 "key": {"header": "X-Key"},
 "denied": {"status": 401, "body": {"error": "no key"}},
 "errors": {"429": {"status": 0, "body": {"error": "slow down", "status": "{status:int}"}}},
 "noRoute": {"status": 404, "body": {"error": "no such endpoint"}},
 "routes": [{"method": "GET", "path": "/v1/ip/{value}", "kinds": ["ipv4"],
   "invalid": {"status": 400, "body": {"error": "\"{raw}\" is no address"}},
   "answers": [
    {"class": "malicious", "status": 200, "file": "listed.json", "subs": [{"tok": "203.0.113.1", "to": "{value}"}, {"tok": "203.0.113.0/24", "to": "{net/24}"}]},
    {"class": "notfound", "status": 404, "body": {"error": "{value} not found"}},
    {"status": 200, "body": {"ip": "{value}", "listed": false}}
   ]}]
}`

func TestManifestServesANewProvider(t *testing.T) {
	t.Parallel()
	m, err := parseManifest([]byte(newProviderManifest))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		files: map[string][]byte{"zznew/listed.json": []byte(`{"ip":"203.0.113.1","net":"203.0.113.0/24","listed":true}`)},
		now:   time.Now, failures: map[string]Failure{},
	}
	tests := []struct {
		name, path string
		key        bool
		status     int
		body       string
	}{
		{"listed", "/v1/ip/203.0.113.77", true, 200, `{"ip":"203.0.113.77","net":"203.0.113.0/24","listed":true}`},
		{"ordinary", "/v1/ip/8.8.8.8", true, 200, `{"ip":"8.8.8.8","listed":false}`},
		{"not found", "/v1/ip/192.0.2.5", true, 404, `{"error":"192.0.2.5 not found"}`},
		{"invalid", "/v1/ip/nope", true, 400, `{"error":"\"nope\" is no address"}`},
		{"unknown path", "/v2/ip/8.8.8.8", true, 404, `{"error":"no such endpoint"}`},
		{"no key", "/v1/ip/8.8.8.8", false, 401, `{"error":"no key"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "http://fake/zznew"+tt.path, nil)
			if tt.key {
				r.Header.Set("X-Key", "k")
			}
			rep, _ := s.answer("zznew", m, r, tt.path, nil, nil)
			if rep.status != tt.status || strings.TrimSpace(string(rep.body)) != tt.body {
				t.Errorf("GET %s = %d %s, want %d %s", tt.path, rep.status, rep.body, tt.status, tt.body)
			}
		})
	}
	if got := s.injected("zznew", m, http.StatusTooManyRequests); got.status != 429 || string(got.body) != `{"error":"slow down","status":429}` {
		t.Errorf("injected 429 = %d %s", got.status, got.body)
	}
	if diff := cmp.Diff([]string{"listed.json"}, m.files()); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}
