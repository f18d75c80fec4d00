package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/inspector-gadget/gadget/graph"
)

// TestPlaygroundExamples runs every GraphiQL example as root against a live
// server on the fake intel server: each is one named operation, validates,
// and answers without errors; the lookups answer what the fake's
// conventions promise.
func TestPlaygroundExamples(t *testing.T) {
	t.Parallel()
	env := map[string]string{"GADGET_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gadget.db"), "GADGET_ROOT_PASSWORD": rootPW}
	withFake(t, env)
	in := start(t, env)
	root := in.token("root", rootPW, "")
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()

	examples := playgroundOptions().Examples
	if len(examples) < 4 {
		t.Fatalf("%d examples", len(examples))
	}
	wantOrder := []string{"LookUpIndicator", "LookUpBatch", "MyUsage", "UsageReport"}
	for i, e := range examples {
		doc, err := gqlparser.LoadQueryWithRules(schema, e.Query, rules.NewDefaultRules())
		if err != nil {
			t.Errorf("example %q does not validate: %v", e.Name, err)
			continue
		}
		if len(doc.Operations) != 1 || doc.Operations[0].Name == "" {
			t.Errorf("example %q: want one named operation (GraphiQL shows <untitled> otherwise)", e.Name)
			continue
		}
		name := doc.Operations[0].Name
		if i < len(wantOrder) && name != wantOrder[i] {
			t.Errorf("example %d is %s, want %s", i, name, wantOrder[i])
		}
		a := in.gql(root, e.Query, nil)
		if len(a.Errors) > 0 || len(a.Data) == 0 {
			t.Errorf("%s: errors %+v", name, a.Errors)
			continue
		}
		for k, v := range a.Data {
			if string(v) == "null" {
				t.Errorf("%s: data.%s is null", name, k)
			}
		}
		switch name {
		case "LookUpIndicator":
			var ind struct {
				Verdict struct {
					Level   string
					Reasons []string
				}
				Abuseipdb  struct{ Status string }
				Virustotal struct {
					Status string
					Stats  *struct{ Malicious int }
				}
			}
			mustDecode(t, a.Data["indicator"], &ind)
			if ind.Verdict.Level != "MALICIOUS" || len(ind.Verdict.Reasons) == 0 || ind.Abuseipdb.Status != "OK" || ind.Virustotal.Status != "OK" || ind.Virustotal.Stats == nil {
				t.Errorf("LookUpIndicator answered %s", a.Data["indicator"])
			}
		case "LookUpBatch":
			var batch []struct {
				Value   string
				Verdict struct{ Level string }
				Error   *struct{ Code string }
			}
			mustDecode(t, a.Data["indicators"], &batch)
			if len(batch) != 4 || batch[0].Verdict.Level != "MALICIOUS" || batch[1].Verdict.Level != "MALICIOUS" || batch[3].Error == nil || batch[3].Error.Code != "BAD_INDICATOR" {
				t.Errorf("LookUpBatch answered %s", a.Data["indicators"])
			}
		}
	}
}

func mustDecode(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}
