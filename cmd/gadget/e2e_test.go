package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/testenv"
)

// syncBuffer is an io.Writer safe for concurrent use that signals lines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is a running `gadget serve` started through run().
type instance struct {
	t      testing.TB
	base   string
	stdout *syncBuffer
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

type backend struct {
	name string
	env  func(t *testing.T) map[string]string
}

// backends are the two storage configurations every end-to-end test runs on.
var backends = []backend{
	{"sqlite", func(t *testing.T) map[string]string {
		return map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")}
	}},
	{"postgres+redis", func(t *testing.T) map[string]string {
		_, prefix := testenv.Redis(t) // checks Redis answers; keys under prefix are removed after
		return map[string]string{
			"GADGET_REDIS_PREFIX": prefix,
			"GADGET_DATABASE_URL": testenv.Postgres(t),
			"GADGET_REDIS_URL":    testenv.RedisURL(),
			"GADGET_JWT_SECRET":   "e2e-secret-e2e-secret-e2e-secret-0123456789",
		}
	}},
}

// start runs `gadget serve` (with extra flags) through run().
func start(t testing.TB, env map[string]string, flags ...string) *instance {
	t.Helper()
	env["GADGET_ADDR"] = "127.0.0.1:0"
	env["GADGET_BCRYPT_COST"] = "10" // the minimum: keeps the suite fast
	if _, ok := env["GADGET_LOG_LEVEL"]; !ok {
		env["GADGET_LOG_LEVEL"] = "warn"
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- run(ctx, append([]string{"serve"}, flags...), getenv, nil, in.stdout, in.stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(in.stdout.String()))
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				in.base = addr
			}
		}
		if in.base != "" {
			break
		}
		select {
		case err := <-in.done:
			t.Fatalf("serve stopped before listening: %v\nstderr: %s", err, in.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if in.base == "" {
		t.Fatalf("serve did not start; stdout: %s stderr: %s", in.stdout.String(), in.stderr.String())
	}
	t.Cleanup(func() {
		in.stop()
		if t.Failed() {
			t.Logf("serve's log:\n%s", in.stderr.String())
		}
	})
	return in
}

// stop cancels run() (as SIGTERM does) and waits for it to return.
func (in *instance) stop() error {
	in.cancel()
	select {
	case err := <-in.done:
		in.done <- err
		return err
	case <-time.After(30 * time.Second):
		in.t.Fatal("serve did not stop")
		return nil
	}
}

type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Detail      string `json:"detail"`
	Code        string `json:"code"`
	Field       string `json:"field"`
	Error       string `json:"error"`
}

func (in *instance) login(form url.Values, header http.Header) (*http.Response, tokenAnswer) {
	in.t.Helper()
	req, _ := http.NewRequest("POST", in.base+"/api/authenticate", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	var ta tokenAnswer
	if err := json.NewDecoder(res.Body).Decode(&ta); err != nil {
		in.t.Fatalf("login answer is not JSON: %v", err)
	}
	return res, ta
}

func (in *instance) token(user, pw, scope string) string {
	in.t.Helper()
	res, ta := in.login(url.Values{"username": {user}, "password": {pw}, "scope": {scope}}, nil)
	if res.StatusCode != 200 || ta.AccessToken == "" {
		in.t.Fatalf("login %s: %d %+v", user, res.StatusCode, ta)
	}
	return ta.AccessToken
}

type gqlAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (a gqlAnswer) codes() []string {
	var out []string
	for _, e := range a.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

func (in *instance) gql(token, query string, vars map[string]any) gqlAnswer {
	in.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", in.base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var a gqlAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		in.t.Fatalf("graphql answer (HTTP %d) is not JSON: %s", res.StatusCode, raw)
	}
	return a
}

func mustCode(t *testing.T, a gqlAnswer, want string) {
	t.Helper()
	codes := a.codes()
	if len(codes) == 0 || codes[0] != want {
		t.Fatalf("error codes = %v, want %s (errors %+v)", codes, want, a.Errors)
	}
}

func field[T any](t *testing.T, a gqlAnswer, name string) T {
	t.Helper()
	if len(a.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", a.Errors)
	}
	var v T
	if err := json.Unmarshal(a.Data[name], &v); err != nil {
		t.Fatalf("data.%s: %v (%s)", name, err, a.Data[name])
	}
	return v
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

const rootPW = "root-password-for-tests"

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			env["GADGET_TRUSTED_PROXIES"] = "127.0.0.1/32"
			in := start(t, env)
			e2eAccounts(t, in)
			e2eOperations(t, in)
		})
	}
}

