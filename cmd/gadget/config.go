package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/jobs"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/tasks"
)

// Config is everything the binary reads from the environment (and an
// optional config file named by GADGET_CONFIG; the environment wins). Each
// field names its variable and default; docs/configuration.md follows these
// comments. LoadConfig fills it, Validate checks it; nothing else writes it.
type Config struct {
	// Server (loadServer).
	Addr            string         // GADGET_ADDR: listen address, host:port (default ":8080")
	TrustedProxies  []netip.Prefix // GADGET_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For is believed (default none)
	LogLevel        slog.Level     // GADGET_LOG_LEVEL: debug, info, warn or error (default info; debug also logs every HTTP request, info only slow ones and warn failed ones)
	ShutdownTimeout time.Duration  // GADGET_SHUTDOWN_TIMEOUT: how long requests and tasks in flight may finish after SIGTERM (default 25s)

	// Storage (loadStorage).
	DatabaseURL string // GADGET_DATABASE_URL: sqlite://<path> or postgres://… (default sqlite://./data/gadget.db)
	RedisURL    string // GADGET_REDIS_URL: redis:// or rediss://; shared cache, quotas and login throttle (default none)
	RedisPrefix string // GADGET_REDIS_PREFIX: prefix of every Redis key (default "gadget:")

	// Accounts and tokens (loadAuth).
	BcryptCost   int           // GADGET_BCRYPT_COST: work factor of new password hashes, auth.MinBcryptCost to 16 (default auth.DefaultBcryptCost)
	JWTSecret    string        // GADGET_JWT_SECRET: HS256 key, ≥ auth.MinSecretBytes; required on PostgreSQL (default on SQLite: generated once under the data folder)
	TokenTTL     time.Duration // GADGET_TOKEN_TTL: access token lifetime (default auth.DefaultTokenTTL)
	RootPassword string        // GADGET_ROOT_PASSWORD: the password of "root" when an empty database creates it (default: random, printed once)
	// GADGET_ACCOUNT_CACHE_TTL (obsolete name, kept): verified accounts are
	// kept in memory until a change to them is seen by any process (within
	// a second); when set, also at most this long, as a safety net, 0 to 24h
	// (default 0: no limit)
	AccountMaxAge time.Duration

	// Lookups (loadLookups).
	LookupDeadline  time.Duration // GADGET_LOOKUP_DEADLINE: how long a lookup waits for its providers (default enrich.DefaultDeadline)
	CacheEntries    int           // GADGET_CACHE_ENTRIES: in-process cache size, ≥ 100 (default cache.DefaultMaxEntries)
	InternalDomains []string      // GADGET_INTERNAL_DOMAINS: domain suffixes never sent to a provider, besides indicator.DefaultInternalDomains
	DefaultTLP      indicator.TLP // GADGET_DEFAULT_TLP: the TLP of a lookup that names none (default AMBER)
	CallsPerRequest int           // GADGET_REQUEST_UPSTREAM_CALLS: upstream calls one API request may start, over all its aliases and batches; 0: no bound (default lookup.DefaultCallsPerRequest)
	TasksRunning    int           // GADGET_TASKS_MAX_RUNNING: REST two-step tasks running at once in a process; beyond it POST answers 429 (default tasks.DefaultMaxRunning)
	TasksPerUser    int           // GADGET_TASKS_PER_USER: of them, one user's (default tasks.DefaultMaxPerUser)

	// Jobs (loadJobs).
	Executor       string        // GADGET_EXECUTOR: "inline" or "river" (default river on PostgreSQL, inline on SQLite)
	JobTimeout     time.Duration // GADGET_JOB_TIMEOUT: one attempt of a provider-call job (default jobs.DefaultJobTimeout)
	JobRescueAfter time.Duration // GADGET_JOB_RESCUE_AFTER: a job whose worker vanished is retried after this, ≥ GADGET_JOB_TIMEOUT (default jobs.DefaultRescueAfter)
	JobMaxAttempts int           // GADGET_JOB_MAX_ATTEMPTS: 1 to 25 (default jobs.DefaultMaxAttempts)

	// Providers (loadProviders), by descriptor name.
	Providers map[string]ProviderSettings

	problems []string // what LoadConfig could not read; Validate reports them
}

