package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRequestUpstreamBudget reproduces #16 D3: 500 aliases of indicator in
// one 32 KB request made 1,457 upstream calls. The request's budget
// (GADGET_REQUEST_UPSTREAM_CALLS, here 200 to keep the test short; the
// default is 2,000) bounds them; the
// providers beyond it answer RATE_LIMITED saying why.
func TestRequestUpstreamBudget(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"),
		"GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOOKUP_DEADLINE": "10s", "GADGET_REQUEST_UPSTREAM_CALLS": "200",
		"GADGET_INTELX_ENABLED": "false"} // one call there is two HTTP requests, which the fake counts
	fake := withFake(t, env)
	in := start(t, env)
	tok := in.token("root", rootPW, "")
	var q strings.Builder
	q.WriteString("{")
	for i := range 500 {
		fmt.Fprintf(&q, ` a%d: indicator(value: "44.%d.%d.7") { results { status error { code message } } }`, i, i/250, i%250)
	}
	q.WriteString("}")
	a := in.gql(tok, q.String(), nil)
	if calls := totalCalls(fake); calls > 200 || calls < 150 {
		t.Errorf("one request made %d upstream calls, want at most its budget of 200 (and most of it used)", calls)
	}
	limited := 0
	for _, v := range a.Data {
		var ind struct {
			Results []struct {
				Status string
				Error  *struct{ Code, Message string }
			}
		}
		if err := json.Unmarshal(v, &ind); err != nil {
			t.Fatal(err)
		}
		for _, r := range ind.Results {
			if r.Status == "RATE_LIMITED" && r.Error != nil && strings.Contains(r.Error.Message, "budget of 200 upstream calls") {
				limited++
			}
		}
	}
	if limited == 0 {
		t.Errorf("no provider answered RATE_LIMITED with the request's budget as the reason")
	}
	t.Logf("500 aliases: %d upstream calls, %d answers RATE_LIMITED by the request's budget", totalCalls(fake), limited)
}

