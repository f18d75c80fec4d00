package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestBootstrapPrintsRandomPasswordOnce(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")}
	in := start(t, env)
	m := regexp.MustCompile(`(?m)^    (\S{24})$`).FindStringSubmatch(in.stdout.String())
	if m == nil {
		t.Fatalf("no generated password on stdout:\n%s", in.stdout.String())
	}
	if strings.Contains(in.stderr.String(), m[1]) {
		t.Error("the generated password is in the logs")
	}
	if res, ta := in.login(url.Values{"username": {"root"}, "password": {m[1]}}, nil); res.StatusCode != 200 || ta.Scope != "users tasks mon" {
		t.Fatalf("root login with the printed password: %d %+v", res.StatusCode, ta)
	}
	if err := in.stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	again := start(t, env)
	if strings.Contains(again.stdout.String(), "password") {
		t.Errorf("second start printed a password again:\n%s", again.stdout.String())
	}
	// the usage row of the first login was flushed at shutdown and survives
	root := again.token("root", m[1], "mon")
	time.Sleep(400 * time.Millisecond) // the writer's batch interval
	if n := auditCount(t, again, root); n < 2 {
		t.Errorf("audit rows after restart = %d, want the first run's login too", n)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW}
	in := start(t, env)
	// A sign-in costs a bcrypt comparison (~200 ms at cost 12): stop the server
	// while several are in flight; each must still get its answer.
	type result struct {
		status int
		err    error
	}
	results := make(chan result, 4)
	for range 4 {
		go func() {
			res, err := http.PostForm(in.base+"/api/authenticate", url.Values{"username": {"root"}, "password": {rootPW}})
			if err != nil {
				results <- result{err: err}
				return
			}
			res.Body.Close()
			results <- result{status: res.StatusCode}
		}()
	}
	// wait until all four are being served (the scrape itself is a fifth)
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, body := get(t, in.base+"/metrics")
		if strings.Contains(body, "gadget_http_requests_in_flight 5") || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := in.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for range 4 {
		r := <-results
		if r.err != nil || r.status != 200 {
			t.Errorf("in-flight request: status %d err %v", r.status, r.err)
		}
	}
}

func TestCLI(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_BCRYPT_COST": "10"}
	getenv := func(k string) string { return env[k] }
	cli := func(stdin string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
		return out.String(), err
	}
	var ue *usageError
	if _, err := cli("", "frobnicate"); !errors.As(err, &ue) {
		t.Errorf("unknown command: err = %v, want a usage error (exit 2)", err)
	}
	if _, err := cli("", "user", "create"); !errors.As(err, &ue) {
		t.Errorf("user create without name: err = %v", err)
	}
	// the River executor needs PostgreSQL: the worker refuses SQLite
	if _, err := cli("", "worker"); !errors.As(err, &ue) || !strings.Contains(err.Error(), "River executor") {
		t.Errorf("worker on SQLite: err = %v, want a usage error", err)
	}
	// --help prints the command's own usage, once, and exits 0
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--help"}, "gadget serve"}, {[]string{"worker", "--help"}, "gadget worker"},
		{[]string{"migrate", "--help"}, "gadget migrate"}, {[]string{"lookup", "-h"}, "gadget lookup"},
		{[]string{"user", "--help"}, "gadget user list"}, {[]string{"user", "create", "--help"}, "gadget user create USERNAME [--admin]"},
		{[]string{"user", "passwd", "--help"}, "gadget user passwd USERNAME"}, {[]string{"user", "list", "-help"}, "gadget user list"},
		{[]string{"version", "--help"}, "gadget version"}, {[]string{"--help"}, "gadget serve"},
	} {
		out, err := cli("", tc.args...)
		if exitCode(err) != 0 || strings.Count(out, "Usage") != 1 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: err %v, printed:\n%s", tc.args, err, out)
		}
		if tc.args[0] == "user" && len(tc.args) == 3 && strings.Contains(out, "gadget user enable") {
			t.Errorf("%v printed the whole user usage:\n%s", tc.args, out)
		}
	}
	if _, err := cli("", "user", "list", "--admin"); exitCode(err) != 2 {
		t.Errorf("user list --admin: %v, want a usage error", err)
	}
	if out, err := cli("", "migrate"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate: %v %q", err, out)
	}
	if out, err := cli("", "migrate"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %v %q", err, out)
	}
	if out, err := cli("carol-password-1\n", "user", "create", "carol", "--admin"); err != nil || !strings.Contains(out, "created carol (admin=true, active=true)") {
		t.Fatalf("create: %v %q", err, out)
	}
	if _, err := cli("short\n", "user", "create", "dave"); err == nil || !strings.Contains(err.Error(), "12 bytes") {
		t.Errorf("short password: %v", err)
	}
	out, err := cli("", "user", "passwd", "carol")
	if err != nil || !strings.Contains(out, "password (shown once): ") {
		t.Fatalf("passwd generate: %v %q", err, out)
	}
	if _, err := cli("", "user", "disable", "carol"); err == nil || !strings.Contains(err.Error(), "at least one active administrator must remain") {
		t.Fatalf("disable of the only admin: %v, want refused", err)
	}
	if _, err := cli("dave-password-1\n", "user", "create", "dave", "--admin"); err != nil {
		t.Fatal(err)
	}
	if out, err := cli("", "user", "disable", "carol"); err != nil || !strings.Contains(out, "carol is now disabled") {
		t.Fatalf("disable: %v %q", err, out)
	}
	out, err = cli("", "user", "list")
	if err != nil || !regexp.MustCompile(`carol\s+false\s+true`).MatchString(out) {
		t.Fatalf("list: %v %q", err, out)
	}
	if _, err := cli("", "user", "enable", "nobody"); err == nil {
		t.Error("enable of a missing user succeeded")
	}
	if out, err := cli("", "user", "budget", "carol", "greynoise", "50"); err != nil || !strings.Contains(out, "greynoise: 50 a day, 50 left") {
		t.Errorf("budget: %v %q", err, out)
	}
	for _, args := range [][]string{{"carol", "no-such-provider", "5"}, {"nobody", "greynoise", "5"}, {"carol", "greynoise", "lots"}} {
		if _, err := cli("", append([]string{"user", "budget"}, args...)...); err == nil {
			t.Errorf("user budget %v succeeded", args)
		}
	}
	if out, _ := cli("", "version"); !strings.HasPrefix(out, "gadget ") {
		t.Errorf("version: %q", out)
	}
}

