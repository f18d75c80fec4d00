package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/store"
)

// lookupRun is one `gadget lookup` run: its output and exit status.
type lookupRun struct {
	stdout, stderr string
	code           int
	err            error
}

func lookupCLI(t *testing.T, env map[string]string, stdin string, args ...string) lookupRun {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"lookup"}, args...), func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return lookupRun{stdout: out.String(), stderr: errb.String(), code: exitCode(err), err: err}
}

// jsonLines decodes one lookupOutput per line.
func jsonLines(t *testing.T, s string) []lookupOutput {
	t.Helper()
	var out []lookupOutput
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		var o lookupOutput
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("not one JSON object per line: %v\n%s", err, s)
		}
		out = append(out, o)
	}
	return out
}

func TestLookupCommand(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	fake := withFake(t, env)

	r := lookupCLI(t, env, "", "hxxp://evil[.]example/payload", "--providers", "urlhaus,virustotal")
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "url http://evil.example/payload\nverdict: MALICIOUS ") || !strings.Contains(r.stdout, "urlhaus") || !strings.Contains(r.stdout, "virustotal") || strings.Contains(r.stdout, "otx") {
		t.Errorf("table:\n%s", r.stdout)
	}
	if fake.Calls("urlhaus") != 1 || fake.Calls("otx") != 0 {
		t.Errorf("calls urlhaus=%d otx=%d", fake.Calls("urlhaus"), fake.Calls("otx"))
	}

	r = lookupCLI(t, env, "", "--json", "203.0.113.40") // listed: every provider has an answer
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	outs := jsonLines(t, r.stdout)
	if len(outs) != 1 || outs[0].Kind != "ipv4" || len(outs[0].Results) < 8 || outs[0].Verdict == nil {
		t.Fatalf("json: %+v", outs)
	}
	for _, l := range outs[0].Results {
		if l.Status != "OK" && l.Status != "SKIPPED" {
			t.Errorf("%s: %s %+v", l.Provider, l.Status, l.Error)
		}
	}

	before := totalCalls(fake)
	r = lookupCLI(t, env, "", "192.168.1.1")
	if r.code != 1 || !strings.Contains(r.stderr, "nothing was sent") {
		t.Errorf("private address: exit %d, stderr %q", r.code, r.stderr)
	}
	if totalCalls(fake) != before {
		t.Error("a private address reached a provider")
	}
	for _, args := range [][]string{{"8.8.8.8", "--providers", "nosuch"}, {}, {"--kind", "ipv5", "8.8.8.8"}, {"-", "-"}, {"--nosuchflag", "8.8.8.8"}} {
		if r := lookupCLI(t, env, "", args...); r.code != 2 {
			t.Errorf("%v: exit %d (%v), want 2", args, r.code, r.err)
		}
	}
	if r := lookupCLI(t, env, "", "not an indicator"); r.code != 1 || !strings.Contains(r.stderr, "invalid indicator") {
		t.Errorf("invalid value: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := lookupCLI(t, env, "", "--help"); r.code != 0 || strings.Count(r.stdout, "Usage:") != 1 || !strings.Contains(r.stdout, "Exit status") {
		t.Errorf("--help: exit %d, printed:\n%s", r.code, r.stdout)
	}
}

