package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// rig is one process's job runtime on a fresh PostgreSQL schema, its
// providers pointed at a fake intel server.
type rig struct {
	fake    *fakeintel.Server
	store   *store.Store
	pool    *pgxpool.Pool
	fetcher *enrich.Fetcher
	rt      *jobs.Runtime
	// newFetcher is another process's Fetcher: same providers, its own cache
	newFetcher func() *enrich.Fetcher
}

func newRig(t *testing.T, queues map[string]int) *rig { return newRigTB(t, queues) }

// newRigTB builds the rig; wrap, when given, wraps each provider.
func newRigTB(t testing.TB, queues map[string]int, wrap ...func(provider.Provider) provider.Provider) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Migrate(ctx, st.Pool()); err != nil {
		t.Fatal(err)
	}
	fake := fakeintel.New(os.DirFS("../provider/testdata"), fakeintel.Options{Seed: 1})
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	var live []provider.Provider
	for _, d := range provider.Descriptors() {
		p, err := d.New(provider.Config{BaseURL: hs.URL + "/" + d.Name, APIKey: "demo-key", Timeout: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wrap {
			p = w(p)
		}
		live = append(live, p)
	}
	reg, err := provider.NewRegistry(live...)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]enrich.Settings{}
	for _, d := range provider.Descriptors() {
		settings[d.Name] = enrich.Settings{Rate: provider.Rate{Events: 1000, Per: time.Second}, CacheTTL: time.Hour, NotFoundTTL: time.Minute}
	}
	newFetcher := func() *enrich.Fetcher {
		f, err := enrich.NewFetcher(enrich.FetcherConfig{Registry: reg, Settings: settings,
			Cache: cache.NewMemory[*lookup.Result](1000), Limiter: ratelimit.NewBuckets(time.Now)})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	fetcher := newFetcher()
	rt := startRuntime(t, jobs.Config{Pool: st.Pool(), Fetcher: fetcher, Store: st.JobQueue(st.Pool()), Queues: queues,
		JobTimeout: 4 * time.Second, RescueAfter: 5 * time.Second, MaxAttempts: 3})
	return &rig{fake: fake, store: st, pool: st.Pool(), fetcher: fetcher, rt: rt, newFetcher: newFetcher}
}

// startRuntime starts a job runtime of c, stopped when the test ends.
func startRuntime(t testing.TB, c jobs.Config) *jobs.Runtime {
	t.Helper()
	rt, err := jobs.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Stop(ctx)
	})
	return rt
}

func allQueues() map[string]int {
	q := map[string]int{}
	for _, d := range provider.Descriptors() {
		q[d.Name] = 4
	}
	return q
}

var caller = lookup.Caller{Username: "analyst", Endpoint: "POST /graphql indicator", IP: "192.0.2.9", UserAgent: "test"}

func (r *rig) call(name, value string, within time.Duration) *lookup.Result {
	ind, err := indicator.Parse(value)
	if err != nil {
		panic(err)
	}
	return r.rt.Executor.Execute(context.Background(), enrich.Call{Provider: name, Indicator: ind, Caller: caller,
		Deadline: time.Now().Add(within)})
}

// usage counts the usage rows of provider name by status.
// usage counts a provider's ledger rows by status.
func (r *rig) usage(t *testing.T, name string) map[string]int {
	return r.countBy(t, `SELECT status, count(*) FROM upstream_call WHERE provider = $1 GROUP BY status`, name)
}

// jobStates counts the jobs of a queue by state.
func (r *rig) jobStates(t *testing.T, queue string) map[string]int {
	return r.countBy(t, `SELECT state::text, count(*) FROM river_job WHERE queue = $1 GROUP BY state`, queue)
}

