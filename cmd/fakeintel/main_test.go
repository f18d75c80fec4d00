package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

const data = "../../internal/provider/testdata"

func TestParseFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    *config
		wantErr string // substring of a usage error; "" means success
	}{
		{name: "defaults", args: nil, want: &config{
			addr: "127.0.0.1:9000", data: "internal/provider/testdata", logLevel: slog.LevelInfo,
			fail: map[string]fakeintel.Failure{}, latencyFor: map[string]time.Duration{},
		}},
		{name: "everything", args: []string{
			"--addr", "127.0.0.1:0", "--data", "x", "--latency", "150ms", "--jitter=100ms", "--error-rate", "0.25",
			"--seed", "7", "--log-level", "debug", "--fail", "virustotal=429:30s, otx=503,urlscan=401:5",
			"--latency-for", "otx=2s,rdap=0s",
		}, want: &config{
			addr: "127.0.0.1:0", data: "x", latency: 150 * time.Millisecond, jitter: 100 * time.Millisecond,
			errorRate: 0.25, seed: 7, logLevel: slog.LevelDebug,
			fail: map[string]fakeintel.Failure{
				"virustotal": {Status: 429, RetryAfter: 30 * time.Second},
				"otx":        {Status: 503},
				"urlscan":    {Status: 401, RetryAfter: 5 * time.Second},
			},
			latencyFor: map[string]time.Duration{"otx": 2 * time.Second, "rdap": 0},
		}},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
		{name: "positional", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
		{name: "bad duration", args: []string{"--latency", "fast"}, wantErr: "invalid value"},
		{name: "negative latency", args: []string{"--latency", "-1s"}, wantErr: "must not be negative"},
		{name: "error rate above one", args: []string{"--error-rate", "1.5"}, wantErr: "want 0 to 1"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, wantErr: "--log-level"},
		{name: "fail unknown provider", args: []string{"--fail", "vt=429"}, wantErr: `unknown provider "vt"`},
		{name: "fail bad status", args: []string{"--fail", "otx=200"}, wantErr: "want 400–599"},
		{name: "fail bad retry after", args: []string{"--fail", "otx=429:soon"}, wantErr: "retry after"},
		{name: "fail without value", args: []string{"--fail", "otx"}, wantErr: "want provider=value"},
		{name: "latency-for bad duration", args: []string{"--latency-for", "otx=slow"}, wantErr: "want a duration"},
		{name: "several problems at once", args: []string{"--error-rate", "2", "--fail", "x=1"}, wantErr: "want 0 to 1; --fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			got, err := parseFlags(tt.args, &stdout, &stderr)
			if tt.wantErr != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) error = %v, want a usage error containing %q", tt.args, err, tt.wantErr)
				}
				if code := exitCode(err); code != 2 {
					t.Errorf("exitCode = %d, want 2", code)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--help"}, &stdout, &stderr)
	if !errors.Is(err, errHelp) || exitCode(err) != 0 {
		t.Fatalf("run(--help) = %v (exit %d), want errHelp and exit 0", err, exitCode(err))
	}
	for _, want := range []string{"Usage: fakeintel", "-addr", "-latency-for", "-fail", "notfound"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing data directory", []string{"--addr", "127.0.0.1:0", "--data", "no/such/dir"}, "not a directory"},
		{"data without recordings", []string{"--addr", "127.0.0.1:0", "--data", "."}, "has no fake"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			if exitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v (exit %d), want exit 2 mentioning %q", tt.args, err, exitCode(err), tt.want)
			}
		})
	}
	if code := exitCode(errors.New("listen: address in use")); code != 1 {
		t.Errorf("exitCode(other error) = %d, want 1", code)
	}
}

// syncBuffer is a bytes.Buffer safe to read while run writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun starts the real run on port 0, reads the printed base URLs, looks
// an indicator up with the real client through them and shuts down.
func TestRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data", data, "--fail", "shodan=429:9", "--latency-for", "rdap=1ms"}, &stdout, &stderr)
	}()

	env := map[string]string{}
	deadline := time.Now().Add(10 * time.Second)
	for len(env) < len(fakeintel.Providers()) {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\nstderr: %s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no base URLs printed; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		for line := range strings.SplitSeq(stdout.String(), "\n") {
			line, exported := strings.CutPrefix(line, "export ")
			if k, v, ok := strings.Cut(line, "="); ok && exported && strings.HasPrefix(k, "GADGET_") {
				env[k] = v
			}
		}
	}
	base := strings.TrimSuffix(env["GADGET_VIRUSTOTAL_BASE_URL"], "/virustotal")
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Errorf("base URL %q: want http://127.0.0.1:<the port picked>", base)
	}
	for _, name := range fakeintel.Providers() {
		if got, want := env["GADGET_"+strings.ToUpper(name)+"_BASE_URL"], base+"/"+name; got != want {
			t.Errorf("export GADGET_%s_BASE_URL=%q, want %q", strings.ToUpper(name), got, want)
		}
	}

	lookup := func(name string, v string) error {
		d, _ := provider.Lookup(name)
		p, err := d.New(provider.Config{BaseURL: env["GADGET_"+strings.ToUpper(name)+"_BASE_URL"], APIKey: "demo-key", Timeout: 5 * time.Second})
		if err != nil {
			return err
		}
		ind, err := indicator.ParseAs(v, d.Kinds[0])
		if err != nil {
			return err
		}
		_, err = p.Lookup(context.Background(), ind)
		return err
	}
	if err := lookup("virustotal", "198.51.100.14"); err != nil {
		t.Errorf("virustotal lookup through the printed base URL: %v", err)
	}
	if err := lookup("rdap", "198.51.100.14"); err != nil {
		t.Errorf("rdap lookup through the printed base URL: %v", err)
	}
	var pe *provider.Error
	if err := lookup("shodan", "198.51.100.14"); !errors.As(err, &pe) || !errors.Is(err, provider.ErrRateLimited) || pe.RetryAfter != 9*time.Second {
		t.Errorf("shodan with --fail shodan=429:9: error = %v, want ErrRateLimited after 9s", err)
	}

	res, err := http.Get(base + "/_fakeintel/stats")
	if err != nil {
		t.Fatalf("GET stats: %v", err)
	}
	var st fakeintel.Stats
	err = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if err != nil || st.Total != 3 || st.Calls["virustotal"] != 1 || st.ProviderLatency["rdap"] != "1ms" {
		t.Errorf("stats = %+v (%v), want 3 calls, virustotal 1, rdap latency 1ms", st, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context ended")
	}
	if !strings.Contains(stderr.String(), "fakeintel listening") || strings.Contains(stderr.String(), "demo-key") {
		t.Errorf("log:\n%s\nwant the listening line and no key", stderr.String())
	}
}