// TestLookupManyValues looks up arguments and standard input together: one
// JSON line per value in input order, each with its combined verdict, the
// invalid line reported and the exit status 1; the table has one row per
// value.
func TestLookupManyValues(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	withFake(t, env)
	stdin := "# pasted from the alert\n203.0.113.7\n\n  not-an-indicator!  \nhxxps://notfound[.]example/x\n"
	r := lookupCLI(t, env, stdin, "--json", "--providers", "abuseipdb,virustotal,urlhaus", "192.0.2.44", "-", "ea372104f1e9f069068e3752b543c7b0")
	if r.code != 1 {
		t.Errorf("exit %d (%v), want 1 for the invalid line", r.code, r.err)
	}
	if !strings.Contains(r.stderr, "not-an-indicator!") {
		t.Errorf("stderr does not name the invalid value: %q", r.stderr)
	}
	type row struct{ Value, Kind, Level, Error string }
	var got []row
	for _, o := range jsonLines(t, r.stdout) {
		x := row{Value: o.Value, Kind: o.Kind}
		if o.Verdict != nil {
			x.Level = o.Verdict.Level
			if o.Verdict.Level != "UNKNOWN" && len(o.Verdict.Reasons) == 0 {
				t.Errorf("%s: a verdict without reasons: %+v", o.Value, o.Verdict)
			}
		}
		if o.Error != nil {
			x.Error = o.Error.Code
		}
		got = append(got, x)
	}
	want := []row{
		{Value: "192.0.2.44", Kind: "ipv4", Level: "BENIGN"}, // AbuseIPDB: no reports; the others: not found
		{Value: "203.0.113.7", Kind: "ipv4", Level: "MALICIOUS"},
		{Value: "not-an-indicator!", Error: "BAD_INDICATOR"},
		{Value: "https://notfound.example/x", Kind: "url", Level: "UNKNOWN"},
		{Value: "ea372104f1e9f069068e3752b543c7b0", Kind: "md5", Level: "MALICIOUS"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}

	r = lookupCLI(t, env, "203.0.113.7\n8.8.8.8\n", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "VALUE") || !strings.HasPrefix(lines[1], "203.0.113.7 ") || !strings.Contains(lines[1], "MALICIOUS") || !strings.HasPrefix(lines[2], "8.8.8.8 ") {
		t.Errorf("table of two values:\n%s", r.stdout)
	}
}

// TestLookupNobodyAnswered: with no provider keys, the keyed providers are
// NOT_CONFIGURED and the verdict says that nobody answered.
func TestLookupNobodyAnswered(t *testing.T) {
	t.Parallel()
	r := lookupCLI(t, map[string]string{}, "", "--json", "--providers", "virustotal,abuseipdb", "203.0.113.7")
	if r.code != 0 {
		t.Fatalf("exit %d: %v", r.code, r.err)
	}
	outs := jsonLines(t, r.stdout)
	if len(outs) != 1 || outs[0].Verdict == nil {
		t.Fatalf("%+v", outs)
	}
	if diff := cmp.Diff(lookupVerdict{Level: "UNKNOWN", Reasons: []string{"no provider answered: 2 not configured"},
		Complete: true, Coverage: "0 of 2 answered; 2 not configured"}, *outs[0].Verdict); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestReadValues(t *testing.T) {
	t.Parallel()
	got, err := readValues(strings.NewReader("a\r\n\n # comment\n  b  \n#x\nc"), nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := lookupValues([]string{"-"}, strings.NewReader("\n# nothing\n"), nil, io.Discard); !errors.As(err, new(*usageError)) {
		t.Errorf("empty stdin: %v, want a usage error", err)
	}
}

// TestLookupFreeText: alert text on standard input is not a list, so its
// indicators are extracted (an IP with a port, a labelled hash) and what was
// left out is named on stderr.
func TestLookupFreeText(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	withFake(t, env)
	alert := "EDR alert: host 10.0.0.5 connected to C2 203.0.113.7:443\nfile dropped md5=ea372104f1e9f069068e3752b543c7b0\n"
	r := lookupCLI(t, env, alert, "--json", "--providers", "abuseipdb,urlhaus", "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	var got []string
	for _, o := range jsonLines(t, r.stdout) {
		got = append(got, o.Value+" "+o.Kind)
	}
	want := []string{"203.0.113.7 ipv4", "ea372104f1e9f069068e3752b543c7b0 md5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.stderr, "internal 10.0.0.5") {
		t.Errorf("stderr does not name the internal address: %q", r.stderr)
	}
}

// TestLookupRecordsSightings: with a database, each run's lookups are
// sightings of the user cli with source cli and their TLP, written with one
// audit row, and a later run shows the value's earlier sightings (every
// transport's). Without a database nothing is shown or kept.
func TestLookupRecordsSightings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "gadget.db")
	db := "sqlite://" + file
	env := map[string]string{}
	withFake(t, env)
	ok := func(r lookupRun) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
		}
		return r.stdout
	}
	// no database: no sightings line, and none is created
	if out := ok(lookupCLI(t, map[string]string{"GADGET_DATABASE_URL": db}, "", "--providers", "abuseipdb", "198.51.100.7")); strings.Contains(out, "sightings:") {
		t.Errorf("without a database:\n%s", out)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a lookup created the database")
	}
	env["GADGET_DATABASE_URL"] = db
	ok(cli(t, env, "", "migrate"))

	first := ok(lookupCLI(t, env, "", "--providers", "abuseipdb", "--tlp", "GREEN", "198.51.100.7"))
	if !strings.Contains(first, "\nsightings: never seen before\n") {
		t.Errorf("first run:\n%s", first)
	}
	again := jsonLines(t, ok(lookupCLI(t, env, "", "--json", "--providers", "abuseipdb", "198.51.100.7", "203.0.113.40")))
	s := again[0].Sightings
	if s == nil || s.Count != 1 || s.DistinctUsers != 1 || s.LastVerdict != again[0].Verdict.Level || s.FirstSeen == nil ||
		s.Text != "seen once by 1 analyst; last verdict "+s.LastVerdict+" just now" {
		t.Errorf("second run's sightings of 198.51.100.7: %+v", s)
	}
	if s := again[1].Sightings; s == nil || s.Count != 0 || s.Text != "never seen before" {
		t.Errorf("second run's sightings of 203.0.113.40: %+v", s)
	}

	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Sightings(ctx, "ipv4", "198.51.100.7", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Username, Source, TLP, Verdict string }
	var got []row
	for _, r := range rows {
		got = append(got, row{r.Username, r.Source, r.TLP, r.Verdict})
	}
	level := again[0].Verdict.Level
	want := []row{{"cli", "cli", "AMBER", level}, {"cli", "cli", "GREEN", level}} // newest first; AMBER is the default
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("sightings (-want +got):\n%s", d)
	}
	recs, err := st.AuditLog(ctx, accounting.AuditFilter{Username: "cli"}, 10, nil)
	if err != nil || len(recs) != 2 || recs[0].API != "lookup" || recs[0].TLP != "AMBER" || recs[1].TLP != "GREEN" || recs[0].Endpoint != "gadget lookup" {
		t.Errorf("audit rows: %+v, %v", recs, err)
	}
}