// countBy runs a (label, count) query.
func (r *rig) countBy(t *testing.T, query string, arg string) map[string]int {
	t.Helper()
	rows, err := r.pool.Query(context.Background(), query, arg)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

func (r *rig) eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The ledger row is written before the waiter has the answer; River's
// completer marks the job completed after.
func TestRoundTripAccountsBeforeAnswering(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	res := r.call("abuseipdb", "198.51.100.7", 5*time.Second)
	if res.Status != lookup.StatusOK || res.JobID == 0 || res.Bytes <= 0 {
		t.Fatalf("result = %+v", res)
	}
	if got := r.usage(t, "abuseipdb"); got["ok"] != 1 || len(got) != 1 {
		t.Errorf("ledger rows = %v, want one ok row", got)
	}
	r.eventually(t, func() bool { return r.jobStates(t, "abuseipdb")["completed"] == 1 }, "the job is completed")
	var marks int
	if err := r.pool.QueryRow(context.Background(), `SELECT count(*) FROM job_call`).Scan(&marks); err != nil || marks != 0 {
		t.Errorf("call marks left = %d (%v), want 0", marks, err)
	}
	// the answer filled the cache: the next ask needs no job
	if c := r.fetcher.Cached(context.Background(), "abuseipdb", indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.7"}); c == nil || c.Status != lookup.StatusOK {
		t.Errorf("cache after the job: %+v", c)
	}
	// a not-found answer is final too
	nf := r.call("malwarebazaar", "00000000000000000000000000000000", 5*time.Second)
	if nf.Status != lookup.StatusNotFound {
		t.Errorf("not found = %+v", nf)
	}
}

func TestIdenticalConcurrentLookupsShareOneJob(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	r.fake.SetLatency("virustotal", 300*time.Millisecond)
	const n = 20
	results := make([]*lookup.Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.call("virustotal", "198.51.100.8", 5*time.Second)
		}()
	}
	wg.Wait()
	for _, res := range results {
		if res.Status != lookup.StatusOK || res.JobID == 0 {
			t.Fatalf("result: status %s, job %d", res.Status, res.JobID)
		}
	}
	if c := r.fake.Calls("virustotal"); c != 1 {
		t.Errorf("upstream calls = %d, want 1", c)
	}
	// one job made the call (the upstream count above, and one usage row
	// below); under heavy load an insert racing the first job's completion
	// makes a second job, which finds the answer in the cache
	r.eventually(t, func() bool {
		got := r.jobStates(t, "virustotal")
		return got["completed"] >= 1 && got["completed"] == sum(got)
	}, "every job is finished")
	if got := r.usage(t, "virustotal"); got["ok"] != 1 || len(got) != 1 {
		t.Errorf("ledger rows %v; want the one call's", got)
	}
}

// failOnce makes provider answer status until its first call, then heals.
func failOnce(r *rig, name string, status int, retryAfter time.Duration) {
	r.fake.SetFailure(name, status, retryAfter)
	go func() {
		for r.fake.Calls(name) == 0 {
			time.Sleep(2 * time.Millisecond)
		}
		r.fake.ClearFailure(name)
	}()
}

func TestUpstream429SnoozesAndSucceedsLater(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	failOnce(r, "otx", 429, time.Second)
	start := time.Now()
	res := r.call("otx", "198.51.100.9", 8*time.Second)
	if res.Status != lookup.StatusOK || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("after a 429: %+v in %s", res, time.Since(start))
	}
	if c := r.fake.Calls("otx"); c != 2 {
		t.Errorf("upstream calls = %d, want 2", c)
	}
	if got := r.usage(t, "otx"); got["rate_limited"] != 1 || got["ok"] != 1 {
		t.Errorf("usage rows = %v, want one per upstream call", got)
	}
	var snoozes int
	if err := r.pool.QueryRow(context.Background(), `SELECT (metadata->>'snoozes')::int FROM river_job WHERE id = $1`, res.JobID).Scan(&snoozes); err != nil || snoozes != 1 {
		t.Errorf("snoozes = %d (%v)", snoozes, err)
	}
}

