package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
)

// postAs sends query through a new /graphql handler as p (nil:
// anonymous) and returns the status code and the answer.
func postAs(t testing.TB, p *auth.Principal, query string) (int, gqlResponse) {
	t.Helper()
	return postTo(t, NewHandler(&Resolver{}, Options{}), p, query, nil)
}

// postTo sends query with vars through h as p (nil: anonymous) and
// returns the status code and the answer.
func postTo(t testing.TB, h http.Handler, p *auth.Principal, query string, vars map[string]any) (int, gqlResponse) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if p != nil {
		req = req.WithContext(auth.WithPrincipal(context.Background(), p))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer is not JSON (%d): %s", rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

func repeat(s string, n int) string { return strings.TrimSpace(strings.Repeat(s+" ", n)) }

func firstCode(r gqlResponse) string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// TestDocumentGuard: documents whose validation would be quadratic (one
// field repeated thousands of times, directly, through inline fragments
// or by spreading one fragment again and again) are refused with 422
// BAD_REQUEST before gqlparser validates them, anonymous or not; so is an
// anonymous document longer than any anonymous client sends. Ordinary
// documents, with a field in a few fragments, aliases and object
// arguments, pass.
func TestDocumentGuard(t *testing.T) {
	t.Parallel()
	user := &auth.Principal{Username: "alice", Scopes: []auth.Scope{auth.ScopeUsers}}
	tests := []struct {
		name  string
		who   *auth.Principal
		query string
		want  string // first error code; "" = no guard refusal
	}{
		{"anonymous duplicates (64 KB)", nil, "{ status { " + repeat("version", 8000) + " } }", "BAD_REQUEST"},
		{"signed-in duplicates", user, "{ me { " + repeat("username", 8000) + " } }", "BAD_REQUEST"},
		{"duplicates through inline fragments", user, "{ me { " + repeat("... on User { username }", 2000) + " } }", "BAD_REQUEST"},
		{"one fragment spread again and again", user, "{ me { ...F " + repeat("...F", 2000) + " } } fragment F on User { username }", "BAD_REQUEST"},
		{"nested duplicates", user, "{ " + repeat("me { username }", 100) + " }", "BAD_REQUEST"},
		{"anonymous long document", nil, "{ " + repeat("s: status { version }", 1000) + " }", "BAD_REQUEST"},
		{"aliases are distinct names", user, "{ me { " + repeat("u: username", 1) + " a: username b: username } }", ""},
		{"a field in a few fragments", user, "{ me { username ... on User { username } ... on User { username } } }", ""},
		{"object arguments are not selections", user, `{ status { version } }`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, got := postAs(t, tc.who, tc.query)
			refused := code == 422 && firstCode(got) == "BAD_REQUEST" && len(got.Errors) == 1
			if tc.want != "" && !refused {
				t.Fatalf("status %d, errors %+v; want a 422 BAD_REQUEST from the guard", code, got.Errors)
			}
			if tc.want == "" && code == 422 {
				t.Fatalf("refused: %+v", got.Errors)
			}
		})
	}
}

