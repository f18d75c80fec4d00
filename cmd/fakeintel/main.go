// Command fakeintel serves recorded threat-intelligence answers for every
// registered provider, so gadget runs offline for demos, benchmarks and
// end-to-end tests.
//
//	fakeintel [--addr 127.0.0.1:9000] [--data internal/provider/testdata] [--latency 150ms] …
//
// On start it prints one "export GADGET_<P>_BASE_URL=http://ADDR/<p>" line
// per provider, ready for a shell to eval. SIGINT or SIGTERM shuts it down
// gracefully; a usage error exits with status 2. See package internal/fakeintel for the routes and the value
// conventions (notfound.example, 192.0.2.0/24, evil.example, 203.0.113.0/24).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(os.Stderr, "fakeintel:", err)
	}
	os.Exit(exitCode(err))
}

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errHelp means --help was asked for and shown: exit code 0.
var errHelp = errors.New("help shown")

// exitCode maps run's error to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

const usage = `Usage: fakeintel [flags]

Serves recorded answers of every threat-intelligence provider under
http://ADDR/<provider>, so gadget can run offline. On start it prints
"export GADGET_<P>_BASE_URL=..." lines for a shell to eval. Controls: GET /_fakeintel/stats,
POST /_fakeintel/reset, POST /_fakeintel/fail?provider=x&status=429&retry_after=5,
POST /_fakeintel/latency?provider=x&d=200ms.

Values: 192.0.2.0/24, 3fff::/20, hosts containing "notfound" and hashes
starting with 00000000 are not found; 203.0.113.0/24, values containing
"evil" or "malicious", the recorded sample's and EICAR's hashes and hashes
starting with badc0de are listed (malicious-looking answers); anything else (8.8.8.8,
example.org) is ordinary and gets unlisted, clean answers. Each provider's
routes and answers are in <data>/<provider>/fake.json.

Flags:
`

// config is the parsed command line.
type config struct {
	addr       string
	data       string
	latency    time.Duration
	jitter     time.Duration
	errorRate  float64
	seed       int64
	logLevel   slog.Level
	fail       map[string]fakeintel.Failure
	latencyFor map[string]time.Duration
}

// parseFlags reads args; a mistake is a *usageError, --help is errHelp.
func parseFlags(args []string, stdout, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("fakeintel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9000", "listen `address` (port 0 picks a free port)")
	fs.StringVar(&c.data, "data", "internal/provider/testdata", "`directory` of <provider>/<name>.json recordings")
	fs.DurationVar(&c.latency, "latency", 0, "latency added to every answer, e.g. 150ms")
	fs.DurationVar(&c.jitter, "jitter", 0, "up to this much more latency, uniformly random")
	fs.Float64Var(&c.errorRate, "error-rate", 0, "share (0–1) of answers replaced by a 503, at random")
	fs.Int64Var(&c.seed, "seed", 0, "random `seed` for jitter and errors (0: random)")
	logLevel := fs.String("log-level", "info", "`level`: debug (one line per request), info, warn or error")
	fail := fs.String("fail", "", "forced failures, `provider=status[:retryAfter],…` e.g. virustotal=429:30s,otx=503")
	latencyFor := fs.String("latency-for", "", "per-provider latency, `provider=duration,…` e.g. otx=2s")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return nil, errHelp
		}
		return nil, usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (see --help)", fs.Arg(0))
	}
	var problems []string
	if c.latency < 0 || c.jitter < 0 {
		problems = append(problems, "--latency and --jitter must not be negative")
	}
	if c.errorRate < 0 || c.errorRate > 1 {
		problems = append(problems, fmt.Sprintf("--error-rate %v: want 0 to 1", c.errorRate))
	}
	if err := c.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		problems = append(problems, fmt.Sprintf("--log-level %q: want debug, info, warn or error", *logLevel))
	}
	var err error
	if c.fail, err = parseFail(*fail); err != nil {
		problems = append(problems, "--fail: "+err.Error())
	}
	if c.latencyFor, err = parseLatencyFor(*latencyFor); err != nil {
		problems = append(problems, "--latency-for: "+err.Error())
	}
	if len(problems) > 0 {
		return nil, usagef("%s", strings.Join(problems, "; "))
	}
	return c, nil
}

// pairs splits "a=x,b=y" and checks each name is a served provider.
func pairs(s string, each func(name, value string) error) error {
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, value, ok := strings.Cut(item, "=")
		if !ok || value == "" {
			return fmt.Errorf("%q: want provider=value", item)
		}
		if !slices.Contains(fakeintel.Providers(), name) {
			return fmt.Errorf("unknown provider %q (want one of %s)", name, strings.Join(fakeintel.Providers(), ", "))
		}
		if err := each(name, value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// parseFail reads provider=status[:retryAfter],….
func parseFail(s string) (map[string]fakeintel.Failure, error) {
	out := map[string]fakeintel.Failure{}
	err := pairs(s, func(name, value string) error {
		st, ra, _ := strings.Cut(value, ":")
		status, err := strconv.Atoi(st)
		if err != nil || status < 400 || status > 599 {
			return fmt.Errorf("status %q: want 400–599", st)
		}
		f := fakeintel.Failure{Status: status}
		if ra != "" {
			if f.RetryAfter, err = fakeintel.ParseRetryAfter(ra); err != nil {
				return fmt.Errorf("retry after %w", err)
			}
		}
		out[name] = f
		return nil
	})
	return out, err
}

// parseLatencyFor reads provider=duration,….
func parseLatencyFor(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	err := pairs(s, func(name, value string) error {
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return fmt.Errorf("%q: want a duration such as 200ms", value)
		}
		out[name] = d
		return nil
	})
	return out, err
}

// run is the whole program; it serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))

	if st, err := os.Stat(c.data); err != nil || !st.IsDir() {
		return usagef("--data %s: not a directory of provider recordings (run from the repository root or pass --data)", c.data)
	}
	srv := fakeintel.New(os.DirFS(c.data), fakeintel.Options{
		Latency: c.latency, ProviderLatency: c.latencyFor, Jitter: c.jitter,
		ErrorRate: c.errorRate, Seed: c.seed, Logger: log,
	})
	if err := srv.Validate(); err != nil {
		return usagef("--data %s: %v", c.data, err)
	}
	for name, f := range c.fail {
		srv.SetFailure(name, f.Status, f.RetryAfter)
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := "http://" + displayAddr(ln.Addr())
	fmt.Fprintf(stdout, "# fakeintel on %s (stats: %s/_fakeintel/stats); eval these lines in a shell:\n", base, base)
	for _, name := range fakeintel.Providers() {
		fmt.Fprintf(stdout, "export GADGET_%s_BASE_URL=%s/%s\n", strings.ToUpper(name), base, name)
	}
	log.Info("fakeintel listening", "addr", ln.Addr().String(), "data", c.data, "latency", c.latency.String(),
		"jitter", c.jitter.String(), "error_rate", c.errorRate, "forced_failures", len(c.fail))

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("fakeintel shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		_ = hs.Close() // requests still sleeping in injected latency
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// displayAddr turns a wildcard listen address into one a client can dial.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	switch {
	case ip == nil || (ip.IsUnspecified() && ip.To4() != nil):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