// ProviderSettings is one provider's configuration; <P> is its name in
// upper case, and the defaults come from its descriptor.
type ProviderSettings struct {
	Enabled  bool          // GADGET_<P>_ENABLED (default true; false for a Disabled descriptor)
	APIKey   string        // GADGET_<P>_API_KEY (default none: keyless providers still answer)
	BaseURL  string        // GADGET_<P>_BASE_URL: http:// or https:// (default the provider's public API)
	Rate     provider.Rate // GADGET_<P>_RATE: e.g. 4/min (default the provider's free-tier budget)
	Budget   provider.Rate // GADGET_<P>_BUDGET: a daily (or longer) budget, e.g. 500/d or 500 (default the descriptor's, often none)
	CacheTTL time.Duration // GADGET_<P>_CACHE_TTL (default the descriptor's)
	Timeout  time.Duration // GADGET_<P>_TIMEOUT: one HTTP call (default the descriptor's)
	Workers  int           // GADGET_<P>_WORKERS: River jobs of this provider worked at once per process, 1 to 1000 (default jobs.DefaultWorkers)
	MaxTLP   indicator.TLP // GADGET_<P>_MAX_TLP: the most restrictive TLP still sent to it (default the descriptor's under its settings, Descriptor.MaxTLPWith)
	// Setting reads the provider's own settings, GADGET_<P>_<NAME> (the
	// feeds provider's per-feed switches and URLs); its New checks them.
	Setting func(name string) string

	// Settings holds GADGET_<P>_<NAME> for each of the descriptor's
	// Settings, by NAME (default each one's Default).
	Settings map[string]string
}

// Defaults owned by this command; the others are exported by the packages
// that use them (enrich.DefaultDeadline, jobs.DefaultJobTimeout, …).
const (
	defaultAddr            = ":8080"
	defaultDatabaseURL     = "sqlite://./data/gadget.db"
	defaultRedisPrefix     = "gadget:"
	defaultShutdownTimeout = 25 * time.Second
)

// envFunc reads a variable; "" when unset.
type envFunc func(string) string

// withConfigFile layers the KEY=VALUE file named by GADGET_CONFIG under the
// environment.
func withConfigFile(getenv envFunc) (envFunc, error) {
	path := getenv("GADGET_CONFIG")
	if path == "" {
		return getenv, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("GADGET_CONFIG: %w", err)
	}
	defer f.Close()
	file := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("GADGET_CONFIG %s line %d: want KEY=VALUE", path, n)
		}
		file[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("GADGET_CONFIG: %w", err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return file[k]
	}, nil
}

// LoadConfig reads the configuration; Validate reports every problem at once.
func LoadConfig(getenv envFunc) (*Config, error) {
	getenv, err := withConfigFile(getenv)
	if err != nil {
		return nil, err
	}
	e := &envReader{get: getenv}
	c := &Config{}
	c.loadServer(e)
	c.loadStorage(e)
	c.loadAuth(e)
	c.loadLookups(e)
	c.loadJobs(e)
	c.loadProviders(e)
	c.problems = e.problems
	return c, nil
}

func (c *Config) loadServer(e *envReader) {
	c.Addr = e.str("GADGET_ADDR", defaultAddr)
	if tp, err := clientinfo.ParseTrusted(e.get("GADGET_TRUSTED_PROXIES")); err != nil {
		e.problem("GADGET_TRUSTED_PROXIES: " + err.Error())
	} else {
		c.TrustedProxies = tp
	}
	if err := c.LogLevel.UnmarshalText([]byte(e.str("GADGET_LOG_LEVEL", "info"))); err != nil {
		e.problem("GADGET_LOG_LEVEL: want debug, info, warn or error")
	}
	c.ShutdownTimeout = e.dur("GADGET_SHUTDOWN_TIMEOUT", defaultShutdownTimeout)
}

func (c *Config) loadStorage(e *envReader) {
	c.DatabaseURL = e.str("GADGET_DATABASE_URL", defaultDatabaseURL)
	c.RedisURL = e.str("GADGET_REDIS_URL", "")
	c.RedisPrefix = e.str("GADGET_REDIS_PREFIX", defaultRedisPrefix)
}

func (c *Config) loadAuth(e *envReader) {
	c.BcryptCost = e.intIn("GADGET_BCRYPT_COST", auth.DefaultBcryptCost, auth.MinBcryptCost, 16)
	c.JWTSecret = e.get("GADGET_JWT_SECRET")
	c.TokenTTL = e.dur("GADGET_TOKEN_TTL", auth.DefaultTokenTTL)
	c.RootPassword = e.get("GADGET_ROOT_PASSWORD")
	if v := strings.TrimSpace(e.get("GADGET_ACCOUNT_CACHE_TTL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 24*time.Hour {
			e.problem(fmt.Sprintf("GADGET_ACCOUNT_CACHE_TTL=%q: want 0 to 24h", v))
		} else {
			c.AccountMaxAge = d
		}
	}
}

