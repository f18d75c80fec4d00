package main

// Benchmarks of the enrichment path (make bench). They print figures; none
// asserts a time. Each starts the real run() on SQLite and the fake intel
// server in-process.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func benchInstance(b *testing.B) (*instance, *fakeintel.Server, string) {
	b.Helper()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(b.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOG_LEVEL": "error",
		"GADGET_ACCOUNT_CACHE_TTL": os.Getenv("GADGET_ACCOUNT_CACHE_TTL")}
	if env["GADGET_ACCOUNT_CACHE_TTL"] == "" {
		env["GADGET_ACCOUNT_CACHE_TTL"] = "1s" // the figures in the README are with a 1 s account cache
	}
	fake := fakeintel.New(os.DirFS("../../internal/provider/testdata"), fakeintel.Options{Seed: 1})
	srv := httptest.NewServer(fake)
	b.Cleanup(srv.Close)
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		env[p+"BASE_URL"] = srv.URL + "/" + d.Name
		env[p+"API_KEY"] = "demo-key"
		env[p+"RATE"] = "1000000/s"
	}
	in := start(b, env)
	return in, fake, in.token("root", rootPW, "")
}

// post sends a GraphQL query and returns the body; it fails on errors.
func post(b testing.TB, client *http.Client, base, tok, query string) []byte {
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest("POST", base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || bytes.Contains(raw, []byte(`"errors"`)) {
		b.Fatalf("HTTP %d: %s", res.StatusCode, raw)
	}
	return raw
}

// vacuumCatalogs vacuums the database of dsn when its server runs without
// autovacuum (this machine's does), so that runs compare: every test run
// creates and drops schemas, and their dead catalog rows pile up (48,700
// in pg_attribute after a morning of runs). A server with autovacuum,
// PostgreSQL's default, keeps them down itself.
func vacuumCatalogs(b *testing.B, dsn string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var on string
	if err := conn.QueryRow(ctx, `SHOW autovacuum`).Scan(&on); err != nil {
		b.Fatal(err)
	}
	if on == "on" {
		return
	}
	if _, err := conn.Exec(ctx, `VACUUM`); err != nil {
		b.Fatal(err)
	}
	fmt.Println("autovacuum is off on this PostgreSQL: vacuumed the database first")
}

// riverStages prints where a River lookup's time went, from the jobs'
// timestamps: before the insert committed, waiting for a worker, the
// attempt (upstream call and ledger rows), and from the attempt's end to
// the answer (below zero when the notice reached the caller before Work
// returned and River stamped the job finalized).
func riverStages(b *testing.B, dsn string, spans map[string][2]time.Time) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT args->>'value', created_at, attempted_at, finalized_at FROM river_job WHERE state = 'completed'`)
	if err != nil {
		b.Fatal(err)
	}
	var before, queued, attempt, after []time.Duration
	for rows.Next() {
		var v string
		var c, a, f time.Time
		if err := rows.Scan(&v, &c, &a, &f); err != nil {
			b.Fatal(err)
		}
		sp, ok := spans[v]
		if !ok {
			continue
		}
		before, queued, attempt, after = append(before, c.Sub(sp[0])), append(queued, a.Sub(c)), append(attempt, f.Sub(a)), append(after, sp[1].Sub(f))
	}
	if rows.Err() != nil || len(before) == 0 {
		b.Fatalf("no jobs matched: %v", rows.Err())
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, s := range []struct {
		name string
		ds   []time.Duration
	}{{"request to insert", before}, {"insert to fetch", queued}, {"fetch to attempt end", attempt}, {"end to answer", after}} {
		fmt.Printf("  %-20s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", s.name, ms(pct(s.ds, .5)), ms(pct(s.ds, .99)), ms(pct(s.ds, 1)))
	}
}

// cpuTicks reads the machine's busy time and this process's CPU time, in
// clock ticks (10 ms), from /proc; zeros where /proc is missing.
func cpuTicks() (machine, self int64) {
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
		for i, v := range f[1:] {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && i != 3 && i != 4 { // idle, iowait
				machine += n
			}
		}
	}
	if raw, err := os.ReadFile("/proc/self/stat"); err == nil {
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		self = u + k
	}
	return machine, self
}

func pct(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// BenchmarkCachedLookupAllocs: cmd/loadgen's cached lookup (a verdict and
// two typed provider fields), sent one at a time to a server in this
// process in the default configuration; it reports the allocations of the
// whole process per request (server, writer, publisher and this client),
// a figure that repeats within a few allocations from run to run, where
// throughput on this shared machine moves by ±10 %.
func BenchmarkCachedLookupAllocs(b *testing.B) {
	b.Setenv("GADGET_ACCOUNT_CACHE_TTL", "0") // the default, not benchInstance's 1 s
	in, _, tok := benchInstance(b)
	q := `{ indicator(value: "198.51.100.77") { value verdict { level score } ... on IPAddress { abuseipdb { status cached abuseConfidenceScore } virustotal { status cached stats { malicious } } } } }`
	client := &http.Client{}
	if raw := post(b, client, in.base, tok, q); !bytes.Contains(raw, []byte(`"level"`)) { // fills the cache
		b.Fatalf("no verdict: %s", raw)
	}
	body, _ := json.Marshal(map[string]any{"query": q})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for b.Loop() {
		req, _ := http.NewRequest("POST", in.base+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("HTTP %d", res.StatusCode)
		}
	}
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "process-allocs/op")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(b.N), "process-B/op")
}

// BenchmarkFanOut: one indicator across 6 providers at 200 ms upstream
// latency; the figure is total time minus 200 ms.
func BenchmarkFanOut(b *testing.B) {
	in, fake, tok := benchInstance(b)
	fake.SetDefaultLatency(200 * time.Millisecond)
	client := &http.Client{}
	q := `{ indicator(value: "198.51.100.%d", fresh: true) { ... on IPAddress {
		virustotal { status } abuseipdb { status } greynoise { status } internetdb { status } otx { status } shodan { status } } } }`
	post(b, client, in.base, tok, fmt.Sprintf(q, 1)) // warm connections
	var overhead []time.Duration
	for i := 0; i < 60; i++ {
		start := time.Now()
		raw := post(b, client, in.base, tok, fmt.Sprintf(q, 2+i%200))
		overhead = append(overhead, time.Since(start)-200*time.Millisecond)
		if bytes.Count(raw, []byte(`"OK"`)) != 6 {
			b.Fatalf("not 6 OK answers: %s", raw)
		}
	}
	p50, p99 := pct(overhead, .50), pct(overhead, .99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-overhead-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-overhead-ms")
	fmt.Printf("fan-out overhead over 200 ms upstream, 6 providers, 60 requests: p50 %.1f ms, p99 %.1f ms\n", float64(p50.Microseconds())/1000, float64(p99.Microseconds())/1000)
}

// load runs workers for d and returns requests per second.
func load(d time.Duration, workers int, do func(*http.Client) error) (float64, error) {
	var n atomic.Int64
	var firstErr atomic.Value
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			for time.Now().Before(stop) {
				if err := do(client); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n.Load()) / d.Seconds(), nil
}

// BenchmarkCachedThroughput: cached lookups through HTTP + auth + GraphQL,
// beside a bare net/http handler returning the same bytes.
func BenchmarkCachedThroughput(b *testing.B) {
	in, _, tok := benchInstance(b)
	q := `{ indicator(value: "198.51.100.77") { value ... on IPAddress { abuseipdb { status cached abuseConfidenceScore verdict { level reason } } } } }`
	body, _ := json.Marshal(map[string]any{"query": q})
	answer := post(b, &http.Client{}, in.base, tok, q) // fills the cache
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	defer bare.Close()
	request := func(url string, auth bool) func(*http.Client) error {
		return func(c *http.Client) error {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if auth {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			res, err := c.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				return fmt.Errorf("HTTP %d", res.StatusCode)
			}
			return nil
		}
	}
	// Interleaved rounds, so that load from elsewhere on the machine
	// weighs on both sides alike; the figures are the medians.
	const workers, rounds, dur = 16, 7, 1500 * time.Millisecond
	var fulls, raws, ratios []float64
	for range rounds {
		full, err := load(dur, workers, request(in.base+"/graphql", true))
		if err != nil {
			b.Fatal(err)
		}
		raw, err := load(dur, workers, request(bare.URL, false))
		if err != nil {
			b.Fatal(err)
		}
		fulls, raws, ratios = append(fulls, full), append(raws, raw), append(ratios, 100*full/raw)
	}
	median := func(xs []float64) float64 {
		xs = append([]float64(nil), xs...)
		sort.Float64s(xs)
		return xs[len(xs)/2]
	}
	b.ReportMetric(median(fulls), "gadget-req/s")
	b.ReportMetric(median(raws), "bare-req/s")
	b.ReportMetric(median(ratios), "ratio-%")
	fmt.Printf("cached lookups: %.0f req/s through HTTP+auth+GraphQL, %.0f req/s bare net/http (%d workers, %d interleaved rounds of %s; medians): %.0f%% (rounds %s)\n",
		median(fulls), median(raws), workers, rounds, dur, median(ratios), roundList(ratios))
}

func roundList(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, " ")
}

// BenchmarkColdCoalescing: upstream calls made for 100 concurrent identical
// cold lookups.
func BenchmarkColdCoalescing(b *testing.B) {
	in, fake, tok := benchInstance(b)
	fake.SetDefaultLatency(200 * time.Millisecond)
	q := `{ indicator(value: "198.51.100.99") { verdict { level } } }`
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(b, &http.Client{}, in.base, tok, q)
		}()
	}
	wg.Wait()
	most, total, asked := 0, 0, 0
	for _, d := range provider.Descriptors() {
		if d.Serves("ipv4") && !d.Local {
			asked++
			n := fake.Calls(d.Name)
			most, total = max(most, n), total+n
		}
	}
	b.ReportMetric(float64(most), "max-calls/provider")
	fmt.Printf("100 concurrent identical cold lookups: %d upstream calls over %d providers, at most %d per provider\n", total, asked, most)
}

// BenchmarkBatch1000: indicators() with 1,000 distinct values; time and the
// server's peak RSS (VmHWM of a separate gadget process, so the load
// generator and the fake intel server are not counted).
func BenchmarkBatch1000(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "gadget")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	fake := fakeintel.New(os.DirFS("../../internal/provider/testdata"), fakeintel.Options{Seed: 1})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	env := append(os.Environ(), "GADGET_DATABASE_URL=sqlite://"+filepath.Join(dir, "gadget.db"), "GADGET_ROOT_PASSWORD="+rootPW,
		"GADGET_LOG_LEVEL=error", "GADGET_ADDR=127.0.0.1:0",
		"GADGET_REQUEST_UPSTREAM_CALLS=0") // measures the whole batch's 11,000 calls, beyond the default per-request budget
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		env = append(env, p+"BASE_URL="+srv.URL+"/"+d.Name, p+"API_KEY=demo-key", p+"RATE=1000000/s")
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	base := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			base = addr
			break
		}
	}
	go io.Copy(io.Discard, stdout)
	if base == "" {
		b.Fatal("gadget did not start")
	}
	form := url.Values{"username": {"root"}, "password": {rootPW}}
	res, err := http.PostForm(base+"/api/authenticate", form)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	idle := peakRSS(cmd.Process.Pid)
	values := make([]string, 1000)
	for i := range values {
		values[i] = strconv.Quote(fmt.Sprintf("45.%d.%d.%d", 10+i/65536, (i/256)%256, i%256))
	}
	q := `{ indicators(values: [` + strings.Join(values, ",") + `]) { value verdict { level score } } }`
	client := &http.Client{Timeout: 5 * time.Minute}
	start := time.Now()
	raw := post(b, client, base, tok.AccessToken, q)
	took := time.Since(start)
	if n := bytes.Count(raw, []byte(`"value"`)); n != 1000 {
		b.Fatalf("%d values answered", n)
	}
	hwm := peakRSS(cmd.Process.Pid)
	b.ReportMetric(took.Seconds(), "batch-s")
	b.ReportMetric(float64(hwm)/(1<<20), "peak-RSS-MB")
	fmt.Printf("indicators() with 1,000 distinct IPv4 values (every IPv4 provider, %d upstream calls): %.2f s, gadget peak RSS %.0f MB (%.0f MB after sign-in)\n",
		1000*ipv4Providers(), took.Seconds(), float64(hwm)/(1<<20), float64(idle)/(1<<20))
}

func ipv4Providers() int {
	n := 0
	for _, d := range provider.Descriptors() {
		if d.Serves("ipv4") {
			n++
		}
	}
	return n
}

// peakRSS reads a process's VmHWM from /proc, in bytes.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkRiverOverhead: the same cold lookups (one provider at 50 ms
// upstream latency, 20 concurrent callers) through the inline executor and
// through River jobs worked in-process, on PostgreSQL + Redis; the figure
// is River's latency minus inline's, at p50 and p99. Both instances stay
// up and take turns, round by round (BENCH_ROUNDS, default 5, of
// BENCH_EACH lookups per caller, default 20), so load from elsewhere on
// the machine weighs on both alike; percentiles are over all rounds.
// BENCH_DSN_EXTRA is appended to the River instance's database URL (e.g.
// &pool_max_conns=8).
func BenchmarkRiverOverhead(b *testing.B) {
	envInt := func(name string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
			return n
		}
		return def
	}
	callers, rounds, each := envInt("BENCH_CALLERS", 20), envInt("BENCH_ROUNDS", 5), envInt("BENCH_EACH", 20)
	fake := fakeintel.New(os.DirFS("../../internal/provider/testdata"), fakeintel.Options{Seed: 1})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.SetLatency("abuseipdb", 50*time.Millisecond)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	q := `{ indicator(value: "%s") { ... on IPAddress { abuseipdb { status } } } }`
	type side struct {
		name, dsn, tok string
		in             *instance
		lat            []time.Duration
		spans          map[string][2]time.Time
		cpu, self      int64
	}
	boot := func(executor string) *side {
		_, prefix := testenv.Redis(b) // its keys go when the benchmark ends
		env := map[string]string{
			"GADGET_DATABASE_URL": testenv.Postgres(b), "GADGET_REDIS_URL": testenv.RedisURL(),
			"GADGET_REDIS_PREFIX": prefix, "GADGET_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0123",
			"GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOG_LEVEL": "error", "GADGET_EXECUTOR": executor,
			"GADGET_ACCOUNT_CACHE_TTL": "1s", "GADGET_ABUSEIPDB_WORKERS": os.Getenv("BENCH_WORKERS"),
		}
		for _, d := range provider.Descriptors() {
			p := "GADGET_" + strings.ToUpper(d.Name) + "_"
			env[p+"BASE_URL"], env[p+"API_KEY"], env[p+"RATE"] = srv.URL+"/"+d.Name, "demo-key", "1000000/s"
		}
		dsn := env["GADGET_DATABASE_URL"]
		if executor == "river" {
			env["GADGET_DATABASE_URL"] += os.Getenv("BENCH_DSN_EXTRA")
		}
		in := start(b, env)
		s := &side{name: executor, dsn: dsn, in: in, tok: in.token("root", rootPW, ""), spans: map[string][2]time.Time{}}
		// warm up with one concurrent round: connections, workers and
		// caches are up before timing starts
		var warm sync.WaitGroup
		for c := range callers {
			warm.Go(func() {
				post(b, client, in.base, s.tok, fmt.Sprintf(q, fmt.Sprintf("198.51.%d.%d", 100+c, len(executor))))
			})
		}
		warm.Wait()
		return s
	}
	run := func(s *side, round int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		cpu0, self0 := cpuTicks()
		for c := range callers {
			wg.Go(func() {
				for i := range each {
					value := fmt.Sprintf("45.%d.%d.%d", 100+c, round, i%256) // public, distinct per round
					start := time.Now()
					raw := post(b, client, s.in.base, s.tok, fmt.Sprintf(q, value))
					took := time.Since(start)
					if !bytes.Contains(raw, []byte(`"OK"`)) {
						panic(fmt.Sprintf("%s: %s", s.name, raw))
					}
					mu.Lock()
					s.lat = append(s.lat, took)
					s.spans[value] = [2]time.Time{start, start.Add(took)}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		cpu1, self1 := cpuTicks()
		s.cpu, s.self = s.cpu+cpu1-cpu0, s.self+self1-self0
	}
	vacuumCatalogs(b, testenv.Postgres(b))
	inline, river := boot("inline"), boot("river")
	defer inline.in.stop()
	defer river.in.stop()
	var rounds50 []time.Duration
	for r := range rounds {
		n := len(inline.lat)
		run(inline, r)
		run(river, r)
		rounds50 = append(rounds50, pct(river.lat[n:], .5)-pct(inline.lat[n:], .5))
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, s := range []*side{inline, river} {
		n := float64(len(s.lat))
		fmt.Printf("%s: CPU per lookup %.2f ms (this process %.2f ms, the rest of the machine %.2f ms)\n", s.name,
			float64(s.cpu)*10/n, float64(s.self)*10/n, float64(s.cpu-s.self)*10/n)
	}
	riverStages(b, river.dsn, river.spans)
	i50, i99, r50, r99 := pct(inline.lat, .50), pct(inline.lat, .99), pct(river.lat, .50), pct(river.lat, .99)
	b.ReportMetric(ms(r50-i50), "p50-overhead-ms")
	b.ReportMetric(ms(r99-i99), "p99-overhead-ms")
	fmt.Printf("p50 overhead by round (ms):")
	for _, d := range rounds50 {
		fmt.Printf(" %.1f", ms(d))
	}
	fmt.Println()
	fmt.Printf("river vs inline, 50 ms provider, %d concurrent callers, %d rounds, %d lookups each: inline p50 %.1f / p99 %.1f ms, river p50 %.1f / p99 %.1f ms; overhead p50 %.1f ms, p99 %.1f ms\n",
		callers, rounds, len(river.lat), ms(i50), ms(i99), ms(r50), ms(r99), ms(r50-i50), ms(r99-i99))
}