// A lookup that joins a job deferred past its deadline (snoozed for an
// hour after a 429) answers PENDING at once instead of waiting it out.
func TestJoiningADeferredJobAnswersAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	failOnce(r, "otx", 429, time.Hour)
	first := r.call("otx", "198.51.100.19", 3*time.Second)
	if first.Status != lookup.StatusPending || first.JobID == 0 {
		t.Fatalf("first call after a 429 of an hour: %+v", first)
	}
	r.eventually(t, func() bool { return r.jobStates(t, "otx")["scheduled"] == 1 }, "the job snoozed")
	start := time.Now()
	again := r.call("otx", "198.51.100.19", 3*time.Second)
	if took := time.Since(start); again.Status != lookup.StatusPending || again.JobID != first.JobID || took > time.Second {
		t.Errorf("asked again: %+v in %s; want PENDING on job %d at once", again, took, first.JobID)
	}
	if again.RetryAfter < 50*time.Minute {
		t.Errorf("retry after %s, want about an hour", again.RetryAfter)
	}
	if c := r.fake.Calls("otx"); c != 1 {
		t.Errorf("upstream calls = %d, want 1", c)
	}
}

func TestServerErrorRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	failOnce(r, "shodan", 503, 0)
	res := r.call("shodan", "198.51.100.10", 8*time.Second)
	if res.Status != lookup.StatusOK {
		t.Fatalf("after a 503: %+v", res)
	}
	if got := r.usage(t, "shodan"); got["error"] != 1 || got["ok"] != 1 {
		t.Errorf("usage rows = %v, want the failed and the good call", got)
	}
	var attempt int
	r.pool.QueryRow(context.Background(), `SELECT attempt FROM river_job WHERE id = $1`, res.JobID).Scan(&attempt)
	if attempt != 2 {
		t.Errorf("attempts = %d, want 2", attempt)
	}
}

func TestAuthFailureCancelsAndTellsTheWaiter(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	r.fake.SetFailure("ipinfo", 401, 0)
	start := time.Now()
	res := r.call("ipinfo", "198.51.100.11", 8*time.Second)
	if res.Status != lookup.StatusError || res.Err == nil || res.Err.Code != "UPSTREAM_ERROR" || time.Since(start) > 2*time.Second {
		t.Fatalf("after a 401: %+v in %s", res, time.Since(start))
	}
	// River records the cancellation just after the worker told the waiter
	r.eventually(t, func() bool { return r.jobStates(t, "ipinfo")["cancelled"] == 1 }, "the job is cancelled")
	if c := r.fake.Calls("ipinfo"); c != 1 {
		t.Errorf("upstream calls = %d, want 1 (no retry of a permanent failure)", c)
	}
	if got := r.usage(t, "ipinfo"); got["error"] != 1 {
		t.Errorf("usage rows = %v", got)
	}
}

func TestWaitRunsOutPendingThenCached(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	r.fake.SetLatency("greynoise", 1500*time.Millisecond)
	res := r.call("greynoise", "198.51.100.12", 600*time.Millisecond)
	if res.Status != lookup.StatusPending || res.JobID == 0 || res.Err == nil {
		t.Fatalf("short wait: %+v", res)
	}
	ind := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.12"}
	r.eventually(t, func() bool { return r.fetcher.Cached(context.Background(), "greynoise", ind) != nil }, "the finished job fills the cache")
	r.eventually(t, func() bool { return r.usage(t, "greynoise")["ok"] == 1 }, "the job accounts its call")
}

