package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Request is what the fake server must have received.
type Request struct {
	Method string            // "GET" / "POST"; "" means the provider must send no request at all
	Path   string            // escaped path as sent, relative to the base URL, e.g. "/ip_addresses/1.1.1.1"
	Query  url.Values        // nil: not checked; otherwise must equal exactly
	Header map[string]string // each must be present with exactly this value (e.g. "x-apikey": "test-key")
	Form   url.Values        // nil: not checked; otherwise Content-Type form-urlencoded and equal
	JSON   string            // "": not checked; otherwise Content-Type application/json and JSON-equal
}

// Fixture is one recorded exchange.
type Fixture struct {
	Name      string
	Indicator indicator.Indicator
	File      string      // path under the test's testdata/, e.g. "virustotal/ip_ok.json"; "" = empty body
	Status    int         // status the fake answers with (0 = 200)
	Header    http.Header // extra response headers (Content-Type defaults to application/json)
	Want      Request
	WantErr   error                                  // nil, or a sentinel: provider.ErrNotFound, ErrRateLimited, ErrAuth, ...
	Check     func(t *testing.T, r *provider.Result) // optional: assert the typed summary and verdict; called only on success
	// More are the exchanges after the first, in order, for a provider
	// whose lookup makes several requests (Descriptor.Calls): the fake
	// answers its second request with More[0], and so on, and each must
	// match its Want. The result's Bytes are then the sum of all bodies.
	More []Exchange
}

// Exchange is one further request of a multi-request lookup and its answer.
type Exchange struct {
	Want   Request
	File   string // path under testdata/; "" = empty body
	Status int    // 0 = 200
}

// Suite describes one provider's conformance run.
type Suite struct {
	Provider string // registered descriptor name
	APIKey   string // key to configure ("" for keyless); make it distinctive, it is searched for in errors
	Fixtures []Fixture
	Probe    indicator.Indicator // an indicator the provider serves, for the generic scenarios
}

// basePath is the path of the fake base URL. Providers must append their
// documented paths to the configured base URL, so every request has to
// arrive under it.
const basePath = "/providertest-base"

// callTimeout bounds every lookup that is not testing timeouts, so a hung
// provider fails the test instead of stalling it.
const callTimeout = 5 * time.Second

// Run replays every fixture against an httptest.Server and then runs the generic scenarios on Probe:
// 429 with Retry-After: 7 → ErrRateLimited with RetryAfter 7s; 401 → ErrAuth; 403 → ErrAuth (for
// abuse.ch 403 unknown_auth_key also ErrAuth); 500 and 503 → ErrUpstream; 200 with malformed JSON →
// ErrUpstream; a body over the size cap (Config.MaxBodyBytes set small, e.g. 1 KiB) → ErrUpstream;
// a slow answer past Config.Timeout (timeout 100ms, server sleeps 1s) → ErrTimeout; a cancelled
// context → errors.Is(err, context.Canceled); a required-key provider with no key → ErrNotConfigured
// with zero requests to the server; the API key never appears in any error string; the User-Agent
// is identifying (not Go's default) and Accept is set; every error is a *provider.Error (except
// cancellation) with Provider set; a successful Result has Bytes == body length, Raw valid JSON,
// Summary non-nil, Verdict.Reason non-empty.
func Run(t *testing.T, s Suite) {
	t.Helper()
	desc, ok := provider.Lookup(s.Provider)
	if !ok {
		t.Fatalf("providertest: no provider registered as %q (is its file in package provider and its init calling Register?)", s.Provider)
	}
	r := &runner{s: s, desc: desc}
	t.Run("descriptor", r.descriptor)
	t.Run("fixtures", func(t *testing.T) {
		if len(s.Fixtures) == 0 {
			t.Fatal("suite has no fixtures")
		}
		seen := map[string]bool{}
		for _, f := range s.Fixtures {
			if f.Name == "" || seen[f.Name] {
				t.Errorf("fixture names must be unique and non-empty; got %q", f.Name)
			}
			seen[f.Name] = true
			t.Run(f.Name, func(t *testing.T) {
				t.Parallel()
				r.fixture(t, f)
			})
		}
	})
	t.Run("generic", r.generic)
}