// TestTaskConcurrencyBound reproduces #16 G6: 3,000 two-step POSTs made a
// goroutine each. Beyond GADGET_TASKS_PER_USER running tasks, POST answers
// 429 with Retry-After and runs nothing.
func TestTaskConcurrencyBound(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"),
		"GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOOKUP_DEADLINE": "3s", "GADGET_TASKS_PER_USER": "2"}
	fake := withFake(t, env)
	fake.SetDefaultLatency(2 * time.Second)
	in := start(t, env)
	tok := in.token("root", rootPW, "tasks")
	post := func(v string) *http.Response {
		req, _ := http.NewRequest("POST", in.base+"/api/indicator/ipv4", strings.NewReader(`{"indicator":"`+v+`","providers":"internetdb"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for i, want := range []int{200, 200, 429} {
		res := post(fmt.Sprintf("198.51.100.%d", i+1))
		if res.StatusCode != want {
			t.Fatalf("POST %d: %d, want %d", i+1, res.StatusCode, want)
		}
		if want == 429 && res.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	time.Sleep(3 * time.Second) // the two tasks end (answer or deadline)
	if res := post("198.51.100.9"); res.StatusCode != 200 {
		t.Errorf("POST after the tasks ended: %d, want 200", res.StatusCode)
	}
	if n := fake.Calls("internetdb"); n > 3 {
		t.Errorf("%d upstream calls, want at most 3: the refused POST must run nothing", n)
	}
}

// TestReenableDoesNotReviveTokens reproduces #16 A9 and B8: a token issued
// before a disable stays dead after the re-enable, and the last active
// administrator cannot be disabled.
func TestReenableDoesNotReviveTokens(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW}
	in := start(t, env)
	root := in.token("root", rootPW, "")
	field[map[string]any](t, in.gql(root, `mutation { createUser(username: "carol", password: "carol-password-123") { username } }`, nil), "createUser")
	field[map[string]any](t, in.gql(root, `mutation { createUser(username: "adma", password: "adma-password-123", admin: true) { username } }`, nil), "createUser")
	carol := in.token("carol", "carol-password-123", "")
	verify := func(tok string) int {
		req, _ := http.NewRequest("GET", in.base+"/api/verify", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if c := verify(carol); c != 200 {
		t.Fatalf("carol's token before the disable: %d", c)
	}
	for _, active := range []string{"false", "true"} {
		field[map[string]any](t, in.gql(root, `mutation { setUserActive(username: "carol", active: `+active+`) { active } }`, nil), "setUserActive")
	}
	if c := verify(carol); c != 401 {
		t.Errorf("carol's old token after disable and re-enable: %d, want 401", c)
	}
	if c := verify(in.token("carol", "carol-password-123", "")); c != 200 {
		t.Errorf("carol's new token: %d, want 200", c)
	}
	// root disables adma; then root is the last active admin, and even the CLI cannot disable it
	field[map[string]any](t, in.gql(root, `mutation { setUserActive(username: "adma", active: false) { active } }`, nil), "setUserActive")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"user", "disable", "root"}, func(k string) string { return env[k] }, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error()+errb.String(), "at least one active administrator must remain") {
		t.Errorf("gadget user disable root, the last active admin: %v %s", err, errb.String())
	}
	if c := verify(root); c != 200 {
		t.Errorf("root after the refused disable: %d, want 200", c)
	}
}

// TestUserBudget reproduces #16 D3's other half: one user spent a
// provider's daily budget for everyone. An administrator gives carol 2
// internetdb calls a day; her third answers RATE_LIMITED with
// retryAfterSeconds, her myUsage shows the budget spent, and root, without
// a budget, is not limited.
func TestUserBudget(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW}
	fake := withFake(t, env)
	in := start(t, env)
	root := in.token("root", rootPW, "")
	field[map[string]any](t, in.gql(root, `mutation { createUser(username: "carol", password: "carol-password-123") { username } }`, nil), "createUser")
	set := `mutation($u: String!, $p: String!, $n: Int!) { setUserBudget(username: $u, provider: $p, perDay: $n) { provider perDay remaining resetsAt } }`
	for _, c := range []struct {
		vars map[string]any
		code string
	}{
		{map[string]any{"u": "carol", "p": "no-such-provider", "n": 2}, "BAD_REQUEST"},
		{map[string]any{"u": "carol", "p": "internetdb", "n": -1}, "BAD_REQUEST"},
		{map[string]any{"u": "nobody", "p": "internetdb", "n": 2}, "NOT_FOUND"},
	} {
		mustCode(t, in.gql(root, set, c.vars), c.code)
	}
	got := field[[]map[string]any](t, in.gql(root, set, map[string]any{"u": "carol", "p": "internetdb", "n": 2}), "setUserBudget")
	if len(got) != 1 || got[0]["provider"] != "internetdb" || got[0]["perDay"] != float64(2) || got[0]["remaining"] != float64(2) {
		t.Fatalf("setUserBudget = %v", got)
	}
	// usernames are case-insensitive (#16 B9): CAROL signs in as carol, and Carol cannot be created
	carol := in.token("CAROL", "carol-password-123", "")
	if me := field[map[string]any](t, in.gql(carol, `{ me { username } }`, nil), "me"); me["username"] != "carol" {
		t.Errorf("signed in as CAROL: me = %v, want carol", me)
	}
	mustCode(t, in.gql(root, `mutation { createUser(username: "Carol", password: "carol-password-456") { username } }`, nil), "CONFLICT")
	mustCode(t, in.gql(carol, set, map[string]any{"u": "carol", "p": "internetdb", "n": 1000}), "FORBIDDEN")
	q := `query($v: String!) { indicator(value: $v) { results(providers: ["internetdb"]) { status error { code message retryAfterSeconds } } } }`
	status := func(tok, v string) map[string]any {
		ind := field[map[string]any](t, in.gql(tok, q, map[string]any{"v": v}), "indicator")
		return ind["results"].([]any)[0].(map[string]any)
	}
	for i, v := range []string{"198.51.100.31", "198.51.100.32"} {
		if r := status(carol, v); r["status"] != "OK" {
			t.Fatalf("carol's lookup %d: %v", i+1, r)
		}
	}
	r := status(carol, "198.51.100.33")
	e, _ := r["error"].(map[string]any)
	if r["status"] != "RATE_LIMITED" || e == nil || e["code"] != "RATE_LIMITED" || e["retryAfterSeconds"] == nil || e["retryAfterSeconds"].(float64) <= 0 ||
		!strings.Contains(e["message"].(string), "your budget of 2 internetdb calls a day is spent") {
		t.Errorf("carol's third lookup: %v, want RATE_LIMITED by her budget with retryAfterSeconds", r)
	}
	if n := fake.Calls("internetdb"); n != 2 {
		t.Errorf("internetdb called %d times, want 2", n)
	}
	if r := status(carol, "198.51.100.31"); r["status"] != "OK" { // cached answers cost nothing
		t.Errorf("carol's cached lookup: %v", r)
	}
	if r := status(root, "198.51.100.34"); r["status"] != "OK" {
		t.Errorf("root, without a budget: %v", r)
	}
	usage := field[map[string]any](t, in.gql(carol, `{ myUsage { budgets { provider perDay remaining resetsAt } } }`, nil), "myUsage")
	b := usage["budgets"].([]any)
	if len(b) != 1 || b[0].(map[string]any)["remaining"] != float64(0) || b[0].(map[string]any)["resetsAt"] == nil {
		t.Errorf("carol's myUsage budgets: %v, want internetdb with 0 remaining and a reset time", b)
	}
	// removing the budget lifts the limit
	if got := field[[]map[string]any](t, in.gql(root, set, map[string]any{"u": "carol", "p": "internetdb", "n": 0}), "setUserBudget"); len(got) != 0 {
		t.Errorf("after removing: %v", got)
	}
	if r := status(carol, "198.51.100.35"); r["status"] != "OK" {
		t.Errorf("carol after the budget was removed: %v", r)
	}
}
