package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// riverQuery is the cold lookup of -river: one provider, so each lookup is
// one job (River) or one call (inline).
const riverQuery = `{ indicator(value: "%s") { ... on IPAddress { abuseipdb { status } } } }`

// riverSide is one `gadget serve` of -river and what was measured of it.
type riverSide struct {
	name      string
	cmd       *exec.Cmd
	base, tok string
	first     int // first octet of its values: the sides never share one
	lat       []time.Duration
	self, all time.Duration // CPU of the server process, and of the machine without loadgen
	n         int
}

// runRiver measures the River executor against the inline one out of
// process, as the River overhead budget is stated: two `gadget serve`
// children with the environment given (PostgreSQL, and Redis when set),
// one with GADGET_EXECUTOR=river and its workers in-process (serve's
// default), one with GADGET_EXECUTOR=inline; abuseipdb on the fake intel
// server answers after latency. In each round, each of the callers looks
// up each never-asked values one after another, on one side and then the
// other.
func runRiver(envs []string, bin string, callers, rounds, each int, latency time.Duration) error {
	if !slices.ContainsFunc(envs, func(e string) bool { return strings.HasPrefix(e, "GADGET_DATABASE_URL=postgres") }) {
		return errors.New("-river needs -env GADGET_DATABASE_URL=postgres://… (River runs on PostgreSQL)")
	}
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin, err = gadgetBinary(dir, "gadget", "", bin); err != nil {
		return err
	}
	fi := newFake()
	fi.SetLatency("abuseipdb", latency)
	fake := httptest.NewServer(fi)
	defer fake.Close()
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * callers}}
	run := rand.Int64N(1 << 30) // this run's Redis keys and values are its own
	var sides []*riverSide
	for i, executor := range []string{"inline", "river"} {
		env := append(gadgetEnv(dir, fake.URL, envs), "GADGET_EXECUTOR="+executor,
			fmt.Sprintf("GADGET_REDIS_PREFIX=loadgen-%d-%s:", run, executor))
		cmd, base, err := startChild(exec.Command(bin, "serve"), env, "listening on ")
		if err != nil {
			return fmt.Errorf("%s: %w", executor, err)
		}
		defer stop(cmd)
		s := &riverSide{name: executor, cmd: cmd, base: base, first: 45 + i}
		if s.tok, err = token(client, base, password); err != nil {
			return fmt.Errorf("%s: %w", executor, err)
		}
		sides = append(sides, s)
	}
	next := uint32(run) // values: <first>.x.y.z, distinct across rounds and runs
	value := func(s *riverSide) string {
		if next++; next&255 == 0 { // no .0 addresses
			next++
		}
		return fmt.Sprintf("%d.%d.%d.%d", s.first, next>>16&255, next>>8&255, next&255)
	}
	// one concurrent round each first: connections, workers and caches up
	for _, s := range sides {
		if _, err := s.round(client, callers, 1, false, func() string { return value(s) }); err != nil {
			return fmt.Errorf("%s warm-up: %w", s.name, err)
		}
	}
	fmt.Printf("River vs inline, out of process: abuseipdb answering after %s, %d callers, %d interleaved rounds × %d cold lookups per caller\n",
		latency, callers, rounds, each)
	fmt.Printf("gadget serve with: %s\n", describe(envs))
	for r := range rounds {
		order := sides
		if r%2 == 1 {
			order = []*riverSide{sides[1], sides[0]}
		}
		p50 := map[string]time.Duration{}
		for _, s := range order {
			lat, err := s.round(client, callers, each, true, func() string { return value(s) })
			if err != nil {
				return fmt.Errorf("%s round %d: %w", s.name, r+1, err)
			}
			p50[s.name] = pct(lat, 50)
		}
		fmt.Printf("round %d: inline p50 %5.1f ms | river p50 %5.1f ms | overhead p50 %+5.1f ms\n",
			r+1, ms(p50["inline"]), ms(p50["river"]), ms(p50["river"]-p50["inline"]))
	}
	for _, s := range sides {
		fmt.Printf("%s: p50 %.1f ms, p99 %.1f ms; CPU per lookup %.2f ms in gadget, %.2f ms in the rest of the machine (PostgreSQL, Redis; loadgen left out)\n",
			s.name, ms(pct(s.lat, 50)), ms(pct(s.lat, 99)), ms(s.self/time.Duration(s.n)), ms((s.all-s.self)/time.Duration(s.n)))
	}
	in, rv := sides[0], sides[1]
	fmt.Printf("overhead of River over inline, %d lookups each: p50 %+.1f ms, p99 %+.1f ms (budget: p50 ≤ 10 ms, p99 ≤ 40 ms)\n",
		len(rv.lat), ms(pct(rv.lat, 50)-pct(in.lat, 50)), ms(pct(rv.lat, 99)-pct(in.lat, 99)))
	return nil
}

// round runs callers goroutines that each look up each values from
// value, one after another, and returns their latencies; every answer
// must be OK. A measured round is added to the side's figures (the
// warm-up is not).
func (s *riverSide) round(client *http.Client, callers, each int, measured bool, value func() string) ([]time.Duration, error) {
	var mu sync.Mutex
	var lat []time.Duration
	var errs []error
	self0, ok1 := cpuTime(s.cmd.Process.Pid)
	all0, own0, ok2 := machineCPU()
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				mu.Lock()
				v := value()
				mu.Unlock()
				body := fmt.Appendf(nil, `{"query":%q}`, fmt.Sprintf(riverQuery, v))
				start := time.Now()
				answer, err := post(client, "http://"+s.base+"/graphql", s.tok, body)
				took := time.Since(start)
				if err == nil && !bytes.Contains(answer, []byte(`"status":"OK"`)) {
					err = fmt.Errorf("%s: %.300s", v, answer)
				}
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					lat = append(lat, took)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d of %d lookups failed; the first: %w", len(errs), callers*each, errs[0])
	}
	self1, ok3 := cpuTime(s.cmd.Process.Pid)
	all1, own1, ok4 := machineCPU()
	if measured {
		s.lat = append(s.lat, lat...)
		s.n += len(lat)
		if ok1 && ok2 && ok3 && ok4 {
			s.self += self1 - self0
			s.all += (all1 - all0) - (own1 - own0)
		}
	}
	return lat, nil
}

// machineCPU is the CPU time the whole machine spent busy (/proc/stat: all
// but idle and iowait), and this process's.
func machineCPU() (all, own time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, false
	}
	var busy int64
	for i, x := range f[1:8] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		busy += n
	}
	own, ok = cpuTime(os.Getpid())
	const tick = 10 * time.Millisecond // USER_HZ
	return time.Duration(busy) * tick, own, ok
}
