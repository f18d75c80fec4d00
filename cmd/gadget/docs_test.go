package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/auth"
)

// TestDocsProvidersCurrent fails when docs/providers.md is not what
// `gadget docs providers` writes from the descriptors.
func TestDocsProvidersCurrent(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../../docs/providers.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, providersPage()) {
		t.Error("docs/providers.md is stale: run `go run ./cmd/gadget docs providers` and commit it")
	}
}

// TestDocsPolicyCurrent fails when the TLP table of docs/policy.md is not
// what `gadget docs policy` writes from the descriptors.
func TestDocsPolicyCurrent(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := policyPage(committed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, want) {
		t.Error("docs/policy.md's TLP table is stale: run `go run ./cmd/gadget docs policy` and commit it")
	}
}

// TestMain lets the test binary stand in for the gadget binary: the doc
// examples' shell blocks run "gadget …", which execs this binary with
// GADGET_DOCTEST_MAIN=1, so no second build is needed.
func TestMain(m *testing.M) {
	auth.HashCheaplyInTests() // the suite signs in hundreds of times, under -race in CI
	if os.Getenv("GADGET_DOCTEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// docBlock is one fenced block of a Markdown page.
type docBlock struct {
	page string
	line int    // of the opening fence
	info string // the words after the fence
	body string
}

func (b docBlock) lang() string {
	if f := strings.Fields(b.info); len(f) > 0 {
		return f[0]
	}
	return ""
}

func (b docBlock) noRun() bool { return slices.Contains(strings.Fields(b.info), "norun") }

func (b docBlock) String() string { return fmt.Sprintf("%s:%d (```%s)", b.page, b.line, b.info) }

// fencedBlocks reads the fenced (``` or ~~~) blocks of a Markdown page.
func fencedBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docBlock
	var cur *docBlock
	var fence string
	var body strings.Builder
	for i, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			for _, f := range []string{"```", "~~~"} {
				if strings.HasPrefix(trimmed, f) && len(line)-len(trimmed) <= 3 {
					fence = strings.Repeat(f[:1], len(trimmed)-len(strings.TrimLeft(trimmed, f[:1])))
					cur = &docBlock{page: filepath.Base(path), line: i + 1, info: strings.TrimSpace(strings.TrimLeft(trimmed, f[:1]))}
					body.Reset()
				}
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1])) == "" {
			cur.body = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(line + "\n")
	}
	if cur != nil {
		t.Errorf("%s: block opened at line %d is never closed", path, cur.line)
	}
	return out
}

// docPages are README.md and every page under docs/.
func docPages(t *testing.T) []string {
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, pages...)
}

// TestDocExamples runs every example of README.md and docs/*.md against a
// live server on the fake intel server, following the conventions in
// docs/README.md: graphql blocks are sent to /graphql, shell blocks run in
// one bash per page, json blocks must parse, text and norun blocks are not
// run, and any other block fails the test.
func TestDocExamples(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("the doc examples need bash")
	}
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")
	env := map[string]string{"GADGET_DATABASE_URL": dbURL, "GADGET_ROOT_PASSWORD": rootPW}
	withFake(t, env)
	in := start(t, env)
	root := in.token("root", rootPW, "")
	host := strings.TrimPrefix(in.base, "http://")

	// "gadget" on PATH runs this test binary as the command
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	// under -race, each command would otherwise sleep a second at exit
	// (GORACE's atexit_sleep_ms, for goroutines still racing)
	shim := "#!/bin/sh\nGORACE=\"${GORACE:+$GORACE }atexit_sleep_ms=0\" GADGET_DOCTEST_MAIN=1 exec " + strconv.Quote(self) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(binDir, "gadget"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	shellEnv := []string{"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C.UTF-8"}
	for k, v := range env {
		if k != "GADGET_ADDR" {
			shellEnv = append(shellEnv, k+"="+v)
		}
	}

	ran := 0
	for _, page := range docPages(t) {
		var script strings.Builder
		var shellBlocks []docBlock
		for _, b := range fencedBlocks(t, page) {
			switch {
			case b.noRun() && slices.Contains([]string{"sh", "bash", "shell", "graphql", "json", "text"}, b.lang()), b.lang() == "text":
			case b.lang() == "json":
				if !json.Valid([]byte(b.body)) {
					t.Errorf("%v: not valid JSON", b)
				}
			case b.lang() == "graphql":
				ran++
				a := in.gql(root, b.body, nil)
				if len(a.Errors) > 0 || len(a.Data) == 0 {
					t.Errorf("%v: answered errors %+v", b, a.Errors)
				}
			case b.lang() == "sh" || b.lang() == "bash" || b.lang() == "shell":
				ran++
				body := strings.ReplaceAll(b.body, "./bin/gadget ", "gadget ")
				body = strings.ReplaceAll(body, "localhost:8080", host)
				fmt.Fprintf(&script, "echo '@@block %d@@'\n%s\n", len(shellBlocks), body)
				shellBlocks = append(shellBlocks, b)
			default:
				t.Errorf("%v: unmarked block: use text for output, norun for a command a test cannot run (docs/README.md)", b)
			}
		}
		if len(shellBlocks) == 0 {
			continue
		}
		cmd := exec.Command(bash, "-c", "set -eo pipefail\n"+script.String())
		cmd.Env = shellEnv
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		parts := strings.Split(string(out), "@@block ")
		for _, p := range parts[1:] {
			n, rest, _ := strings.Cut(p, "@@\n")
			i, _ := strconv.Atoi(n)
			if strings.Contains(rest, `"errors":`) || strings.Contains(rest, `"detail":`) {
				t.Errorf("%v: the output has an error:\n%s", shellBlocks[i], rest)
			}
		}
		if err != nil {
			_, rest, _ := strings.Cut(parts[len(parts)-1], "@@\n")
			t.Errorf("%v failed: %v\n%s", shellBlocks[len(parts)-2], err, rest)
		}
	}
	if ran == 0 {
		t.Error("no example ran")
	}
}

// TestDemoBannerMatchesDemoTable: every value the demo's banner
// (scripts/demo.sh) promises a verdict for has that verdict in docs/demo.md's
// table, which TestDemoValues checks against the fake intel server.
func TestDemoBannerMatchesDemoTable(t *testing.T) {
	t.Parallel()
	table := map[string]string{}
	demo, err := os.ReadFile("../../docs/demo.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(demo), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) > 4 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			table[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[3])
		}
	}
	script, err := os.ReadFile("../../scripts/demo.sh")
	if err != nil {
		t.Fatal(err)
	}
	level, checked := "", 0
	for _, line := range strings.Split(string(script), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "MALICIOUS", "SUSPICIOUS", "BENIGN", "UNKNOWN":
			level, f = f[0], f[1:]
		default:
			if level == "" || !strings.HasPrefix(line, "               ") {
				level = ""
				continue
			}
		}
		for _, w := range f {
			if strings.HasPrefix(w, "(") {
				break // the rest is a comment
			}
			v := strings.TrimSuffix(w, ",")
			got, ok := table[v]
			if !ok {
				t.Errorf("the demo banner names %s, which docs/demo.md's table does not list", v)
			} else if got != level {
				t.Errorf("the demo banner says %s is %s; docs/demo.md says %s", v, level, got)
			}
			checked++
		}
	}
	if checked < 6 {
		t.Errorf("found %d values in the demo banner", checked)
	}
}