func (c *Config) loadLookups(e *envReader) {
	c.LookupDeadline = e.dur("GADGET_LOOKUP_DEADLINE", enrich.DefaultDeadline)
	c.CacheEntries = e.intIn("GADGET_CACHE_ENTRIES", cache.DefaultMaxEntries, 100, math.MaxInt32)
	c.InternalDomains = indicator.DefaultInternalDomains
	if v := e.get("GADGET_INTERNAL_DOMAINS"); v != "" {
		c.InternalDomains = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	c.DefaultTLP = e.tlp("GADGET_DEFAULT_TLP", indicator.TLPAmber)
	c.CallsPerRequest = e.intIn("GADGET_REQUEST_UPSTREAM_CALLS", lookup.DefaultCallsPerRequest, 0, math.MaxInt32)
	c.TasksRunning = e.intIn("GADGET_TASKS_MAX_RUNNING", tasks.DefaultMaxRunning, 1, math.MaxInt32)
	c.TasksPerUser = e.intIn("GADGET_TASKS_PER_USER", tasks.DefaultMaxPerUser, 1, math.MaxInt32)
}

// loadJobs reads the executor (River on PostgreSQL unless told otherwise)
// and the River job settings.
func (c *Config) loadJobs(e *envReader) {
	c.Executor = e.str("GADGET_EXECUTOR", "")
	if c.Executor == "" {
		c.Executor = "inline"
		if c.IsPostgres() {
			c.Executor = "river"
		}
	}
	c.JobTimeout = e.dur("GADGET_JOB_TIMEOUT", jobs.DefaultJobTimeout)
	c.JobRescueAfter = e.dur("GADGET_JOB_RESCUE_AFTER", jobs.DefaultRescueAfter)
	c.JobMaxAttempts = e.intIn("GADGET_JOB_MAX_ATTEMPTS", jobs.DefaultMaxAttempts, 1, 25)
}

// loadProviders reads GADGET_<P>_* for every registered provider.
func (c *Config) loadProviders(e *envReader) {
	c.Providers = map[string]ProviderSettings{}
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		s := ProviderSettings{
			Enabled:  e.boolean(p+"ENABLED", !d.Disabled),
			APIKey:   strings.TrimSpace(e.get(p + "API_KEY")),
			BaseURL:  e.str(p+"BASE_URL", d.BaseURL),
			Rate:     d.Rate,
			Budget:   d.Budget,
			CacheTTL: e.dur(p+"CACHE_TTL", d.CacheTTL),
			Timeout:  e.dur(p+"TIMEOUT", d.Timeout),
			Workers:  e.intIn(p+"WORKERS", jobs.DefaultWorkers, 1, 1000),
			Setting:  func(name string) string { return strings.TrimSpace(e.get(p + name)) },
		}
		s.Settings = map[string]string{}
		for _, st := range d.Settings {
			s.Settings[st.Name] = e.str(p+st.Name, st.Default)
		}
		s.MaxTLP = e.tlp(p+"MAX_TLP", d.MaxTLPWith(func(name string) string { return s.Settings[name] }))
		if v := e.get(p + "RATE"); v != "" {
			r, err := provider.ParseRate(v)
			if err != nil {
				e.problem(p + "RATE: " + err.Error())
			} else {
				s.Rate = r
			}
		}
		if v := strings.TrimSpace(e.get(p + "BUDGET")); v != "" {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 { // a bare number is per day; 0 is no budget
				s.Budget = provider.Rate{Events: n, Per: 24 * time.Hour}
			} else if r, err := provider.ParseRate(v); err != nil {
				e.problem(p + "BUDGET: " + err.Error() + " (e.g. 500/d)")
			} else {
				s.Budget = r
			}
		}
		if !strings.HasPrefix(s.BaseURL, "http://") && !strings.HasPrefix(s.BaseURL, "https://") && !(d.NotHTTP && s.BaseURL == "") {
			e.problem(p + "BASE_URL: want an http:// or https:// URL")
		}
		c.Providers[d.Name] = s
	}
}

