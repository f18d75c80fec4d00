package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rest sends a REST request with a bearer token and decodes the JSON answer
// into out (when not nil); it returns the response and its body.
func (in *instance) rest(token, method, path, body string, out any) (*http.Response, string) {
	in.t.Helper()
	req, _ := http.NewRequest(method, in.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			in.t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, raw)
		}
	}
	return res, string(raw)
}

type restLog struct {
	Username   string `json:"username"`
	Page       string `json:"page"`
	Endpoint   string `json:"endpoint"`
	Parameters string `json:"parameters"`
	Status     string `json:"status"`
	DataSize   int64  `json:"data_size"`
	Cached     bool   `json:"cached"`
}

// TestRESTEndToEnd runs the REST layer in the real server on both storage
// configurations: the two-step task form, lookups by value accounted
// exactly as GraphQL's, and the OpenAPI document and its page.
func TestRESTEndToEnd(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			env["GADGET_LOOKUP_DEADLINE"] = "3s"
			withFake(t, env)
			in := start(t, env)
			root := in.token("root", rootPW, "")
			if res, _ := in.rest(root, "POST", "/api/admin/user", `{"username":"sam","password":"sam-password-123"}`, nil); res.StatusCode != 200 {
				t.Fatalf("create sam: %d", res.StatusCode)
			}
			sam := in.token("sam", "sam-password-123", "")

			// two-step: POST, then poll until SUCCESS
			var sub struct {
				TaskID     string `json:"task_id"`
				TaskStatus string `json:"task_status"`
			}
			if res, _ := in.rest(sam, "POST", "/api/indicator/ipv4", `{"indicator":"203.0.113.44"}`, &sub); res.StatusCode != 200 || sub.TaskID == "" {
				t.Fatalf("submit: %d %+v", res.StatusCode, sub)
			}
			var env2 struct {
				Indicator string `json:"indicator"`
				Value     string `json:"value"`
				Count     int    `json:"count"`
				Status    string `json:"status"`
				TaskID    string `json:"task_id"`
				Results   []struct {
					Source string `json:"source"`
					Status string `json:"status"`
				} `json:"results"`
				Verdict struct {
					Level string `json:"level"`
				} `json:"verdict"`
			}
			deadline := time.Now().Add(10 * time.Second)
			for env2.Status != "SUCCESS" && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				in.rest(sam, "GET", "/api/indicator/ipv4/"+sub.TaskID, "", &env2)
			}
			if env2.Status != "SUCCESS" || env2.TaskID != sub.TaskID || env2.Indicator != "ipv4" || env2.Count == 0 || env2.Count != len(env2.Results) || env2.Verdict.Level != "MALICIOUS" {
				t.Fatalf("polled task: %+v", env2)
			}
			if res, _ := in.rest(root, "GET", "/api/indicator/ipv4/"+sub.TaskID, "", nil); res.StatusCode != 404 {
				t.Errorf("another user's task: %d, want 404", res.StatusCode)
			}

			// a REST lookup is accounted as the same GraphQL lookup: one
			// audit row for the request, with the answers' bytes
			in.rest(sam, "GET", "/api/indicator/ipv4/198.51.100.61?providers=abuseipdb,internetdb", "", nil)
			field[map[string]any](t, in.gql(sam, `{ indicator(value: "198.51.100.62") { results(providers: ["abuseipdb", "internetdb"]) { status } } }`, nil), "indicator")
			// the usage writer batches: wait until both lookups' rows are in
			var byEndpoint map[string][]restLog
			for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
				var logs []restLog
				if res, _ := in.rest(root, "GET", "/api/admin/log/sam?limit=100", "", &logs); res.StatusCode != 200 {
					t.Fatalf("logs: %d", res.StatusCode)
				}
				byEndpoint = map[string][]restLog{}
				for _, l := range logs {
					byEndpoint[l.Endpoint] = append(byEndpoint[l.Endpoint], l)
				}
				if len(byEndpoint["GET /api/indicator/ipv4/{ipv4}"]) > 0 && len(byEndpoint["POST /graphql indicator"]) > 0 {
					break
				}
			}
			restRows, gqlRows := byEndpoint["GET /api/indicator/ipv4/{ipv4}"], byEndpoint["POST /graphql indicator"]
			if len(restRows) != 1 || len(gqlRows) != 1 {
				t.Fatalf("audit rows: REST %v, GraphQL %v; want one each", restRows, gqlRows)
			}
			r, g := restRows[0], gqlRows[0]
			if r.Page != "indicator" || r.Page != g.Page || r.Status != g.Status || r.DataSize != g.DataSize || r.DataSize == 0 ||
				!strings.Contains(r.Parameters, "198.51.100.61") || !strings.Contains(g.Parameters, "198.51.100.62") {
				t.Errorf("REST row %+v, GraphQL row %+v", r, g)
			}
			if len(byEndpoint["POST /api/indicator/ipv4"]) == 0 {
				t.Errorf("the task's lookups are not accounted: %v", byEndpoint)
			}

			// reports as CSV
			res, body := in.rest(sam, "GET", "/api/me/usage?format=csv", "", nil)
			if res.StatusCode != 200 || !strings.HasPrefix(body, "username,page,api_calls,data_total\n") || !strings.Contains(body, "sam,abuseipdb,") {
				t.Errorf("usage CSV: %d %q", res.StatusCode, body)
			}

			// the document and its page
			var doc struct {
				OpenAPI string         `json:"openapi"`
				Paths   map[string]any `json:"paths"`
			}
			if res, _ := in.rest("", "GET", "/openapi.json", "", &doc); res.StatusCode != 200 || !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/api/indicator/ipv4/{ipv4}"] == nil {
				t.Errorf("openapi.json: %d %s", res.StatusCode, doc.OpenAPI)
			}
			res, body = get(t, in.base+"/docs")
			if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") || strings.Contains(body, "https://") {
				t.Errorf("docs: %d %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
			}
			if res, _ := get(t, in.base+"/docs/assets/swagger-ui-bundle.js"); res.StatusCode != 200 {
				t.Errorf("docs asset: %d", res.StatusCode)
			}
			if strings.Contains(in.stderr.String(), "sam-password-123") {
				t.Error("a password appears in the logs")
			}
		})
	}
}
