package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/cache"
	"github.com/inspector-gadget/gadget/internal/enrich"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/portal"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
)

// The tests sign in often, under -race in CI: hash at bcrypt's lowest cost.
func init() { auth.HashCheaplyInTests() }

const (
	rootPW  = "root-password-1234"
	alicePW = "alice-password-1234"
)

type env struct {
	t    *testing.T
	srv  *httptest.Server
	auth *auth.Service
	acct *accounting.Service
}

func newEnv(t *testing.T, ps ...provider.Provider) *env {
	t.Helper()
	st := storetest.Open(t, storetest.SQLiteURL(t))
	tokens, err := auth.NewTokens([]byte("portal-test-secret-portal-test-secret-0123"), 30*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.NewService(auth.Config{Store: st, Tokens: tokens, Throttle: ratelimit.NewFailures(time.Minute), UserAddressAttempts: 50, AddressAttempts: 50, BcryptCost: auth.MinBcryptCost})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := as.Bootstrap(ctx, rootPW); err != nil {
		t.Fatal(err)
	}
	if _, err := as.CreateUser(ctx, "alice", alicePW, false, true); err != nil {
		t.Fatal(err)
	}
	reg, err := provider.NewRegistry(ps...)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := enrich.NewInlineEngine(enrich.FetcherConfig{Registry: reg, Cache: cache.NewMemory[*lookup.Result](100), Limiter: ratelimit.NewBuckets(time.Now)}, enrich.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := accounting.NewService(st, nil)
	answered := func(user string, at time.Time, a accounting.Answer) accounting.Record {
		return accounting.Record{Username: user, API: "indicator", Status: "ok", At: at, Answers: []accounting.Answer{a}}
	}
	hourAgo := time.Now().Add(-time.Hour)
	if err := st.WriteUsage(ctx, accounting.NewBatch([]accounting.Record{
		answered("alice", hourAgo, accounting.Answer{Provider: "virustotal", Status: "ok", Bytes: 900}),
		answered("alice", hourAgo, accounting.Answer{Provider: "virustotal", Status: "ok", Cached: true}),
		answered("root", time.Now().Add(-26*time.Hour), accounting.Answer{Provider: "abuseipdb", Status: "rate_limited"}),
	}, []accounting.Call{{Username: "alice", Provider: "virustotal", Status: "ok", Bytes: 900, Latency: 30 * time.Millisecond, At: hourAgo}})); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{Store: st, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := pol.Load(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := portal.New(portal.Config{Auth: as, Accounting: acct, Stats: accounting.NewStatsService(st, nil), Engine: eng, Policy: pol,
		Providers: func() []lookup.ProviderStatus {
			left, reset := 37, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
			return []lookup.ProviderStatus{{Name: "virustotal", Enabled: true, Configured: true, Rate: "4/m", Budget: "500/d", Remaining: &left, ResetsAt: &reset},
				{Name: "abuseipdb", Enabled: true}}
		}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(portal.Prefix, p)
	mux.Handle("GET /admin/river/", portal.SessionAuth(as, auth.ScopeMon, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "river for "+auth.FromContext(r.Context()).Username)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, auth: as, acct: acct}
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(raw)}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil, nil) }

// submit posts a form with the session's CSRF token and pairs of field
// names and values, and reports an answer other than want.
func (b *browser) submit(csrf, path string, want int, kv ...string) page {
	b.e.t.Helper()
	form := url.Values{"csrf": {csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	res := b.do("POST", path, form, nil)
	if res.status != want {
		b.e.t.Errorf("POST %s: HTTP %d, want %d: %.300s", path, res.status, want, res.body)
	}
	return res
}

// ended reports a session that still works, and returns where it is sent.
func (b *browser) ended(why string) string {
	b.e.t.Helper()
	res := b.get("/portal/usage")
	if res.status != http.StatusSeeOther {
		b.e.t.Errorf("the session survived %s: HTTP %d", why, res.status)
	}
	return res.header.Get("Location")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field in page (HTTP %d): %.300s", p.status, p.body)
	}
	return m[1]
}

// signIn signs in through the form and returns the session's CSRF token.
func (b *browser) signIn(user, pw string) string {
	b.e.t.Helper()
	form := b.get("/portal/login")
	res := b.do("POST", "/portal/login", url.Values{"csrf": {csrfOf(b.e.t, form)}, "username": {user}, "password": {pw}}, nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/portal/" {
		b.e.t.Fatalf("sign-in %s: HTTP %d %s", user, res.status, res.body)
	}
	return csrfOf(b.e.t, b.get("/portal/usage"))
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	login := b.get("/portal/login")
	if login.status != 200 || !strings.Contains(login.body, `name="username"`) || !strings.Contains(login.body, `name="password"`) {
		t.Fatalf("login page: %d %s", login.status, login.body)
	}
	if csp := login.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP = %q", csp)
	}
	csrfOf(t, login) // the page carries a CSRF field

	// no CSRF token: refused, no session
	res := b.do("POST", "/portal/login", url.Values{"username": {"root"}, "password": {rootPW}}, nil)
	if res.status != http.StatusForbidden || strings.Contains(res.body, rootPW) {
		t.Fatalf("login without csrf: %d", res.status)
	}
	// wrong password: the one message, the password not echoed
	tok := csrfOf(t, res)
	res = b.do("POST", "/portal/login", url.Values{"csrf": {tok}, "username": {"root"}, "password": {"wrong-guess-xyz"}}, nil)
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Incorrect username or password") || strings.Contains(res.body, "wrong-guess-xyz") {
		t.Fatalf("bad password: %d %s", res.status, res.body)
	}
	// success: the cookie's attributes
	tok = csrfOf(t, res)
	req, _ := http.NewRequest("POST", e.srv.URL+"/portal/login", strings.NewReader(url.Values{"csrf": {tok}, "username": {"root"}, "password": {rootPW}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	raw, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	raw.Body.Close()
	var session *http.Cookie
	for _, c := range raw.Cookies() {
		if c.Name == portal.SessionCookie {
			session = c
		}
	}
	if raw.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.MaxAge <= 0 {
		t.Fatalf("sign-in: HTTP %d, cookie %+v", raw.StatusCode, session)
	}
	if _, err := e.auth.Authenticate(context.Background(), session.Value); err != nil {
		t.Errorf("the session cookie is not an access token of the auth service: %v", err)
	}
}

func TestPagesNeedSessionAndScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.browser()
	for _, path := range []string{"/portal/", "/portal/lookup", "/portal/usage", "/portal/admin/", "/portal/admin/users", "/portal/admin/audit", "/portal/admin/reports", "/portal/admin/jobs", "/admin/river/"} {
		if res := anon.get(path); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/portal/login") {
			t.Errorf("anonymous GET %s: %d %s", path, res.status, res.header.Get("Location"))
		}
	}
	if res := anon.do("POST", "/portal/lookup", url.Values{"values": {"1.2.3.4"}}, nil); res.status != http.StatusUnauthorized {
		t.Errorf("anonymous lookup: %d", res.status)
	}
	alice := e.browser()
	alice.signIn("alice", alicePW)
	for path, want := range map[string]int{
		"/portal/lookup": 200, "/portal/usage": 200, "/portal/admin/": 403, "/portal/admin/users": 403,
		"/portal/admin/audit": 403, "/portal/admin/reports": 403, "/portal/admin/jobs": 403, "/admin/river/": 403, "/portal/nope": 404,
	} {
		res := alice.get(path)
		if res.status != want {
			t.Errorf("alice GET %s: %d, want %d", path, res.status, want)
		}
		if want == 200 && strings.Contains(res.body, "/portal/admin/users") {
			t.Errorf("alice's %s links to the admin pages", path)
		}
	}
	if res := alice.get("/portal/"); res.header.Get("Location") != "/portal/lookup" {
		t.Errorf("home redirects to %q", res.header.Get("Location"))
	}
	root := e.browser()
	root.signIn("root", rootPW)
	for _, path := range []string{"/portal/admin/", "/portal/admin/users", "/portal/admin/audit", "/portal/admin/reports", "/portal/admin/jobs"} {
		if res := root.get(path); res.status != 200 {
			t.Errorf("root GET %s: %d", path, res.status)
		}
	}
	if res := root.get("/admin/river/"); res.status != 200 || res.body != "river for root" {
		t.Errorf("SessionAuth GET: %d %q", res.status, res.body)
	}
	if res := root.do("POST", "/admin/river/", url.Values{}, nil); res.status != http.StatusMethodNotAllowed {
		t.Errorf("SessionAuth POST: %d", res.status)
	}
	// signing out ends the session
	root.submit(csrfOf(t, root.get("/portal/usage")), "/portal/logout", http.StatusSeeOther)
	root.ended("signing out")
}

func TestUserForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := e.browser()
	csrf := root.signIn("root", rootPW)
	alice := e.browser()
	alice.signIn("alice", alicePW)
	users := func() []*auth.User {
		us, err := e.auth.ListUsers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return us
	}
	n := len(users())

	// CSRF refusal changes nothing
	for name, hdr := range map[string]map[string]string{"missing token": nil, "foreign origin": {"Origin": "https://evil.example"}} {
		form := url.Values{"username": {"mallory"}, "password": {"mallory-password-1"}}
		if hdr != nil {
			form.Set("csrf", csrf)
		}
		if res := root.do("POST", "/portal/admin/users", form, hdr); res.status != http.StatusForbidden {
			t.Errorf("%s: %d", name, res.status)
		}
	}
	if got := len(users()); got != n {
		t.Fatalf("a refused form created a user (%d → %d)", n, got)
	}
	// alice (no mon) cannot create users even with her own token
	aliceCSRF := csrfOf(t, alice.get("/portal/usage"))
	if res := alice.do("POST", "/portal/admin/users", url.Values{"csrf": {aliceCSRF}, "username": {"x"}, "password": {"x-password-1234"}}, nil); res.status != http.StatusForbidden {
		t.Errorf("alice creates a user: %d", res.status)
	}

	// bad input: a clear message, nothing stored, no password echoed
	cases := []struct {
		name, user, pw string
		status         int
		msg            string
	}{
		{"bad username", "bad name!", "good-password-123", 400, "username may hold only"},
		{"short password", "bob", "short", 400, "password"},
		{"duplicate", "alice", "good-password-123", 409, "already exists"},
	}
	for _, c := range cases {
		res := root.do("POST", "/portal/admin/users", url.Values{"csrf": {csrf}, "username": {c.user}, "password": {c.pw}}, nil)
		if res.status != c.status || !strings.Contains(res.body, c.msg) || strings.Contains(res.body, c.pw) {
			t.Errorf("%s: HTTP %d, want %d with %q: %.400s", c.name, res.status, c.status, c.msg, res.body)
		}
	}
	if got := len(users()); got != n {
		t.Fatalf("bad input created a user (%d → %d)", n, got)
	}

	res := root.do("POST", "/portal/admin/users", url.Values{"csrf": {csrf}, "username": {"bob"}, "password": {"bob-password-1234"}}, nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("create bob: %d %s", res.status, res.body)
	}
	list := root.get(res.header.Get("Location"))
	if !strings.Contains(list.body, "Created bob.") || !strings.Contains(list.body, "<td>bob</td>") {
		t.Errorf("users page after create: %.600s", list.body)
	}

	// disabling alice ends her session
	root.submit(csrf, "/portal/admin/users/alice/active", http.StatusSeeOther, "active", "false")
	if loc := alice.ended("disabling the account"); loc != "/portal/login?ended=1" {
		t.Errorf("a disabled account's session is sent to %q", loc)
	}
	root.submit(csrf, "/portal/admin/users/alice/active", 400, "active", "maybe")
	if res := root.submit(csrf, "/portal/admin/users/root/active", 400, "active", "false"); !strings.Contains(res.body, "cannot disable your own") {
		t.Errorf("disable self: %.300s", res.body)
	}
	root.submit(csrf, "/portal/admin/users/alice/active", http.StatusSeeOther, "active", "true")

	// a password reset ends the sessions of that user
	alice.signIn("alice", alicePW)
	root.submit(csrf, "/portal/admin/users/alice/password", 400, "password", "x")
	root.submit(csrf, "/portal/admin/users/nobody/password", 404, "password", "new-password-12345")
	time.Sleep(1100 * time.Millisecond) // password stamps have second resolution
	root.submit(csrf, "/portal/admin/users/alice/password", http.StatusSeeOther, "password", "new-password-12345")
	alice.ended("a password reset")
}

func TestReportPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := e.browser()
	root.signIn("root", rootPW)
	for _, path := range []string{"/portal/usage?from=yesterday", "/portal/admin/?to=2026-13-01", "/portal/admin/audit?from=x", "/portal/admin/reports?from=2026-03-10&to=2026-03-01"} {
		if res := root.get(path); res.status != 400 || !strings.Contains(res.body, `class="error"`) {
			t.Errorf("GET %s: %d", path, res.status)
		}
	}
	ov := root.get("/portal/admin/")
	if ov.status != 200 || !regexp.MustCompile(`<rect class="bar c\d"`).MatchString(ov.body) || !strings.Contains(ov.body, "33.3%") {
		t.Errorf("overview has no bars or ratio: %.2000s", ov.body)
	}
	if !strings.Contains(ov.body, "4/m") || !strings.Contains(ov.body, "alice: 2 provider answers") {
		t.Errorf("overview lacks provider rate or top users")
	}
	if !strings.Contains(ov.body, "<td>500/d</td><td>37 until 2026-12-03 00:00:00Z</td>") {
		t.Errorf("overview lacks virustotal's daily budget and what remains of it: %.3000s", ov.body)
	}
	alice := e.browser()
	alice.signIn("alice", alicePW)
	mine := alice.get("/portal/usage?format=csv")
	if mine.status != 200 || !strings.HasPrefix(mine.header.Get("Content-Type"), "text/csv") || !strings.Contains(mine.body, ",virustotal,2,900") || strings.Contains(mine.body, "abuseipdb") {
		t.Errorf("alice's usage CSV: %d %s", mine.status, mine.body)
	}
	rep := root.get("/portal/admin/reports?format=csv&username=alice")
	if !strings.Contains(rep.body, "username,api,calls,bytes") || !strings.Contains(rep.body, "alice,virustotal,2,900") {
		t.Errorf("report CSV: %s", rep.body)
	}
	audit := root.get("/portal/admin/audit?api=abuseipdb")
	if !strings.Contains(audit.body, "rate_limited") || strings.Contains(audit.body, "<td>alice</td>") {
		t.Errorf("filtered audit: %.1500s", audit.body)
	}
	// C8: the export link is the page's query with format=csv (it was
	// escaped twice into "?format%3dcsv")
	if !strings.Contains(audit.body, `href="?api=abuseipdb&amp;format=csv"`) {
		t.Errorf("audit page's CSV link is wrong: %.3000s", audit.body)
	}
	csv := root.get("/portal/admin/audit?username=alice&format=csv")
	if strings.Count(csv.body, "\n") != 3 || !strings.Contains(csv.header.Get("Content-Disposition"), "audit.csv") {
		t.Errorf("audit CSV: %s", csv.body)
	}
}

func TestLookupInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.browser()
	csrf := alice.signIn("alice", alicePW)
	post := func(form url.Values, hdr map[string]string) page {
		return alice.do("POST", "/portal/lookup", form, hdr)
	}
	many := ""
	for i := range 101 {
		many += fmt.Sprintf("203.0.%d.%d\n", 113+i/200, i%200+1)
	}
	for name, c := range map[string]struct {
		form   url.Values
		status int
		msg    string
	}{
		"no csrf":          {url.Values{"values": {"1.2.3.4"}}, 403, "form has expired"},
		"empty":            {url.Values{"csrf": {csrf}, "values": {"  "}}, 400, "paste at least one indicator"},
		"unknown provider": {url.Values{"csrf": {csrf}, "values": {"1.2.3.4"}, "providers": {"nosuch"}}, 400, "unknown provider"},
		"unknown playbook": {url.Values{"csrf": {csrf}, "values": {"1.2.3.4"}, "playbook": {"nosuch"}}, 400, `"field":"playbook"`},
		"unknown tlp":      {url.Values{"csrf": {csrf}, "values": {"1.2.3.4"}, "tlp": {"PURPLE"}}, 400, `"field":"tlp"`},
		"too many":         {url.Values{"csrf": {csrf}, "values": {many}}, 400, "at most 100 indicators"},
		"over 1 MiB":       {url.Values{"csrf": {csrf}, "values": {strings.Repeat("a", 1<<20+1)}}, 413, "longer than"},
	} {
		res := post(c.form, nil)
		if res.status != c.status || !strings.Contains(res.body, c.msg) {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	res := post(url.Values{"values": {"see hxxp://evil[.]example/x and 203.0.113.9, then\nnot_an_indicator\n203.0.113.9"}}, map[string]string{"X-CSRF-Token": csrf})
	if res.status != 200 || res.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("lookup: %d %s", res.status, res.body)
	}
	lines := strings.Split(strings.TrimSpace(res.body), "\n")
	var plan struct {
		Type    string
		Rows    []struct{ Value, Kind string }
		Invalid []struct{ Input, Error string }
	}
	if err := json.Unmarshal([]byte(lines[0]), &plan); err != nil {
		t.Fatal(err)
	}
	if plan.Type != "plan" || len(plan.Rows) != 3 || plan.Rows[0].Kind != "url" || plan.Rows[1].Value != "evil.example" || plan.Rows[2].Value != "203.0.113.9" ||
		len(plan.Invalid) != 1 || plan.Invalid[0].Input != "not_an_indicator" || lines[len(lines)-1] != `{"type":"done","row":0}` {
		t.Errorf("stream: %s", res.body)
	}
}

// TestListsPage manages a list through the portal's forms as root (mon),
// and checks that alice (tasks, no mon) sees the lists read-only and is
// refused every change with 403, as is a form without the CSRF token.
func TestListsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root := e.browser()
	csrf := root.signIn("root", rootPW)
	root.submit(csrf, "/portal/lists", http.StatusSeeOther, "name", "corp", "effect", "NEVER_SEND", "description", "our ranges")
	res := root.submit(csrf, "/portal/lists/corp/entries", http.StatusSeeOther, "values", "10.0.0.0/8\ncorp.example\n", "reason", "internal")
	if loc := res.header.Get("Location"); !strings.HasPrefix(loc, "/portal/lists/corp?") {
		t.Errorf("after adding: sent to %q", loc)
	}
	page := root.get("/portal/lists")
	if page.status != 200 || !strings.Contains(page.body, `<tr data-list="corp">`) || !strings.Contains(page.body, `<td class="count">2</td>`) ||
		!strings.Contains(page.body, "NEVER_SEND") || !strings.Contains(page.body, `id="create-list"`) {
		t.Fatalf("lists page: %d %.3000s", page.status, page.body)
	}
	// bad input: 400 naming the problem, nothing added
	bad := root.submit(csrf, "/portal/lists/corp/entries", http.StatusBadRequest, "values", "192.0.2.1\nnot a value!", "reason", "x")
	if !strings.Contains(bad.body, "entries[1]") || !strings.Contains(bad.body, "not a value!") {
		t.Errorf("bad entry: %.2000s", bad.body)
	}
	if b := root.submit(csrf, "/portal/lists", http.StatusBadRequest, "name", "Bad Name", "effect", "BLOCK"); !strings.Contains(b.body, "use 1–64 characters") {
		t.Errorf("bad name: %.1500s", b.body)
	}
	root.submit(csrf, "/portal/lists", http.StatusBadRequest, "name", "x", "effect", "PURPLE")
	root.submit(csrf, "/portal/lists", http.StatusConflict, "name", "corp", "effect", "BLOCK")
	one := root.get("/portal/lists/corp")
	if one.status != 200 || !strings.Contains(one.body, `<tr data-value="10.0.0.0/8">`) || !strings.Contains(one.body, `<tr data-value="corp.example">`) ||
		strings.Contains(one.body, "192.0.2.1") || !strings.Contains(one.body, `id="add-entries"`) {
		t.Fatalf("list page: %d %.3000s", one.status, one.body)
	}

	// alice reads, and every change is refused
	alice := e.browser()
	acsrf := alice.signIn("alice", alicePW)
	for _, path := range []string{"/portal/lists", "/portal/lists/corp"} {
		p := alice.get(path)
		if p.status != 200 || !strings.Contains(p.body, "corp") || strings.Contains(p.body, `action="/portal/lists`) {
			t.Errorf("alice GET %s: %d (forms shown to a reader?) %.2000s", path, p.status, p.body)
		}
	}
	alice.submit(acsrf, "/portal/lists", http.StatusForbidden, "name", "mine", "effect", "BLOCK")
	alice.submit(acsrf, "/portal/lists/corp/entries", http.StatusForbidden, "values", "192.0.2.9")
	alice.submit(acsrf, "/portal/lists/corp/remove", http.StatusForbidden, "value", "10.0.0.0/8")
	alice.submit(acsrf, "/portal/lists/corp/delete", http.StatusForbidden)
	// no CSRF token: refused even for root
	if r := root.do("POST", "/portal/lists/corp/delete", url.Values{}, nil); r.status != http.StatusForbidden {
		t.Errorf("delete without csrf: %d", r.status)
	}
	if p := root.get("/portal/lists/corp"); !strings.Contains(p.body, `<tr data-value="10.0.0.0/8">`) {
		t.Fatal("a refused change changed the list")
	}
	if p := root.get("/portal/lists"); strings.Contains(p.body, "mine") {
		t.Error("alice created a list")
	}

	// remove an entry, then delete the list
	root.submit(csrf, "/portal/lists/corp/remove", http.StatusSeeOther, "value", "10.0.0.0/8")
	if p := root.get("/portal/lists/corp"); strings.Contains(p.body, `<tr data-value="10.0.0.0/8">`) || !strings.Contains(p.body, "corp.example") {
		t.Errorf("after removing: %.2000s", p.body)
	}
	root.submit(csrf, "/portal/lists/corp/delete", http.StatusSeeOther)
	if p := root.get("/portal/lists"); strings.Contains(p.body, `data-list="corp"`) || !strings.Contains(p.body, "No lists yet.") {
		t.Errorf("after deleting: %.2000s", p.body)
	}
	root.submit(csrf, "/portal/lists/corp/delete", http.StatusNotFound)
}

// TestAnnotateInput: a manual verdict needs a valid value, verdict and
// lookup start, and a sighting of the analyst's own; each refusal names
// its field (or says the lookup is not recorded yet) and changes nothing.
func TestAnnotateInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.browser()
	csrf := alice.signIn("alice", alicePW)
	since := time.Now().UTC().Format(time.RFC3339Nano)
	for name, c := range map[string]struct {
		form   url.Values
		status int
		msg    string
	}{
		"no csrf":       {url.Values{"value": {"203.0.113.9"}, "verdict": {"FALSE_POSITIVE"}, "since": {since}}, 403, "form has expired"},
		"bad value":     {url.Values{"csrf": {csrf}, "value": {"not a value"}, "verdict": {"FALSE_POSITIVE"}, "since": {since}}, 400, `"field":"value"`},
		"bad verdict":   {url.Values{"csrf": {csrf}, "value": {"203.0.113.9"}, "verdict": {"MAYBE"}, "since": {since}}, 400, `"field":"verdict"`},
		"nothing given": {url.Values{"csrf": {csrf}, "value": {"203.0.113.9"}, "since": {since}}, 400, `"field":"verdict"`},
		"bad since":     {url.Values{"csrf": {csrf}, "value": {"203.0.113.9"}, "note": {"x"}, "since": {"yesterday"}}, 400, `"field":"since"`},
		"no sighting":   {url.Values{"csrf": {csrf}, "value": {"203.0.113.9"}, "verdict": {"TRUE_POSITIVE"}, "since": {since}}, 409, "not recorded yet"},
	} {
		res := alice.do("POST", "/portal/sightings", c.form, nil)
		if res.status != c.status || !strings.Contains(res.body, c.msg) {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
}
