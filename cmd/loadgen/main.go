// Command loadgen measures cached lookups out of process: it builds and
// starts `gadget serve` as a child process with the default configuration
// (or the environment given), points every provider at an in-process fake
// intel server, warms the cache with one lookup, then runs interleaved
// rounds of the same lookup against gadget and against a bare net/http
// handler (a second child process: this program with -bare) answering the
// same bytes. It prints each side's throughput and latency percentiles per
// round and their medians.
//
//	go run ./cmd/loadgen                       # SQLite, inline, in-memory cache
//	go run ./cmd/loadgen -env GADGET_DATABASE_URL=postgres://… -env GADGET_REDIS_URL=redis://…
//	go run ./cmd/loadgen -batch 20 -c 1        # indicators(20 values, cachedOnly: true) { verdict }
//	go run ./cmd/loadgen -query '{ __typename }'   # any query: e.g. the floor of GraphQL over HTTP
//	go run ./cmd/loadgen -lists 100000 -baseline-tags nopolicy   # policy on vs off, same run
//	go run ./cmd/loadgen -baseline-gadget /tmp/gadget-old        # this tree vs another build, same run
//	go run ./cmd/loadgen -soak -runs 2 -d 60s -settle 150s -c 200 -env …  # errors, hangs, RSS after each run
//	go run ./cmd/loadgen -river -rounds 5 -env GADGET_DATABASE_URL=postgres://… -env GADGET_REDIS_URL=redis://…  # River vs inline, cold
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Query is the measured lookup: a verdict (every IPv4 provider) and two
// typed provider fields.
const Query = `{ indicator(value: "198.51.100.77") { value verdict { level score } ... on IPAddress { abuseipdb { status cached abuseConfidenceScore } virustotal { status cached stats { malicious } } } } }`

// BatchQuery is the measured lookup with -batch: the verdicts of a batch
// from the cache alone (the issue 14 figure); the warm-up asks the same
// values with every provider first.
const BatchQuery = `query($v: [String!]!) { indicators(values: $v, cachedOnly: true) { value verdict { level score complete coverage { asked answered pending } } } }`

