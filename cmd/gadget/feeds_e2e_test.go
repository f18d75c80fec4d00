package main

import (
	"strings"
	"testing"
	"time"
)

// The feeds provider through the real server: replicas on one database
// download each feed once between them (the datasets lease), status shows
// every feed's size and age, and lookups answer from memory, also with the
// River executor (a local provider never becomes a job), marked cached.
func TestFeedsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			env["GADGET_FEEDS_POLL"] = "50ms"
			fake := withFake(t, env)
			replicas := []*instance{start(t, env)}
			if strings.HasPrefix(env["GADGET_DATABASE_URL"], "postgres") {
				replicas = append(replicas, start(t, env))
			}
			for _, in := range replicas {
				waitForFeeds(t, in)
			}
			if n := fake.Calls("feeds"); n != 8 {
				t.Errorf("%d replicas downloaded %d feeds, want each of the 8 enabled feeds once", len(replicas), n)
			}
			for i, in := range replicas {
				tok := in.token("root", rootPW, "")
				got := field[map[string]any](t, in.gql(tok, `{ indicator(value: "203.0.113.7") { verdict { level } ... on IPAddress { feeds { status cached verdict { level score reason } matches { feed entry malware } stale } } } }`, nil), "indicator")
				f := got["feeds"].(map[string]any)
				v := f["verdict"].(map[string]any)
				if f["status"] != "OK" || f["cached"] != true || v["level"] != "MALICIOUS" ||
					!strings.HasPrefix(v["reason"].(string), "listed by feodo (QakBot botnet_cc), sslbl (botnet_cc), threatfox") || len(f["matches"].([]any)) != 3 {
					t.Errorf("replica %d: feeds = %v", i, f)
				}
				if got["verdict"].(map[string]any)["level"] != "MALICIOUS" {
					t.Errorf("replica %d: verdict = %v", i, got["verdict"])
				}
				tor := field[map[string]any](t, in.gql(tok, `{ indicator(value: "198.51.100.200") { ... on IPAddress { feeds { status tags verdict { level reason } } } } }`, nil), "indicator")
				tf := tor["feeds"].(map[string]any)
				if tf["status"] != "OK" || tf["verdict"].(map[string]any)["level"] != "UNKNOWN" || len(tf["tags"].([]any)) != 1 || tf["tags"].([]any)[0] != "tor-exit" {
					t.Errorf("replica %d: a Tor exit = %v", i, tf)
				}
				nf := field[map[string]any](t, in.gql(tok, `{ indicator(value: "example.org") { ... on Domain { feeds { status verdict { reason } } } } }`, nil), "indicator")
				if nf["feeds"].(map[string]any)["status"] != "NOT_FOUND" {
					t.Errorf("replica %d: an unlisted domain = %v", i, nf)
				}
			}
			if n := fake.Calls("feeds"); n != 8 {
				t.Errorf("lookups reached the fake: %d feed requests, want 8", n)
			}
		})
	}
}

// waitForFeeds waits until status shows every enabled feed loaded.
func waitForFeeds(t *testing.T, in *instance) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ds []map[string]any
		for _, p := range field[map[string]any](t, in.gql("", `{ status { providers { name datasets { name enabled entries fetchedAt stale } } } }`, nil), "status")["providers"].([]any) {
			if p.(map[string]any)["name"] == "feeds" {
				for _, d := range p.(map[string]any)["datasets"].([]any) {
					ds = append(ds, d.(map[string]any))
				}
			}
		}
		loaded := len(ds) == 9
		for _, d := range ds {
			if d["enabled"] == true && (d["fetchedAt"] == nil || d["stale"] == true || d["entries"].(float64) < 2) {
				loaded = false
			}
		}
		if loaded {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("feeds not loaded: %v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