type runner struct {
	s    Suite
	desc provider.Descriptor
}

// descriptor checks the registered descriptor is complete.
func (r *runner) descriptor(t *testing.T) {
	d := r.desc
	if d.Name != r.s.Provider {
		t.Errorf("descriptor Name = %q, want %q", d.Name, r.s.Provider)
	}
	if d.Title == "" {
		t.Error("descriptor Title is empty")
	}
	if u, err := url.Parse(d.BaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("descriptor BaseURL = %q, want an https URL", d.BaseURL)
	}
	if d.Rate.IsZero() {
		t.Error("descriptor Rate is unset; give the free-tier limit")
	}
	if d.CacheTTL <= 0 || d.NotFoundTTL <= 0 || d.Timeout <= 0 {
		t.Errorf("descriptor CacheTTL=%s NotFoundTTL=%s Timeout=%s: all must be positive", d.CacheTTL, d.NotFoundTTL, d.Timeout)
	}
	if d.FreeTier == "" {
		t.Error("descriptor FreeTier is empty")
	}
	if r.s.APIKey == "" && d.Key == provider.KeyRequired {
		t.Error("Suite.APIKey is empty but the provider requires a key")
	}
	if !d.Serves(r.s.Probe.Kind) {
		t.Errorf("Suite.Probe %s is of a kind the provider does not serve (%v)", r.s.Probe, d.Kinds)
	}
	covered := map[indicator.Kind]bool{}
	for _, f := range r.s.Fixtures {
		if n := 1 + len(f.More); n > d.MaxCalls() {
			t.Errorf("fixture %q has %d exchanges, but the descriptor's Calls allows %d per lookup", f.Name, n, d.MaxCalls())
		}
		if f.WantErr == nil {
			covered[f.Indicator.Kind] = true
		}
	}
	for _, k := range d.Kinds {
		if !covered[k] {
			t.Errorf("no successful fixture for kind %s, which the provider serves", k)
		}
	}
	p := r.build(t, "http://127.0.0.1:1", func(c *provider.Config) {})
	if got := p.Descriptor().Name; got != d.Name {
		t.Errorf("live provider's Descriptor().Name = %q, want %q", got, d.Name)
	}
	if !p.Configured() {
		t.Error("Configured() = false with the suite's API key")
	}
}

// build makes a live provider from the registered descriptor.
func (r *runner) build(t *testing.T, baseURL string, mod func(*provider.Config)) provider.Provider {
	t.Helper()
	cfg := provider.Config{BaseURL: baseURL, APIKey: r.s.APIKey, Timeout: callTimeout}
	mod(&cfg)
	p, err := r.desc.New(cfg)
	if err != nil {
		t.Fatalf("New(config) = %v", r.redact(err.Error()))
	}
	if p == nil {
		t.Fatal("New(config) returned a nil provider")
	}
	return p
}

// recorded is one request as the fake server saw it.
type recorded struct {
	Method      string
	Path        string // escaped, relative to basePath
	OutsideBase bool   // the request did not arrive under the base URL
	RawQuery    string
	Header      http.Header
	Body        []byte
}

func (q recorded) String() string {
	var b strings.Builder
	path := q.Path
	if q.OutsideBase {
		path += " (outside the base URL!)"
	}
	fmt.Fprintf(&b, "%s %s", q.Method, path)
	if q.RawQuery != "" {
		fmt.Fprintf(&b, "?%s", q.RawQuery)
	}
	names := make([]string, 0, len(q.Header))
	for k := range q.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "\n    %s: %s", k, strings.Join(q.Header[k], ", "))
	}
	if len(q.Body) > 0 {
		body := q.Body
		if len(body) > 2000 {
			body = append(body[:2000:2000], "…"...)
		}
		fmt.Fprintf(&b, "\n    body: %s", body)
	}
	return b.String()
}

