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

// TestPortalEndToEnd signs in through the portal form of the real server on
// both storage configurations, streams a lookup against the fake intel
// server, and finds it in the overview's chart and the audit log.
func TestPortalEndToEnd(t *testing.T) {
	t.Parallel()
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			withFake(t, env)
			in := start(t, env)
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			get := func(path string) string {
				t.Helper()
				res, err := c.Get(in.base + path)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				if res.StatusCode != 200 {
					t.Fatalf("GET %s: HTTP %d", path, res.StatusCode)
				}
				return string(b)
			}
			csrf := func(page string) string {
				t.Helper()
				m := csrfField.FindStringSubmatch(page)
				if m == nil {
					t.Fatalf("no csrf field: %.300s", page)
				}
				return m[1]
			}
			res, err := c.PostForm(in.base+"/portal/login", url.Values{"csrf": {csrf(get("/portal/login"))}, "username": {"root"}, "password": {rootPW}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 || res.Request.URL.Path != "/portal/lookup" {
				t.Fatalf("sign-in ended at %s with HTTP %d", res.Request.URL.Path, res.StatusCode)
			}
			token := csrf(get("/portal/lookup"))

			req, _ := http.NewRequest("POST", in.base+"/portal/lookup", strings.NewReader(url.Values{"values": {"203.0.113.50 and 192.0.2.50"}, "preset": {"reputation"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-CSRF-Token", token)
			res, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			verdicts := map[int]string{}
			results := 0
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var ev struct {
					Type    string
					Row     int
					Verdict struct{ Level string }
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatalf("stream line %q: %v", sc.Text(), err)
				}
				if ev.Type == "result" {
					results++
					verdicts[ev.Row] = ev.Verdict.Level
				}
			}
			if results == 0 || verdicts[0] != "MALICIOUS" || verdicts[1] == "MALICIOUS" {
				t.Fatalf("lookup: %d results, verdicts %v", results, verdicts)
			}

			// usage is written in batches: wait for it to show
			deadline := time.Now().Add(15 * time.Second)
			for {
				page := get("/portal/admin/")
				if strings.Contains(page, `<rect class="bar`) && strings.Contains(get("/portal/admin/audit?api=lookup"), "POST /portal/lookup") {
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