func main() {
	var envs multi
	bare := flag.String("bare", "", "internal: serve the bytes of this file on 127.0.0.1:0 (the bare handler)")
	conns := flag.Int("c", 16, "concurrent connections")
	rounds := flag.Int("rounds", 7, "interleaved rounds")
	dur := flag.Duration("d", 2*time.Second, "length of a round on each side")
	bin := flag.String("gadget", "", "gadget binary (default: built from ./cmd/gadget)")
	flag.Var(&envs, "env", "KEY=VALUE for gadget serve (repeatable); default: SQLite in a temporary folder")
	var w workload
	flag.IntVar(&w.batch, "batch", 0, "measure indicators(values: N IPv4 values, cachedOnly: true) { verdict } instead of one cached lookup")
	flag.StringVar(&w.query, "query", "", "measure this GraphQL query instead of the cached lookup (asked twice first, so its answers are cached)")
	var pol policyRun
	flag.StringVar(&pol.baselineTags, "baseline-tags", "", "also build gadget with these build tags (nopolicy: no lists, TLP, playbooks or sightings) and measure it in the same rounds, as the baseline")
	flag.StringVar(&pol.baselineBin, "baseline-gadget", "", "also run this gadget binary (e.g. another commit's build) and measure it in the same rounds, as the baseline")
	flag.IntVar(&pol.lists, "lists", 0, "load this many list entries (CIDRs, domain suffixes, hashes; BLOCK, NEVER_SEND and KNOWN_GOOD lists) into the measured gadget first")
	soak := flag.Bool("soak", false, "soak: -c clients for -d of mixed cached and cold lookups; print errors, hangs and RSS")
	cold := flag.Float64("cold", 0.1, "soak: the share of lookups of a value never asked before")
	settle := flag.Duration("settle", 30*time.Second, "soak: how long after a run its settled RSS is read (a minute or more: the median of its last 30 s; it is also read 30 s after)")
	soakRuns := flag.Int("runs", 1, "soak: runs against the same server, one after another (RSS compared between them: steady state or leak)")
	river := flag.Bool("river", false, "River overhead: cold lookups through GADGET_EXECUTOR=river against inline, both on the -env database (PostgreSQL)")
	each := flag.Int("each", 20, "river: cold lookups per caller and round")
	latency := flag.Duration("latency", 50*time.Millisecond, "river: how long abuseipdb on the fake takes to answer")
	flag.Parse()
	if *river {
		callers := 20 // the budget's
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "c" {
				callers = *conns
			}
		})
		if err := runRiver(envs, *bin, callers, *rounds, *each, *latency); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen -river:", err)
			os.Exit(1)
		}
		return
	}
	if *bare != "" {
		if err := serveBare(*bare); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen -bare:", err)
			os.Exit(1)
		}
		return
	}
	if *soak {
		if err := runSoak(envs, *bin, *conns, *soakRuns, *dur, *settle, *cold); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen -soak:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(envs, *bin, *conns, *rounds, *dur, w, pol); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// workload is what a round asks: the cached lookup (zero), a cachedOnly
// batch of that many values, or a query of the caller's.
type workload struct {
	batch int
	query string
}

func run(envs []string, bin string, conns, rounds int, dur time.Duration, w workload, pol policyRun) error {
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	gadget, base, fake, err := startGadget(dir, bin, envs)
	if err != nil {
		return err
	}
	defer fake.Close()
	defer stop(gadget)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	tok, err := token(client, base, password)
	if err != nil {
		return err
	}
	if err := loadLists(client, "http://"+base+"/graphql", tok, pol.lists); err != nil {
		return err
	}
	body, answer, err := warm(client, "http://"+base+"/graphql", tok, w)
	if err != nil {
		return err
	}
	var baseline *side // built with pol.baselineTags, or the binary pol.baselineBin
	if pol.baselineTags != "" || pol.baselineBin != "" {
		if baseline, err = startBaseline(client, dir, pol.baselineTags, pol.baselineBin, gadgetEnv(dir, fake.URL, envs), password, w); err != nil {
			return err
		}
		defer stop(baseline.cmd)
	}
	file := filepath.Join(dir, "answer.json")
	if err := os.WriteFile(file, answer, 0o600); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bareCmd, bareAddr, err := startChild(exec.Command(self, "-bare", file), os.Environ(), "listening on ")
	if err != nil {
		return err
	}
	defer stop(bareCmd)

	what := "cached lookup"
	switch {
	case w.query != "":
		what = w.query
	case w.batch > 0:
		what = fmt.Sprintf("indicators(%d values, cachedOnly: true) { verdict }", w.batch)
	}
	fmt.Printf("%s, %d connections, %d interleaved rounds of %s per side, %d-byte answer\n", what, conns, rounds, dur, len(answer))
	fmt.Printf("gadget serve with: %s\n", describe(envs))
	if pol.lists > 0 || baseline != nil {
		from := fmt.Sprintf("built with -tags %q", pol.baselineTags)
		if pol.baselineBin != "" {
			from = "the binary " + pol.baselineBin
		}
		fmt.Printf("policy: %d list entries in the measured gadget; baseline %s\n", pol.lists, from)
	}
	var gs, bs, ls []result
	for i := range rounds {
		var g, l result
		measureBaseline := func() {
			if baseline != nil {
				l = onCPU(baseline.cmd, func() result { return load(client, "http://"+baseline.base+"/graphql", baseline.tok, body, conns, dur) })
			}
		}
		if i%2 == 1 { // every other round the baseline goes first
			measureBaseline()
		}
		g = onCPU(gadget, func() result { return load(client, "http://"+base+"/graphql", tok, body, conns, dur) })
		if i%2 == 0 {
			measureBaseline()
		}
		if baseline != nil {
			if l.err != nil {
				return l.err
			}
			ls = append(ls, l)
			fmt.Printf("round %d: baseline %6.0f req/s p50 %5.2f ms p99 %5.2f ms | gadget/baseline %3.0f %%\n",
				i+1, l.rate, ms(l.p50), ms(l.p99), 100*g.rate/l.rate)
		}
		b := onCPU(bareCmd, func() result { return load(client, "http://"+bareAddr+"/", "", body, conns, dur) })
		if g.err != nil || b.err != nil {
			return errors.Join(g.err, b.err)
		}
		gs, bs = append(gs, g), append(bs, b)
		fmt.Printf("round %d: gadget %6.0f req/s p50 %5.2f ms p99 %5.2f ms cpu %4.0f µs/req | bare %6.0f req/s p50 %5.2f ms p99 %5.2f ms cpu %4.0f µs/req | %3.0f %%\n",
			i+1, g.rate, ms(g.p50), ms(g.p99), us(g.cpu), b.rate, ms(b.p50), ms(b.p99), us(b.cpu), 100*g.rate/b.rate)
	}
	ratios := make([]float64, len(gs))
	for i := range gs {
		ratios[i] = 100 * gs[i].rate / bs[i].rate
	}
	fmt.Printf("median: gadget %.0f req/s (p50 %.2f ms, p99 %.2f ms, cpu %.0f µs/req), bare %.0f req/s (p50 %.2f ms, p99 %.2f ms, cpu %.0f µs/req): %.0f %% of the bare handler\n",
		median(gs, func(r result) float64 { return r.rate }), median(gs, func(r result) float64 { return ms(r.p50) }),
		median(gs, func(r result) float64 { return ms(r.p99) }), median(gs, func(r result) float64 { return us(r.cpu) }),
		median(bs, func(r result) float64 { return r.rate }),
		median(bs, func(r result) float64 { return ms(r.p50) }), median(bs, func(r result) float64 { return ms(r.p99) }),
		median(bs, func(r result) float64 { return us(r.cpu) }), medianOf(ratios))
	if baseline != nil {
		printBaseline(gs, ls)
	}
	return nil
}

// warm makes the measured request's answers cached and returns its body
// and the answer it then gets.
func warm(client *http.Client, url, tok string, w workload) (body, answer []byte, err error) {
	if w.query != "" {
		body, _ = json.Marshal(map[string]string{"query": w.query})
		for range 2 {
			if answer, err = post(client, url, tok, body); err != nil {
				return nil, nil, fmt.Errorf("warm-up query: %w", err)
			}
		}
		if bytes.Contains(answer, []byte(`"errors"`)) {
			return nil, nil, fmt.Errorf("the query answered errors: %s", answer)
		}
		return body, answer, nil
	}
	batch := w.batch
	if batch == 0 {
		body, _ = json.Marshal(map[string]string{"query": Query})
		if answer, err = post(client, url, tok, body); err != nil {
			return nil, nil, fmt.Errorf("warm-up lookup: %w", err)
		}
		if !bytes.Contains(answer, []byte(`"abuseipdb":{"status":"OK"`)) {
			return nil, nil, fmt.Errorf("warm-up lookup answered %s", answer)
		}
		if answer, err = post(client, url, tok, body); err != nil || !bytes.Contains(answer, []byte(`"cached":true`)) {
			return nil, nil, fmt.Errorf("second lookup not cached: %s %v", answer, err)
		}
		return body, answer, nil
	}
	values := make([]string, batch)
	for i := range values {
		values[i] = fmt.Sprintf("198.51.%d.%d", 100+i/250, 1+i%250)
	}
	cold, _ := json.Marshal(map[string]any{"query": strings.Replace(BatchQuery, "cachedOnly: true", "cachedOnly: false", 1), "variables": map[string]any{"v": values}})
	if _, err = post(client, url, tok, cold); err != nil {
		return nil, nil, fmt.Errorf("warm-up batch: %w", err)
	}
	body, _ = json.Marshal(map[string]any{"query": BatchQuery, "variables": map[string]any{"v": values}})
	if answer, err = post(client, url, tok, body); err != nil {
		return nil, nil, fmt.Errorf("cachedOnly batch: %w", err)
	}
	if bytes.Contains(answer, []byte(`"answered":0`)) {
		return nil, nil, fmt.Errorf("cachedOnly batch after the warm-up has values without answers: %s", answer)
	}
	return body, answer, nil
}

// password is the root password of the gadget loadgen starts.
const password = "loadgen-password-0123"

// startGadget builds gadget into dir (unless bin names one) and starts
// `gadget serve` with every provider pointed at a fake intel server, on
// SQLite in dir unless envs say otherwise (later entries win).
func startGadget(dir, bin string, envs []string) (*exec.Cmd, string, *httptest.Server, error) {
	bin, err := gadgetBinary(dir, "gadget", "", bin)
	if err != nil {
		return nil, "", nil, err
	}
	fake := httptest.NewServer(newFake())
	gadget, base, err := startChild(exec.Command(bin, "serve"), gadgetEnv(dir, fake.URL, envs), "listening on ")
	if err != nil {
		fake.Close()
		return nil, "", nil, err
	}
	return gadget, base, fake, nil
}

// gadgetBinary is bin, or when bin is "" gadget built with tags into
// dir under name.
func gadgetBinary(dir, name, tags, bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	bin = filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-tags", tags, "-o", bin, "./cmd/gadget").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", name, err, out)
	}
	return bin, nil
}

