package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Config is everything the binary reads from the environment (and an
// optional config file named by GADGET_CONFIG; the environment wins).
type Config struct {
	Addr            string
	DatabaseURL     string
	RedisURL        string
	RedisPrefix     string
	BcryptCost      int
	LookupDeadline  time.Duration
	AccountCacheTTL time.Duration
	CacheEntries    int
	Executor        string // "inline" or "river" after Validate
	JobTimeout      time.Duration
	JobRescueAfter  time.Duration
	JobMaxAttempts  int
	JWTSecret       string
	TokenTTL        time.Duration
	RootPassword    string
	TrustedProxies  []netip.Prefix
	InternalDomains []string
	LogLevel        slog.Level
	ShutdownTimeout time.Duration
	Providers       map[string]ProviderSettings

	problems []string
}

// ProviderSettings is one provider's configuration.
type ProviderSettings struct {
	Enabled  bool
	APIKey   string
	BaseURL  string
	Rate     provider.Rate
	CacheTTL time.Duration
	Timeout  time.Duration
	Workers  int // River workers per process for this provider's queue
}

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
	c := &Config{Providers: map[string]ProviderSettings{}}
	str := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	dur := func(k string, def time.Duration) time.Duration {
		v := getenv(k)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			c.problems = append(c.problems, fmt.Sprintf("%s=%q: want a positive duration like 30m", k, v))
			return def
		}
		return d
	}
	c.Addr = str("GADGET_ADDR", ":8080")
	c.DatabaseURL = str("GADGET_DATABASE_URL", "sqlite://./data/gadget.db")
	c.RedisURL = str("GADGET_REDIS_URL", "")
	c.RedisPrefix = str("GADGET_REDIS_PREFIX", "gadget:")
	c.BcryptCost = auth.DefaultBcryptCost
	if v := getenv("GADGET_BCRYPT_COST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < auth.MinBcryptCost || n > 16 {
			c.problems = append(c.problems, fmt.Sprintf("GADGET_BCRYPT_COST=%q: want %d to 16", v, auth.MinBcryptCost))
		} else {
			c.BcryptCost = n
		}
	}
	c.Executor = str("GADGET_EXECUTOR", "")
	c.JobTimeout = dur("GADGET_JOB_TIMEOUT", 30*time.Second)
	c.JobRescueAfter = dur("GADGET_JOB_RESCUE_AFTER", time.Minute)
	c.JobMaxAttempts = 5
	if v := getenv("GADGET_JOB_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 25 {
			c.problems = append(c.problems, fmt.Sprintf("GADGET_JOB_MAX_ATTEMPTS=%q: want 1 to 25", v))
		} else {
			c.JobMaxAttempts = n
		}
	}
	c.JWTSecret = getenv("GADGET_JWT_SECRET")
	c.TokenTTL = dur("GADGET_TOKEN_TTL", 30*time.Minute)
	c.RootPassword = getenv("GADGET_ROOT_PASSWORD")
	c.ShutdownTimeout = dur("GADGET_SHUTDOWN_TIMEOUT", 25*time.Second)
	c.LookupDeadline = dur("GADGET_LOOKUP_DEADLINE", 20*time.Second)
	c.AccountCacheTTL = 0 // strict by default: every request reads the account
	if v := getenv("GADGET_ACCOUNT_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Minute {
			c.problems = append(c.problems, fmt.Sprintf("GADGET_ACCOUNT_CACHE_TTL=%q: want 0 to 1m", v))
		} else {
			c.AccountCacheTTL = d
		}
	}
	c.CacheEntries = 100_000
	if v := getenv("GADGET_CACHE_ENTRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			c.problems = append(c.problems, fmt.Sprintf("GADGET_CACHE_ENTRIES=%q: want a number ≥ 100", v))
		} else {
			c.CacheEntries = n
		}
	}
	if tp, err := clientinfo.ParseTrusted(getenv("GADGET_TRUSTED_PROXIES")); err != nil {
		c.problems = append(c.problems, "GADGET_TRUSTED_PROXIES: "+err.Error())
	} else {
		c.TrustedProxies = tp
	}
	c.InternalDomains = indicator.DefaultInternalDomains
	if v := getenv("GADGET_INTERNAL_DOMAINS"); v != "" {
		c.InternalDomains = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
	}
	if err := c.LogLevel.UnmarshalText([]byte(str("GADGET_LOG_LEVEL", "info"))); err != nil {
		c.problems = append(c.problems, "GADGET_LOG_LEVEL: want debug, info, warn or error")
	}
	for _, d := range provider.Descriptors() {
		p := "GADGET_" + strings.ToUpper(d.Name) + "_"
		s := ProviderSettings{Enabled: true, APIKey: strings.TrimSpace(getenv(p + "API_KEY")), BaseURL: str(p+"BASE_URL", d.BaseURL),
			Rate: d.Rate, CacheTTL: dur(p+"CACHE_TTL", d.CacheTTL), Timeout: dur(p+"TIMEOUT", d.Timeout), Workers: 20}
		if v := getenv(p + "WORKERS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				c.problems = append(c.problems, fmt.Sprintf("%sWORKERS=%q: want 1 to 1000", p, v))
			} else {
				s.Workers = n
			}
		}
		if v := getenv(p + "ENABLED"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				c.problems = append(c.problems, fmt.Sprintf("%sENABLED=%q: want true or false", p, v))
			}
			s.Enabled = b
		}
		if v := getenv(p + "RATE"); v != "" {
			r, err := provider.ParseRate(v)
			if err != nil {
				c.problems = append(c.problems, p+"RATE: "+err.Error())
			}
			s.Rate = r
		}
		if !strings.HasPrefix(s.BaseURL, "http://") && !strings.HasPrefix(s.BaseURL, "https://") {
			c.problems = append(c.problems, p+"BASE_URL: want an http:// or https:// URL")
		}
		c.Providers[d.Name] = s
	}
	return c, nil
}

// IsPostgres reports whether the database is PostgreSQL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// Validate reports every configuration problem at once.
func (c *Config) Validate() error {
	problems := append([]string(nil), c.problems...)
	if !c.IsPostgres() && !strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		problems = append(problems, "GADGET_DATABASE_URL: want sqlite://<path> or postgres://…")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		problems = append(problems, "GADGET_REDIS_URL: want redis:// or rediss://")
	}
	switch c.Executor {
	case "":
		c.Executor = "inline"
		if c.IsPostgres() {
			c.Executor = "river"
		}
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
