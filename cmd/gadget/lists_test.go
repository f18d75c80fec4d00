package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cli runs one gadget command with env and stdin.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) lookupRun {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return lookupRun{stdout: out.String(), stderr: errb.String(), code: exitCode(err), err: err}
}

// The list and playbook commands change the database a server and
// "gadget lookup" read: MISP warninglists become KNOWN_GOOD lists, a
// block-list decides without an upstream call, and a playbook's members,
// TLP and minimum coverage shape the lookup and its coverage line.
func TestListAndPlaybookCommands(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")}
	fake := withFake(t, env)
	ok := func(r lookupRun) string {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
		}
		return r.stdout
	}

	out := ok(cli(t, env, "", "list", "import", "../../internal/policy/testdata/warninglists/public-dns-v4.json"))
	if !strings.Contains(out, "created KNOWN_GOOD list misp-list-of-known-ipv4-public-dns-resolvers: 16 imported, 0 skipped; 16 entries") {
		t.Errorf("import:\n%s", out)
	}
	out = ok(cli(t, env, `{"name":"Regex demo","type":"regex","description":"d","version":1,"list":["^ns[0-9]+\\.example$"]}`, "list", "import", "--name", "rx", "-"))
	if !strings.Contains(out, "0 imported, 1 skipped") || !strings.Contains(out, `skipped ^ns[0-9]+\.example$: regex entries cannot be matched exactly`) {
		t.Errorf("regex import:\n%s", out)
	}
	if r := cli(t, env, "", "list", "add", "nolist", "x.example"); r.code != 2 {
		t.Errorf("add to a missing list without --effect: exit %d %v", r.code, r.err)
	}
	if r := cli(t, env, "", "list", "add", "--effect", "BLOCK", "bad", "10.0.0.0/99"); r.code != 1 || !strings.Contains(r.err.Error(), "entries[0]") {
		t.Errorf("bad value: exit %d %v", r.code, r.err)
	}
	out = ok(cli(t, env, "", "list", "add", "--effect", "BLOCK", "--reason", "case 42", "--expires", "30d", "bad", "evil[.]example", "203.0.113.0/24"))
	if r := cli(t, env, "", "list", "add", "--effect", "KNOWN_GOOD", "bad", "x.example"); r.code != 2 || !strings.Contains(r.err.Error(), "list bad is BLOCK, not KNOWN_GOOD") {
		t.Errorf("add with another effect: exit %d %v", r.code, r.err)
	}
	if out != "bad (BLOCK): 2 entries\n" {
		t.Errorf("add: %q", out)
	}
	if out = ok(cli(t, env, "", "list", "export", "bad")); out != "203.0.113.0/24\tcase 42\nevil.example\tcase 42\n" {
		t.Errorf("export: %q", out)
	}
	var e entryLine
	if err := json.Unmarshal([]byte(strings.Split(ok(cli(t, env, "", "list", "export", "--format", "json", "bad")), "\n")[0]), &e); err != nil ||
		e.Type != "cidr" || e.Owner != "cli" || e.ExpiresAt == nil || e.ExpiresAt.Before(time.Now().Add(29*24*time.Hour)) {
		t.Errorf("json export: %+v %v", e, err)
	}
	// the lines format reads back what export wrote
	ok(cli(t, env, "203.0.113.0/24\tcase 42\nevil.example\tcase 42\n# comment\n", "list", "import", "--format", "lines", "--name", "copy", "--effect", "NEVER_SEND", "-"))
	out = ok(cli(t, env, "", "list"))
	for _, want := range []string{"bad   ", "BLOCK", "copy", "NEVER_SEND", "misp-list-of-known-ipv4-public-dns-resolvers", "KNOWN_GOOD", "rx"} {
		if !strings.Contains(out, want) {
			t.Errorf("list ls lacks %q:\n%s", want, out)
		}
	}
	ok(cli(t, env, "", "list", "rm", "--all", "copy"))

	// lookups read the lists: no upstream call for a block-listed value
	before := totalCalls(fake)
	blocked := jsonLines(t, ok(lookupCLI(t, env, "", "--json", "login.evil.example")))[0]
	if blocked.Verdict.Level != "MALICIOUS" || blocked.Verdict.Reasons[0] != "block-listed by bad: case 42" || totalCalls(fake) != before {
		t.Errorf("block-listed: %+v (%d calls)", blocked.Verdict, totalCalls(fake)-before)
	}
	good := jsonLines(t, ok(lookupCLI(t, env, "", "--json", "--providers", "abuseipdb", "8.8.8.8")))[0]
	if good.Verdict.Level != "BENIGN" || !strings.HasPrefix(good.Verdict.Reasons[0], "allow-listed by misp-list-of-known-ipv4-public-dns-resolvers") {
		t.Errorf("allow-listed: %+v", good.Verdict)
	}

	// playbooks
	if r := cli(t, env, "", "playbook", "add", "ip"); r.code != 2 {
		t.Errorf("add without --providers: exit %d", r.code)
	}
	out = ok(cli(t, env, "", "playbook", "add", "ip", "--providers", "abuseipdb,rdap", "--tlp", "GREEN", "--min-coverage", "100"))
	if !strings.Contains(out, "ip    GREEN  100%") || !strings.Contains(out, "abuseipdb,rdap") {
		t.Errorf("playbook add:\n%s", out)
	}
	full := jsonLines(t, ok(lookupCLI(t, env, "", "--json", "--playbook", "ip", "198.51.100.7")))[0]
	var asked []string
	for _, l := range full.Results {
		asked = append(asked, l.Provider)
	}
	if !slices.Equal(asked, []string{"abuseipdb", "rdap"}) || !full.Verdict.Complete || full.Verdict.Coverage != "2 of 2 answered" {
		t.Errorf("playbook lookup asked %v: %+v", asked, full.Verdict)
	}
	before = totalCalls(fake)
	red := ok(lookupCLI(t, env, "", "--playbook", "ip", "--tlp", "RED", "198.51.100.8"))
	if !strings.Contains(red, "verdict: UNKNOWN 0 (0 of 2 answered; 2 skipped; below playbook ip's minimum of 2 answered)") ||
		!strings.Contains(red, "TLP:RED is not shared with abuseipdb") || totalCalls(fake) != before {
		t.Errorf("RED lookup (%d calls):\n%s", totalCalls(fake)-before, red)
	}
	for _, args := range [][]string{{"--tlp", "PURPLE", "198.51.100.8"}, {"--playbook", "nosuch", "198.51.100.8"}, {"--playbook", "ip", "--providers", "rdap", "198.51.100.8"}} {
		if r := lookupCLI(t, env, "", args...); r.code != 2 {
			t.Errorf("%v: exit %d %v", args, r.code, r.err)
		}
	}
	cached := jsonLines(t, ok(lookupCLI(t, env, "", "--json", "--cached-only", "198.51.100.99")))[0]
	for _, l := range cached.Results {
		if l.Status != "PENDING" {
			t.Errorf("cached-only: %s %s", l.Provider, l.Status)
		}
	}
	if cached.Verdict.Complete || totalCalls(fake) != before {
		t.Errorf("cached-only: %+v (%d calls)", cached.Verdict, totalCalls(fake)-before)
	}
	ok(cli(t, env, "", "playbook", "rm", "ip"))
	out = ok(cli(t, env, "", "playbook"))
	if strings.Contains(out, "\nip ") || !strings.Contains(out, "quick") || !strings.Contains(out, "malware-hash") {
		t.Errorf("playbook list:\n%s", out)
	}
}