// envReader reads typed variables, collecting what it cannot read so that
// IsPostgres reports whether the database is PostgreSQL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// envReader reads typed variables, collecting what it cannot read so that
// Validate can report every problem at once.
type envReader struct {
	get      envFunc
	problems []string
}

func (e *envReader) problem(p string) { e.problems = append(e.problems, p) }

// str is k's trimmed value, or def when unset.
func (e *envReader) str(k, def string) string {
	if v := strings.TrimSpace(e.get(k)); v != "" {
		return v
	}
	return def
}

// dur is k as a positive duration, or def.
func (e *envReader) dur(k string, def time.Duration) time.Duration {
	v := strings.TrimSpace(e.get(k))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.problem(fmt.Sprintf("%s=%q: want a positive duration like 30m", k, v))
		return def
	}
	return d
}

// intIn is k as an integer from lo to hi, or def.
func (e *envReader) intIn(k string, def, lo, hi int) int {
	v := strings.TrimSpace(e.get(k))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		if hi == math.MaxInt32 {
			e.problem(fmt.Sprintf("%s=%q: want a number ≥ %d", k, v, lo))
		} else {
			e.problem(fmt.Sprintf("%s=%q: want %d to %d", k, v, lo, hi))
		}
		return def
	}
	return n
}

// boolean is k as true or false, or def.
func (e *envReader) boolean(k string, def bool) bool {
	v := strings.TrimSpace(e.get(k))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.problem(fmt.Sprintf("%s=%q: want true or false", k, v))
		return def
	}
	return b
}

// Validate reports every configuration problem at once. It only reads the
// configuration: nothing is opened, created or printed.
func (c *Config) Validate() error {
	problems := append([]string(nil), c.problems...)
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		problems = append(problems, fmt.Sprintf("GADGET_ADDR=%q: want host:port, e.g. :8080 or 127.0.0.1:8080", c.Addr))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		problems = append(problems, fmt.Sprintf("GADGET_ADDR=%q: the port must be a number from 0 to 65535", c.Addr))
	}
	if !c.IsPostgres() && !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		problems = append(problems, "GADGET_DATABASE_URL: want sqlite://<path> or postgres://…")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		problems = append(problems, "GADGET_REDIS_URL: want redis:// or rediss://")
	}
	switch c.Executor {
	case "inline":
	case "river":
		if !c.IsPostgres() {
			problems = append(problems, "GADGET_EXECUTOR=river: needs PostgreSQL (GADGET_DATABASE_URL=postgres://…)")
		}
	default:
		problems = append(problems, "GADGET_EXECUTOR: want inline or river")
	}
	if c.JobRescueAfter < c.JobTimeout {
		problems = append(problems, "GADGET_JOB_RESCUE_AFTER: must be at least GADGET_JOB_TIMEOUT")
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < auth.MinSecretBytes {
		problems = append(problems, fmt.Sprintf("GADGET_JWT_SECRET: must be at least %d bytes", auth.MinSecretBytes))
	}
	if c.JWTSecret == "" && c.IsPostgres() {
		problems = append(problems, "GADGET_JWT_SECRET: required with PostgreSQL (every replica must share it); e.g. openssl rand -hex 32")
	}
	if c.RootPassword != "" {
		if err := auth.ValidatePassword("GADGET_ROOT_PASSWORD", c.RootPassword); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New("configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

// DataDir is the folder of the embedded database, where the generated JWT
// secret is kept.
func (c *Config) DataDir() string {
	return filepath.Dir(strings.TrimPrefix(c.DatabaseURL, "sqlite://"))
}

// secret returns the JWT signing key: the configured one, or in embedded
// mode one generated once and kept (0600) under the data folder.
func (c *Config) secret() ([]byte, error) {
	if c.JWTSecret != "" {
		return []byte(c.JWTSecret), nil
	}
	dir := c.DataDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "jwt-secret")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= auth.MinSecretBytes {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	s := hex.EncodeToString(raw[:])
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) { // another process wrote it first
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(s + "\n"); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// tlp reads a TLP label (CLEAR GREEN AMBER AMBER_STRICT RED).
func (e *envReader) tlp(key string, def indicator.TLP) indicator.TLP {
	v := strings.TrimSpace(e.get(key))
	if v == "" {
		return def
	}
	t, err := indicator.ParseTLP(v)
	if err != nil {
		e.problem(key + ": " + err.Error())
		return def
	}
	return t
}
