package main

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// demoValue is one row of the table in docs/demo.md.
type demoValue struct {
	value, kind, level string
}

// demoValues reads the "Values to try" table of docs/demo.md: rows whose
// first cell is a `value`, with the expected verdict level in the third.
func demoValues(t *testing.T) []demoValue {
	t.Helper()
	f, err := os.Open("../../docs/demo.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []demoValue
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(strings.Trim(strings.TrimSpace(sc.Text()), "|"), "|")
		if len(cells) < 4 {
			continue
		}
		v := strings.TrimSpace(cells[0])
		if len(v) < 3 || v[0] != '`' || v[len(v)-1] != '`' {
			continue
		}
		out = append(out, demoValue{value: strings.Trim(v, "`"), kind: strings.TrimSpace(cells[1]), level: strings.TrimSpace(cells[2])})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDemoValues looks up every value docs/demo.md lists through the
// engine, with every provider configured against the fake intel server as
// `make demo` does, and checks the combined verdict the page promises:
// ordinary public values BENIGN or UNKNOWN, the documented malicious ones
// MALICIOUS.
func TestDemoValues(t *testing.T) {
	t.Parallel()
	values := demoValues(t)
	if len(values) < 10 {
		t.Fatalf("docs/demo.md lists %d values, want the whole table (parse error?)", len(values))
	}
	env := backends[0].env(t) // SQLite, inline: what make demo runs
	env["GADGET_ROOT_PASSWORD"] = rootPW
	withFake(t, env)
	in := start(t, env)
	tok := in.token("root", rootPW, "")
	for _, dv := range values {
		t.Run(dv.value, func(t *testing.T) {
			got := field[map[string]any](t, in.gql(tok, `query($v: String!) { indicator(value: $v) { value kind verdict { level score reasons } } }`,
				map[string]any{"v": dv.value}), "indicator")
			v := got["verdict"].(map[string]any)
			t.Logf("%s (%s): %v %v %v", dv.value, got["kind"], v["level"], v["score"], v["reasons"])
			if v["level"] != dv.level {
				t.Errorf("%s (%s): verdict %v score %v, want %s; reasons:\n%v", dv.value, got["kind"], v["level"], v["score"], dv.level, v["reasons"])
			}
		})
	}
}
