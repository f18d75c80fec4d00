package main

// Benchmarks of the enrichment path (make bench). They print figures; none
// asserts a time. Each starts the real run() on SQLite and the fake intel
// server in-process.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

func pct(ds []time.Duration, p float64) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
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
		if d.Serves("ipv4") {
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
		"GADGET_LOG_LEVEL=error", "GADGET_ADDR=127.0.0.1:0")
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
// is River's latency minus inline's, at p50 and p99.
func BenchmarkRiverOverhead(b *testing.B) {
	callers := 20 // BENCH_CALLERS overrides
	if n, err := strconv.Atoi(os.Getenv("BENCH_CALLERS")); err == nil && n > 0 {
		callers = n
	}
	measure := func(executor string) []time.Duration {
		env := map[string]string{
			"GADGET_DATABASE_URL": testenv.Postgres(b), "GADGET_REDIS_URL": testenv.RedisURL(),
			"GADGET_REDIS_PREFIX": testenv.Name("bench:") + ":", "GADGET_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0123",
			"GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOG_LEVEL": "error", "GADGET_EXECUTOR": executor,
			"GADGET_ACCOUNT_CACHE_TTL": "1s", "GADGET_ABUSEIPDB_WORKERS": os.Getenv("BENCH_WORKERS"),
		}
		fake := fakeintel.New(os.DirFS("../../internal/provider/testdata"), fakeintel.Options{Seed: 1})
		srv := httptest.NewServer(fake)
		defer srv.Close()
		for _, d := range provider.Descriptors() {
			p := "GADGET_" + strings.ToUpper(d.Name) + "_"
			env[p+"BASE_URL"], env[p+"API_KEY"], env[p+"RATE"] = srv.URL+"/"+d.Name, "demo-key", "1000000/s"
		}
		fake.SetLatency("abuseipdb", 50*time.Millisecond)
		in := start(b, env)
		defer in.stop()
		tok := in.token("root", rootPW, "")
		q := `{ indicator(value: "%s") { ... on IPAddress { abuseipdb { status } } } }`
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
		post(b, client, in.base, tok, fmt.Sprintf(q, "198.51.100.250")) // warm up
		const each = 20
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					start := time.Now()
					raw := post(b, client, in.base, tok, fmt.Sprintf(q, fmt.Sprintf("45.%d.%d.%d", 100+c, i, len(executor))))
					took := time.Since(start)
					if !bytes.Contains(raw, []byte(`"OK"`)) {
						panic(fmt.Sprintf("%s: %s", executor, raw))
					}
					mu.Lock()
					lat = append(lat, took)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return lat
	}
	inline, river := measure("inline"), measure("river")
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	i50, i99, r50, r99 := pct(inline, .50), pct(inline, .99), pct(river, .50), pct(river, .99)
	b.ReportMetric(ms(r50-i50), "p50-overhead-ms")
	b.ReportMetric(ms(r99-i99), "p99-overhead-ms")
	fmt.Printf("river vs inline, 50 ms provider, %d concurrent callers, %d lookups: inline p50 %.1f / p99 %.1f ms, river p50 %.1f / p99 %.1f ms; overhead p50 %.1f ms, p99 %.1f ms\n",
		callers, len(river), ms(i50), ms(i99), ms(r50), ms(r99), ms(r50-i50), ms(r99-i99))
}
