package policy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/provider"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func mustParse(t testing.TB, s string) indicator.Indicator {
	t.Helper()
	ind, err := indicator.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return ind
}

func newService(t testing.TB) *policy.Service {
	t.Helper()
	svc, err := policy.New(policy.Config{Store: policy.NewMemoryStore(), Now: func() time.Time { return now },
		MaxTLP: map[string]indicator.TLP{"rdap": indicator.TLPAmberStrict}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func addList(t testing.TB, svc *policy.Service, name string, effect policy.Effect, entries ...policy.EntryInput) {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.CreateList(ctx, "mon", name, effect, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddEntries(ctx, "mon", name, entries); err != nil {
		t.Fatal(err)
	}
}

func TestParseEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, value string
		typ       policy.EntryType
	}{
		{"10.1.2.3/8", "10.0.0.0/8", policy.CIDR},
		{"192.0.2.7", "192.0.2.7/32", policy.CIDR},
		{"2001:db8::1", "2001:db8::1/128", policy.CIDR},
		{"2001:DB8::/32", "2001:db8::/32", policy.CIDR},
		{"*.Example.COM", "example.com", policy.DomainSuffix},
		{".example.com", "example.com", policy.DomainSuffix},
		{"=WWW.Example.com", "=www.example.com", policy.Host},
		{"example[.]com", "example.com", policy.DomainSuffix},
		{"hxxps://example.com/login", "https://example.com/login", policy.URLPrefix},
		{"D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", policy.Hash},
	}
	for _, tt := range tests {
		v, typ, err := policy.ParseEntry(tt.in)
		if err != nil || v != tt.value || typ != tt.typ {
			t.Errorf("ParseEntry(%q) = %q, %q, %v; want %q, %q", tt.in, v, typ, err, tt.value, tt.typ)
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "not a value!", "a/b"} {
		if v, _, err := policy.ParseEntry(bad); err == nil {
			t.Errorf("ParseEntry(%q) = %q, want an error", bad, v)
		}
	}
}

func TestMatcher(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	addList(t, svc, "corp", policy.NeverSend,
		policy.EntryInput{Value: "203.0.113.0/24", Reason: "office range"},
		policy.EntryInput{Value: "corp-example.com", Reason: "intranet"})
	addList(t, svc, "cdn", policy.KnownGood,
		policy.EntryInput{Value: "198.51.100.0/24", Reason: "CDN"},
		policy.EntryInput{Value: "https://cdn.example.net/static/", Reason: "static assets"},
		policy.EntryInput{Value: "example.org", Reason: "partner", ExpiresAt: now.Add(time.Hour)})
	addList(t, svc, "bad", policy.Block,
		policy.EntryInput{Value: "198.51.100.66", Reason: "C2 seen in case 42"},
		policy.EntryInput{Value: "https://cdn.example.net/static/evil", Reason: "dropper"},
		policy.EntryInput{Value: "44d88612fea8a8f36de82e1278abb02f", Reason: "EICAR"})
	tests := []struct {
		value              string
		block, never, good string // list names
		at                 time.Time
	}{
		{value: "203.0.113.200", never: "corp"},
		{value: "203.0.114.1"},
		{value: "wiki.corp-example.com", never: "corp"},
		{value: "corp-example.com", never: "corp"},
		{value: "xcorp-example.com"},
		{value: "http://wiki.corp-example.com/a", never: "corp"},
		{value: "http://203.0.113.5/x", never: "corp"},
		{value: "198.51.100.7", good: "cdn"},
		{value: "198.51.100.66", block: "bad", good: "cdn"},
		{value: "https://cdn.example.net/static/app.js", good: "cdn"},
		{value: "https://cdn.example.net/static/evil?x=1", block: "bad", good: "cdn"},
		{value: "https://cdn.example.net/static/evilx", good: "cdn"},
		{value: "https://cdn.example.net/staticx"},
		{value: "www.example.org", good: "cdn"},
		{value: "www.example.org", at: now.Add(2 * time.Hour)}, // expired
		{value: "44d88612fea8a8f36de82e1278abb02f", block: "bad"},
		{value: "::ffff:203.0.113.9", never: "corp"},
	}
	name := func(m *policy.Match) string {
		if m == nil {
			return ""
		}
		return m.List
	}
	for _, tt := range tests {
		at := tt.at
		if at.IsZero() {
			at = now
		}
		m := svc.Matcher().Match(mustParse(t, tt.value), at)
		got := [3]string{name(m.Block), name(m.NeverSend), name(m.KnownGood)}
		if want := [3]string{tt.block, tt.never, tt.good}; got != want {
			t.Errorf("Match(%s) = block %q never %q good %q; want %q %q %q", tt.value, got[0], got[1], got[2], want[0], want[1], want[2])
		}
	}
}

func TestDecision(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	addList(t, svc, "corp", policy.NeverSend, policy.EntryInput{Value: "203.0.113.0/24", Reason: "office range"})
	addList(t, svc, "bad", policy.Block, policy.EntryInput{Value: "198.51.100.66", Reason: "C2"})
	addList(t, svc, "cdn", policy.KnownGood, policy.EntryInput{Value: "198.51.100.0/24", Reason: "CDN"})
	vt, _ := provider.Lookup("virustotal")
	rdap, _ := provider.Lookup("rdap")
	internetdb, _ := provider.Lookup("internetdb")
	tests := []struct {
		name, value, tlp, playbook string
		desc                       provider.Descriptor
		skip, cacheOnly            string
	}{
		{"default TLP is sent", "192.0.2.1", "", "", vt, "", ""},
		{"red stays local", "192.0.2.1", "RED", "", vt, "", "TLP:RED is not shared with virustotal"},
		{"amber+strict above the default maximum", "192.0.2.1", "AMBER_STRICT", "", vt, "", "TLP:AMBER+STRICT is not shared with virustotal"},
		{"amber+strict within a configured maximum", "192.0.2.1", "AMBER_STRICT", "", rdap, "", ""},
		{"never-send", "203.0.113.9", "", "", vt, "not sent: listed in corp: office range", ""},
		{"block-list: no upstream call", "198.51.100.66", "", "", vt, "", "block-listed by bad: C2; not sent upstream"},
		{"outside the playbook", "192.0.2.1", "", "quick", vt, "not in playbook quick", ""},
		{"inside the playbook", "192.0.2.1", "", "quick", internetdb, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tlp, pb, err := svc.Options(tt.tlp, tt.playbook)
			if err != nil {
				t.Fatal(err)
			}
			d := svc.Decide(mustParse(t, tt.value), tlp, pb)
			skip, cacheOnly := d.Provider(tt.desc)
			if skip != tt.skip || cacheOnly != tt.cacheOnly {
				t.Errorf("Provider(%s) = %q, %q; want %q, %q", tt.desc.Name, skip, cacheOnly, tt.skip, tt.cacheOnly)
			}
		})
	}
	d := svc.Decide(mustParse(t, "198.51.100.66"), 0, "")
	block, good, _ := d.Verdict()
	if block != "block-listed by bad: C2" || good != "allow-listed by cdn: CDN" {
		t.Errorf("Verdict() = %q, %q", block, good)
	}
	if d.TLP != indicator.TLPAmber {
		t.Errorf("default TLP = %v, want AMBER", d.TLP)
	}
}

func TestOptionsRejectsUnknown(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	if _, _, err := svc.Options("PURPLE", ""); err == nil {
		t.Error("an unknown TLP was accepted")
	}
	if _, _, err := svc.Options("", "nosuch"); err == nil {
		t.Error("an unknown playbook was accepted")
	}
	tlp, _, err := svc.Options("", "malware-hash")
	if err != nil || tlp != indicator.TLPAmber {
		t.Errorf("playbook default TLP = %v, %v", tlp, err)
	}
}

func TestAddEntriesReportsEveryProblem(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateList(ctx, "mon", "l", policy.Block, ""); err != nil {
		t.Fatal(err)
	}
	_, err := svc.AddEntries(ctx, "mon", "l", []policy.EntryInput{{Value: "ok.example"}, {Value: "10.0.0.0/99"}, {Value: "x", ExpiresAt: now.Add(-time.Hour)}})
	if err == nil {
		t.Fatal("bad entries were accepted")
	}
	for _, want := range []string{"entries[1]", "entries[2]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if l, _ := svc.List(ctx, "l"); l.Entries != 0 {
		t.Errorf("%d entries stored from a refused call", l.Entries)
	}
}

func TestPlaybookMembersFollowDescriptors(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	for _, p := range svc.Playbooks() {
		members := p.Resolve(provider.Descriptors())
		if len(members) == 0 {
			t.Errorf("built-in %s selects no provider", p.Name)
		}
		for _, m := range members {
			d, _ := provider.Lookup(m)
			if p.Name == "quick" && d.Key == provider.KeyRequired {
				t.Errorf("quick includes %s, which needs a key", m)
			}
		}
	}
}

func TestCard(t *testing.T) {
	t.Parallel()
	s := policy.Summary{Count: 4, DistinctUsers: 3, LastSeen: now.Add(-12 * 24 * time.Hour), LastVerdict: "BENIGN"}
	if got := s.Card(now); got != "seen 4 times by 3 analysts; last verdict BENIGN 12 days ago" {
		t.Errorf("Card = %q", got)
	}
	if got := (policy.Summary{}).Card(now); got != "never seen before" {
		t.Errorf("Card of nothing = %q", got)
	}
	one := policy.Summary{Count: 1, DistinctUsers: 1, LastSeen: now.Add(-3 * time.Hour), LastVerdict: "MALICIOUS",
		Manual: &policy.Annotation{Verdict: policy.FalsePositive, Username: "alice", At: now.Add(-time.Hour)}}
	if got := one.Card(now); got != "seen once by 1 analyst; last verdict MALICIOUS 3 hours ago; marked false positive by alice 1 hour ago" {
		t.Errorf("Card = %q", got)
	}
}
