package policy_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/policy"
)

func readWarninglist(t *testing.T, name string) policy.Warninglist {
	t.Helper()
	f, err := os.Open("testdata/warninglists/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := policy.ParseWarninglist(f)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Real (trimmed) MISP warninglists become KNOWN_GOOD lists that match as
// MISP does: cidr lists by prefix, string lists exactly, a leading dot as
// a suffix.
func TestImportWarninglists(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := newService(t)
	for _, f := range []string{"public-dns-v4.json", "cloudflare.json", "google.json", "cisco_top1000.json"} {
		w := readWarninglist(t, f)
		rep, err := svc.ImportWarninglist(ctx, "mon", "", w)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !rep.Created || rep.Imported != len(w.List) || len(rep.Skipped) != 0 || rep.List.Effect != policy.KnownGood || rep.List.Entries != len(w.List) {
			t.Errorf("%s: report %+v", f, rep)
		}
	}
	ls, _ := svc.Lists(ctx)
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	want := []string{"misp-list-of-known-cloudflare-ip-ranges", "misp-list-of-known-google-domains",
		"misp-list-of-known-ipv4-public-dns-resolvers", "misp-top-1000-websites-from-cisco-umbrella"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("list names (-want +got):\n%s", diff)
	}
	tests := []struct {
		value string
		list  string // "" for no match
	}{
		{"8.8.8.8", "misp-list-of-known-ipv4-public-dns-resolvers"},
		{"8.8.4.5", ""},
		{"104.16.132.229", "misp-list-of-known-cloudflare-ip-ranges"},
		{"2606:4700::6810:84e5", "misp-list-of-known-cloudflare-ip-ranges"},
		{"http://104.16.132.229/x", "misp-list-of-known-cloudflare-ip-ranges"},
		{"mail.google.com", "misp-list-of-known-google-domains"}, // ".google.com"
		{"blogspot.com", "misp-list-of-known-google-domains"},
		{"evil.blogspot.com", ""}, // a string entry is that name only
		{"attacker.googleusercontent.com", ""},
		{"https://youtube.com/watch?v=1", "misp-list-of-known-google-domains"},
		{"accounts.google.com", "misp-list-of-known-google-domains"},
		{"zoom.us", "misp-top-1000-websites-from-cisco-umbrella"},
		{"x.zoom.us", ""},
		{"bucket.amazonaws.com", ""},
	}
	for _, tt := range tests {
		m := svc.Matcher().Match(mustParse(t, tt.value), now)
		got := ""
		if m.KnownGood != nil {
			got = m.KnownGood.List
			if !strings.HasPrefix(m.KnownGood.Reason, "MISP warninglist: ") {
				t.Errorf("%s: reason %q", tt.value, m.KnownGood.Reason)
			}
		}
		if got != tt.list || m.Block != nil || m.NeverSend != nil {
			t.Errorf("%s: matched %q (%+v), want %q", tt.value, got, m, tt.list)
		}
	}

	// importing again replaces the entries; a list of another effect refuses
	rep, err := svc.ImportWarninglist(ctx, "mon", "misp-list-of-known-cloudflare-ip-ranges", readWarninglist(t, "cloudflare.json"))
	if err != nil || rep.Created || rep.List.Entries != 22 {
		t.Errorf("second import: %+v %v", rep, err)
	}
	addList(t, svc, "blocked", policy.Block)
	if _, err := svc.ImportWarninglist(ctx, "mon", "blocked", readWarninglist(t, "cloudflare.json")); errcode.CodeOf(err) != errcode.Conflict {
		t.Errorf("import into a BLOCK list: %v", err)
	}
}

// Entries that cannot be matched exactly are reported, each with why.
func TestWarninglistSkips(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		w        policy.Warninglist
		imported []string
		skipped  []string
	}{
		{"regex", policy.Warninglist{Name: "r", Type: "regex", List: []string{`^.*\.example\.com$`, `^foo`}}, nil, []string{`^.*\.example\.com$`, `^foo`}},
		{"substring", policy.Warninglist{Name: "s", Type: "substring", List: []string{"amazonaws"}}, nil, []string{"amazonaws"}},
		{"cidr junk", policy.Warninglist{Name: "c", Type: "cidr", List: []string{"10.0.0.0/8", "example.com", "300.1.1.1"}}, []string{"10.0.0.0/8"}, []string{"example.com", "300.1.1.1"}},
		{"hostname", policy.Warninglist{Name: "h", Type: "hostname", List: []string{".example.org", "a.example.net", "not a host"}}, []string{"example.org", "a.example.net"}, []string{"not a host"}},
		{"string", policy.Warninglist{Name: "t", Type: "string", List: []string{"example.com", "192.0.2.1", "192.0.2.0/24", "44d88612fea8a8f36de82e1278abb02f"}},
			[]string{"=example.com", "192.0.2.1", "44d88612fea8a8f36de82e1278abb02f"}, []string{"192.0.2.0/24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			es, skipped := tt.w.Entries("why")
			var got, gotSkipped []string
			for _, e := range es {
				got = append(got, e.Value)
			}
			for _, s := range skipped {
				gotSkipped = append(gotSkipped, s.Value)
				if s.Reason == "" {
					t.Errorf("%s skipped without a reason", s.Value)
				}
			}
			if !slices.Equal(got, tt.imported) || !slices.Equal(gotSkipped, tt.skipped) {
				t.Errorf("imported %q skipped %q, want %q and %q", got, gotSkipped, tt.imported, tt.skipped)
			}
		})
	}
}

func TestParseWarninglistRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `[]`, `{"list":[],"type":"cidr"}`, `{"name":"x","type":"cidr"}`, `{"name":"x","type":"glob","list":[]}`} {
		if _, err := policy.ParseWarninglist(strings.NewReader(in)); err == nil {
			t.Errorf("%q was accepted", in)
		}
	}
}
