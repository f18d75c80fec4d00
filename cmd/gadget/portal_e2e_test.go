package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// portalEvent is one line of the portal's lookup stream, as the page reads it.
type portalEvent struct {
	Type     string
	Row      int
	TLP      string
	Playbook string
	Started  string
	Rows     []struct {
		Value, Kind, Internal string
		Providers             []string
	}
	Internal []struct{ Value, Kind, Reason string }
	Result   struct {
		Provider, Status, Level, Reason, Link, Error string
		Cached                                       bool
	}
	Verdict struct {
		Level    string
		Score    int
		Complete bool
		Coverage string
		Context  []struct{ Label, Value, Source string }
	}
	Sightings string
}

// portalSession is a signed-in portal client with the session's CSRF token.
type portalSession struct {
	t    *testing.T
	in   *instance
	c    *http.Client
	csrf string
}

var csrfFieldRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (s *portalSession) get(path string) (int, string) {
	s.t.Helper()
	res, err := s.c.Get(s.in.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (s *portalSession) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.in.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", s.csrf)
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// portalSignIn signs in through the portal's form.
func portalSignIn(t *testing.T, in *instance, user, pw string) *portalSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &portalSession{t: t, in: in, c: &http.Client{Jar: jar}}
	_, login := s.get("/portal/login")
	m := csrfFieldRe.FindStringSubmatch(login)
	if m == nil {
		t.Fatalf("no csrf field on the sign-in page")
	}
	res, err := s.c.PostForm(in.base+"/portal/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {pw}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("sign-in ended at %s with HTTP %d", res.Request.URL.Path, res.StatusCode)
	}
	_, page := s.get("/portal/usage")
	s.csrf = csrfFieldRe.FindStringSubmatch(page)[1]
	return s
}

// lookup streams a portal lookup and returns its events.
func (s *portalSession) lookup(form url.Values) []portalEvent {
	s.t.Helper()
	status, body := s.post("/portal/lookup", form)
	if status != 200 {
		s.t.Fatalf("lookup: HTTP %d %s", status, body)
	}
	var out []portalEvent
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var ev portalEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			s.t.Fatalf("stream line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

// TestPortalEndToEnd signs in through the portal form of the real server on
// both storage configurations, streams a lookup against the fake intel
// server, checks what its cards show (verdict, coverage, context, provider
// rows without stutter, links, the sightings line, an internal value shown
// once), puts a manual verdict on the sighting, and finds the lookup in the
// overview's chart and the audit log.
func TestPortalEndToEnd(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			withFake(t, env)
			in := start(t, env)
			waitForFeeds(t, in) // a complete verdict needs the feeds downloaded
			s := portalSignIn(t, in, "root", rootPW)
			_, page := s.get("/portal/lookup")
			for _, want := range []string{`name="playbook"`, `<option value="ip-triage" title="providers: abuseipdb`, `name="tlp"`, `<option value="AMBER" selected>TLP:AMBER (default)`, `name="cached_only"`, `id="download-stix"`} {
				if !strings.Contains(page, want) {
					t.Errorf("the lookup form lacks %s", want)
				}
			}
			if strings.Contains(page, `name="preset"`) {
				t.Error("the lookup form still offers the hard-coded presets")
			}

			// a never-send list keeps one value in
			if st, body := s.post("/portal/lists", url.Values{"name": {"corp"}, "effect": {"NEVER_SEND"}}); st != 200 {
				t.Fatalf("create list: %d %.500s", st, body)
			}
			if st, body := s.post("/portal/lists/corp/entries", url.Values{"values": {"198.51.100.0/24"}, "reason": {"our DMZ"}}); st != 200 {
				t.Fatalf("add entry: %d %.500s", st, body)
			}

			events := s.lookup(url.Values{"values": {"203.0.113.50 and 192.0.2.50, 198.51.100.7 from 10.1.2.3"}, "playbook": {"ip-triage"}, "tlp": {"GREEN"}})
			plan := events[0]
			if plan.Type != "plan" || plan.TLP != "TLP:GREEN" || plan.Playbook != "ip-triage" || len(plan.Rows) != 3 || plan.Started == "" {
				t.Fatalf("plan = %+v", plan)
			}
			if plan.Rows[2].Value != "198.51.100.7" || plan.Rows[2].Internal != "listed in corp: our DMZ" {
				t.Errorf("the never-send value's row = %+v", plan.Rows[2])
			}
			if len(plan.Internal) != 1 || plan.Internal[0].Value != "10.1.2.3" || plan.Internal[0].Reason == "" {
				t.Errorf("the extractor's internal value = %+v", plan.Internal)
			}
			last := map[int]portalEvent{}
			seen := map[int]string{}
			results := 0
			for _, ev := range events[1:] {
				switch ev.Type {
				case "result":
					results++
					last[ev.Row] = ev
					r := ev.Result
					if strings.HasPrefix(strings.ToLower(r.Reason), r.Provider+":") {
						t.Errorf("%s's reason stutters: %q", r.Provider, r.Reason)
					}
					if ev.Row == 2 && r.Status != "SKIPPED" {
						t.Errorf("the never-send value was asked of %s: %s", r.Provider, r.Status)
					}
				case "seen":
					seen[ev.Row] = ev.Sightings
				}
			}
			if events[len(events)-1].Type != "done" || results != len(plan.Rows[0].Providers)+len(plan.Rows[1].Providers)+len(plan.Rows[2].Providers) {
				t.Fatalf("%d results for plan %+v", results, plan.Rows)
			}
			bad := last[0].Verdict
			if bad.Level != "MALICIOUS" || !bad.Complete || !regexp.MustCompile(`^\d+ of \d+ answered`).MatchString(bad.Coverage) {
				t.Errorf("203.0.113.50's final verdict = %+v", bad)
			}
			labels := map[string]string{}
			for _, c := range bad.Context {
				labels[c.Label] = c.Value
				if c.Source == "" {
					t.Errorf("context %s has no source", c.Label)
				}
			}
			if !strings.HasPrefix(labels["ASN"], "AS") || labels["country"] == "" {
				t.Errorf("203.0.113.50's context = %+v", bad.Context)
			}
			if last[1].Verdict.Level == "MALICIOUS" {
				t.Errorf("192.0.2.50 = %+v", last[1].Verdict)
			}
			links := 0
			for _, ev := range events {
				if ev.Type == "result" && ev.Row == 0 && ev.Result.Link != "" {
					links++
					if !strings.HasPrefix(ev.Result.Link, "https://") {
						t.Errorf("%s's link = %q", ev.Result.Provider, ev.Result.Link)
					}
				}
			}
			if links == 0 {
				t.Error("no provider row links to the provider's page")
			}
			if seen[0] != "never seen before" {
				t.Errorf("first lookup's sightings line = %q", seen[0])
			}

			// a manual verdict on my sighting, then a second lookup shows both
			st, body := s.post("/portal/sightings", url.Values{"value": {"203.0.113.50"}, "verdict": {"TRUE_POSITIVE"}, "note": {"beaconing from host 7"}, "since": {plan.Started}})
			if st != 200 || !strings.Contains(body, "seen once by 1 analyst; last verdict MALICIOUS") || !strings.Contains(body, "marked true positive by root") {
				t.Fatalf("annotate: %d %s", st, body)
			}
			if st, body := s.post("/portal/sightings", url.Values{"value": {"203.0.113.50"}, "verdict": {"MAYBE"}, "since": {plan.Started}}); st != 400 || !strings.Contains(body, `"field":"verdict"`) {
				t.Errorf("a bad manual verdict: %d %s", st, body)
			}
			again := s.lookup(url.Values{"values": {"203.0.113.50"}, "cached_only": {"on"}})
			for _, ev := range again {
				if ev.Type == "seen" && !strings.Contains(ev.Sightings, "seen once by 1 analyst; last verdict MALICIOUS") {
					t.Errorf("second lookup's sightings line = %q", ev.Sightings)
				}
				if ev.Type == "result" && ev.Result.Status != "OK" && ev.Result.Status != "NOT_FOUND" && ev.Result.Status != "PENDING" {
					t.Errorf("cached-only lookup: %s %s", ev.Result.Provider, ev.Result.Status)
				}
			}

			// usage is written in batches: wait for it to show
			deadline := time.Now().Add(15 * time.Second)
			for {
				_, overview := s.get("/portal/admin/")
				_, audit := s.get("/portal/admin/audit?api=lookup")
				if strings.Contains(overview, `<rect class="bar`) && strings.Contains(audit, "POST /portal/lookup") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the lookup never showed in the overview chart and audit log")
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

// TestPortalListsScope: a session whose token holds only the tasks scope
// (an admin's, so scopes alone decide) reads the lists page and is refused
// every change with 403; a change without the CSRF token is refused too.
func TestPortalListsScope(t *testing.T) {
	t.Parallel()
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	in := start(t, env)
	admin := portalSignIn(t, in, "root", rootPW)
	if st, body := admin.post("/portal/lists", url.Values{"name": {"vendors"}, "effect": {"KNOWN_GOOD"}, "description": {"our SaaS"}}); st != 200 {
		t.Fatalf("create: %d %.500s", st, body)
	}

	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(in.base)
	jar.SetCookies(u, []*http.Cookie{{Name: "gadget_session", Value: in.token("root", rootPW, "tasks"), Path: "/"}})
	tasks := &portalSession{t: t, in: in, c: &http.Client{Jar: jar}}
	st, page := tasks.get("/portal/lists")
	if st != 200 || !strings.Contains(page, `data-list="vendors"`) || strings.Contains(page, `id="create-list"`) {
		t.Fatalf("tasks-only lists page: %d %.1500s", st, page)
	}
	tasks.csrf = csrfFieldRe.FindStringSubmatch(page)[1]
	for path, form := range map[string]url.Values{
		"/portal/lists":                 {"name": {"mine"}, "effect": {"BLOCK"}},
		"/portal/lists/vendors/entries": {"values": {"saas.example"}},
		"/portal/lists/vendors/remove":  {"value": {"saas.example"}},
		"/portal/lists/vendors/delete":  {},
	} {
		if st, _ := tasks.post(path, form); st != http.StatusForbidden {
			t.Errorf("tasks-only POST %s: HTTP %d, want 403", path, st)
		}
	}
	admin.csrf = "wrong"
	if st, _ := admin.post("/portal/lists/vendors/delete", url.Values{}); st != http.StatusForbidden {
		t.Errorf("delete with a wrong CSRF token: HTTP %d", st)
	}
	_, page = tasks.get("/portal/lists")
	if !strings.Contains(page, `data-list="vendors"`) || strings.Contains(page, "mine") || !strings.Contains(page, `<td class="count">0</td>`) {
		t.Errorf("a refused change changed the lists: %.1500s", page)
	}
}

// TestPortalCoverageRateLimited: with VirusTotal at one call a minute, the
// second address of a batch gets VirusTotal's RATE_LIMITED at once, and its
// card's coverage says so beside the badge with when to retry, while the
// other providers answer both addresses.
func TestPortalCoverageRateLimited(t *testing.T) {
	t.Parallel()
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	withFake(t, env)
	env["GADGET_VIRUSTOTAL_RATE"] = "1/m"
	in := start(t, env)
	waitForFeeds(t, in) // the one gap counted must be virustotal's, not the feeds' still downloading
	s := portalSignIn(t, in, "root", rootPW)
	events := s.lookup(url.Values{"values": {"203.0.113.61\n203.0.113.62"}})
	final := map[int]portalEvent{}
	limited := map[int]string{}
	for _, ev := range events {
		if ev.Type == "result" {
			final[ev.Row] = ev
			if ev.Result.Provider == "virustotal" {
				limited[ev.Row] = ev.Result.Status
			}
		}
	}
	row := 0
	if limited[1] == "RATE_LIMITED" {
		row = 1
	}
	if limited[row] != "RATE_LIMITED" || limited[1-row] != "OK" {
		t.Fatalf("virustotal answered %v, want one OK and one RATE_LIMITED", limited)
	}
	v := final[row].Verdict
	if v.Complete || !regexp.MustCompile(`^\d+ of \d+ answered; 1 rate-limited, retry in \d+ s`).MatchString(v.Coverage) {
		t.Errorf("the rate-limited row's coverage = %q (complete %v)", v.Coverage, v.Complete)
	}
	if o := final[1-row].Verdict; !o.Complete || strings.Contains(o.Coverage, "rate-limited") {
		t.Errorf("the other row's coverage = %q (complete %v)", o.Coverage, o.Complete)
	}
}
