package rest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/publicsuffix"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/clientinfo"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/rest"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/tasks"
	"github.com/inspector-gadget/gadget/internal/userbudget"
)

// The tests sign in often, under -race in CI: hash at bcrypt's lowest cost.
func init() { auth.HashCheaplyInTests() }

const rootPW = "root-password-for-rest"

// harness is the REST layer over real services: SQLite, the usage writer,
// the engine with every provider pointed at the fake intel server.
type harness struct {
	t      *testing.T
	base   string
	fake   *fakeintel.Server
	auth   *auth.Service
	store  *store.Store
	tokens *auth.Tokens
	logs   *lockedWriter
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "gadget.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	writer := accounting.NewWriter(st, accounting.WriterConfig{Interval: 5 * time.Millisecond})
	t.Cleanup(func() { writer.Close(context.Background()) })
	tokens, err := auth.NewTokens([]byte("rest-test-secret-rest-test-secret-0123"), 30*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.NewService(auth.Config{Store: st, Tokens: tokens, Throttle: ratelimit.NewFailures(time.Minute), UserAddressAttempts: 2, AddressAttempts: 2, Usage: writer, Logger: log, BcryptCost: auth.MinBcryptCost})
	if err != nil {
		t.Fatal(err)
	}

	fake := fakeintel.New(os.DirFS("../provider/testdata"), fakeintel.Options{Seed: 1})
	fsrv := httptest.NewServer(fake)
	t.Cleanup(fsrv.Close)
	rate, _ := provider.ParseRate("1000/s")
	var live []provider.Provider
	settings := map[string]enrich.Settings{}
	for _, d := range provider.Descriptors() {
		p, err := d.New(provider.Config{BaseURL: fsrv.URL + "/" + d.Name, APIKey: "demo-key", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, p)
		settings[d.Name] = enrich.Settings{Rate: rate, CacheTTL: time.Hour, NotFoundTTL: time.Hour}
	}
	reg, err := provider.NewRegistry(live...)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{Store: st, Registry: reg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := pol.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pol.CreateList(ctx, "root", "demo", policy.NeverSend, "the harness's list"); err != nil {
		t.Fatal(err)
	}
	if _, err := pol.PutPlaybook(ctx, "root", policy.Playbook{Name: "demo", Members: []string{"kind:ipv4"}}); err != nil {
		t.Fatal(err)
	}
	eng, err := enrich.NewInlineEngine(enrich.FetcherConfig{Registry: reg, Settings: settings, Cache: cache.NewMemory[*lookup.Result](1000),
		Limiter: ratelimit.NewBuckets(time.Now), Logger: log},
		enrich.Config{Policy: indicator.NewPolicy(nil), Gate: pol, Logger: log, Deadline: 3 * time.Second}, writer)
	if err != nil {
		t.Fatal(err)
	}
	acct := accounting.NewService(st, nil)
	ts := tasks.NewService(tasks.Config{Store: st, Logger: log, Timeout: 8 * time.Second})
	t.Cleanup(func() { ts.Wait(context.Background()) })
	api := rest.New(rest.Config{Policy: pol, Budgets: userbudget.New(st, ratelimit.NewBuckets(time.Now), log, nil), Auth: as, Listings: accounting.NewListings(acct, st), Engine: eng, Tasks: ts, Usage: writer, Logger: log,
		Extractor: indicator.Extractor{Policy: indicator.NewPolicy(nil), PublicSuffix: publicsuffix.PublicSuffix}, Version: "test", Started: time.Now(), Providers: func() []lookup.ProviderStatus {
			return []lookup.ProviderStatus{{Name: "abuseipdb", Enabled: true, Configured: true, Kinds: []string{"ipv4", "ipv6"}}}
		}})
	mux := http.NewServeMux()
	for p, h := range api.Routes() {
		mux.Handle(p, h)
	}
	mux.Handle("/api/authenticate", rest.Authenticate(as, log))
	srv := httptest.NewServer(clientinfo.NewResolver(nil).Middleware(mux))
	t.Cleanup(srv.Close)
	h := &harness{t: t, base: srv.URL, fake: fake, auth: as, store: st, tokens: tokens, logs: logs}
	h.user("root", rootPW, true)
	return h
}

// lockedWriter is a log sink safe for concurrent writes.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.String()
}

// user creates an account directly in the store, with a cheap bcrypt hash
// (the service's cost-10 hashing takes a second under the race detector;
// accounts made through the API still use it).
func (h *harness) user(name, pw string, admin bool) {
	h.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.store.CreateUser(context.Background(), auth.NewUser{Username: name, PasswordHash: string(hash), Admin: admin, Active: true}); err != nil {
		h.t.Fatal(err)
	}
}

// token issues name a token with scope ("" for all the account may hold),
// as a sign-in does but without its bcrypt check (the suite stays fast;
// the sign-in itself is tested through /api/authenticate).
func (h *harness) token(name, scope string) string {
	h.t.Helper()
	u, err := h.store.UserByUsername(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	requested, err := auth.ParseScopes(scope)
	if err != nil {
		h.t.Fatal(err)
	}
	tok, _, err := h.tokens.Issue(u, auth.GrantScopes(requested, auth.AllowedScopes(u.Admin)))
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

type answer struct {
	method, path string // the request's
	status       int
	header       http.Header
	body         []byte
}

// do sends a request; token "" sends none.
func (h *harness) do(token, method, path, ctype, body string) answer {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", "rest-test")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{method: method, path: path, status: res.StatusCode, header: res.Header, body: b}
}