func TestRestrictedWorkerLeavesOtherQueuesAlone(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]int{"rdap": 2})
	if res := r.call("rdap", "198.51.100.13", 5*time.Second); res.Status != lookup.StatusOK {
		t.Fatalf("rdap = %+v", res)
	}
	res := r.call("urlscan", "198.51.100.13", 400*time.Millisecond)
	if res.Status != lookup.StatusPending {
		t.Fatalf("urlscan with no worker = %+v", res)
	}
	if c := r.fake.Calls("urlscan"); c != 0 {
		t.Errorf("urlscan called %d times by a worker not on its queue", c)
	}
	if got := r.jobStates(t, "urlscan"); got["available"] != 1 {
		t.Errorf("urlscan jobs = %v, want one waiting", got)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// A worker killed mid-call leaves its mark; an attempt that then finds the
// answer in the cache (no call of its own) still writes the lost call's row.
func TestLostCallRecordedOnACacheHit(t *testing.T) {
	t.Parallel()
	r := newRig(t, map[string]int{"abuseipdb": 1}) // nobody works rdap yet
	res := r.call("rdap", "198.51.100.14", 300*time.Millisecond)
	if res.Status != lookup.StatusPending {
		t.Fatalf("rdap with no worker = %+v", res)
	}
	ctx := context.Background()
	if _, err := r.pool.Exec(ctx, `INSERT INTO job_call (job_id, started_at) VALUES ($1, now())`, res.JobID); err != nil {
		t.Fatal(err)
	}
	ind := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.14"}
	if up := r.fetcher.Fetch(ctx, enrich.Call{Provider: "rdap", Indicator: ind}, enrich.FetchOptions{}); up.Result.Status != lookup.StatusOK { // fills the cache
		t.Fatalf("upstream = %+v", up.Result)
	}
	rt, err := jobs.New(ctx, jobs.Config{Pool: r.pool, Fetcher: r.fetcher, Store: r.store.JobQueue(r.pool), Queues: map[string]int{"rdap": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Stop(context.Background()) })
	r.eventually(t, func() bool { return r.jobStates(t, "rdap")["completed"] == 1 }, "the job completes from the cache")
	if got := r.usage(t, "rdap"); got["interrupted"] != 1 || len(got) != 1 {
		t.Errorf("usage rows = %v, want the lost call's interrupted row only", got)
	}
	var marks int
	r.pool.QueryRow(ctx, `SELECT count(*) FROM job_call`).Scan(&marks)
	if marks != 0 || r.fake.Calls("rdap") != 1 {
		t.Errorf("marks left %d, rdap calls %d (want 0 and the one that filled the cache)", marks, r.fake.Calls("rdap"))
	}
}

// A job worked by another process answers the waiter here through the
// NOTIFY sent after its transaction committed (this process's cache never
// sees the answer, and the job records no output for a small answer).
func TestNoticeReachesAnotherProcess(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil) // inserts and waits only
	ctx := context.Background()
	other, err := jobs.New(ctx, jobs.Config{Pool: r.pool, Fetcher: r.newFetcher(), Store: r.store.JobQueue(r.pool),
		Queues: map[string]int{"abuseipdb": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Stop(context.Background()) })
	for i := range 3 {
		value := fmt.Sprintf("198.51.100.%d", 20+i)
		res := r.call("abuseipdb", value, 5*time.Second)
		if res.Status != lookup.StatusOK || res.JobID == 0 {
			t.Fatalf("%s through another process = %+v", value, res)
		}
		ind := indicator.Indicator{Kind: indicator.IPv4, Value: value}
		if c := r.fetcher.Cached(ctx, "abuseipdb", ind); c != nil {
			t.Fatalf("the answer reached this process's cache: %+v", c)
		}
	}
	if got := r.usage(t, "abuseipdb"); got["ok"] != 3 {
		t.Errorf("ledger rows = %v, want 3 ok", got)
	}
}

// bloated answers with a summary too large for a notification.
type bloated struct{ provider.Provider }

func (b bloated) Lookup(ctx context.Context, ind indicator.Indicator) (*provider.Result, error) {
	res, err := b.Provider.Lookup(ctx, ind)
	if err == nil {
		res.Summary = map[string]string{"padding": strings.Repeat("x", 9000)}
	}
	return res, err
}

// An answer too large for a notification reaches a waiter in another
// process, whose cache does not have it, from the job's recorded output.
func TestLargeAnswerReachesAnotherProcess(t *testing.T) {
	t.Parallel()
	r := newRigTB(t, nil, func(p provider.Provider) provider.Provider { return bloated{p} }) // inserts and waits only
	worker := startRuntime(t, jobs.Config{Pool: r.pool, Fetcher: r.newFetcher(), Store: r.store.JobQueue(r.pool),
		Queues: map[string]int{"virustotal": 2}})
	res := r.call("virustotal", "198.51.100.30", 5*time.Second)
	if res.Status != lookup.StatusOK || res.JobID == 0 {
		t.Fatalf("virustotal through another process = %+v", res)
	}
	b, err := lookup.Codec{}.Encode(res)
	if err != nil || len(b) <= 8000 {
		t.Fatalf("the answer is %d bytes (%v); the test needs one larger than a notification (8000 bytes)", len(b), err)
	}
	if c := r.fetcher.Cached(context.Background(), "virustotal", indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.30"}); c != nil {
		t.Fatalf("the answer reached this process's cache: %+v", c)
	}
	// in the worker's own process the notice carries the whole answer
	ind := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.31"}
	local := worker.Executor.Execute(context.Background(), enrich.Call{Provider: "virustotal", Indicator: ind, Caller: caller,
		Deadline: time.Now().Add(5 * time.Second)})
	if local.Status != lookup.StatusOK || local.JobID == 0 {
		t.Fatalf("virustotal in the worker's process = %+v", local)
	}
	if got := r.usage(t, "virustotal"); got["ok"] != 2 || len(got) != 1 {
		t.Errorf("ledger rows = %v, want two ok rows", got)
	}
}

// TestInsertFailureFallsBack: a call whose job cannot be queued (here
// River's table is gone; in production, PostgreSQL restarting) is made by
// the fallback executor in this process; without one it answers ERROR.
func TestInsertFailureFallsBack(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	ctx := context.Background()
	rt := startRuntime(t, jobs.Config{Pool: r.pool, Fetcher: r.fetcher, Store: r.store.JobQueue(r.pool),
		Fallback: &enrich.Inline{Fetcher: r.fetcher}})
	if _, err := r.pool.Exec(ctx, `ALTER TABLE river_job RENAME TO river_job_gone`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.pool.Exec(context.Background(), `ALTER TABLE river_job_gone RENAME TO river_job`) })
	ind, _ := indicator.Parse("198.51.100.61")
	res := rt.Executor.Execute(ctx, enrich.Call{Provider: "abuseipdb", Indicator: ind, Caller: caller, Deadline: time.Now().Add(5 * time.Second)})
	if res.Status != lookup.StatusOK || r.fake.Calls("abuseipdb") != 1 {
		t.Fatalf("with a fallback: %s %+v, %d upstream calls; want OK from one call made here", res.Status, res.Err, r.fake.Calls("abuseipdb"))
	}
	if res := r.call("abuseipdb", "198.51.100.62", 5*time.Second); res.Status != lookup.StatusError {
		t.Fatalf("without a fallback: %s, want ERROR", res.Status)
	}
}

// silent is a job store whose notices are never sent, as when a worker
// process dies between its commit and its NOTIFY.
type silent struct{ jobs.Store }

func (silent) Notify(context.Context, string, []string) error { return errors.New("notices lost") }

// lostAfterCommit is a job store whose first RecordAttempt commits and
// then reports the connection lost, as when PostgreSQL's answer to the
// commit never arrives.
type lostAfterCommit struct {
	jobs.Store
	once sync.Once
}

func (l *lostAfterCommit) RecordAttempt(ctx context.Context, jobID int64, calls []accounting.Call) error {
	err := l.Store.RecordAttempt(ctx, jobID, calls)
	first := false
	l.once.Do(func() { first = true })
	if err == nil && first {
		return io.ErrUnexpectedEOF
	}
	return err
}

// A worker tries recording its call again when the connection was lost;
// when the lost try had committed, the call still has one ledger row.
func TestRecordingRetriedAfterCommitWritesOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil) // inserts and waits only
	startRuntime(t, jobs.Config{Pool: r.pool, Fetcher: r.fetcher, Store: &lostAfterCommit{Store: r.store.JobQueue(r.pool)},
		Queues: map[string]int{"abuseipdb": 2}})
	res := r.call("abuseipdb", "198.51.100.8", 5*time.Second)
	if res.Status != lookup.StatusOK {
		t.Fatalf("answer = %s %+v, want OK", res.Status, res.Err)
	}
	if got := r.usage(t, "abuseipdb"); got["ok"] != 1 || len(got) != 1 {
		t.Errorf("ledger rows = %v, want one ok row for the one upstream call (%d)", got, r.fake.Calls("abuseipdb"))
	}
}

