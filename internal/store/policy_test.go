package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func onBoth(t *testing.T, f func(t *testing.T, s *store.Store)) {
	t.Helper()
	for name, url := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": testenv.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, storetest.Open(t, url(t)))
		})
	}
}

func TestPolicyListsStored(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		svc, err := policy.New(policy.Config{Store: s, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateList(ctx, "mon", "corp", policy.NeverSend, "our ranges"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateList(ctx, "mon", "corp", policy.NeverSend, ""); err == nil {
			t.Fatal("a second list of the same name was created")
		}
		l, err := svc.AddEntries(ctx, "mon", "corp", []policy.EntryInput{
			{Value: "203.0.113.0/24", Reason: "office"},
			{Value: "*.corp-example.com", Reason: "intranet"},
			{Value: "https://sso.example.net/login", Reason: "sso", ExpiresAt: now.Add(time.Hour)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if l.Entries != 3 || l.Effect != policy.NeverSend || l.Owner != "mon" {
			t.Fatalf("list after adding = %+v", l)
		}
		es, err := svc.Entries(ctx, "corp", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, string(e.Type)+" "+e.Value+" "+e.Reason)
		}
		want := []string{"cidr 203.0.113.0/24 office", "domain corp-example.com intranet", "url https://sso.example.net/login sso"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("entries (-want +got):\n%s", d)
		}
		if es[2].ExpiresAt.IsZero() {
			t.Error("expiry not kept")
		}
		ip := indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.9"}
		if m := svc.Matcher().Match(ip, now); m.NeverSend == nil || m.NeverSend.Reason != "office" {
			t.Errorf("match after adding = %+v", m)
		}
		if _, err := svc.RemoveEntries(ctx, "corp", []string{"203.0.113.0/24"}); err != nil {
			t.Fatal(err)
		}
		if m := svc.Matcher().Match(ip, now); m.Any() {
			t.Errorf("removed entry still matches: %+v", m.NeverSend)
		}
		// another process sees the change after a reload
		other, _ := policy.New(policy.Config{Store: s, Now: func() time.Time { return now }})
		if err := other.Load(ctx); err != nil {
			t.Fatal(err)
		}
		dom := indicator.Indicator{Kind: indicator.Domain, Value: "wiki.corp-example.com"}
		if m := other.Matcher().Match(dom, now); m.NeverSend == nil {
			t.Error("a second service does not see the stored entry")
		}
		if ok, err := svc.DeleteList(ctx, "corp"); !ok || err != nil {
			t.Fatalf("delete = %v, %v", ok, err)
		}
		if ls, _ := svc.Lists(ctx); len(ls) != 0 {
			t.Errorf("lists after delete = %+v", ls)
		}
	})
}

func TestPlaybooksSeededOnce(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc, _ := policy.New(policy.Config{Store: s})
		if err := svc.Load(ctx); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range svc.Playbooks() {
			names = append(names, p.Name)
		}
		if d := cmp.Diff([]string{"ip-triage", "malware-hash", "phishing-url", "quick"}, names); d != "" {
			t.Fatalf("built-in playbooks (-want +got):\n%s", d)
		}
		if _, err := svc.DeletePlaybook(ctx, "quick"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PutPlaybook(ctx, "mon", policy.Playbook{Name: "vt-only", Members: []string{"virustotal"}, DefaultTLP: indicator.TLPGreen, MinCoverage: 100}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PutPlaybook(ctx, "mon", policy.Playbook{Name: "bad", Members: []string{"nosuch"}}); err == nil {
			t.Error("a playbook naming an unknown provider was stored")
		}
		again, _ := policy.New(policy.Config{Store: s})
		if err := again.Load(ctx); err != nil { // seeds again: the deleted built-in stays deleted
			t.Fatal(err)
		}
		if _, ok := again.Playbook("quick"); ok {
			t.Error("a deleted built-in came back")
		}
		p, ok := again.Playbook("vt-only")
		if !ok || p.DefaultTLP != indicator.TLPGreen || p.MinCoverage != 100 || p.Owner != "mon" {
			t.Errorf("vt-only = %+v", p)
		}
	})
}

// One batch sighting several values counts each value's distinct users
// (one statement recounts them all), and a later batch adds to them.
func TestSightingUsersPerValue(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		sight := func(user string, values ...string) accounting.Record {
			r := accounting.Record{Username: user, API: "indicator", At: at}
			for _, v := range values {
				r.Sightings = append(r.Sightings, accounting.Sighting{Kind: "ipv4", Value: v, Verdict: "UNKNOWN", Source: "graphql"})
			}
			return r
		}
		const a, b, c, d = "198.51.100.21", "198.51.100.22", "198.51.100.23", "198.51.100.24"
		batches := [][]accounting.Record{
			{sight("alice", a, b, c, d), sight("alice", d)},
			{sight("bob", b, c, d), sight("carol", d)},
		}
		for _, recs := range batches {
			if err := s.WriteUsage(ctx, accounting.NewBatch(recs, nil)); err != nil {
				t.Fatal(err)
			}
		}
		svc, _ := policy.New(policy.Config{Store: s})
		for value, want := range map[string][2]int64{a: {1, 1}, b: {2, 2}, c: {2, 2}, d: {4, 3}} {
			sum, err := svc.Sightings(ctx, indicator.Indicator{Kind: indicator.IPv4, Value: value})
			if err != nil {
				t.Fatal(err)
			}
			if got := [2]int64{int64(sum.Count), int64(sum.DistinctUsers)}; got != want {
				t.Errorf("%s: sightings and users %v, want %v", value, got, want)
			}
		}
	})
}

func TestSightingsWrittenWithAudit(t *testing.T) {
	t.Parallel()
	onBoth(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		sight := func(user string, at time.Time, verdict string) accounting.Record {
			return accounting.Record{Username: user, API: "indicator", At: at, TLP: "AMBER", Sightings: []accounting.Sighting{
				{Kind: "ipv4", Value: "198.51.100.7", Verdict: verdict, Source: "graphql", TLP: "AMBER"}}}
		}
		// two batches, one of which holds two sightings of the same value
		if err := s.WriteUsage(ctx, accounting.NewBatch([]accounting.Record{
			sight("alice", base, "SUSPICIOUS"), sight("bob", base.Add(time.Hour), "UNKNOWN")}, nil)); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteUsage(ctx, accounting.NewBatch([]accounting.Record{
			sight("alice", base.Add(2*time.Hour), "BENIGN"), sight("carol", base.Add(-time.Hour), "MALICIOUS")}, nil)); err != nil {
			t.Fatal(err)
		}
		svc, _ := policy.New(policy.Config{Store: s, Now: func() time.Time { return base.Add(12 * 24 * time.Hour) }})
		ind := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.7"}
		sum, err := svc.Sightings(ctx, ind)
		if err != nil {
			t.Fatal(err)
		}
		want := policy.Summary{Count: 4, DistinctUsers: 3, FirstSeen: base.Add(-time.Hour), LastSeen: base.Add(2 * time.Hour),
			LastVerdict: "BENIGN", LastUser: "alice"}
		if d := cmp.Diff(want, sum); d != "" {
			t.Fatalf("summary (-want +got):\n%s", d)
		}
		if got := sum.Card(base.Add(12*24*time.Hour + 2*time.Hour)); got != "seen 4 times by 3 analysts; last verdict BENIGN 12 days ago" {
			t.Errorf("card = %q", got)
		}
		mine, err := svc.Recent(ctx, ind, "alice", false, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(mine) != 2 || mine[0].Username != "alice" || mine[0].Verdict != "BENIGN" || mine[0].TLP != "AMBER" || mine[0].Source != "graphql" {
			t.Fatalf("alice's sightings = %+v", mine)
		}
		all, _ := svc.Recent(ctx, ind, "alice", true, 10)
		if len(all) != 4 || all[3].Username != "carol" {
			t.Fatalf("everyone's sightings = %+v", all)
		}
		// bob may not annotate alice's sighting; alice may
		if _, err := svc.Annotate(ctx, "bob", false, mine[0].ID, "not mine", policy.FalsePositive); err == nil {
			t.Error("bob annotated alice's sighting")
		}
		if _, err := svc.Annotate(ctx, "alice", false, mine[0].ID, "printer update server", policy.FalsePositive); err != nil {
			t.Fatal(err)
		}
		sum, _ = svc.Sightings(ctx, ind)
		if sum.Manual == nil || sum.Manual.Verdict != policy.FalsePositive || sum.Manual.Username != "alice" || sum.Manual.Note != "printer update server" {
			t.Fatalf("manual verdict on the summary = %+v", sum.Manual)
		}
		// the audit rows carry the TLP
		recs, err := s.AuditLog(ctx, accounting.AuditFilter{API: "indicator"}, 10, nil)
		if err != nil || len(recs) != 4 {
			t.Fatalf("audit rows = %d, %v", len(recs), err)
		}
		if recs[0].TLP != "AMBER" {
			t.Errorf("audit row TLP = %q, want AMBER", recs[0].TLP)
		}
	})
}
