package gadget_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The layering rules of STYLE.md ("Dependencies point downward"), checked
// against the real import graph of the module's non-test code.

const module = "github.com/inspector-gadget/gadget"

// layers ranks every package of the module: a package may import module
// packages of lower rank only, so nothing lower calls back up. A new
// package must be given its place here.
var layers = map[string]int{
	// the vocabulary, adapters with no domain knowledge, and stand-alone
	// helpers: nothing of the module below them
	"internal/indicator":   0,
	"internal/errcode":     0,
	"internal/clientinfo":  0,
	"internal/cache":       0,
	"internal/ratelimit":   0,
	"internal/spreadsheet": 0,
	"internal/apidocs":     0,
	"internal/playground":  0,
	"internal/redisguard":  0, // a go-redis hook; the Redis adapters read its error

	"internal/provider":             1, // the plug-in host; uses ratelimit.Rate
	"internal/accounting":           1,
	"internal/tasks":                1,
	"internal/cache/rediscache":     1,
	"internal/ratelimit/redislimit": 1,
	"internal/testenv":              1,

	"internal/lookup":                2, // the answer's vocabulary (issue 13): indicator, provider, errcode
	"internal/provider/providertest": 2,
	"internal/fakeintel":             2, // serves the descriptors' fixtures
	"internal/auth":                  2,
	"internal/policy":                2, // lists, TLP, playbooks, sightings: decided before any provider
	"internal/userbudget":            2, // per-user daily budgets, counted before an upstream call

	"internal/enrich":           3,
	"internal/auth/redisevents": 3,
	"internal/store":            3,
	"internal/stix":             3, // a lookup as STIX 2.1
	"internal/stix/stixtest":    3, // the official STIX 2.1 schemas, for tests

	"internal/jobs":            4, // River as a transport of enrich's calls
	"internal/store/storetest": 4,
	"internal/soc":             4, // what the SOC protocol servers share: analyzers, budgeted lookups, audit, STIX export

	"graph/model":     5,
	"internal/rest":   5,
	"internal/portal": 5,
	"internal/server": 5,
	"internal/misp":   5, // the misp-modules expansion protocol
	"internal/cortex": 5, // the Cortex API subset TheHive and cortex4py use
	"internal/taxii":  5, // the read-only TAXII 2.1 server and the verdict publisher

	"graph": 6,

	// commands and generators: anything below them
	"cmd/gadget":                9,
	"cmd/fakeintel":             9,
	"cmd/loadgen":               9,
	"graph/gen":                 9,
	"internal/store/migrategen": 9,
}

// generated is the module's generated code, outside the ranking.
const generated = "ent"

// stdlibOnly packages import only the standard library (transitively).
var stdlibOnly = []string{"internal/indicator", "internal/errcode"}

// restricted are outside modules (by path prefix) that only some of the
// module's packages (by path prefix) may import.
var restricted = []struct {
	what    string
	imports []string
	allowed []string
}{
	{"ent", []string{"entgo.io/ent", module + "/ent"}, []string{"ent", "internal/store", "graph", "internal/jobs", "cmd/"}},
	{"River", []string{"github.com/riverqueue/", "riverqueue.com/"}, []string{"internal/jobs", "cmd/"}},
	// the transports see lookups through lookup.Session and answers as
	// lookup.Result; only the executors and the wiring know the engine
	{"the engine", []string{module + "/internal/enrich"}, []string{"internal/jobs", "cmd/"}},
	{"go-redis", []string{"github.com/redis/go-redis/", "github.com/go-redis/"},
		[]string{"internal/cache/rediscache", "internal/ratelimit/redislimit", "internal/auth/redisevents", "internal/redisguard", "internal/testenv", "cmd/"}},
}

// apart are transports that never import each other, even indirectly.
var apart = []string{"graph", "internal/rest", "internal/portal"}

// pkg is what `go list -deps -json` says of one package.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

func TestLayering(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to read the import graph: %v", err)
	}
	cmd := exec.Command(goTool, "list", "-deps", "-json=ImportPath,Standard,Imports,Deps", "./...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	pkgs, err := decode(strings.NewReader(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages; the module has more", len(pkgs))
	}
	for _, p := range check(pkgs) {
		t.Error(p)
	}
	ours := map[string]bool{}
	for _, p := range pkgs {
		ours[strings.TrimPrefix(p.ImportPath, module+"/")] = true
	}
	for name := range layers {
		if !ours[name] {
			t.Errorf("the layer table ranks %s, which is not a package of the module: remove it", name)
		}
	}
}