func e2eAccounts(t *testing.T, in *instance) {
	root := in.token("root", rootPW, "")
	me := field[map[string]any](t, in.gql(root, `{ me { username admin active lastLoginAt lastLoginIp lastLoginUserAgent } }`, nil), "me")
	if me["username"] != "root" || me["admin"] != true || me["lastLoginIp"] != "127.0.0.1" || me["lastLoginAt"] == nil {
		t.Fatalf("me = %v", me)
	}

	// anonymous: status works, me does not
	st := field[map[string]any](t, in.gql("", `{ status { version uptimeSeconds providers { name } } }`, nil), "status")
	if st["version"] == "" {
		t.Errorf("status = %v", st)
	}
	mustCode(t, in.gql("", `{ me { username } }`, nil), "UNAUTHENTICATED")
	mustCode(t, in.gql("not-a-jwt", `{ me { username } }`, nil), "UNAUTHENTICATED")

	// an ordinary user: asks for mon, is not granted it
	field[map[string]any](t, in.gql(root, `mutation($p: String!) { createUser(username: "alice", password: $p) { username active admin } }`, map[string]any{"p": "alice-password-1"}), "createUser")
	res, ta := in.login(url.Values{"username": {"alice"}, "password": {"alice-password-1"}, "scope": {"users tasks mon"}}, nil)
	if res.StatusCode != 200 || ta.Scope != "users tasks" || ta.TokenType != "bearer" || ta.ExpiresIn != 1800 {
		t.Fatalf("alice login: %d %+v", res.StatusCode, ta)
	}
	alice := ta.AccessToken
	mustCode(t, in.gql(alice, `{ users { username } }`, nil), "FORBIDDEN")
	usersOnly := in.token("alice", "alice-password-1", "users")
	if a := in.gql(usersOnly, `{ me { username } }`, nil); len(a.Errors) > 0 {
		t.Fatalf("users-scoped me: %+v", a.Errors)
	}

	// duplicate user: CONFLICT on field username; weak password: BAD_REQUEST on field password
	mustCode(t, in.gql(root, `mutation { createUser(username: "alice", password: "another-password") { username } }`, nil), "CONFLICT")
	weak := in.gql(root, `mutation { createUser(username: "bob", password: "short") { username } }`, nil)
	mustCode(t, weak, "BAD_REQUEST")
	if weak.Errors[0].Extensions["field"] != "password" {
		t.Errorf("weak password error names field %v", weak.Errors[0].Extensions["field"])
	}

	// forged scopes: alice's token with mon spliced into the payload
	parts := strings.Split(alice, ".")
	forgedPayload := strings.TrimRight(b64(`{"scopes":["users","tasks","mon"],"sub":"alice","iss":"inspector-gadget","exp":9999999999,"iat":1}`), "=")
	mustCode(t, in.gql(parts[0]+"."+forgedPayload+"."+parts[2], `{ users { username } }`, nil), "UNAUTHENTICATED")

	// token issued before a password change stops working
	if a := in.gql(alice, `mutation { changePassword(current: "alice-password-1", new: "alice-password-2") }`, nil); len(a.Errors) > 0 {
		t.Fatalf("changePassword: %+v", a.Errors)
	}
	mustCode(t, in.gql(alice, `{ me { username } }`, nil), "UNAUTHENTICATED")
	alice2 := in.token("alice", "alice-password-2", "")
	if a := in.gql(alice2, `{ me { username } }`, nil); len(a.Errors) > 0 {
		t.Fatalf("new token: %+v", a.Errors)
	}
	wrongCurrent := in.gql(alice2, `mutation { changePassword(current: "nope-nope-nope", new: "alice-password-3") }`, nil)
	mustCode(t, wrongCurrent, "BAD_REQUEST")

	// a disabled user's token stops working at once, and the user cannot sign in
	field[map[string]any](t, in.gql(root, `mutation { setUserActive(username: "alice", active: false) { active } }`, nil), "setUserActive")
	mustCode(t, in.gql(alice2, `{ me { username } }`, nil), "UNAUTHENTICATED")
	res, ta = in.login(url.Values{"username": {"alice"}, "password": {"alice-password-2"}}, nil)
	if res.StatusCode != 401 || ta.Detail != "Incorrect username or password" {
		t.Fatalf("disabled login: %d %+v", res.StatusCode, ta)
	}
	// root cannot disable itself
	mustCode(t, in.gql(root, `mutation { setUserActive(username: "root", active: false) { active } }`, nil), "BAD_REQUEST")

	// an admin password reset invalidates earlier tokens too
	field[map[string]any](t, in.gql(root, `mutation { setUserActive(username: "alice", active: true) { active } }`, nil), "setUserActive")
	alice3 := in.token("alice", "alice-password-2", "")
	field[map[string]any](t, in.gql(root, `mutation { setUserPassword(username: "alice", password: "alice-password-9") { username } }`, nil), "setUserPassword")
	mustCode(t, in.gql(alice3, `{ me { username } }`, nil), "UNAUTHENTICATED")
	mustCode(t, in.gql(root, `mutation { setUserPassword(username: "nobody", password: "whatever-password") { username } }`, nil), "NOT_FOUND")

	users := field[[]map[string]any](t, in.gql(root, `{ users { username admin active createdAt } }`, nil), "users")
	if len(users) != 2 || users[0]["username"] != "alice" || users[1]["username"] != "root" {
		t.Errorf("users = %v", users)
	}
}