// fake is an httptest.Server under basePath that records every request and
// answers with respond, whatever the path.
type fake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newFake(t *testing.T, respond http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		path := req.URL.EscapedPath()
		rel, inside := strings.CutPrefix(path, basePath)
		if !inside {
			rel = path
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{
			Method:      req.Method,
			Path:        rel,
			OutsideBase: !inside,
			RawQuery:    req.URL.RawQuery,
			Header:      req.Header.Clone(),
			Body:        body,
		})
		f.mu.Unlock()
		respond(w, req)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) baseURL() string { return f.srv.URL + basePath }

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// fixture replays one recorded exchange.
func (r *runner) fixture(t *testing.T, fx Fixture) {
	read := func(file string) []byte {
		if file == "" {
			return nil
		}
		b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(file)))
		if err != nil {
			t.Fatalf("fixture %q: read its response file: %v (File is relative to the test's testdata/ directory)", fx.Name, err)
		}
		return b
	}
	orOK := func(st int) int {
		if st == 0 {
			return http.StatusOK
		}
		return st
	}
	body, status := read(fx.File), orOK(fx.Status)
	bodies, statuses := [][]byte{body}, []int{status}
	total := len(body)
	for _, x := range fx.More {
		bodies, statuses = append(bodies, read(x.File)), append(statuses, orOK(x.Status))
		total += len(bodies[len(bodies)-1])
	}
	var mu sync.Mutex
	next := 0
	srv := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		i := next
		next++
		mu.Unlock()
		for k, vs := range fx.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		if i >= len(bodies) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"message":"providertest: more requests than the fixture's exchanges"}`)
			return
		}
		w.WriteHeader(statuses[i])
		_, _ = w.Write(bodies[i])
	})
	p := r.build(t, srv.baseURL(), func(*provider.Config) {})
	ctx, cancel := context.WithTimeout(context.Background(), 2*callTimeout)
	defer cancel()
	res, err := p.Lookup(ctx, fx.Indicator)

	reqs := srv.requests()
	r.checkRequests(t, fx, reqs)

	if fx.WantErr == nil {
		if err != nil {
			t.Fatalf("Lookup(%s) error = %v, want a result (served %s, HTTP %d)", fx.Indicator, r.redact(err.Error()), fileName(fx.File), status)
		}
		r.checkResult(t, res, total, status)
		r.checkLink(t, fx.Indicator)
		if res != nil {
			r.checkContext(t, res)
		}
		if fx.Check != nil && res != nil {
			fx.Check(t, res)
		}
		return
	}
	if res != nil {
		t.Errorf("Lookup(%s) returned a result alongside the error: %+v", fx.Indicator, res)
	}
	pe := r.checkErr(t, err, fx.WantErr)
	if pe != nil && errors.Is(fx.WantErr, provider.ErrNotFound) && len(reqs) > 0 {
		// A not-found keeps the body and its size so it can be cached and accounted.
		if pe.Bytes != int64(total) {
			t.Errorf("not-found error Bytes = %d, want the length of the lookup's bodies %d (use Base.Fail(ErrNotFound, resp, ...))", pe.Bytes, total)
		}
		if len(body) > 0 && len(fx.More) == 0 && !bytes.Equal(pe.Raw, body) {
			t.Errorf("not-found error Raw = %q, want the body as received (use Base.Fail(ErrNotFound, resp, ...))", pe.Raw)
		}
	}
}

func fileName(f string) string {
	if f == "" {
		return "an empty body"
	}
	return "testdata/" + f
}

// checkRequests compares what the fake received with the fixture's Want.
func (r *runner) checkRequests(t *testing.T, fx Fixture, reqs []recorded) {
	t.Helper()
	for _, q := range reqs {
		r.checkCommonHeaders(t, q)
	}
	if fx.Want.Method == "" {
		if len(reqs) != 0 {
			t.Errorf("fixture %q: Want.Method is empty, so no request was expected; got %d:\n%s", fx.Name, len(reqs), listRequests(reqs))
		}
		return
	}
	wants := []Request{fx.Want}
	for _, x := range fx.More {
		wants = append(wants, x.Want)
	}
	switch {
	case len(reqs) == 0:
		t.Errorf("fixture %q: the provider sent no request; want %s %s", fx.Name, fx.Want.Method, fx.Want.Path)
		return
	case len(reqs) != len(wants):
		t.Errorf("fixture %q: want %d request(s) for this lookup, got %d:\n%s", fx.Name, len(wants), len(reqs), listRequests(reqs))
	}
	for i := range min(len(reqs), len(wants)) {
		if diffs := compareRequest(wants[i], reqs[i]); len(diffs) > 0 {
			t.Errorf("fixture %q: request #%d differs from its Want:\n  %s\nreceived request:\n  %s",
				fx.Name, i+1, strings.Join(diffs, "\n  "), reqs[i])
		}
	}
}

func listRequests(reqs []recorded) string {
	var b strings.Builder
	for i, q := range reqs {
		fmt.Fprintf(&b, "  #%d %s\n", i+1, q)
	}
	return b.String()
}

// compareRequest lists every way got differs from want.
func compareRequest(want Request, got recorded) []string {
	var diffs []string
	if got.Method != want.Method {
		diffs = append(diffs, fmt.Sprintf("method: want %q, got %q", want.Method, got.Method))
	}
	if got.OutsideBase {
		diffs = append(diffs, fmt.Sprintf("path: %q is not under the configured base URL %q; append the documented path to Base.URL", got.Path, basePath))
	} else if got.Path != want.Path {
		diffs = append(diffs, fmt.Sprintf("path (escaped, relative to the base URL): want %q, got %q", want.Path, got.Path))
	}
	if want.Query != nil {
		gotQuery, err := url.ParseQuery(got.RawQuery)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("query %q does not parse: %v", got.RawQuery, err))
		} else if d := cmp.Diff(want.Query, gotQuery, cmpopts.EquateEmpty()); d != "" {
			diffs = append(diffs, "query (-want +got):\n"+indent(d))
		}
	}
	names := make([]string, 0, len(want.Header))
	for k := range want.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := got.Header.Values(k)
		switch {
		case len(vs) == 0:
			diffs = append(diffs, fmt.Sprintf("header %s: missing, want %q", k, want.Header[k]))
		case len(vs) > 1 || vs[0] != want.Header[k]:
			diffs = append(diffs, fmt.Sprintf("header %s: want %q, got %q", k, want.Header[k], strings.Join(vs, ", ")))
		}
	}
	if want.Form != nil {
		ct := mediaType(got.Header)
		if ct != "application/x-www-form-urlencoded" {
			diffs = append(diffs, fmt.Sprintf("Content-Type: want application/x-www-form-urlencoded, got %q", got.Header.Get("Content-Type")))
		}
		gotForm, err := url.ParseQuery(string(got.Body))
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("form body %q does not parse: %v", got.Body, err))
		} else if d := cmp.Diff(want.Form, gotForm, cmpopts.EquateEmpty()); d != "" {
			diffs = append(diffs, "form (-want +got):\n"+indent(d))
		}
	}
	if want.JSON != "" {
		if ct := mediaType(got.Header); ct != "application/json" {
			diffs = append(diffs, fmt.Sprintf("Content-Type: want application/json, got %q", got.Header.Get("Content-Type")))
		}
		var w, g any
		if err := json.Unmarshal([]byte(want.JSON), &w); err != nil {
			diffs = append(diffs, fmt.Sprintf("Want.JSON is not valid JSON: %v", err))
		} else if err := json.Unmarshal(got.Body, &g); err != nil {
			diffs = append(diffs, fmt.Sprintf("JSON body %q does not parse: %v", got.Body, err))
		} else if d := cmp.Diff(w, g); d != "" {
			diffs = append(diffs, "JSON body (-want +got):\n"+indent(d))
		}
	}
	return diffs
}

func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// checkCommonHeaders checks what every request must carry.
func (r *runner) checkCommonHeaders(t *testing.T, q recorded) {
	t.Helper()
	ua := q.Header.Get("User-Agent")
	if ua == "" || strings.HasPrefix(ua, "Go-http-client") {
		t.Errorf("request %s %s: User-Agent %q is not identifying (use Base.NewRequest)", q.Method, q.Path, ua)
	}
	if q.Header.Get("Accept") == "" {
		t.Errorf("request %s %s: no Accept header (use Base.NewRequest)", q.Method, q.Path)
	}
}

// checkResult checks what every successful result must hold.
func (r *runner) checkResult(t *testing.T, res *provider.Result, bodyBytes int, status int) {
	t.Helper()
	if res == nil {
		t.Fatal("Lookup returned a nil result and a nil error")
	}
	if res.Provider != r.s.Provider {
		t.Errorf("Result.Provider = %q, want %q", res.Provider, r.s.Provider)
	}
	if res.Bytes != int64(bodyBytes) {
		t.Errorf("Result.Bytes = %d, want the body length %d", res.Bytes, bodyBytes)
	}
	if res.StatusCode != status {
		t.Errorf("Result.StatusCode = %d, want %d", res.StatusCode, status)
	}
	if !json.Valid(res.Raw) {
		t.Errorf("Result.Raw is not valid JSON: %.200q", res.Raw)
	}
	if res.Summary == nil {
		t.Error("Result.Summary is nil")
	} else if v := reflect.ValueOf(res.Summary); v.Kind() == reflect.Pointer && v.IsNil() {
		t.Errorf("Result.Summary is a nil %T", res.Summary)
	}
	v := res.Verdict
	if v.Level < indicator.Unknown || v.Level > indicator.Malicious {
		t.Errorf("Verdict.Level = %d, not a valid level", v.Level)
	}
	if v.Score < 0 || v.Score > 100 {
		t.Errorf("Verdict.Score = %d, want 0–100", v.Score)
	}
	if strings.TrimSpace(v.Reason) == "" {
		t.Error("Verdict.Reason is empty")
	}
	if r.s.APIKey != "" && strings.Contains(v.Reason, r.s.APIKey) {
		t.Errorf("Verdict.Reason contains the API key: %q", v.Reason)
	}
}

// checkLink checks the descriptor's link for ind, if any: an absolute
// https URL of the provider's site, without the API key.
func (r *runner) checkLink(t *testing.T, ind indicator.Indicator) {
	t.Helper()
	link := r.desc.LinkOf(ind)
	if link == "" {
		return
	}
	if u, err := url.Parse(link); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("Link(%s) = %q, want an absolute https URL", ind, link)
	}
	if r.s.APIKey != "" && strings.Contains(link, r.s.APIKey) {
		t.Errorf("Link(%s) contains the API key", ind)
	}
}

// checkContext checks the summary's context, if it has one: well-formed
// fields, no empty labels, no API key.
func (r *runner) checkContext(t *testing.T, res *provider.Result) {
	t.Helper()
	cx, ok := res.Summary.(provider.Contexter)
	if !ok {
		return
	}
	c := cx.Context()
	if c.Country != "" && (len(c.Country) != 2 || strings.ToUpper(c.Country) != c.Country) {
		t.Errorf("Context().Country = %q, want an upper-case ISO 3166-1 alpha-2 code", c.Country)
	}
	if c.Network != "" {
		if _, err := netip.ParsePrefix(c.Network); err != nil {
			t.Errorf("Context().Network = %q, want a CIDR: %v", c.Network, err)
		}
	}
	if c.ASN < 0 {
		t.Errorf("Context().ASN = %d", c.ASN)
	}
	if !c.FirstSeen.IsZero() && !c.LastSeen.IsZero() && c.LastSeen.Before(c.FirstSeen) {
		t.Errorf("Context() LastSeen %s before FirstSeen %s", c.LastSeen, c.FirstSeen)
	}
	for _, l := range append(slices.Clone(c.Tags), c.MalwareFamilies...) {
		if strings.TrimSpace(l) == "" {
			t.Errorf("Context() has an empty tag or family: %q", append(c.Tags, c.MalwareFamilies...))
		}
	}
	if r.s.APIKey != "" && strings.Contains(fmt.Sprint(c), r.s.APIKey) {
		t.Error("Context() contains the API key")
	}
}

// checkErr checks err matches want, is a *provider.Error for this provider
// and does not leak the key. It returns the *provider.Error, if any.
func (r *runner) checkErr(t *testing.T, err, want error) *provider.Error {
	t.Helper()
	if err == nil {
		t.Errorf("Lookup error = nil, want %v", want)
		return nil
	}
	msg := err.Error()
	if r.s.APIKey != "" && (strings.Contains(msg, r.s.APIKey) || strings.Contains(msg, url.QueryEscape(r.s.APIKey))) {
		t.Errorf("the error text contains the API key: %s", r.redact(msg))
	}
	if !errors.Is(err, want) {
		t.Errorf("Lookup error = %v (%T), want one matching %v", r.redact(msg), err, want)
	}
	if errors.Is(want, context.Canceled) {
		return nil
	}
	var pe *provider.Error
	if !errors.As(err, &pe) {
		t.Errorf("Lookup error %q is a %T, want a *provider.Error", r.redact(msg), err)
		return nil
	}
	if pe.Provider != r.s.Provider {
		t.Errorf("Error.Provider = %q, want %q", pe.Provider, r.s.Provider)
	}
	return pe
}

func (r *runner) redact(s string) string {
	if r.s.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, r.s.APIKey, "[API KEY]")
}

// scenario is one generic failure, served for any path.
type scenario struct {
	name   string
	status int
	header http.Header
	body   string
	cfg    func(*provider.Config)
	want   error
	check  func(t *testing.T, e *provider.Error)
}

// generic runs the provider-independent scenarios on Probe.
func (r *runner) generic(t *testing.T) {
	big := `{"padding":"` + strings.Repeat("x", 4096) + `"}`
	scenarios := []scenario{
		{name: "rate_limited_retry_after", status: http.StatusTooManyRequests,
			header: http.Header{"Retry-After": {"7"}}, body: `{"message":"rate limit exceeded"}`, want: provider.ErrRateLimited,
			check: func(t *testing.T, e *provider.Error) {
				if e.RetryAfter != 7*time.Second {
					t.Errorf("RetryAfter = %s, want 7s from the Retry-After header", e.RetryAfter)
				}
			}},
		{name: "unauthorized", status: http.StatusUnauthorized, body: `{"message":"invalid key"}`, want: provider.ErrAuth},
		{name: "forbidden", status: http.StatusForbidden, body: `{"message":"forbidden"}`, want: provider.ErrAuth,
			check: func(t *testing.T, e *provider.Error) {
				// Only a key that was sent can have been refused: a keyless
				// service's 403 is a block of this address (rdap.org).
				if r.s.APIKey == "" && strings.Contains(e.Message, "refused the API key") {
					t.Errorf("message = %q: no API key was sent, so none was refused", e.Message)
				}
			}},
		{name: "forbidden_unknown_auth_key", status: http.StatusForbidden, body: `{"query_status":"unknown_auth_key"}`, want: provider.ErrAuth},
		{name: "server_error", status: http.StatusInternalServerError, body: `{"message":"internal error"}`, want: provider.ErrUpstream},
		{name: "unavailable", status: http.StatusServiceUnavailable, body: `{"message":"try later"}`, want: provider.ErrUpstream},
		{name: "malformed_json", status: http.StatusOK, body: `{"data":{"attributes":`, want: provider.ErrUpstream},
		{name: "body_over_size_cap", status: http.StatusOK, body: big, want: provider.ErrUpstream,
			cfg: func(c *provider.Config) { c.MaxBodyBytes = 1024 }},
	}
	if r.abuseCH() {
		scenarios = append(scenarios, scenario{name: "illegal_auth_key_in_band", status: http.StatusOK,
			body: `{"query_status":"illegal_auth_key"}`, want: provider.ErrAuth})
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, vs := range sc.header {
					w.Header()[k] = vs
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(sc.status)
				_, _ = io.WriteString(w, sc.body)
			})
			mod := sc.cfg
			if mod == nil {
				mod = func(*provider.Config) {}
			}
			p := r.build(t, srv.baseURL(), mod)
			ctx, cancel := context.WithTimeout(context.Background(), 2*callTimeout)
			defer cancel()
			res, err := p.Lookup(ctx, r.s.Probe)
			r.checkOneRequest(t, srv)
			if res != nil {
				t.Errorf("Lookup returned a result for HTTP %d %.80s", sc.status, sc.body)
			}
			if pe := r.checkErr(t, err, sc.want); pe != nil && sc.check != nil {
				sc.check(t, pe)
			}
		})
	}

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, func(w http.ResponseWriter, req *http.Request) {
			select {
			case <-req.Context().Done():
			case <-time.After(time.Second):
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{}`)
		})
		p := r.build(t, srv.baseURL(), func(c *provider.Config) { c.Timeout = 100 * time.Millisecond })
		res, err := p.Lookup(context.Background(), r.s.Probe)
		if res != nil {
			t.Error("Lookup returned a result past the timeout")
		}
		r.checkErr(t, err, provider.ErrTimeout)
	})

	t.Run("cancelled_before_call", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{}`)
		})
		p := r.build(t, srv.baseURL(), func(*provider.Config) {})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := p.Lookup(ctx, r.s.Probe)
		if res != nil {
			t.Error("Lookup returned a result with a cancelled context")
		}
		r.checkErr(t, err, context.Canceled)
	})

	t.Run("cancelled_during_call", func(t *testing.T) {
		t.Parallel()
		started := make(chan struct{})
		var once sync.Once
		srv := newFake(t, func(w http.ResponseWriter, req *http.Request) {
			once.Do(func() { close(started) })
			select {
			case <-req.Context().Done():
			case <-time.After(callTimeout):
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{}`)
		})
		p := r.build(t, srv.baseURL(), func(*provider.Config) {})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-started:
				cancel()
			case <-done:
			}
		}()
		res, err := p.Lookup(ctx, r.s.Probe)
		if res != nil {
			t.Error("Lookup returned a result with a cancelled context")
		}
		r.checkErr(t, err, context.Canceled)
	})

	t.Run("no_key", func(t *testing.T) {
		t.Parallel()
		srv := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
		})
		p := r.build(t, srv.baseURL(), func(c *provider.Config) { c.APIKey = "" })
		if r.desc.Key != provider.KeyRequired {
			if !p.Configured() {
				t.Errorf("Configured() = false without a key, but the descriptor says the key is %s", r.desc.Key)
			}
			return
		}
		if p.Configured() {
			t.Error("Configured() = true without the required key")
		}
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		res, err := p.Lookup(ctx, r.s.Probe)
		if res != nil {
			t.Error("Lookup returned a result without the required key")
		}
		r.checkErr(t, err, provider.ErrNotConfigured)
		if n := len(srv.requests()); n != 0 {
			t.Errorf("a lookup without the required key sent %d request(s); want none (return Base.NotConfigured() first)", n)
		}
	})
}

// checkOneRequest checks a generic scenario sent exactly one request under
// the base URL with the common headers.
func (r *runner) checkOneRequest(t *testing.T, srv *fake) {
	t.Helper()
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Errorf("want exactly one request for %s, got %d:\n%s", r.s.Probe, len(reqs), listRequests(reqs))
	}
	for _, q := range reqs {
		r.checkCommonHeaders(t, q)
		if q.OutsideBase {
			t.Errorf("request path %q is not under the configured base URL", q.Path)
		}
	}
}

// abuseCH reports whether the provider is one of the abuse.ch services,
// which signal auth failures in-band.
func (r *runner) abuseCH() bool {
	u, err := url.Parse(r.desc.BaseURL)
	return err == nil && (u.Hostname() == "abuse.ch" || strings.HasSuffix(u.Hostname(), ".abuse.ch"))
}