// TestLayeringCheck shows that check reports each kind of departure.
func TestLayeringCheck(t *testing.T) {
	t.Parallel()
	m := func(p string) string { return module + "/" + p }
	pkgs := []pkg{
		{ImportPath: "fmt", Standard: true},
		{ImportPath: "github.com/redis/go-redis/v9"},
		{ImportPath: "github.com/riverqueue/river"},
		{ImportPath: m("internal/errcode"), Imports: []string{"github.com/redis/go-redis/v9"}, Deps: []string{"github.com/redis/go-redis/v9"}},
		{ImportPath: m("internal/ratelimit"), Imports: []string{m("internal/provider")}, Deps: []string{m("internal/provider")}},
		{ImportPath: m("internal/provider"), Imports: []string{"fmt"}, Deps: []string{"fmt"}},
		{ImportPath: m("internal/rest"), Imports: []string{m("internal/enrich")}, Deps: []string{m("internal/enrich"), m("graph")}},
		{ImportPath: m("internal/enrich"), Imports: []string{"github.com/riverqueue/river"}, Deps: []string{"github.com/riverqueue/river"}},
		{ImportPath: m("graph")},
		{ImportPath: m("internal/newthing")},
		{ImportPath: m("cmd/gadget"), Imports: []string{"github.com/redis/go-redis/v9", "github.com/riverqueue/river", m("graph")}},
	}
	got := check(pkgs)
	want := []string{
		"internal/enrich imports River (github.com/riverqueue/river); only internal/jobs, cmd/ may",
		"internal/errcode imports go-redis (github.com/redis/go-redis/v9); only internal/cache/rediscache, internal/ratelimit/redislimit, internal/auth/redisevents, internal/redisguard, internal/testenv, cmd/ may",
		"internal/errcode must import only the standard library, but depends on github.com/redis/go-redis/v9",
		"internal/newthing has no place in the layer table of layering_test.go: give it one",
		"internal/ratelimit (layer 0) imports internal/provider (layer 1): dependencies point downward",
		"internal/rest depends on graph: the transports graph, internal/rest, internal/portal never import each other",
		"internal/rest imports the engine (github.com/inspector-gadget/gadget/internal/enrich); only internal/jobs, cmd/ may",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("check (-want +got):\n%s", diff)
	}
}

func decode(r io.Reader) ([]pkg, error) {
	var out []pkg
	dec := json.NewDecoder(r)
	for {
		var p pkg
		err := dec.Decode(&p)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		out = append(out, p)
	}
}

// check returns every departure from the rules, sorted.
func check(pkgs []pkg) []string {
	standard := map[string]bool{}
	for _, p := range pkgs {
		standard[p.ImportPath] = p.Standard
	}
	var problems []string
	for _, p := range pkgs {
		name, ours := strings.CutPrefix(p.ImportPath, module+"/")
		if !ours || name == generated || strings.HasPrefix(name, generated+"/") {
			continue
		}
		rank, ranked := layers[name]
		if !ranked {
			problems = append(problems, name+" has no place in the layer table of layering_test.go: give it one")
		}
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok && ranked {
				if r, known := layers[dep]; known && r >= rank {
					problems = append(problems, fmt.Sprintf("%s (layer %d) imports %s (layer %d): dependencies point downward", name, rank, dep, r))
				}
			}
			for _, rule := range restricted {
				if hasPrefix(imp, rule.imports) && !hasPrefix(name, rule.allowed) {
					problems = append(problems, fmt.Sprintf("%s imports %s (%s); only %s may", name, rule.what, imp, strings.Join(rule.allowed, ", ")))
				}
			}
		}
		if slices.Contains(stdlibOnly, name) {
			for _, d := range p.Deps {
				if !standard[d] {
					problems = append(problems, fmt.Sprintf("%s must import only the standard library, but depends on %s", name, d))
				}
			}
		}
		if slices.Contains(apart, name) {
			for _, other := range apart {
				if other != name && slices.Contains(p.Deps, module+"/"+other) {
					problems = append(problems, fmt.Sprintf("%s depends on %s: the transports %s never import each other", name, other, strings.Join(apart, ", ")))
				}
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// hasPrefix reports whether path is one of prefixes or below one: "a/b"
// matches "a" and "a/b/c" but not "ab"; a prefix ending in "/" matches any
// path starting with it.
func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) || path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}
