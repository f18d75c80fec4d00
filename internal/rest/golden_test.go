package rest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/inspector-gadget/gadget/internal/rest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the answers")

// volatile keys are replaced by a placeholder: times, durations, ids and
// byte counts that depend on them.
var volatile = map[string]bool{
	"time": true, "uptime": true, "start_time": true, "created_date": true, "last_login_at": true,
	"query_date": true, "fetched_at": true, "latency_ms": true, "expires_at": true, "id": true,
	"task_id": true, "data_size": true, "data_total": true, "access_token": true,
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	dateRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	// a CSV report's last column, data_total
	csvBytesRE = regexp.MustCompile(`(?m),\d+$`)
	csvTimeRE  = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z`)
)

func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if volatile[k] && val != nil {
				x[k] = "<" + k + ">"
			} else {
				x[k] = normalise(val)
			}
		}
		// the sightings summary's times (provider data has keys of the
		// same names, which stay as they are)
		if s, ok := x["sightings"].(map[string]any); ok {
			for _, k := range []string{"first_seen", "last_seen"} {
				if s[k] != nil {
					s[k] = "<" + k + ">"
				}
			}
		}
	case []any:
		for i := range x {
			x[i] = normalise(x[i])
		}
	case string:
		return dateRE.ReplaceAllString(uuidRE.ReplaceAllString(x, "<uuid>"), "<date>")
	}
	return v
}

// goldenDoc is the document every golden answer is checked against.
func goldenDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := docOnce()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

var docOnce = sync.OnceValues(rest.Document)

// shownHeaders are the response headers a golden file records.
var shownHeaders = []string{"Content-Type", "WWW-Authenticate", "Retry-After", "Allow", "X-Total-Count", "Content-Disposition"}

// golden renders an answer (status, chosen headers, normalised body) and
// compares it with testdata/golden/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, a answer) {
	t.Helper()
	documented(t, goldenDoc(t), a)
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d\n", a.status)
	for _, h := range shownHeaders {
		v := a.header.Get(h)
		switch {
		case v == "":
			continue
		case h == "Retry-After":
			v = "<seconds>"
		}
		fmt.Fprintf(&b, "%s: %s\n", h, dateRE.ReplaceAllString(v, "<date>"))
	}
	b.WriteString("\n")
	var v any
	if err := json.Unmarshal(a.body, &v); err == nil {
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		enc.Encode(normalise(v))
	} else {
		body := csvTimeRE.ReplaceAll(a.body, []byte("<time>"))
		b.Write(csvBytesRE.ReplaceAll(body, []byte(",<data_total>")))
	}
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run go test ./internal/rest -run Golden -update)", name, err)
	}
	if !bytes.Equal(want, []byte(b.String())) {
		t.Errorf("%s: answer differs from %s:\n--- got\n%s\n--- want\n%s", name, path, b.String(), want)
	}
}

const jsonCT, formCT = "application/json", "application/x-www-form-urlencoded"

// TestGolden calls every route's success and error cases in order (later
// cases see what earlier ones did) and compares each answer with its
// golden file.
func TestGolden(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("carol", "carol-password-1", false)
	h.user("dave", "dave-password-1", false)
	h.user("ed", "ed-password-001", false)
	root := h.token("root", "")
	carol := h.token("carol", "")
	carolUsers := h.token("carol", "users")
	carolTasks := h.token("carol", "tasks")
	dave := h.token("dave", "")
	ed := h.token("ed", "")

	type step struct {
		name, token, method, path, ctype, body string
	}
	steps := []step{
		// public
		{"status", "", "GET", "/api/status", "", ""},
		{"status_signed_in", carol, "GET", "/api/status", "", ""},
		{"status_bad_token", "not-a-token", "GET", "/api/status", "", ""},
		{"uptime", "", "GET", "/api/uptime", "", ""},
		// account
		{"verify", carol, "GET", "/api/verify", "", ""},
		{"verify_no_token", "", "GET", "/api/verify", "", ""},
		{"me", carol, "GET", "/api/me", "", ""},
		{"me_bad_token", "not-a-token", "GET", "/api/me", "", ""},
		{"me_tasks_scope_only", carolTasks, "GET", "/api/me", "", ""},
		{"me_password_wrong_current", dave, "PATCH", "/api/me/password", jsonCT, `{"current":"nope-nope-nope","new":"dave-password-2"}`},
		{"me_password_missing_new", dave, "PATCH", "/api/me/password", jsonCT, `{"current":"dave-password-1"}`},
		{"me_password", dave, "PATCH", "/api/me/password", jsonCT, `{"current":"dave-password-1","new":"dave-password-2"}`},
		{"me_password_old_token", dave, "GET", "/api/me", "", ""},
		{"me_password_query", ed, "PATCH", "/api/me/password?current=ed-password-001&password=ed-password-002", "", ""},
		// indicators by value
		{"ipv4", carol, "GET", "/api/indicator/ipv4/203.0.113.7?providers=abuseipdb,virustotal,internetdb", "", ""},
		{"", "", "", "", "", ""}, // the first lookup's sighting is written: the next ones show it
		{"ipv4_cached", carol, "GET", "/api/indicator/ipv4/203.0.113.7?providers=abuseipdb,%20ABUSEIPDB", "", ""}, // one source, folded
		{"", "", "", "", "", ""},
		{"ipv4_cached_only", carol, "GET", "/api/indicator/ipv4/203.0.113.7?providers=abuseipdb,virustotal,shodan&cached_only=true", "", ""}, // shodan not cached: PENDING, no call
		{"ipv4_csv", carol, "GET", "/api/indicator/ipv4/203.0.113.7?providers=abuseipdb,virustotal&cached_only=true&format=csv", "", ""},
		{"ipv4_bad_format", carol, "GET", "/api/indicator/ipv4/203.0.113.7?format=xml", "", ""},
		{"ipv4_not_found", carol, "GET", "/api/indicator/ipv4/192.0.2.9?providers=abuseipdb,shodan", "", ""},
		{"ipv4_private", carol, "GET", "/api/indicator/ipv4/10.1.2.3?providers=abuseipdb", "", ""},
		{"ipv4_unknown_provider", carol, "GET", "/api/indicator/ipv4/198.51.100.7?providers=nope", "", ""},
		{"ipv4_invalid", carol, "GET", "/api/indicator/ipv4/300.1.2.3", "", ""},
		{"ipv4_users_scope_only", carolUsers, "GET", "/api/indicator/ipv4/198.51.100.7", "", ""},
		{"ipv4_no_token", "", "GET", "/api/indicator/ipv4/198.51.100.7", "", ""},
		{"ipv4_unknown_param", carol, "GET", "/api/indicator/ipv4/198.51.100.7?provider=abuseipdb", "", ""},
		{"ipv6_invalid", carol, "GET", "/api/indicator/ipv6/1.2.3.4", "", ""},
		{"domain_invalid", carol, "GET", "/api/indicator/domain/not_a_domain!", "", ""},
		{"url_invalid", carol, "GET", "/api/indicator/url/not%20a%20url", "", ""},
		{"sha256_invalid", carol, "GET", "/api/indicator/sha256/abc", "", ""},
		{"providers_too_many", carol, "GET", "/api/indicator/ipv4/198.51.100.7?providers=" + manyProviders(33), "", ""},
		{"ipv6", carol, "GET", "/api/indicator/ipv6/2001:db8::1?providers=abuseipdb", "", ""},
		{"domain", carol, "GET", "/api/indicator/domain/evil[.]example?providers=urlhaus,virustotal", "", ""},
		{"url", carol, "GET", "/api/indicator/url/hxxp%3A%2F%2Fevil.example%2Fpayload?providers=urlhaus", "", ""},
		{"hash_md5", carol, "GET", "/api/indicator/hash/44d88612fea8a8f36de82e1278abb02f?providers=malwarebazaar", "", ""},
		{"hash_invalid", carol, "GET", "/api/indicator/hash/evil.example", "", ""},
		{"sha256", carol, "GET", "/api/indicator/sha256/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f?providers=malwarebazaar", "", ""},
		// two-step tasks (polled below)
		{"submit_missing_indicator", carol, "POST", "/api/indicator/ipv4", jsonCT, `{}`},
		{"submit_invalid", carol, "POST", "/api/indicator/sha256", jsonCT, `{"indicator":"abc"}`},
		{"submit_bad_json", carol, "POST", "/api/indicator/ipv4", jsonCT, `{"indicator":`},
		{"submit_wrong_type", carol, "POST", "/api/indicator/ipv4", jsonCT, `{"indicator":42}`},
		{"submit_bad_content_type", carol, "POST", "/api/indicator/ipv4", "text/plain", `1.2.3.4`},
		{"poll_unknown", carol, "GET", "/api/indicator/ipv4/6f1c2d0e-8a51-4c1e-9f0b-2b7d9a1e4c33", "", ""},
		// administration
		{"create_user", root, "POST", "/api/admin/user", jsonCT, `{"username":"erin","password":"erin-password-1","account_active":true}`},
		{"create_user_form", root, "POST", "/api/admin/user", formCT, "username=frank&password=frank-password-1&account_admin=false"},
		{"create_user_duplicate", root, "POST", "/api/admin/user", jsonCT, `{"username":"erin","password":"erin-password-2"}`},
		{"create_user_bad_name", root, "POST", "/api/admin/user", jsonCT, `{"username":"no spaces","password":"erin-password-2"}`},
		{"create_user_weak_password", root, "POST", "/api/admin/user", jsonCT, `{"username":"gina","password":"short"}`},
		{"create_user_bad_bool", root, "POST", "/api/admin/user", jsonCT, `{"username":"gina","password":"gina-password-1","account_active":"maybe"}`},
		{"create_user_not_admin", carol, "POST", "/api/admin/user", jsonCT, `{"username":"gina","password":"gina-password-1"}`},
		{"create_user_too_large", root, "POST", "/api/admin/user", jsonCT, `{"username":"gina","password":"` + strings.Repeat("x", 70000) + `"}`},
		{"user_password", root, "PATCH", "/api/admin/user/password", jsonCT, `{"username":"erin","password":"erin-password-9"}`},
		{"user_password_unknown", root, "PATCH", "/api/admin/user/password", jsonCT, `{"username":"nobody","password":"whatever-password"}`},
		{"user_status", root, "PATCH", "/api/admin/user/status", jsonCT, `{"username":"frank","account_active":false}`},
		{"user_status_missing", root, "PATCH", "/api/admin/user/status", jsonCT, `{"username":"frank"}`},
		{"user_status_self", root, "PATCH", "/api/admin/user/status", formCT, "username=root&account_active=false"},
		{"users", root, "GET", "/api/admin/users?limit=2&offset=1", "", ""},
		{"users_limit_too_big", root, "GET", "/api/admin/users?limit=101", "", ""},
		{"users_bad_offset", root, "GET", "/api/admin/users?offset=-1", "", ""},
		{"user", root, "GET", "/api/admin/user/carol", "", ""},
		{"user_unknown", root, "GET", "/api/admin/user/nobody", "", ""},
		{"method_not_allowed", root, "DELETE", "/api/admin/user/carol", "", ""},
		{"no_such_path", root, "GET", "/api/nothing/here", "", ""},
		// usage, once the usage writer has caught up
		{"", "", "", "", "", ""},
		{"my_usage", carol, "GET", "/api/me/usage", "", ""},
		{"my_usage_bad_limit", carol, "GET", "/api/me/usage?limit=0", "", ""},
		{"logs_bad_limit", root, "GET", "/api/admin/logs?limit=abc", "", ""},
		{"reports_bad_date", root, "GET", "/api/admin/reports?start_date=2026-13-01", "", ""},
		{"reports_reversed", root, "GET", "/api/admin/reports?start_date=2026-03-02&end_date=2026-03-01", "", ""},
		{"reports_bad_format", root, "GET", "/api/admin/reports?format=xml", "", ""},
		{"reports_empty_range", root, "GET", "/api/admin/reports?start_date=2020-01-01&end_date=2020-01-31", "", ""},
	}
	run := func(s step) {
		t.Helper()
		if s.name == "" { // let the usage writer (5 ms batches) catch up
			time.Sleep(250 * time.Millisecond)
			return
		}
		start := time.Now()
		golden(t, s.name, h.do(s.token, s.method, s.path, s.ctype, s.body))
		if d := time.Since(start); d > 300*time.Millisecond {
			t.Logf("%s took %s", s.name, d)
		}
	}
	for _, s := range steps {
		run(s)
	}

	// two-step: submit, then poll until done
	sub := h.do(carol, "POST", "/api/indicator/ipv4", jsonCT, `{"indicator":"203.0.113.9","providers":"abuseipdb,greynoise"}`)
	golden(t, "submit", sub)
	var task struct {
		TaskID string `json:"task_id"`
	}
	json.Unmarshal(sub.body, &task)
	var polled answer
	for range 1000 { // up to 10 s
		polled = h.do(carol, "GET", "/api/indicator/ipv4/"+task.TaskID, "", "")
		if bytes.Contains(polled.body, []byte(`"SUCCESS"`)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	golden(t, "poll", polled)
	golden(t, "poll_other_user", h.do(root, "GET", "/api/indicator/ipv4/"+task.TaskID, "", ""))
	golden(t, "poll_other_kind", h.do(carol, "GET", "/api/indicator/sha256/"+task.TaskID, "", ""))
	form := h.do(carol, "POST", "/api/indicator/url", formCT, "indicator=hxxp%3A%2F%2Fevil%5B.%5Dexample%2Fx&providers=urlhaus")
	golden(t, "submit_form", form)
	json.Unmarshal(form.body, &task)
	for range 1000 { // up to 10 s
		if polled = h.do(carol, "GET", "/api/indicator/url/"+task.TaskID, "", ""); bytes.Contains(polled.body, []byte(`"SUCCESS"`)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	golden(t, "poll_form", polled)

	// logs and reports once the usage writer has written everything
	for _, s := range []step{
		{"", "", "", "", "", ""},
		{"users_one", root, "GET", "/api/admin/users?limit=1", "", ""},
		{"", "", "", "", "", ""},
		{"logs", root, "GET", "/api/admin/logs?limit=2", "", ""},
		{"log_user", root, "GET", "/api/admin/log/dave?limit=5", "", ""},
		{"report_user", root, "GET", "/api/admin/report/carol", "", ""},
		{"", "", "", "", "", ""},
		{"reports", root, "GET", "/api/admin/reports?limit=5&offset=2", "", ""},
		{"reports_csv", root, "GET", "/api/admin/report/carol?format=csv&end_date=" + time.Now().UTC().Format(time.DateOnly), "", ""},
	} {
		run(s)
	}

	// the other paths' errors, and submitting every kind (after the
	// reports, which these tasks' usage rows would change)
	for _, s := range []step{
		{"log_user_bad_offset", root, "GET", "/api/admin/log/dave?offset=x", "", ""},
		{"report_user_bad_date", root, "GET", "/api/admin/report/carol?end_date=yesterday", "", ""},
		{"submit_ipv6", carol, "POST", "/api/indicator/ipv6", jsonCT, `{"indicator":"2001:db8::9","providers":"abuseipdb"}`},
		{"submit_ipv6_invalid", carol, "POST", "/api/indicator/ipv6", jsonCT, `{"indicator":"2001:db8::zz"}`},
		{"submit_domain", carol, "POST", "/api/indicator/domain", jsonCT, `{"indicator":"evil[.]example","providers":"urlhaus"}`},
		{"submit_domain_invalid", carol, "POST", "/api/indicator/domain", formCT, "indicator=localhost"},
		{"submit_url_invalid", carol, "POST", "/api/indicator/url", formCT, "indicator=not+a+url"},
		{"submit_hash", carol, "POST", "/api/indicator/hash", jsonCT, `{"indicator":"44d88612fea8a8f36de82e1278abb02f","providers":"malwarebazaar"}`},
		{"submit_hash_invalid", carol, "POST", "/api/indicator/hash", jsonCT, `{"indicator":"evil.example"}`},
		{"submit_sha256", carol, "POST", "/api/indicator/sha256", jsonCT, `{"indicator":"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f","providers":"malwarebazaar"}`},
		{"submit_users_scope_only", carolUsers, "POST", "/api/indicator/ipv4", jsonCT, `{"indicator":"198.51.100.7"}`},
		// ThreatMiner answers one entry per report type, in the original's
		// source names (ThreatMiner_PassiveDNS, …), beside a one-entry
		// provider; after the tasks above have finished, so that the values'
		// sightings are counted
		{"", "", "", "", "", ""},
		{"threatminer_ipv4", carol, "GET", "/api/indicator/ipv4/203.0.113.7?providers=abuseipdb,threatminer&tlp=GREEN", "", ""},
		{"threatminer_domain", carol, "GET", "/api/indicator/domain/evil.example?providers=threatminer&tlp=GREEN", "", ""},
		{"threatminer_sha256", carol, "GET", "/api/indicator/sha256/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f?providers=threatminer&tlp=GREEN", "", ""},
		{"threatminer_not_found", carol, "GET", "/api/indicator/hash/00000000fea8a8f36de82e1278abb02f?providers=threatminer&tlp=GREEN", "", ""},
		{"threatminer_csv", carol, "GET", "/api/indicator/domain/evil.example?providers=threatminer&tlp=GREEN&cached_only=true&format=csv", "", ""},
	} {
		run(s)
	}

	// sign-in, and its throttling: 429 with Retry-After (two failures allowed here)
	golden(t, "authenticate", h.do("", "POST", "/api/authenticate", formCT, "username=carol&password=carol-password-1&scope=tasks"))
	var last answer
	for range 3 {
		last = h.do("", "POST", "/api/authenticate", formCT, "username=carol&password=wrong-password")
	}
	golden(t, "authenticate_throttled", last)

	logs := h.logs.String()
	for _, secret := range []string{rootPW, "carol-password-1", "dave-password-2", "erin-password-9", "frank-password-1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a password appears in the logs")
		}
	}
	if *update {
		listGolden(t)
	}
}

// manyProviders is a providers parameter naming n distinct providers.
func manyProviders(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("p%d", i)
	}
	return strings.Join(names, ",")
}

// listGolden reports the golden files written (for -update runs).
func listGolden(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.golden"))
	sort.Strings(names)
	t.Logf("%d golden files", len(names))
}

var _ = http.MethodGet
