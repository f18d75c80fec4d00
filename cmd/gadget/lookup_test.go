package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
