package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// alert is a six-line EDR alert of the kind issue 15 was filed over.
const alert = `EDR alert: suspicious beacon
host=ws-0417.corp.internal user=CORP\bob
C2 203.0.113.45:443 (evil[.]example:8443 as fallback)
dropped C:\Users\bob\AppData\Local\Temp\inv.exe md5=44d88612fea8a8f36de82e1278abb02f
url=hxxps://evil[.]example/gate.php src_ip=10.20.4.17
mail from attacker@evil[.]example, version 1.2.3.4`

// TestExtractEndToEnd: the GraphQL extract query and POST /api/extract on a
// running server, with the configured internal domains.
func TestExtractEndToEnd(t *testing.T) {
	t.Parallel()
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	env["GADGET_INTERNAL_DOMAINS"] = ".example.org"
	in := start(t, env)
	tasks := in.token("root", rootPW, "tasks")

	const q = `query($t: String!) { extract(text: $t) { indicators { value kind raw spans { start end } count context } internal { value reason } ignored { text reason } ignoredOmitted } }`
	type extraction struct {
		Indicators []struct {
			Value, Kind, Raw string
			Spans            []struct{ Start, End int }
			Count            int
			Context          []string
		}
		Internal []struct{ Value, Reason string }
		Ignored  []struct{ Text, Reason string }
	}
	got := field[extraction](t, in.gql(tasks, q, map[string]any{"t": alert + "\nwiki.example.org"}), "extract")
	var values []string
	for _, f := range got.Indicators {
		values = append(values, f.Kind+" "+f.Value)
		if alert[f.Spans[0].Start:f.Spans[0].End] != f.Raw {
			t.Errorf("%s: span %v is %q, raw %q", f.Value, f.Spans[0], alert[f.Spans[0].Start:f.Spans[0].End], f.Raw)
		}
	}
	want := []string{"IPV4 203.0.113.45", "DOMAIN evil.example", "MD5 44d88612fea8a8f36de82e1278abb02f", "URL https://evil.example/gate.php"}
	if diff := cmp.Diff(want, values); diff != "" {
		t.Errorf("indicators (-want +got):\n%s", diff)
	}
	if d := got.Indicators[1]; d.Raw != "evil[.]example:8443" || d.Count != 3 || !cmp.Equal(d.Context, []string{"attacker@evil.example"}) {
		t.Errorf("domain: %+v", d)
	}
	var internal, ignored []string
	for _, w := range got.Internal {
		internal = append(internal, w.Value)
	}
	for _, ig := range got.Ignored {
		ignored = append(ignored, ig.Text)
	}
	if diff := cmp.Diff([]string{"ws-0417.corp.internal", "10.20.4.17", "wiki.example.org"}, internal); diff != "" {
		t.Errorf("internal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"inv.exe", "1.2.3.4"}, ignored); diff != "" {
		t.Errorf("ignored (-want +got):\n%s", diff)
	}

	// scope TASKS; text over 1 MiB is refused
	mustCode(t, in.gql(in.token("root", rootPW, "users"), q, map[string]any{"t": "x"}), "FORBIDDEN")
	mustCode(t, in.gql(tasks, q, map[string]any{"t": strings.Repeat("a", 1<<20+1)}), "BAD_REQUEST")

	// REST: the same answer
	req, _ := http.NewRequest("POST", in.base+"/api/extract", strings.NewReader(alert))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+tasks)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rest struct {
		Indicators []struct{ Value, Kind string }
	}
	if err := json.NewDecoder(res.Body).Decode(&rest); err != nil || res.StatusCode != 200 || len(rest.Indicators) != 4 || rest.Indicators[3].Kind != "url" {
		t.Errorf("POST /api/extract: %d %+v %v", res.StatusCode, rest, err)
	}
}

// TestExtractCommand: gadget extract prints one value per line, reasons on
// stderr, the whole extraction with --json, and reads a file.
func TestExtractCommand(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")}
	cli := func(stdin string, args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"extract"}, args...), func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
		return out.String(), errb.String(), err
	}
	out, stderr, err := cli(alert)
	if err != nil {
		t.Fatal(err)
	}
	if want := "203.0.113.45\nevil.example\n44d88612fea8a8f36de82e1278abb02f\nhttps://evil.example/gate.php\n"; out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	for _, line := range []string{"internal 10.20.4.17: private address (RFC 1918)", "ignored inv.exe: file name", "ignored 1.2.3.4: version number"} {
		if !strings.Contains(stderr, line) {
			t.Errorf("stderr lacks %q:\n%s", line, stderr)
		}
	}
	if _, stderr, _ := cli(alert, "--quiet"); stderr != "" {
		t.Errorf("--quiet: stderr %q", stderr)
	}
	out, _, err = cli(alert, "--json")
	var ex struct {
		Indicators []struct{ Value, Kind, Raw string }
		Internal   []struct{ Value, Reason string }
		Ignored    []struct{ Text, Reason string }
	}
	if err != nil || json.Unmarshal([]byte(out), &ex) != nil || len(ex.Indicators) != 4 || ex.Indicators[0].Raw != "203.0.113.45:443" || len(ex.Internal) != 2 || len(ex.Ignored) != 2 {
		t.Errorf("--json: %v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "alert.txt")
	os.WriteFile(file, []byte("see 198.51.100.7"), 0o600)
	if out, _, err := cli("", file); err != nil || out != "198.51.100.7\n" {
		t.Errorf("from a file: %q %v", out, err)
	}
	if _, _, err := cli(strings.Repeat("a", 1<<20+1)); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("over 1 MiB: %v", err)
	}
	var ue *usageError
	if _, _, err := cli("", "a", "b"); !errorsAs(err, &ue) {
		t.Errorf("two files: %v, want a usage error", err)
	}
}