// TestScanDocumentCounts checks the scanner's reading of the grammar
// directly: what counts as a repeated response name and what does not.
func TestScanDocumentCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		query string
		limit int
		want  bool // refused
	}{
		{"two equal fields", "{ a a }", 0, true},
		{"alias then field name", "{ x: a y: a }", 0, false},
		{"directive names", "{ a @include(if: true) b @include(if: true) }", 0, false},
		{"argument object braces", `{ a(f: {x: 1, x: 2}) b(f: {x: 1}) }`, 0, false},
		{"inline fragment merges into parent", "{ a ... on T { a } }", 0, true},
		{"inline fragment without type merges", "{ a ... { a } }", 0, true},
		{"inline fragment with directive merges", "{ a ... @skip(if: false) { a } }", 0, true},
		{"child sets are apart", "{ a { x } b { x } }", 0, false},
		{"fragment definitions are apart", "{ ...F x } fragment F on T { x }", 0, false},
		{"same spread twice", "{ ...F ...F } fragment F on T { x }", 0, true},
		{"variables and defaults", "query Q($a: Int = 1, $b: In = {a: 1}) { a(x: $a) b(y: $b) }", 0, false},
		{"comments and strings", "{ a(s: \"a a a\") # a a a\n b }", 0, false},
		{"within limit", "{ a a a }", 3, false},
		{"over limit", "{ a a a a }", 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := scanDocument(tc.query, -1, tc.limit) != ""; got != tc.want {
				t.Fatalf("refused = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestIndicatorsComplexityCountsValuesAndAliases: a 1,000-value batch
// asking for verdicts fits the complexity limit; the same batch under
// aliases (the D4 attack was twenty: 125 s of CPU, 214k usage rows; the
// parser's token limit now refuses twenty, complexity refuses four) is
// refused before any work.
func TestIndicatorsComplexityCountsValuesAndAliases(t *testing.T) {
	t.Parallel()
	values := make([]string, 1000)
	for i := range values {
		values[i] = `"10.0.` + string(rune('0'+i%10)) + `.1"`
	}
	batch := "indicators(values: [" + strings.Join(values, ",") + "]) { value verdict { level score } }"
	var aliased []string
	for i := range 4 {
		aliased = append(aliased, "b"+string(rune('a'+i))+": "+batch)
	}
	tasks := &auth.Principal{Username: "alice", Scopes: []auth.Scope{auth.ScopeUsers}} // no tasks: FORBIDDEN when executed
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"one 1,000-value batch", "{ " + batch + " }", "FORBIDDEN"},
		{"four aliased batches", "{ " + strings.Join(aliased, " ") + " }", "COMPLEXITY_LIMIT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, got := postAs(t, tasks, tc.query)
			if c := firstCode(got); c != tc.want {
				t.Fatalf("code %q (%d errors, first %+v), want %q", c, len(got.Errors), got.Errors[:min(1, len(got.Errors))], tc.want)
			}
		})
	}
}

// cpuTime is the CPU this process has used (user and system).
func cpuTime(t testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAnonymousDuplicateFieldsAreCheap is D10 as measured: a 1 MiB
// anonymous document of one field repeated (116,000 times) used to cost
// minutes of CPU; it is answered 4xx in well under 50 ms of CPU (the
// process's CPU time, measured around the request; not parallel, so it
// runs alone in this package).
func TestAnonymousDuplicateFieldsAreCheap(t *testing.T) {
	h := NewHandler(&Resolver{}, Options{})
	for _, q := range []string{
		"{ status { " + repeat("version", 116_000) + " } }",
		"{ status { " + repeat("version", 5000) + " } }",
	} {
		body, _ := json.Marshal(map[string]string{"query": q})
		req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := cpuTime(t)
		h.ServeHTTP(rec, req)
		used := cpuTime(t) - start
		t.Logf("%d KB: %d, %v CPU", len(q)/1024, rec.Code, used)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("status %d, want 4xx", rec.Code)
		}
		if used > 50*time.Millisecond {
			t.Errorf("cost %v of CPU, want < 50ms", used)
		}
	}
}

// TestMalformedTimeIsBadRequest is D12: a malformed Time argument answers
// BAD_REQUEST naming the argument, and logs nothing (it was INTERNAL with
// an ERROR line, before any token was checked).
func TestMalformedTimeIsBadRequest(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	h := NewHandler(&Resolver{}, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	for _, q := range []string{
		`{ usageReport(from: "yesterday") { totalCalls } }`,
		`{ auditLog(from: "2026-13-45") { edges { cursor } } }`,
	} {
		body, _ := json.Marshal(map[string]string{"query": q})
		req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var got gqlResponse
		json.Unmarshal(rec.Body.Bytes(), &got)
		if firstCode(got) != "BAD_REQUEST" || got.Errors[0].Extensions["field"] != "from" {
			t.Errorf("%s: %s", q, rec.Body.String())
		}
	}
	if logged.Len() > 0 {
		t.Errorf("logged: %s", logged.String())
	}
}

// TestRepeatedDocumentsAreCheckedAlike: the handler skips the guard's scan
// for a document it has parsed before and remembers the complexity of an
// operation without variables; a refused document is refused every time,
// and an operation with variables is measured with each request's values.
func TestRepeatedDocumentsAreCheckedAlike(t *testing.T) {
	t.Parallel()
	h := NewHandler(&Resolver{}, Options{})
	user := &auth.Principal{Username: "alice", Scopes: []auth.Scope{auth.ScopeUsers}} // no tasks: FORBIDDEN when executed
	overlapping := "{ status { " + repeat("version", 2000) + " } }"
	values := make([]string, 1000)
	for i := range values {
		values[i] = `"10.0.0.` + strconv.Itoa(i%250) + `"`
	}
	batch := "indicators(values: [" + strings.Join(values, ",") + "]) { value verdict { level score } }"
	tooComplex := "{ a: " + batch + " b: " + batch + " c: " + batch + " d: " + batch + " }"
	byVariable := "query Q($v: [String!]!) { indicators(values: $v) { value verdict { level score } } }"
	many := make([]string, 4000)
	for i := range many {
		many[i] = "10.0.0." + strconv.Itoa(i%250)
	}
	for round := range 3 {
		for _, tc := range []struct {
			name, query string
			vars        map[string]any
			want        string
		}{
			{"overlapping fields", overlapping, nil, "BAD_REQUEST"},
			{"aliased batches", tooComplex, nil, "COMPLEXITY_LIMIT"},
			{"one batch", "{ " + batch + " }", nil, "FORBIDDEN"},
			{"few values in a variable", byVariable, map[string]any{"v": []string{"10.0.0.1"}}, "FORBIDDEN"},
			{"many values in a variable", byVariable, map[string]any{"v": many}, "COMPLEXITY_LIMIT"},
		} {
			if _, res := postTo(t, h, user, tc.query, tc.vars); firstCode(res) != tc.want {
				t.Errorf("round %d, %s: code %q, want %q", round, tc.name, firstCode(res), tc.want)
			}
		}
	}
}
