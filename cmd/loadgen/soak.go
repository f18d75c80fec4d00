package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakQuery asks every IPv4 provider (the verdict) about $v.
const soakQuery = `query($v: String!) { indicator(value: $v) { value verdict { level score complete coverage { asked answered notFound skipped rateLimited failed pending } } } }`

// hangAfter is the latency past which a soak request counts as a hang: the
// lookup deadline (20 s) with room to spare.
const hangAfter = 30 * time.Second

// soakStats is what the soak's clients saw.
type soakStats struct {
	mu                    sync.Mutex
	cached, cold          []time.Duration
	ok, errs, hangs       atomic.Int64
	pending, gqlErrs, bad atomic.Int64
	firstErr              error
	// the first incomplete answer about a warmed value: what was missing
	firstIncompleteCached []byte
}

func (s *soakStats) fail(err error) {
	s.errs.Add(1)
	s.mu.Lock()
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.mu.Unlock()
}

// runSoak starts gadget serve, warms a set of values, then runs clients
// for dur, each sending lookups of which a share cold is of a value never
// asked before, and prints errors, hangs, latencies and the server's RSS
// before, at its peak and after.
func runSoak(envs []string, bin string, clients, runs int, dur, settle time.Duration, cold float64) error {
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
	pid := gadget.Process.Pid
	client := &http.Client{Timeout: hangAfter + 10*time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	tok, err := token(client, base, password)
	if err != nil {
		return err
	}
	u := "http://" + base + "/graphql"
	warm := make([]string, 64)
	for i := range warm {
		warm[i] = fmt.Sprintf("203.0.113.%d", i+1) // answered by the fake, cached after the first ask
		if _, err := soakLookup(client, u, tok, warm[i]); err != nil {
			return fmt.Errorf("warm-up %s: %w", warm[i], err)
		}
	}
	time.Sleep(2 * time.Second)
	rssStart := rss(pid)
	fmt.Printf("soak: %d clients for %s, %.0f %% cold lookups, gadget serve with: %s\n", clients, dur, 100*cold, describe(envs))
	fmt.Printf("before: RSS %.1f MB, %s\n", mb(rssStart), runtimeOf(client, base))

	var coldN atomic.Int64
	coldN.Store(rand.Int64N(1 << 24)) // another run's cold values are cached in a shared Redis
	before := rssStart
	for run := 1; run <= runs; run++ {
		if runs > 1 {
			fmt.Printf("--- run %d of %d\n", run, runs)
		}
		settled := soakRun(client, base, u, tok, pid, warm, &coldN, clients, dur, settle, cold, before)
		if run > 1 {
			fmt.Printf("RSS after run %d against after run %d: %+.1f %%\n", run, run-1, growth(settled, before))
		}
		before = settled
	}
	return nil
}

// soakRun is one run of the soak against the running server: clients
// for dur; it prints what it saw and returns the settled RSS: that of
// settle after the run, or of 30 s after it when settle is under a minute.
func soakRun(client *http.Client, base, u, tok string, pid int, warm []string, coldN *atomic.Int64,
	clients int, dur, settle time.Duration, cold float64, rssStart int64) int64 {
	var st soakStats
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	peak := rssStart
	sampled := make(chan struct{})
	go func() { // sample the server's RSS each second
		defer close(sampled)
		for ctx.Err() == nil {
			peak = max(peak, rss(pid))
			sleepCtx(ctx, time.Second)
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mineCached, mineCold []time.Duration
			for ctx.Err() == nil {
				isCold := rand.Float64() < cold
				v := warm[rand.IntN(len(warm))]
				if isCold {
					n := coldN.Add(1)
					v = fmt.Sprintf("%d.%d.%d.%d", 45+(n>>24)&15, (n>>16)&255, (n>>8)&255, n&255)
				}
				t := time.Now()
				answer, err := soakLookup(client, u, tok, v)
				took := time.Since(t)
				switch {
				case took >= hangAfter || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
					st.hangs.Add(1)
				case err != nil:
					st.fail(err)
				case bytes.Contains(answer, []byte(`"errors"`)):
					st.gqlErrs.Add(1)
					st.fail(fmt.Errorf("graphql errors: %.200s", answer))
				case !bytes.Contains(answer, []byte(`"value":"`+v+`"`)):
					st.bad.Add(1)
					st.fail(fmt.Errorf("answer about another value: %.200s", answer))
				default:
					st.ok.Add(1)
					if !bytes.Contains(answer, []byte(`"complete":true`)) {
						st.pending.Add(1)
						if !isCold {
							st.mu.Lock()
							if st.firstIncompleteCached == nil {
								st.firstIncompleteCached = answer
							}
							st.mu.Unlock()
						}
					}
				}
				if isCold {
					mineCold = append(mineCold, took)
				} else {
					mineCached = append(mineCached, took)
				}
			}
			st.mu.Lock()
			st.cached, st.cold = append(st.cached, mineCached...), append(st.cold, mineCold...)
			st.mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	<-sampled
	client.CloseIdleConnections() // the server's goroutines of 200 idle keep-alive connections are not its own
	after := rss(pid)
	time.Sleep(30 * time.Second)
	at30 := rss(pid)
	runtime30 := runtimeOf(client, base)
	total := st.ok.Load() + st.errs.Load() + st.hangs.Load()
	fmt.Printf("requests: %d in %s (%.0f/s): ok %d (of them incomplete, a provider PENDING or late: %d), errors %d (GraphQL %d, wrong answer %d), hangs (≥ %s or client timeout) %d\n",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), st.ok.Load(), st.pending.Load(),
		st.errs.Load(), st.gqlErrs.Load(), st.bad.Load(), hangAfter, st.hangs.Load())
	fmt.Printf("cached: %d, p50 %.1f ms, p99 %.1f ms | cold: %d, p50 %.1f ms, p99 %.1f ms\n",
		len(st.cached), ms(pct(st.cached, 50)), ms(pct(st.cached, 99)), len(st.cold), ms(pct(st.cold, 50)), ms(pct(st.cold, 99)))
	fmt.Printf("RSS: before %.1f MB, peak %.1f MB, right after %.1f MB, 30 s later %.1f MB (%+.1f %% of before)\n",
		mb(rssStart), mb(peak), mb(after), mb(at30), growth(at30, rssStart))
	fmt.Printf("30 s after: %s\n", runtime30)
	settled := at30
	if settle >= time.Minute {
		// Queued jobs still run, and the near cache (L1 over Redis) keeps an
		// entry up to a minute: what stays after that is what the process
		// keeps. An idle server collects about every 30 s, so its RSS moves
		// within a band: the median of the last 30 s is the figure.
		time.Sleep(settle - time.Minute)
		var band []int64
		for i := range 7 {
			if i > 0 {
				time.Sleep(5 * time.Second)
			}
			band = append(band, rss(pid))
		}
		slices.Sort(band)
		settled = band[len(band)/2]
		fmt.Printf("%s after: RSS %.1f MB (%+.1f %% of before; median of 7 readings 5 s apart, %.1f–%.1f MB), %s\n",
			settle, mb(settled), growth(settled, rssStart),
			mb(band[0]), mb(band[len(band)-1]), runtimeOf(client, base))
	}
	if st.firstErr != nil {
		fmt.Printf("first error: %v\n", st.firstErr)
	}
	if st.firstIncompleteCached != nil {
		fmt.Printf("first incomplete answer about a warmed value: %.400s\n", st.firstIncompleteCached)
	}
	return settled
}

// runtimeOf is the server's goroutines and Go heap in use, from /metrics.
func runtimeOf(c *http.Client, base string) string {
	res, err := c.Get("http://" + base + "/metrics")
	if err != nil {
		return "metrics unavailable"
	}
	defer res.Body.Close()
	var goroutines, heap, entries float64
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, v, _ := strings.Cut(sc.Text(), " ")
		f, _ := strconv.ParseFloat(v, 64)
		switch name {
		case "go_goroutines":
			goroutines = f
		case "go_memstats_heap_inuse_bytes":
			heap = f
		case "gadget_cache_entries":
			entries = f
		}
	}
	return fmt.Sprintf("%.0f goroutines, Go heap in use %.1f MB, %.0f cache entries", goroutines, heap/(1<<20), entries)
}

func soakLookup(c *http.Client, u, tok, value string) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"query": soakQuery, "variables": map[string]string{"v": value}})
	return post(c, u, tok, body)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// rss is process pid's resident set in bytes (Linux), 0 when unknown.
func rss(pid int) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// growth is how much x is above from, in per cent of from.
func growth(x, from int64) float64 { return 100 * (float64(x) - float64(from)) / float64(from) }

func pct(xs []time.Duration, p int) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[min(len(xs)-1, len(xs)*p/100)]
}