// TestLostNoticesAnsweredBySweep: jobs worked by another process whose
// notices never arrive still answer their waiters, through the
// dispatcher's one sweep query per tick, well before their deadline. (The
// two share one cache, as processes do through Redis: a small answer is
// read from the cache the job filled.)
func TestLostNoticesAnsweredBySweep(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil) // inserts and waits only
	startRuntime(t, jobs.Config{Pool: r.pool, Fetcher: r.fetcher, Store: silent{r.store.JobQueue(r.pool)},
		Queues: map[string]int{"abuseipdb": 4}})
	const waiters = 30
	results := make([]*lookup.Result, waiters)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range waiters {
		wg.Go(func() { results[i] = r.call("abuseipdb", fmt.Sprintf("198.51.100.%d", 100+i), 10*time.Second) })
	}
	wg.Wait()
	took := time.Since(start)
	for i, res := range results {
		if res.Status != lookup.StatusOK || res.JobID == 0 {
			t.Errorf("waiter %d = %s %+v, want OK from its job", i, res.Status, res.Err)
		}
	}
	if took > 5*time.Second {
		t.Errorf("lost notices answered after %s, want within a few sweep ticks (%s)", took.Round(time.Millisecond), time.Second)
	}
}

// TestReconnectSweepsAtOnce: when the dispatcher's LISTEN connection is
// lost, notices sent meanwhile are lost with it; on reconnecting, the sweep
// reads every job waited on at once, instead of on its next tick (which
// cannot answer before a second has passed since the job finished).
func TestReconnectSweepsAtOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil) // inserts and waits only
	ctx := context.Background()
	startRuntime(t, jobs.Config{Pool: r.pool, Fetcher: r.fetcher, Store: silent{r.store.JobQueue(r.pool)},
		Queues: map[string]int{"abuseipdb": 2}})
	channel, err := r.store.JobQueue(r.pool).Channel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	go func() { // the job has finished by now; its notice was never sent
		time.Sleep(300 * time.Millisecond)
		if _, err := r.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1`,
			"LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			t.Error(err)
		}
	}()
	res := r.call("abuseipdb", "198.51.100.140", 10*time.Second)
	if res.Status != lookup.StatusOK {
		t.Fatalf("answer = %s %+v, want OK", res.Status, res.Err)
	}
	if took := time.Since(start); took >= time.Second {
		t.Errorf("answered %s after the lookup began, want within a second (the reconnect's sweep, not the tick's)", took.Round(time.Millisecond))
	}
}

// Concurrent inserts share River transactions; identical ones find one
// job, identical fresh ones each get theirs; a batch that fails (here one
// job's queue name is invalid) leaves the others to insert alone, and only
// the bad one fails.
func TestGroupedInserts(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil) // no workers: the jobs stay available
	g := jobs.NewGroupedInserter(r.rt.Client)
	ctx := context.Background()
	const n = 30
	type outcome struct {
		res *rivertype.JobInsertResult
		err error
	}
	at := func(args func(i int) jobs.LookupArgs) []outcome {
		out := make([]outcome, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := g.Insert(ctx, args(i))
				out[i] = outcome{res, err}
			}()
		}
		close(start)
		wg.Wait()
		return out
	}
	distinct := at(func(i int) jobs.LookupArgs {
		return jobs.LookupArgs{Provider: "abuseipdb", IndKind: "ipv4", Value: fmt.Sprintf("198.51.100.%d", 100+i)}
	})
	ids := map[int64]bool{}
	for i, o := range distinct {
		if o.err != nil || o.res == nil || o.res.UniqueSkippedAsDuplicate {
			t.Fatalf("insert %d: %+v, %v", i, o.res, o.err)
		}
		ids[o.res.Job.ID] = true
	}
	var rows, txs int
	if err := r.pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT created_at) FROM river_job WHERE queue = 'abuseipdb'`).Scan(&rows, &txs); err != nil {
		t.Fatal(err)
	}
	if len(ids) != n || rows != n {
		t.Errorf("%d job ids, %d rows; want %d of each", len(ids), rows, n)
	}
	if txs >= n { // a transaction's jobs share its now()
		t.Errorf("%d jobs in %d transactions; want them grouped", n, txs)
	}
	same := at(func(int) jobs.LookupArgs {
		return jobs.LookupArgs{Provider: "otx", IndKind: "ipv4", Value: "198.51.100.99"}
	})
	for i, o := range same {
		if o.err != nil || o.res.Job.ID != same[0].res.Job.ID {
			t.Fatalf("identical insert %d: %+v, %v; want job %d", i, o.res, o.err, same[0].res.Job.ID)
		}
	}
	fresh := at(func(int) jobs.LookupArgs {
		return jobs.LookupArgs{Provider: "internetdb", IndKind: "ipv4", Value: "198.51.100.98", Fresh: true}
	})
	ids = map[int64]bool{}
	for i, o := range fresh {
		if o.err != nil {
			t.Fatalf("fresh insert %d: %v", i, o.err)
		}
		ids[o.res.Job.ID] = true
	}
	if err := r.pool.QueryRow(ctx, `SELECT count(DISTINCT created_at) FROM river_job WHERE queue = 'internetdb'`).Scan(&txs); err != nil {
		t.Fatal(err)
	}
	if len(ids) != n || txs >= n { // fresh jobs are not unique: they may share a batch
		t.Errorf("%d identical fresh inserts: %d jobs in %d transactions; want %d jobs, grouped", n, len(ids), txs, n)
	}
	bad := at(func(i int) jobs.LookupArgs {
		if i == n/2 {
			return jobs.LookupArgs{Provider: "no such queue!", IndKind: "ipv4", Value: "198.51.100.1"}
		}
		return jobs.LookupArgs{Provider: "greynoise", IndKind: "ipv4", Value: fmt.Sprintf("198.51.100.%d", 100+i)}
	})
	for i, o := range bad {
		if (i == n/2) != (o.err != nil) {
			t.Errorf("insert %d beside a bad one: %+v, %v", i, o.res, o.err)
		}
	}
}

