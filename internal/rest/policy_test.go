package rest_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/rest"
)

func upstreamCalls(h *harness) int {
	n := 0
	for _, d := range provider.Descriptors() {
		n += h.fake.Calls(d.Name)
	}
	return n
}

type restLookup struct {
	Verdict struct {
		Level    string   `json:"level"`
		Reasons  []string `json:"reasons"`
		Complete bool     `json:"complete"`
		Coverage struct {
			Asked    int    `json:"asked"`
			Answered int    `json:"answered"`
			Skipped  int    `json:"skipped"`
			Summary  string `json:"summary"`
		} `json:"coverage"`
	} `json:"verdict"`
	Results []struct {
		Provider string `json:"provider"`
		Status   string `json:"status"`
		Error    *struct {
			Message string `json:"message"`
		} `json:"error"`
	} `json:"results"`
}

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("%s %s: %v\n%s", a.method, a.path, err, a.body)
	}
	return v
}

func wantError(t *testing.T, a answer, status int, code, field string) {
	t.Helper()
	var e struct{ Code, Field string }
	json.Unmarshal(a.body, &e)
	if a.status != status || e.Code != code || e.Field != field {
		t.Errorf("%s %s: %d %s, want %d %s field %q", a.method, a.path, a.status, a.body, status, code, field)
	}
}

