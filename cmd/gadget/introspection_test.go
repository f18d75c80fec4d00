package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// graphqlJSDir holds graphql-js (installed by scripts/test-deps.sh) and the
// script that drives it.
const graphqlJSDir = "testdata/graphqljs"

// nodeWithGraphQL returns the node binary when it and graphql-js are
// installed. Without them the test skips on a developer machine and fails
// when CI is set.
func nodeWithGraphQL(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(graphqlJSDir, "node_modules", "graphql", "package.json"))
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but node or graphql-js is missing (%v): run scripts/test-deps.sh", err)
		}
		t.Skipf("node or graphql-js missing (%v): run scripts/test-deps.sh", err)
	}
	return node
}

// TestIntrospectionGraphQLJS has graphql-js 16 send its full introspection
// query (every option on) to a live server and build a client schema from
// the answer, as GraphiQL, codegen and typed-client generators do.
func TestIntrospectionGraphQLJS(t *testing.T) {
	t.Parallel()
	node := nodeWithGraphQL(t)
	in := start(t, map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW})
	cmd := exec.Command(node, "introspect.mjs", "check", in.base+"/graphql")
	cmd.Dir = graphqlJSDir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("graphql-js: %v\n%s%s", err, out, stderr)
	}
	var got struct {
		QueryFields    []string `json:"queryFields"`
		MutationFields []string `json:"mutationFields"`
		Types          int      `json:"types"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, f := range []string{"indicator", "indicators", "status", "me", "myUsage", "usageReport", "auditLog", "users"} {
		if !slices.Contains(got.QueryFields, f) {
			t.Errorf("client schema's Query lacks %s: %v", f, got.QueryFields)
		}
	}
	if !slices.Contains(got.MutationFields, "createUser") || got.Types < 30 {
		t.Errorf("client schema: mutations %v, %d types", got.MutationFields, got.Types)
	}
}