// A fresh lookup right after an identical one gets a job of its own and a
// new upstream call: it never joins the job that has just answered, which
// River's completer may not have marked completed yet.
func TestFreshLookupRightAfterAnotherCallsAgain(t *testing.T) {
	t.Parallel()
	r := newRig(t, allQueues())
	ind := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.40"}
	call := func(fresh bool) *lookup.Result {
		return r.rt.Executor.Execute(context.Background(), enrich.Call{Provider: "abuseipdb", Indicator: ind, Fresh: fresh, Caller: caller,
			Deadline: time.Now().Add(3 * time.Second)})
	}
	first := call(false)
	again := call(true)
	if first.Status != lookup.StatusOK || again.Status != lookup.StatusOK || again.JobID == first.JobID {
		t.Fatalf("first: %s job %d; fresh: %s job %d; want OK from two jobs", first.Status, first.JobID, again.Status, again.JobID)
	}
	if n := r.fake.Calls("abuseipdb"); n != 2 {
		t.Errorf("upstream calls = %d, want 2", n)
	}
}

// Each grouped insert transaction wakes the workers, even one that follows
// another at once: River sends a queue's insert NOTIFY at most once per
// FetchCooldown, and a job whose NOTIFY was skipped could wait for River's
// poll, a second.
func TestBackToBackInsertsEachNotify(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	g := jobs.NewGroupedInserter(r.rt.Client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	defer conn.Exec(context.Background(), `UNLISTEN *`)
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{schema + ".river_insert"}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if _, err := g.Insert(ctx, jobs.LookupArgs{Provider: "abuseipdb", IndKind: "ipv4", Value: fmt.Sprintf("198.51.100.%d", 60+i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for got < n {
		wait, stop := context.WithTimeout(ctx, time.Second)
		_, err := conn.Conn().WaitForNotification(wait)
		stop()
		if err != nil {
			break
		}
		got++
	}
	if got != n {
		t.Errorf("%d back-to-back inserts sent %d insert notifications, want one each", n, got)
	}
}
