package main

import (
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/provider"
)

type resultRow struct {
	Provider string `json:"provider"`
	Status   string `json:"status"`
	Error    *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type lookedUp struct {
	Verdict struct {
		Level   string   `json:"level"`
		Reasons []string `json:"reasons"`
	} `json:"verdict"`
	Results   []resultRow `json:"results"`
	Sightings *struct {
		Count         int    `json:"count"`
		DistinctUsers int    `json:"distinctUsers"`
		LastVerdict   string `json:"lastVerdict"`
		Summary       string `json:"summary"`
		Manual        *struct {
			Verdict  string `json:"verdict"`
			Username string `json:"username"`
			Note     string `json:"note"`
		} `json:"manual"`
		Recent []struct {
			ID       string `json:"id"`
			Username string `json:"username"`
			Source   string `json:"source"`
			TLP      string `json:"tlp"`
		} `json:"recent"`
	} `json:"sightings"`
}

// Lists, TLP, playbooks and sightings through the real server, on both
// storage configurations: what policy keeps from the providers is never
// sent (the fake intel server counts the calls), and every lookup is
// remembered.
func TestPolicyEndToEnd(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			env := be.env(t)
			env["GADGET_ROOT_PASSWORD"] = rootPW
			fake := withFake(t, env)
			in := start(t, env)
			root := in.token("root", rootPW, "")
			field[map[string]any](t, in.gql(root, `mutation { createUser(username: "alice", password: "alice-password-1") { username } }`, nil), "createUser")
			alice := in.token("alice", "alice-password-1", "tasks")

			// alice may read lists but not change them
			mustCode(t, in.gql(alice, `mutation { createList(name: "x", effect: BLOCK) { name } }`, nil), "FORBIDDEN")
			for _, q := range []string{
				`mutation { createList(name: "corp", effect: NEVER_SEND, description: "our ranges") { name } }`,
				`mutation { createList(name: "bad", effect: BLOCK) { name } }`,
				`mutation { addListEntries(list: "corp", entries: [{value: "203.0.113.0/24", reason: "office"}]) { size } }`,
				`mutation { addListEntries(list: "bad", entries: [{value: "evil.example", reason: "phishing kit, case 42"}]) { size } }`,
			} {
				if a := in.gql(root, q, nil); len(a.Errors) > 0 {
					t.Fatalf("%s: %+v", q, a.Errors)
				}
			}
			lists := field[[]struct {
				Name   string `json:"name"`
				Effect string `json:"effect"`
				Size   int    `json:"size"`
			}](t, in.gql(alice, `{ lists { name effect size } }`, nil), "lists")
			if len(lists) != 2 || lists[0].Name != "bad" || lists[0].Size != 1 || lists[1].Effect != "NEVER_SEND" {
				t.Errorf("lists = %+v", lists)
			}
			bad := in.gql(root, `mutation { addListEntries(list: "corp", entries: [{value: "10.0.0.0/99"}, {value: "ok.example"}]) { size } }`, nil)
			mustCode(t, bad, "BAD_REQUEST")

			const q = `query($v: String!, $tlp: TLP, $pb: String) { indicator(value: $v, tlp: $tlp, playbook: $pb) {
				verdict { level reasons } results { provider status error { message } } } }`
			lookup := func(tok, v string, vars map[string]any) lookedUp {
				t.Helper()
				if vars == nil {
					vars = map[string]any{}
				}
				vars["v"] = v
				return field[lookedUp](t, in.gql(tok, q, vars), "indicator")
			}
			calls := totalCalls(fake)
			never := lookup(alice, "203.0.113.7", nil)
			for _, r := range never.Results {
				if r.Status != "SKIPPED" || r.Error == nil || r.Error.Message != "not sent: listed in corp: office" {
					t.Errorf("never-send result %+v", r)
				}
			}
			blocked := lookup(alice, "login.evil.example", nil)
			if blocked.Verdict.Level != "MALICIOUS" || blocked.Verdict.Reasons[0] != "block-listed by bad: phishing kit, case 42" {
				t.Errorf("block-listed verdict %+v", blocked.Verdict)
			}
			red := lookup(alice, "198.51.100.23", map[string]any{"tlp": "RED"})
			for _, r := range red.Results {
				if localProvider(r.Provider) { // local lists: RED uses local knowledge
					continue
				}
				if r.Status != "SKIPPED" || r.Error == nil || r.Error.Message != "TLP:RED is not shared with "+r.Provider {
					t.Errorf("RED result %+v", r)
				}
			}
			if n := totalCalls(fake); n != calls {
				t.Fatalf("%d upstream calls for values that policy keeps local", n-calls)
			}
			mustCode(t, in.gql(alice, q, map[string]any{"v": "198.51.100.23", "pb": "nosuch"}), "BAD_REQUEST")
			if a := in.gql(alice, q, map[string]any{"v": "198.51.100.23", "tlp": "PURPLE"}); len(a.Errors) == 0 {
				t.Error("an unknown TLP was accepted")
			}

			// the quick playbook asks the keyless providers only
			quick := lookup(alice, "198.51.100.24", map[string]any{"pb": "quick"})
			for _, r := range quick.Results {
				d, _ := provider.Lookup(r.Provider)
				if d.Key == provider.KeyRequired {
					t.Errorf("quick asked %s, which needs a key", r.Provider)
				}
			}
			if len(quick.Results) == 0 {
				t.Error("quick asked nobody")
			}

			// a playbook's minimum coverage decides complete
			field[map[string]any](t, in.gql(root, `mutation { createPlaybook(name: "pair", providers: ["abuseipdb", "rdap"], minCoverage: 100) { minCoverage } }`, nil), "createPlaybook")
			const cq = `query($v: String!, $tlp: TLP) { indicator(value: $v, playbook: "pair", tlp: $tlp) {
				verdict { complete coverage { asked answered skipped } } } }`
			type covered struct {
				Verdict struct {
					Complete bool
					Coverage struct{ Asked, Answered, Skipped int }
				}
			}
			if got := field[covered](t, in.gql(alice, cq, map[string]any{"v": "198.51.100.25"}), "indicator"); !got.Verdict.Complete || got.Verdict.Coverage.Answered != 2 {
				t.Errorf("both answered: %+v", got)
			}
			if got := field[covered](t, in.gql(alice, cq, map[string]any{"v": "198.51.100.26", "tlp": "RED"}), "indicator"); got.Verdict.Complete || got.Verdict.Coverage.Skipped != 2 {
				t.Errorf("below the minimum: %+v", got)
			}

			// sightings: alice twice, root once
			lookup(alice, "192.0.2.44", nil)
			lookup(alice, "192.0.2.44", nil)
			lookup(root, "192.0.2.44", nil)
			const sq = `{ indicator(value: "192.0.2.44") { sightings { count distinctUsers lastVerdict summary
				manual { verdict username note } recent(first: 10) { id username source tlp } } } }`
			var seen lookedUp
			deadline := time.Now().Add(10 * time.Second)
			for {
				// reading sightings is itself no lookup: it asks no provider
				seen = field[lookedUp](t, in.gql(alice, sq, nil), "indicator")
				if seen.Sightings.Count >= 3 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			s := seen.Sightings
			if s.Count != 3 || s.DistinctUsers != 2 || !strings.HasPrefix(s.Summary, "seen 3 times by 2 analysts; last verdict ") {
				t.Fatalf("sightings = %+v", s)
			}
			if len(s.Recent) != 2 || s.Recent[0].Username != "alice" || s.Recent[0].Source != "graphql" || s.Recent[0].TLP != "AMBER" {
				t.Errorf("alice sees %+v, want her own two", s.Recent)
			}
			all := field[lookedUp](t, in.gql(root, sq, nil), "indicator")
			if len(all.Sightings.Recent) != 3 {
				t.Errorf("root sees %d sightings, want everyone's 3", len(all.Sightings.Recent))
			}
			ann := in.gql(alice, `mutation($id: ID!) { annotateSighting(id: $id, note: "our scanner", verdict: FALSE_POSITIVE) { id } }`,
				map[string]any{"id": s.Recent[0].ID})
			if len(ann.Errors) > 0 {
				t.Fatalf("annotate: %+v", ann.Errors)
			}
			later := field[lookedUp](t, in.gql(root, sq, nil), "indicator")
			if m := later.Sightings.Manual; m == nil || m.Verdict != "FALSE_POSITIVE" || m.Username != "alice" || m.Note != "our scanner" {
				t.Errorf("manual verdict on a later lookup = %+v", m)
			}
		})
	}
}