func TestConfigValidateReportsEverything(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"GADGET_DATABASE_URL":    "postgres://x@127.0.0.1/db",
		"GADGET_TOKEN_TTL":       "soon",
		"GADGET_TRUSTED_PROXIES": "not-a-cidr",
		"GADGET_EXECUTOR":        "celery",
		"GADGET_ROOT_PASSWORD":   "short",
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"GADGET_TOKEN_TTL", "GADGET_TRUSTED_PROXIES", "GADGET_EXECUTOR", "GADGET_JWT_SECRET", "GADGET_ROOT_PASSWORD"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() does not mention %s:\n%v", want, err)
		}
	}
}

func TestExecutorDefaultsAndWorkerQueues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ db, executor, want string }{
		{"sqlite://x.db", "", "inline"},
		{"postgres://x@127.0.0.1/db", "", "river"},
		{"postgres://x@127.0.0.1/db", "inline", "inline"},
	} {
		env := map[string]string{"GADGET_DATABASE_URL": tc.db, "GADGET_EXECUTOR": tc.executor, "GADGET_JWT_SECRET": strings.Repeat("k", 32)}
		cfg, _ := LoadConfig(func(k string) string { return env[k] })
		if err := cfg.Validate(); err != nil || cfg.Executor != tc.want {
			t.Errorf("%s with %q: executor %q (%v), want %s", tc.db, tc.executor, cfg.Executor, err, tc.want)
		}
	}
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://x.db", "GADGET_EXECUTOR": "river"}
	cfg, _ := LoadConfig(func(k string) string { return env[k] })
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "needs PostgreSQL") {
		t.Errorf("river on SQLite: %v", err)
	}
	// --queues names providers: unknown or disabled ones are usage errors
	env = map[string]string{"GADGET_DATABASE_URL": testenv.Postgres(t), "GADGET_JWT_SECRET": strings.Repeat("k", 32), "GADGET_SHODAN_ENABLED": "false"}
	var ue *usageError
	for _, q := range []string{"nosuch", "virustotal,shodan"} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"worker", "--queues", q}, func(k string) string { return env[k] }, nil, &out, &errb)
		if !errors.As(err, &ue) {
			t.Errorf("worker --queues %s: err = %v, want a usage error", q, err)
		}
	}
}

// TestServeBanner: after "listening on", serve prints where GraphiQL, the
// portal and the REST docs are, and a hint only when no provider has a key.
func TestServeBanner(t *testing.T) {
	t.Parallel()
	bare := start(t, map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW})
	out := bare.stdout.String()
	for _, want := range []string{"GraphiQL     " + bare.base + "/\n", "portal       " + bare.base + "/portal/\n", "REST docs    " + bare.base + "/docs\n", "no provider keys configured — see docs/providers.md, or try `make demo`"} {
		if !strings.Contains(out, want) {
			t.Errorf("serve printed no %q:\n%s", want, out)
		}
	}
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW}
	withFake(t, env)
	if keyed := start(t, env); strings.Contains(keyed.stdout.String(), "no provider keys") {
		t.Errorf("the hint is printed although every provider has a key:\n%s", keyed.stdout.String())
	}
}