// newFake is the fake intel server loadgen points every provider at.
func newFake() *fakeintel.Server {
	return fakeintel.New(os.DirFS("internal/provider/testdata"), fakeintel.Options{Seed: 1})
}

// gadgetEnv is the environment of a gadget loadgen starts: SQLite in dir,
// every provider on the fake intel server at fakeURL, then envs (later
// entries win).
func gadgetEnv(dir, fakeURL string, envs []string) []string {
	env := append(os.Environ(), "GADGET_ADDR=127.0.0.1:0", "GADGET_ROOT_PASSWORD="+password,
		"GADGET_DATABASE_URL=sqlite://"+filepath.Join(dir, "gadget.db"))
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		env = append(env, p+"BASE_URL="+fakeURL+"/"+d.Name, p+"API_KEY=demo-key", p+"RATE=1000/s")
	}
	return append(env, envs...)
}

// describe is the non-default configuration, secrets left out.
func describe(envs []string) string {
	if len(envs) == 0 {
		return "defaults (SQLite, inline executor, in-process cache, log level info)"
	}
	var out []string
	for _, e := range envs {
		k, v, _ := strings.Cut(e, "=")
		if secretName(k) {
			out = append(out, k+"=(set)")
			continue
		}
		if u, err := url.Parse(v); err == nil && u.User != nil {
			u.User = url.User(u.User.Username())
			v = u.String()
		}
		out = append(out, k+"="+v)
	}
	return strings.Join(out, " ")
}

