package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/provider"
)

func loadEnv(t *testing.T, env map[string]string) *Config {
	t.Helper()
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestConfigDefaults: with nothing set, the defaults are the ones the
// owning packages export.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg := loadEnv(t, nil)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	type defaults struct {
		Addr, DatabaseURL, Executor                             string
		LookupDeadline, TokenTTL, JobTimeout, JobRescueAfter    time.Duration
		ShutdownTimeout, AccountMaxAge                          time.Duration
		CacheEntries, BcryptCost, JobMaxAttempts, VirusTotalWkr int
	}
	got := defaults{cfg.Addr, cfg.DatabaseURL, cfg.Executor, cfg.LookupDeadline, cfg.TokenTTL, cfg.JobTimeout, cfg.JobRescueAfter,
		cfg.ShutdownTimeout, cfg.AccountMaxAge, cfg.CacheEntries, cfg.BcryptCost, cfg.JobMaxAttempts, cfg.Providers["virustotal"].Workers}
	want := defaults{":8080", "sqlite://./data/gadget.db", "inline", enrich.DefaultDeadline, auth.DefaultTokenTTL, jobs.DefaultJobTimeout,
		jobs.DefaultRescueAfter, 25 * time.Second, 0, cache.DefaultMaxEntries, auth.DefaultBcryptCost, jobs.DefaultMaxAttempts, jobs.DefaultWorkers}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// TestConfigProviderEnabledDefault: a provider is on unless its descriptor
// says Disabled (flaky keyless services); GADGET_<P>_ENABLED overrides
// either way.
func TestConfigProviderEnabledDefault(t *testing.T) {
	t.Parallel()
	defaults := loadEnv(t, nil)
	flipped := map[string]string{}
	for _, d := range provider.Descriptors() {
		flipped["GADGET_"+strings.ToUpper(d.Name)+"_ENABLED"] = strconv.FormatBool(d.Disabled)
	}
	overridden := loadEnv(t, flipped)
	for _, d := range provider.Descriptors() {
		if got := defaults.Providers[d.Name].Enabled; got == d.Disabled {
			t.Errorf("%s: enabled by default = %t, want %t (Disabled %t)", d.Name, got, !d.Disabled, d.Disabled)
		}
		if got := overridden.Providers[d.Name].Enabled; got != d.Disabled {
			t.Errorf("%s: GADGET_%s_ENABLED=%t gives enabled %t", d.Name, strings.ToUpper(d.Name), d.Disabled, got)
		}
	}
}