// tlp= and playbook= on the GET paths, and the lists and playbooks under
// /api/admin, against real storage and the fake intel server: what policy
// keeps local makes no upstream call, and bad input changes nothing.
func TestPolicyREST(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("carol", "carol-password-1", false)
	root, carol := h.token("root", ""), h.token("carol", "")
	doc, err := rest.Document()
	if err != nil {
		t.Fatal(err)
	}
	call := func(tok, method, path, body string) answer {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		a := h.do(tok, method, path, ct, body)
		documented(t, doc, a)
		return a
	}

	// unknown TLP or playbook: 400 naming the field, nothing asked
	before := upstreamCalls(h)
	wantError(t, call(carol, "GET", "/api/indicator/ipv4/198.51.100.7?tlp=PURPLE", ""), 400, "BAD_REQUEST", "tlp")
	wantError(t, call(carol, "GET", "/api/indicator/ipv4/198.51.100.7?playbook=nosuch", ""), 400, "BAD_REQUEST", "playbook")
	wantError(t, call(carol, "POST", "/api/indicator/ipv4", `{"indicator":"198.51.100.7","tlp":"PURPLE"}`), 400, "BAD_REQUEST", "tlp")
	// RED: only local knowledge; every provider SKIPPED with the reason
	red := decode[restLookup](t, call(carol, "GET", "/api/indicator/ipv4/198.51.100.7?tlp=red", ""))
	for _, r := range red.Results {
		if d, _ := provider.Lookup(r.Provider); r.Status == "NOT_CONFIGURED" || d.Local { // cymru without a resolver: never asked; local lists: asked at any TLP
			continue
		}
		if r.Status != "SKIPPED" || r.Error == nil || r.Error.Message != "TLP:RED is not shared with "+r.Provider {
			t.Errorf("RED: %+v", r)
		}
	}
	if len(red.Results) == 0 || upstreamCalls(h) != before {
		t.Fatalf("RED asked upstream (%d calls) or nobody was considered (%d)", upstreamCalls(h)-before, len(red.Results))
	}

	// lists: carol may not change them
	wantError(t, call(carol, "GET", "/api/admin/lists", ""), 403, "FORBIDDEN", "")
	wantError(t, call(root, "POST", "/api/admin/lists", `{"name":"Bad Name","effect":"BLOCK"}`), 400, "BAD_REQUEST", "name")
	wantError(t, call(root, "POST", "/api/admin/lists", `{"name":"bad","effect":"PURPLE"}`), 400, "BAD_REQUEST", "effect")
	if a := call(root, "POST", "/api/admin/lists", `{"name":"bad","effect":"BLOCK","description":"case 42"}`); a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	wantError(t, call(root, "POST", "/api/admin/lists", `{"name":"bad","effect":"BLOCK"}`), 409, "CONFLICT", "")
	wantError(t, call(root, "POST", "/api/admin/list/bad", `{"entries":[{"value":"evil.example"},{"value":"10.0.0.0/99"}]}`), 400, "BAD_REQUEST", "entries")
	wantError(t, call(root, "POST", "/api/admin/list/bad", `{"value":"evil.example","expires_at":"tomorrow"}`), 400, "BAD_REQUEST", "expires_at")
	if l := decode[struct{ Size int }](t, call(root, "GET", "/api/admin/list/bad", "")); l.Size != 0 {
		t.Fatalf("a refused call added %d entries", l.Size)
	}
	added := call(root, "POST", "/api/admin/list/bad", `{"entries":[{"value":"evil[.]example","reason":"phishing kit"},{"value":"203.0.113.0/24"}]}`)
	if l := decode[struct{ Size int }](t, added); added.status != 200 || l.Size != 2 {
		t.Fatalf("add: %d %s", added.status, added.body)
	}
	page := decode[struct {
		Entries []struct{ Value, Type, Reason, Owner string }
		Next    string
	}](t, call(root, "GET", "/api/admin/list/bad?limit=1", ""))
	if len(page.Entries) != 1 || page.Entries[0].Value != "203.0.113.0/24" || page.Entries[0].Owner != "root" || page.Next != "203.0.113.0/24" {
		t.Errorf("page 1: %+v", page)
	}
	blocked := decode[restLookup](t, call(carol, "GET", "/api/indicator/domain/login.evil.example", ""))
	if blocked.Verdict.Level != "MALICIOUS" || blocked.Verdict.Reasons[0] != "block-listed by bad: phishing kit" {
		t.Errorf("block-listed: %+v", blocked.Verdict)
	}
	wantError(t, call(root, "DELETE", "/api/admin/list/bad", ""), 400, "BAD_REQUEST", "value")
	if l := decode[struct{ Size int }](t, call(root, "DELETE", "/api/admin/list/bad?value=evil.example", "")); l.Size != 1 {
		t.Errorf("after removing one entry: %d", l.Size)
	}
	if a := call(root, "DELETE", "/api/admin/list/bad?all=true", ""); a.status != 200 {
		t.Errorf("delete list: %d %s", a.status, a.body)
	}
	wantError(t, call(root, "GET", "/api/admin/list/bad", ""), 404, "NOT_FOUND", "")

	// a MISP warninglist becomes a KNOWN_GOOD list; unmatchable entries are reported
	wl, err := os.ReadFile("../policy/testdata/warninglists/public-dns-v4.json")
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, call(root, "POST", "/api/admin/lists?format=misp", `{"name":"x","type":"glob","list":[]}`), 400, "BAD_REQUEST", "body")
	imp := decode[struct {
		List struct {
			Name, Effect string
			Size         int
		}
		Created  bool
		Imported int
	}](t, call(root, "POST", "/api/admin/lists?format=misp&name=resolvers", string(wl)))
	if imp.List.Name != "resolvers" || imp.List.Effect != "KNOWN_GOOD" || !imp.Created || imp.Imported != 16 || imp.List.Size != 16 {
		t.Errorf("import: %+v", imp)
	}
	rx := decode[struct {
		Imported int
		Skipped  []struct{ Value, Reason string }
	}](t, call(root, "POST", "/api/admin/lists?format=misp", `{"name":"Regex test","type":"regex","description":"d","version":1,"list":["^a.*$"]}`))
	if rx.Imported != 0 || len(rx.Skipped) != 1 || !strings.Contains(rx.Skipped[0].Reason, "cannot be matched exactly") {
		t.Errorf("regex import: %+v", rx)
	}
	good := decode[restLookup](t, call(carol, "GET", "/api/indicator/ipv4/8.8.8.8?providers=abuseipdb", ""))
	if good.Verdict.Level != "BENIGN" || !strings.HasPrefix(good.Verdict.Reasons[0], "allow-listed by resolvers: MISP warninglist: ") {
		t.Errorf("allow-listed: %+v", good.Verdict)
	}

	// playbooks, with a minimum coverage
	wantError(t, call(root, "POST", "/api/admin/playbooks", `{"name":"ip","providers":["nosuch"]}`), 400, "BAD_REQUEST", "providers")
	wantError(t, call(root, "POST", "/api/admin/playbooks", `{"name":"ip","providers":"abuseipdb","min_coverage":101}`), 400, "BAD_REQUEST", "min_coverage")
	wantError(t, call(root, "POST", "/api/admin/playbooks", `{"name":"ip","providers":"abuseipdb","default_tlp":"PURPLE"}`), 400, "BAD_REQUEST", "default_tlp")
	pb := decode[struct {
		ResolvedProviders []string `json:"resolved_providers"`
		DefaultTLP        string   `json:"default_tlp"`
		MinCoverage       int      `json:"min_coverage"`
	}](t, call(root, "POST", "/api/admin/playbooks", `{"name":"ip","providers":"abuseipdb, rdap","default_tlp":"GREEN","min_coverage":100}`))
	if strings.Join(pb.ResolvedProviders, ",") != "abuseipdb,rdap" || pb.DefaultTLP != "GREEN" || pb.MinCoverage != 100 {
		t.Errorf("playbook: %+v", pb)
	}
	full := decode[restLookup](t, call(carol, "GET", "/api/indicator/ipv4/198.51.100.9?playbook=ip", ""))
	if len(full.Results) != 2 || !full.Verdict.Complete || full.Verdict.Coverage.Answered != 2 {
		t.Errorf("playbook lookup: %+v", full)
	}
	// RED keeps both providers out: below the playbook's minimum, not complete
	short := decode[restLookup](t, call(carol, "GET", "/api/indicator/ipv4/198.51.100.10?playbook=ip&tlp=RED", ""))
	if short.Verdict.Complete || !strings.Contains(short.Verdict.Coverage.Summary, "below playbook ip's minimum of 2 answered") {
		t.Errorf("below the minimum: %+v", short.Verdict)
	}
	if a := call(root, "GET", "/api/admin/playbook/ip", ""); a.status != 200 {
		t.Errorf("get playbook: %d", a.status)
	}
	if a := call(root, "DELETE", "/api/admin/playbook/ip", ""); a.status != 200 {
		t.Errorf("delete playbook: %d", a.status)
	}
	wantError(t, call(carol, "GET", "/api/indicator/ipv4/198.51.100.9?playbook=ip", ""), 400, "BAD_REQUEST", "playbook")
	if n := len(decode[[]json.RawMessage](t, call(root, "GET", "/api/admin/playbooks", ""))); n != 5 { // four built-ins and demo
		t.Errorf("%d playbooks", n)
	}
}
