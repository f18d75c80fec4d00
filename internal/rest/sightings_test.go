package rest_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/rest"
)

type restSightings struct {
	Sightings *struct {
		Count         int64      `json:"count"`
		DistinctUsers int64      `json:"distinct_users"`
		FirstSeen     *time.Time `json:"first_seen"`
		LastSeen      *time.Time `json:"last_seen"`
		LastVerdict   *string    `json:"last_verdict"`
		Manual        *struct {
			Verdict, Note, Username string
			At                      time.Time
		} `json:"manual"`
		Text string `json:"text"`
	} `json:"sightings"`
}

// The envelope carries the value's earlier sightings, by every user and
// with the latest manual verdict, to a caller holding only the tasks
// scope; the sightings and the audit rows record each lookup's TLP.
func TestSightingsREST(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("carol", "carol-password-1", false)
	h.user("dave", "dave-password-1", false)
	carol, dave := h.token("carol", "tasks"), h.token("dave", "tasks")
	doc, err := rest.Document()
	if err != nil {
		t.Fatal(err)
	}
	const path = "/api/indicator/ipv4/203.0.113.7?providers=abuseipdb"
	look := func(tok, query string) restSightings {
		t.Helper()
		a := h.do(tok, "GET", path+query, "", "")
		documented(t, doc, a)
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		return decode[restSightings](t, a)
	}
	ctx := context.Background()
	// written by the usage writer once the request has ended
	waitSightings := func(n int) []policy.Sighting {
		t.Helper()
		for range 400 {
			got, err := h.store.Sightings(ctx, "ipv4", "203.0.113.7", "", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == n {
				return got
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("fewer than %d sightings written", n)
		return nil
	}

	first := look(carol, "&tlp=GREEN")
	if s := first.Sightings; s == nil || s.Count != 0 || s.FirstSeen != nil || s.LastVerdict != nil || s.Text != "never seen before" {
		t.Fatalf("first lookup: %+v", s)
	}
	waitSightings(1)
	look(dave, "&tlp=AMBER_STRICT")
	rows := waitSightings(2)
	// newest first: dave's under AMBER+STRICT, then carol's under GREEN
	if rows[0].Username != "dave" || rows[0].TLP != "AMBER_STRICT" || rows[0].Source != "rest" ||
		rows[1].Username != "carol" || rows[1].TLP != "GREEN" || rows[1].Verdict != "MALICIOUS" {
		t.Errorf("sighting rows = %+v", rows)
	}
	if _, err := h.store.Annotate(ctx, policy.Annotation{SightingID: rows[1].ID, Verdict: policy.FalsePositive, Note: "our scanner",
		Username: "carol", At: time.Now().UTC()}, "carol"); err != nil {
		t.Fatal(err)
	}

	third := look(carol, "").Sightings
	if third == nil || third.FirstSeen == nil || third.LastSeen == nil || third.LastVerdict == nil || third.Manual == nil {
		t.Fatalf("third lookup: %+v", third)
	}
	if third.LastSeen.Before(*third.FirstSeen) || time.Since(*third.FirstSeen) > time.Minute {
		t.Errorf("first seen %s, last seen %s", third.FirstSeen, third.LastSeen)
	}
	got := []any{third.Count, third.DistinctUsers, *third.LastVerdict, third.Manual.Verdict, third.Manual.Note, third.Manual.Username, third.Text}
	want := []any{int64(2), int64(2), "MALICIOUS", "FALSE_POSITIVE", "our scanner", "carol",
		"seen 2 times by 2 analysts; last verdict MALICIOUS just now; marked false positive by carol just now"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("summary (-want +got):\n%s", d)
	}

	// the audit rows carry the TLP of their lookups (the default is AMBER)
	waitSightings(3)
	recs, err := h.store.AuditLog(ctx, accounting.AuditFilter{Username: "dave"}, 10, nil)
	if err != nil || len(recs) != 1 || recs[0].TLP != "AMBER_STRICT" {
		t.Errorf("dave's audit rows: %+v, %v", recs, err)
	}
	recs, err = h.store.AuditLog(ctx, accounting.AuditFilter{Username: "carol"}, 10, nil)
	if err != nil || len(recs) != 2 || recs[0].TLP != "AMBER" || recs[1].TLP != "GREEN" {
		t.Errorf("carol's audit rows: %+v, %v", recs, err)
	}
}

// A provider whose maximum is GREEN (Robtex) is asked at TLP:GREEN and
// kept out at the default AMBER, with the reason; a provider with the
// default AMBER maximum is asked at both.
func TestMaxTLPREST(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("carol", "carol-password-1", false)
	carol := h.token("carol", "tasks")
	type result struct{ Status, Reason string }
	look := func(value, tlp string) map[string]result {
		t.Helper()
		a := h.do(carol, "GET", "/api/indicator/ipv4/"+value+"?providers=robtex,abuseipdb"+tlp, "", "")
		if a.status != 200 {
			t.Fatalf("%d %s", a.status, a.body)
		}
		out := map[string]result{}
		for _, r := range decode[restLookup](t, a).Results {
			out[r.Provider] = result{Status: r.Status}
			if r.Error != nil {
				out[r.Provider] = result{Status: r.Status, Reason: r.Error.Message}
			}
		}
		return out
	}
	robtex, abuseipdb := h.fake.Calls("robtex"), h.fake.Calls("abuseipdb")
	green := look("198.51.100.7", "&tlp=GREEN")
	if green["robtex"].Status != "OK" || green["abuseipdb"].Status != "OK" || h.fake.Calls("robtex") != robtex+1 {
		t.Errorf("TLP:GREEN: %+v, robtex calls %d", green, h.fake.Calls("robtex")-robtex)
	}
	amber := look("198.51.100.8", "") // the default, AMBER
	want := map[string]result{"robtex": {"SKIPPED", "TLP:AMBER is not shared with robtex"}, "abuseipdb": {Status: "OK"}}
	if d := cmp.Diff(want, amber); d != "" {
		t.Errorf("TLP:AMBER (-want +got):\n%s", d)
	}
	if h.fake.Calls("robtex") != robtex+1 || h.fake.Calls("abuseipdb") != abuseipdb+2 {
		t.Errorf("calls: robtex %d, abuseipdb %d", h.fake.Calls("robtex")-robtex, h.fake.Calls("abuseipdb")-abuseipdb)
	}
}