// secretName reports whether an environment variable holds a secret
// (GADGET_JWT_SECRET, GADGET_ROOT_PASSWORD, GADGET_<P>_API_KEY, …).
func secretName(k string) bool {
	for _, w := range []string{"SECRET", "PASSWORD", "KEY", "TOKEN"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// startChild starts cmd and waits for the line starting with prefix on
// its stdout; it returns the rest of that line (the address).
func startChild(cmd *exec.Cmd, env []string, prefix string) (*exec.Cmd, string, error) {
	cmd.Env = env
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				addr <- strings.TrimPrefix(strings.TrimSpace(a), "http://")
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			cmd.Wait()
			return nil, "", fmt.Errorf("%s stopped before listening", cmd.Path)
		}
		return cmd, a, nil
	case <-time.After(60 * time.Second):
		stop(cmd)
		return nil, "", fmt.Errorf("%s did not start", cmd.Path)
	}
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// serveBare answers every request with the file's bytes.
func serveBare(file string) error {
	answer, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
}

func token(c *http.Client, base, password string) (string, error) {
	res, err := c.PostForm("http://"+base+"/api/authenticate", url.Values{"username": {"root"}, "password": {password}})
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&t); err != nil || t.AccessToken == "" {
		return "", fmt.Errorf("sign-in: HTTP %d %v", res.StatusCode, err)
	}
	return t.AccessToken, nil
}

func post(c *http.Client, u, tok string, body []byte) ([]byte, error) {
	req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("HTTP %d: %.200s", res.StatusCode, b)
	}
	return b, err
}

type result struct {
	rate     float64 // requests per second
	n        int64   // requests answered
	p50, p99 time.Duration
	cpu      time.Duration // the server's CPU time per request; 0 when unknown
	err      error
}

// load sends the request from conns goroutines for dur.
func load(c *http.Client, u, tok string, body []byte, conns int, dur time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		n         atomic.Int64
		firstErr  error
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				t := time.Now()
				if _, err := post(c, u, tok, body); err != nil {
					if ctx.Err() == nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
					}
					break
				}
				mine = append(mine, time.Since(t))
				n.Add(1)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := result{rate: float64(n.Load()) / elapsed.Seconds(), n: n.Load(), err: firstErr}
	if len(latencies) > 0 {
		slices.Sort(latencies)
		r.p50 = latencies[len(latencies)/2]
		r.p99 = latencies[len(latencies)*99/100]
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// onCPU runs f and sets its result's CPU time per request from the server
// process's CPU time before and after (Linux /proc; 0 elsewhere). Unlike
// req/s, it does not depend on what else the machine runs.
func onCPU(server *exec.Cmd, f func() result) result {
	before, ok := cpuTime(server.Process.Pid)
	r := f()
	after, ok2 := cpuTime(server.Process.Pid)
	if ok && ok2 && r.n > 0 {
		r.cpu = (after - before) / time.Duration(r.n)
	}
	return r
}

// cpuTime is a process's user and system CPU time from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// fields after the command name, which is in parentheses and may hold spaces
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(utime+stime) * tick, true
}

func median(rs []result, f func(result) float64) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = f(r)
	}
	return medianOf(xs)
}

func medianOf(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[len(xs)/2]
}
