package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// buildGadget builds the binary for tests that need real processes.
func buildGadget(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gadget")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// proc is a `gadget worker` process.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

func startWorker(t *testing.T, bin string, env map[string]string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"worker"}, args...)...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"), "PGAPPNAME="+os.Getenv("PGAPPNAME")) // PGAPPNAME: counting a run's connections
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		os.WriteFile(fmt.Sprintf("/tmp/e2e-worker-%d.log", cmd.Process.Pid), []byte(p.stderr.String()), 0o644)
	})
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "working queues ") {
			go io.Copy(io.Discard, stdout)
			return p
		}
	}
	t.Fatalf("worker did not start: %s", p.stderr.String())
	return nil
}

// queryField posts a query and returns the named provider field's status (safe
// from any goroutine).
func queryField(base, token, value, prov string) (string, error) {
	q := fmt.Sprintf(`{ indicator(value: %q) { ... on IPAddress { %s { status cached jobId } } } }`, value, prov)
	body, _ := json.Marshal(map[string]any{"query": q})
	req, _ := http.NewRequest("POST", base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var a struct {
		Data struct {
			Indicator map[string]struct{ Status string } `json:"indicator"`
		}
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil || len(a.Errors) > 0 {
		return "", fmt.Errorf("answer %v: %v", a.Errors, err)
	}
	return a.Data.Indicator[prov].Status, nil
}

// TestRiverAcrossProcesses: two API processes that only queue jobs and
// two worker processes, on one PostgreSQL and Redis. Not parallel: with
// four processes it is the one test whose connections, beside another
// test's, would pass testenv.PoolConns' budget.
func TestRiverAcrossProcesses(t *testing.T) {
	bin := buildGadget(t)
	env := backends[1].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	env["GADGET_EXECUTOR"] = "river"
	env["GADGET_JOB_TIMEOUT"] = "3s"
	env["GADGET_JOB_RESCUE_AFTER"] = "4s"
	env["GADGET_LOOKUP_DEADLINE"] = "4s"
	env["GADGET_LOG_LEVEL"] = "warn"
	fake := withFake(t, env)
	envB := map[string]string{}
	for k, v := range env {
		envB[k] = v
	}
	a, b := start(t, env, "--workers=0"), start(t, envB, "--workers=0")
	ta, tb := a.token("root", rootPW, ""), b.token("root", rootPW, "")
	// River UI: MON only
	for _, tc := range []struct {
		tok  string
		want int
	}{{"", 401}, {a.token("root", rootPW, "users tasks"), 403}, {ta, 200}} {
		req, _ := http.NewRequest("GET", a.base+"/admin/river/", nil)
		if tc.tok != "" {
			req.Header.Set("Authorization", "Bearer "+tc.tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want || (tc.want == 200 && !bytes.Contains(body, []byte("<title>River</title>"))) {
			t.Errorf("GET /admin/river/ = %d, want %d", res.StatusCode, tc.want)
		}
	}
	// …or, to read, a portal session holding MON (the cookie carries the token)
	usersOnly := a.token("root", rootPW, "users tasks")
	for _, tc := range []struct {
		method, cookie string
		want           int
	}{{"GET", ta, 200}, {"POST", ta, 405}, {"GET", usersOnly, 403}} {
		req, _ := http.NewRequest(tc.method, a.base+"/admin/river/", nil)
		req.AddCookie(&http.Cookie{Name: "gadget_session", Value: tc.cookie})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s /admin/river/ with a session = %d, want %d", tc.method, res.StatusCode, tc.want)
		}
	}
	w1 := startWorker(t, bin, env)
	w2 := startWorker(t, bin, env, "--queues", "virustotal,otx,abuseipdb")
	db, err := pgxpool.New(context.Background(), env["GADGET_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}

	// identical concurrent lookups on both APIs: one job, one upstream call
	// long enough that every request is in flight before the call ends, even
	// under the race detector on a loaded machine
	fake.SetLatency("virustotal", 1500*time.Millisecond)
	var wg sync.WaitGroup
	statuses := make(chan string, 20)
	for i := range 20 {
		base, tok := a.base, ta
		if i%2 == 1 {
			base, tok = b.base, tb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := queryField(base, tok, "198.51.100.60", "virustotal")
			if err != nil {
				s = err.Error()
			}
			statuses <- s
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != "OK" {
			t.Errorf("concurrent lookup status %q", s)
		}
	}
	if c := fake.Calls("virustotal"); c != 1 {
		t.Errorf("virustotal upstream calls = %d, want 1", c)
	}
	if n := count(`SELECT count(*) FROM river_job WHERE queue = 'virustotal'`); n != 1 {
		t.Errorf("virustotal jobs = %d, want 1", n)
	}
	if n := count(`SELECT count(*) FROM upstream_call WHERE provider = 'virustotal' AND status = 'ok'`); n != 1 {
		t.Errorf("ledger rows for the one upstream call = %d, want 1", n)
	}

	// a worker restricted to some queues leaves the others' jobs alone
	if s, err := queryField(a.base, ta, "198.51.100.61", "urlscan"); err != nil || s != "OK" {
		t.Fatalf("urlscan: %q %v", s, err)
	}
	var by []string
	db.QueryRow(context.Background(), `SELECT attempted_by FROM river_job WHERE queue = 'urlscan'`).Scan(&by)
	if len(by) != 1 || !strings.HasPrefix(by[0], fmt.Sprintf("gadget-%d-", w1.cmd.Process.Pid)) {
		t.Errorf("urlscan job attempted by %v, want only worker 1 (pid %d)", by, w1.cmd.Process.Pid)
	}

	// an upstream 429 snoozes the job until Retry-After; it succeeds later
	fake.SetFailure("abuseipdb", 429, time.Second)
	go func() {
		for fake.Calls("abuseipdb") == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		fake.ClearFailure("abuseipdb")
	}()
	if s, err := queryField(b.base, tb, "198.51.100.63", "abuseipdb"); err != nil || s != "OK" {
		t.Errorf("after a 429: %q %v", s, err)
	}
	if c := fake.Calls("abuseipdb"); c != 2 {
		t.Errorf("abuseipdb calls = %d, want the 429 and the retry", c)
	}
	if n := count(`SELECT (metadata->>'snoozes')::int FROM river_job WHERE queue = 'abuseipdb'`); n != 1 {
		t.Errorf("snoozes = %d, want 1", n)
	}

	// a worker killed mid-call: the job is rescued and retried by the other
	// worker; the caller gets PENDING; every upstream call has one ledger row
	fake.SetLatency("otx", 2*time.Second)
	pending := make(chan string, 1)
	go func() {
		s, err := queryField(b.base, tb, "198.51.100.62", "otx")
		if err != nil {
			s = err.Error()
		}
		pending <- s
	}()
	// mid-call: the fake has the request and the call's mark is written
	// (the worker writes it beside the call, so a kill in the call's first
	// moments may come before it: the documented gap)
	deadline := time.Now().Add(10 * time.Second)
	for (fake.Calls("otx") == 0 || count(`SELECT count(*) FROM job_call`) == 0) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	db.QueryRow(context.Background(), `SELECT attempted_by FROM river_job WHERE queue = 'otx'`).Scan(&by)
	victim := w2
	if len(by) == 1 && strings.HasPrefix(by[0], fmt.Sprintf("gadget-%d-", w1.cmd.Process.Pid)) {
		victim = w1
	}
	victim.cmd.Process.Signal(syscall.SIGKILL)
	<-victim.done
	if s := <-pending; s != "PENDING" && s != "OK" {
		t.Errorf("caller during the kill got %q, want PENDING or OK", s)
	}
	// rescue after GADGET_JOB_RESCUE_AFTER, at the leader's next rescuer pass
	deadline = time.Now().Add(75 * time.Second)
	for count(`SELECT count(*) FROM river_job WHERE queue = 'otx' AND state = 'completed'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the killed worker's job was not retried; jobs: %d", count(`SELECT count(*) FROM river_job WHERE queue = 'otx'`))
		}
		time.Sleep(200 * time.Millisecond)
	}
	calls := fake.Calls("otx")
	rows := count(`SELECT count(*) FROM upstream_call WHERE provider = 'otx' AND status IN ('ok', 'interrupted')`)
	if calls != 2 || rows != calls {
		t.Errorf("otx: %d upstream calls, %d ledger rows for them; want 2 and 2", calls, rows)
	}
	if n := count(`SELECT count(*) FROM upstream_call WHERE provider = 'otx' AND status = 'interrupted'`); n != 1 {
		t.Errorf("interrupted rows = %d, want 1", n)
	}
	// asking again returns the finished answer from the cache
	fake.SetLatency("otx", 0)
	if s, err := queryField(a.base, ta, "198.51.100.62", "otx"); err != nil || s != "OK" {
		t.Errorf("asking again: %q %v", s, err)
	}
	if c := fake.Calls("otx"); c != calls {
		t.Errorf("asking again called upstream (%d calls)", c)
	}
}