// TestConfigProviderSettings: a descriptor's own Settings are read from
// GADGET_<P>_<NAME>, each defaulting to its Default; a provider over DNS
// needs no base URL.
func TestConfigProviderSettings(t *testing.T) {
	t.Parallel()
	def := loadEnv(t, nil)
	set := loadEnv(t, map[string]string{"GADGET_CYMRU_RESOLVER": "127.0.0.1:5353", "GADGET_SCREENSHOT_SCREENSHOTAPI_TOKEN": "tok-1", "GADGET_CYMRU_BASE_URL": ""})
	want := map[string]map[string]string{
		"def cymru": {"RESOLVER": ""}, "def screenshot": {"SCREENSHOTAPI_TOKEN": "", "SCREENSHOTAPI_URL": "https://shot.screenshotapi.net"},
		"set cymru": {"RESOLVER": "127.0.0.1:5353"}, "set screenshot": {"SCREENSHOTAPI_TOKEN": "tok-1", "SCREENSHOTAPI_URL": "https://shot.screenshotapi.net"},
	}
	got := map[string]map[string]string{
		"def cymru": def.Providers["cymru"].Settings, "def screenshot": def.Providers["screenshot"].Settings,
		"set cymru": set.Providers["cymru"].Settings, "set screenshot": set.Providers["screenshot"].Settings,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Settings (-want +got):\n%s", d)
	}
	if err := set.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

// TestConfigMaxTLP: a provider's maximum TLP is its descriptor's,
// lowered by a setting that names one (ScreenShotAPI's token: GREEN), and
// GADGET_<P>_MAX_TLP overrides either.
func TestConfigMaxTLP(t *testing.T) {
	t.Parallel()
	def := loadEnv(t, nil)
	set := loadEnv(t, map[string]string{"GADGET_SCREENSHOT_SCREENSHOTAPI_TOKEN": "tok-1", "GADGET_ROBTEX_MAX_TLP": "amber",
		"GADGET_VIRUSTOTAL_MAX_TLP": "TLP:GREEN"})
	both := loadEnv(t, map[string]string{"GADGET_SCREENSHOT_SCREENSHOTAPI_TOKEN": "tok-1", "GADGET_SCREENSHOT_MAX_TLP": "AMBER"})
	got := map[string]string{}
	for _, c := range []struct {
		name string
		cfg  *Config
	}{{"def", def}, {"set", set}, {"both", both}} {
		for _, p := range []string{"screenshot", "robtex", "virustotal", "feeds"} {
			got[c.name+" "+p] = c.cfg.Providers[p].MaxTLP.String()
		}
	}
	want := map[string]string{
		"def screenshot": "AMBER", "def robtex": "GREEN", "def virustotal": "AMBER", "def feeds": "RED",
		"set screenshot": "GREEN", "set robtex": "AMBER", "set virustotal": "GREEN", "set feeds": "RED",
		"both screenshot": "AMBER", "both robtex": "GREEN", "both virustotal": "AMBER", "both feeds": "RED",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("MaxTLP (-want +got):\n%s", d)
	}
}

// TestConfigValidate: each bad value is named, all at once, and Validate
// changes nothing.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // substrings of the error; none: valid
	}{
		{"defaults", nil, nil},
		{"port only", map[string]string{"GADGET_ADDR": ":0"}, nil},
		{"ipv6", map[string]string{"GADGET_ADDR": "[::1]:8080"}, nil},
		{"no port", map[string]string{"GADGET_ADDR": "localhost"}, []string{`GADGET_ADDR="localhost": want host:port`}},
		{"port out of range", map[string]string{"GADGET_ADDR": ":99999"}, []string{"GADGET_ADDR", "0 to 65535"}},
		{"port not a number", map[string]string{"GADGET_ADDR": ":http-ish"}, []string{"GADGET_ADDR", "0 to 65535"}},
		{"many at once", map[string]string{
			"GADGET_ADDR":                "nonsense",
			"GADGET_DATABASE_URL":        "postgres://x@127.0.0.1/db",
			"GADGET_TOKEN_TTL":           "soon",
			"GADGET_BCRYPT_COST":         "4",
			"GADGET_CACHE_ENTRIES":       "10",
			"GADGET_JOB_MAX_ATTEMPTS":    "99",
			"GADGET_VIRUSTOTAL_WORKERS":  "0",
			"GADGET_VIRUSTOTAL_ENABLED":  "maybe",
			"GADGET_VIRUSTOTAL_RATE":     "lots",
			"GADGET_VIRUSTOTAL_BASE_URL": "ftp://x",
			"GADGET_JOB_TIMEOUT":         "2m",
			"GADGET_LOG_LEVEL":           "loud",
		}, []string{"GADGET_ADDR", "GADGET_TOKEN_TTL", "GADGET_BCRYPT_COST", "GADGET_CACHE_ENTRIES", "GADGET_JOB_MAX_ATTEMPTS",
			"GADGET_VIRUSTOTAL_WORKERS", "GADGET_VIRUSTOTAL_ENABLED", "GADGET_VIRUSTOTAL_RATE", "GADGET_VIRUSTOTAL_BASE_URL",
			"GADGET_JOB_RESCUE_AFTER", "GADGET_LOG_LEVEL", "GADGET_JWT_SECRET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadEnv(t, tc.env)
			before := *cfg
			err := cfg.Validate()
			if diff := cmp.Diff(before, *cfg, cmp.AllowUnexported(Config{}), cmpopts.EquateComparable(),
				cmpopts.IgnoreFields(ProviderSettings{}, "Setting")); diff != "" {
				t.Errorf("Validate changed the configuration (-before +after):\n%s", diff)
			}
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid configuration accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestServeChecksAddressFirst: a bad or taken GADGET_ADDR is reported
// before anything is created or printed, so the one-time root password is
// never printed for a server that then fails to start.
func TestServeChecksAddressFirst(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, addr := range []string{"nonsense", "127.0.0.1:99999", taken.Addr().String()} {
		t.Run(addr, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(dir, "gadget.db"), "GADGET_ADDR": addr}
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, nil, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), "GADGET_ADDR") {
				t.Fatalf("serve on %s: err = %v, want one naming GADGET_ADDR", addr, err)
			}
			if stdout.Len() > 0 {
				t.Errorf("serve printed before failing:\n%s", stdout.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("serve created %v before failing", entries)
			}
		})
	}
}