func b64(s string) string {
	return strings.NewReplacer("+", "-", "/", "_").Replace(base64Std(s))
}

func e2eOperations(t *testing.T, in *instance) {
	root := in.token("root", rootPW, "users mon")

	// bad form input: clear 400/401, nothing written
	time.Sleep(400 * time.Millisecond)
	before := auditCount(t, in, root)
	cases := []struct {
		name   string
		body   string
		ctype  string
		status int
		field  string
	}{
		{"missing password", "username=root", "application/x-www-form-urlencoded", 400, "password"},
		{"missing username", "password=x", "application/x-www-form-urlencoded", 400, "username"},
		{"json body", `{"username":"root"}`, "application/json", 400, "Content-Type"},
		{"unknown scope", "username=root&password=x&scope=admin", "application/x-www-form-urlencoded", 400, "scope"},
		{"bad grant", "username=root&password=x&grant_type=client_credentials", "application/x-www-form-urlencoded", 400, "grant_type"},
		{"huge form", "username=root&password=" + strings.Repeat("a", 20000), "application/x-www-form-urlencoded", 400, "body"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest("POST", in.base+"/api/authenticate", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ta tokenAnswer
		json.NewDecoder(res.Body).Decode(&ta)
		res.Body.Close()
		if res.StatusCode != c.status || ta.Field != c.field || ta.Detail == "" {
			t.Errorf("%s: %d %+v, want %d on field %s", c.name, res.StatusCode, ta, c.status, c.field)
		}
	}
	time.Sleep(400 * time.Millisecond) // longer than the usage writer's batch interval
	if after := auditCount(t, in, root); after != before {
		t.Errorf("bad input wrote %d usage rows", after-before)
	}

	// unknown user and wrong password: the same answer
	_, unknown := in.login(url.Values{"username": {"nobody-here"}, "password": {"whatever"}}, http.Header{"X-Forwarded-For": {"198.51.100.1"}})
	_, wrong := in.login(url.Values{"username": {"root"}, "password": {"wrong-password"}}, nil)
	if unknown.Detail != wrong.Detail || unknown.Code != wrong.Code || unknown.Error != "invalid_grant" {
		t.Errorf("answers differ: unknown user %+v, wrong password %+v", unknown, wrong)
	}

	// throttling never locks an account: 5 failures for a username, each
	// from another address, do not stop the right password from a fresh
	// address (A18: it got 429)
	field[map[string]any](t, in.gql(root, `mutation { createUser(username: "target", password: "target-password-1") { username } }`, nil), "createUser")
	for i := range 5 {
		xff := http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", 10+i)}}
		if res, _ := in.login(url.Values{"username": {"target"}, "password": {"wrong-password"}}, xff); res.StatusCode != 401 {
			t.Fatalf("failure %d: status %d", i+1, res.StatusCode)
		}
	}
	if res, ta := in.login(url.Values{"username": {"target"}, "password": {"target-password-1"}}, http.Header{"X-Forwarded-For": {"198.51.100.99"}}); res.StatusCode != 200 {
		t.Fatalf("right password from a fresh address after others' failures: %d %+v", res.StatusCode, ta)
	}
	// 5 failures for a username from one address: that address waits for
	// that username, even with the right password
	guesser := http.Header{"X-Forwarded-For": {"198.51.100.50"}}
	for i := range 5 {
		if res, _ := in.login(url.Values{"username": {"target"}, "password": {"wrong-password"}}, guesser); res.StatusCode != 401 {
			t.Fatalf("failure %d from one address: status %d", i+1, res.StatusCode)
		}
	}
	res, ta := in.login(url.Values{"username": {"target"}, "password": {"target-password-1"}}, guesser)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || ta.Code != "RATE_LIMITED" {
		t.Fatalf("6th attempt for the username from the address: %d Retry-After=%q %+v", res.StatusCode, res.Header.Get("Retry-After"), ta)
	}
	// A17: 40 simultaneous guesses from one address: at most 5 reach the
	// password check (the check used to come before the count)
	racer := http.Header{"X-Forwarded-For": {"198.51.100.60"}}
	var checked atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if res, _ := in.login(url.Values{"username": {"target"}, "password": {"wrong-password"}}, racer); res.StatusCode == 401 {
				checked.Add(1)
			}
		})
	}
	wg.Wait()
	if n := checked.Load(); n > 5 {
		t.Fatalf("%d of 40 simultaneous guesses reached the password check, want at most 5", n)
	}
	// throttling by client address: failures on many usernames from one
	// address block that address, not others
	spray := http.Header{"X-Forwarded-For": {"203.0.113.66"}}
	sprayed := time.Now()
	for i := range 30 {
		if res, _ := in.login(url.Values{"username": {fmt.Sprintf("guess%d", i)}, "password": {"wrong-password"}}, spray); res.StatusCode != 401 {
			t.Fatalf("spray %d: status %d", i+1, res.StatusCode)
		}
	}
	res, _ = in.login(url.Values{"username": {"root"}, "password": {rootPW}}, spray)
	switch took := time.Since(sprayed); {
	case took > 55*time.Second: // the per-address window (30 a minute) slid on a very loaded machine
		t.Logf("30 failed sign-ins took %s: the 31st (%d) is past the one-minute window, not checked", took, res.StatusCode)
	case res.StatusCode != 429:
		t.Fatalf("31st attempt from the address within %s: %d", took, res.StatusCode)
	}
	if res, _ := in.login(url.Values{"username": {"root"}, "password": {rootPW}}, http.Header{"X-Forwarded-For": {"203.0.113.67"}}); res.StatusCode != 200 {
		t.Fatalf("root from another address: %d", res.StatusCode)
	}
	me := field[map[string]any](t, in.gql(in.token("root", rootPW, ""), `{ me { lastLoginIp } }`, nil), "me")
	if me["lastLoginIp"] != "127.0.0.1" {
		t.Errorf("lastLoginIp = %v", me["lastLoginIp"])
	}

	// usage: logins are accounted, the end day is whole
	time.Sleep(400 * time.Millisecond)
	today := time.Now().UTC().Format("2006-01-02")
	rep := field[map[string]any](t, in.gql(root, `query($d: Time) { usageReport(to: $d) { from to totalCalls rows { username api calls bytes } } }`, map[string]any{"d": today + "T00:00:00Z"}), "usageReport")
	rows, _ := rep["rows"].([]any)
	var rootLogins float64
	for _, r := range rows {
		m := r.(map[string]any)
		if m["username"] == "root" && m["api"] == "authenticate" {
			rootLogins = m["calls"].(float64)
		}
	}
	if rootLogins < 4 {
		t.Errorf("usage report rows = %v: want root's sign-ins (ok, denied, throttled)", rows)
	}
	my := field[map[string]any](t, in.gql(root, `{ myUsage { totalCalls rows { username api } } }`, nil), "myUsage")
	for _, r := range my["rows"].([]any) {
		if r.(map[string]any)["username"] != "root" {
			t.Errorf("myUsage shows another user's row: %v", r)
		}
	}
	log := field[map[string]any](t, in.gql(root, `{ auditLog(api: "createUser", first: 5) { edges { node { username api parameters status } } } }`, nil), "auditLog")
	edges := log["edges"].([]any)
	if len(edges) == 0 {
		t.Fatal("createUser not in the audit log")
	}
	if p := edges[0].(map[string]any)["node"].(map[string]any)["parameters"].(string); strings.Contains(p, "password-1") || !strings.Contains(p, "REDACTED") {
		t.Errorf("audit parameters leak or lack redaction: %s", p)
	}

	// limits
	deep := "{ auditLog { edges { node { username } } pageInfo { hasNextPage } } }"
	if a := in.gql(root, deep, nil); len(a.Errors) > 0 {
		t.Fatalf("normal query refused: %+v", a.Errors)
	}
	frag := "fragment F on UsageLogConnection { edges { node { username } } } { auditLog { ...F } }"
	if a := in.gql(root, frag, nil); len(a.Errors) > 0 {
		t.Fatalf("fragment query refused: %+v", a.Errors)
	}
	// introspection has its own, larger bound: the standard query's nine
	// levels of ofType pass, thirty do not
	nested := func(n int) string {
		return "{ __schema { types { fields { type {" + strings.Repeat(" ofType {", n) + " name" + strings.Repeat(" }", n) + " } } } } }"
	}
	if a := in.gql(root, nested(9), nil); len(a.Errors) > 0 {
		t.Fatalf("introspection as deep as the standard query refused: %+v", a.Errors)
	}
	mustCode(t, in.gql(root, nested(30), nil), "COMPLEXITY_LIMIT")
	var wide strings.Builder
	wide.WriteString("{")
	for i := range 120 {
		fmt.Fprintf(&wide, " a%d: auditLog(first: 500) { edges { node { username api endpoint } } }", i)
	}
	wide.WriteString(" }")
	mustCode(t, in.gql(root, wide.String(), nil), "COMPLEXITY_LIMIT")
	mustCode(t, in.gql(root, "{ nope }", nil), "BAD_REQUEST")

	// operations endpoints
	if res, body := get(t, in.base+"/healthz"); res.StatusCode != 200 || !strings.Contains(body, "ok") {
		t.Errorf("healthz: %d %s", res.StatusCode, body)
	}
	if res, body := get(t, in.base+"/readyz"); res.StatusCode != 200 || !strings.Contains(body, `"database":"ok"`) {
		t.Errorf("readyz: %d %s", res.StatusCode, body)
	}
	if res, body := get(t, in.base+"/metrics"); res.StatusCode != 200 || !strings.Contains(body, "gadget_logins_total") || !strings.Contains(body, "gadget_http_request_duration_seconds") {
		t.Errorf("metrics: %d", res.StatusCode)
	}
	if res, body := get(t, in.base+"/"); res.StatusCode != 200 || !strings.Contains(body, "/graphiql/") || strings.Contains(body, "cdn.jsdelivr") {
		t.Errorf("GraphiQL page: %d", res.StatusCode)
	}
	if strings.Contains(in.stderr.String(), rootPW) {
		t.Error("the root password appears in the logs")
	}
}

// auditCount counts sign-in rows in the audit log.
func auditCount(t *testing.T, in *instance, token string) int {
	t.Helper()
	log := field[map[string]any](t, in.gql(token, `{ auditLog(api: "authenticate", first: 500) { edges { cursor } } }`, nil), "auditLog")
	return len(log["edges"].([]any))
}
