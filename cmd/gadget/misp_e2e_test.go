package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/ent/usagelog"
	"github.com/inspector-gadget/gadget/internal/store"
)

// post sends body to path with the given Authorization header ("" none)
// and decodes the JSON answer into out.
func (in *instance) post(authorization, path, body string, out any) *http.Response {
	in.t.Helper()
	req, _ := http.NewRequest("POST", in.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			in.t.Fatalf("POST %s: HTTP %d, not JSON: %s", path, res.StatusCode, raw)
		}
	}
	return res
}

// apiKey creates an API key for the holder of token.
func (in *instance) apiKey(token, name string, scopes ...string) string {
	in.t.Helper()
	vars := map[string]any{"n": name}
	if len(scopes) > 0 {
		vars["s"] = scopes
	}
	a := in.gql(token, createKeyQuery, vars)
	if len(a.Errors) > 0 {
		in.t.Fatalf("createApiKey: %+v", a.Errors)
	}
	var nk struct {
		CreateAPIKey newKeyJSON `json:"createApiKey"`
	}
	raw, _ := json.Marshal(a.Data)
	json.Unmarshal(raw, &nk)
	return nk.CreateAPIKey.Key
}

type mispStandard struct {
	Error   string `json:"error"`
	Results struct {
		Attribute []struct {
			UUID    string `json:"uuid"`
			Type    string `json:"type"`
			Value   string `json:"value"`
			Comment string `json:"comment"`
			ToIDs   bool   `json:"to_ids"`
			Tag     []struct {
				Name string `json:"name"`
			} `json:"Tag"`
		} `json:"Attribute"`
		Object []struct {
			Name      string `json:"name"`
			Attribute []struct {
				ObjectRelation string `json:"object_relation"`
				Type           string `json:"type"`
				Value          string `json:"value"`
			} `json:"Attribute"`
			ObjectReference []struct {
				ReferencedUUID   string `json:"referenced_uuid"`
				RelationshipType string `json:"relationship_type"`
			} `json:"ObjectReference"`
		} `json:"Object"`
	} `json:"results"`
}

type mispLegacy struct {
	Error   string `json:"error"`
	Results []struct {
		Types  []string `json:"types"`
		Values []string `json:"values"`
	} `json:"results"`
}

func (l mispLegacy) text() string {
	var b strings.Builder
	for _, r := range l.Results {
		b.WriteString(strings.Join(r.Values, "\n") + "\n")
	}
	return b.String()
}

// TestMispModules drives the misp-modules protocol as MISP does (request
// and answer shapes from MISP/misp-modules' __main__.py and expansion
// modules, MISP's Module.php): the module list, both query formats, the
// key in the module's config or in Authorization, errors as {"error"},
// the hover budget with a hanging provider, and one audit row per query
// under api "misp".
func TestMispModules(t *testing.T) {
	t.Parallel()
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	env["GADGET_LOOKUP_DEADLINE"] = "6s" // the hanging call below gives up then
	fake := withFake(t, env)
	in := start(t, env)
	root := in.token("root", rootPW, "")
	key := in.apiKey(root, "misp", "TASKS")
	usersOnly := in.apiKey(root, "users-only", "USERS")

	var mods []struct {
		Name           string `json:"name"`
		Type           string `json:"type"`
		MispAttributes struct {
			Input  []string `json:"input"`
			Output []string `json:"output"`
			Format string   `json:"format"`
		} `json:"mispattributes"`
		Meta struct {
			Version    string   `json:"version"`
			ModuleType []string `json:"module-type"`
			Config     []string `json:"config"`
		} `json:"meta"`
	}
	res, body := get(t, in.base+"/misp/modules") // MISP's Enrichment family lists modules without credentials
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &mods) != nil || len(mods) < 2 {
		t.Fatalf("GET /misp/modules: %d %s", res.StatusCode, body)
	}
	all := mods[0]
	if all.Name != "gadget_all" || all.Type != "expansion" || all.MispAttributes.Format != "misp_standard" ||
		!slices.Contains(all.MispAttributes.Input, "ip-dst") || !slices.Contains(all.MispAttributes.Input, "sha256") ||
		!slices.Contains(all.Meta.ModuleType, "hover") || !slices.Contains(all.Meta.Config, "apikey") {
		t.Fatalf("gadget_all module = %+v", all)
	}
	for _, m := range mods[1:] {
		if m.Name == "gadget_abuseipdb" && slices.Contains(m.MispAttributes.Input, "domain") {
			t.Errorf("gadget_abuseipdb takes domains: %v", m.MispAttributes.Input)
		}
	}
	if res, body := get(t, in.base+"/misp/healthcheck"); res.StatusCode != 200 || strings.TrimSpace(body) != `{"status":true}` {
		t.Fatalf("healthcheck: %d %s", res.StatusCode, body)
	}
	if res, body := get(t, in.base+"/misp/version"); res.StatusCode != 200 || !strings.Contains(body, `"version"`) {
		t.Fatalf("version: %d %s", res.StatusCode, body)
	}

	// no credentials, a bad key, a key without the tasks scope
	var e struct {
		Error string `json:"error"`
	}
	if res := in.post("", "/misp/query", `{"module":"gadget_all","ip-src":"203.0.113.45"}`, &e); res.StatusCode != 401 || !strings.Contains(e.Error, "apikey") {
		t.Fatalf("no credentials: %d %+v", res.StatusCode, e)
	}
	if res := in.post("", "/misp/query", `{"module":"gadget_all","ip-src":"203.0.113.45","config":{"apikey":"igk_nope"}}`, &e); res.StatusCode != 401 {
		t.Fatalf("bad key: %d %+v", res.StatusCode, e)
	}
	if res := in.post(usersOnly, "/misp/query", `{"module":"gadget_all","ip-src":"203.0.113.45"}`, &e); res.StatusCode != 403 {
		t.Fatalf("users-only key: %d %+v", res.StatusCode, e)
	}
	if n := totalCalls(fake); n != 0 {
		t.Fatalf("refused queries made %d upstream calls", n)
	}

	// misp_standard, the key in the module's config (MISP's Enrichment family)
	const attrUUID = "5f1c4c62-7c64-4b6e-9e64-3b5a3a0c6d11"
	var std mispStandard
	q := `{"module":"gadget_all","event_id":"12","attribute":{"type":"ip-dst","value":"203.0.113.45","uuid":"` + attrUUID + `","category":"Network activity"},"config":{"apikey":"` + key + `"}}`
	if res := in.post("", "/misp/query", q, &std); res.StatusCode != 200 || std.Error != "" || len(std.Results.Attribute) != 1 {
		t.Fatalf("misp_standard: %d %+v", res.StatusCode, std)
	}
	attr := std.Results.Attribute[0]
	var tags []string
	for _, tg := range attr.Tag {
		tags = append(tags, tg.Name)
	}
	if attr.UUID != attrUUID || attr.Value != "203.0.113.45" || !attr.ToIDs || !slices.Contains(tags, `ioc:artifact-state="malicious"`) ||
		!slices.Contains(tags, `inspector-gadget:verdict="malicious"`) || !strings.Contains(attr.Comment, "MALICIOUS") {
		t.Fatalf("verdict attribute = %+v", attr)
	}
	links := 0
	for _, o := range std.Results.Object {
		if o.Name != "inspector-gadget-report" || len(o.ObjectReference) != 1 || o.ObjectReference[0].ReferencedUUID != attrUUID {
			t.Fatalf("object = %+v", o)
		}
		for _, a := range o.Attribute {
			if a.ObjectRelation == "permalink" && a.Type == "link" && strings.HasPrefix(a.Value, "https://") {
				links++
			}
		}
	}
	if len(std.Results.Object) < 3 || links == 0 {
		t.Fatalf("%d provider objects, %d links", len(std.Results.Object), links)
	}

	// legacy format, the key as the whole Authorization header (MISP's Cortex family)
	var leg mispLegacy
	if res := in.post(key, "/misp/query", `{"module":"gadget_all","ip-src":"203.0.113.45","persistent":1}`, &leg); res.StatusCode != 200 || leg.Error != "" {
		t.Fatalf("legacy: %d %+v", res.StatusCode, leg)
	}
	if txt := leg.text(); !strings.Contains(txt, "Inspector Gadget: MALICIOUS") || !strings.Contains(txt, "cached") {
		t.Fatalf("legacy answer (second query, from the cache) = %s", txt)
	}
	// composite types: the indicator part is looked up
	if in.post("Bearer "+key, "/misp/query", `{"module":"gadget_all","filename|sha256":"drop.exe|`+strings.Repeat("ab", 32)+`"}`, &leg); leg.Error != "" {
		t.Fatalf("filename|sha256: %+v", leg)
	}
	for name, body := range map[string]string{
		"unknown module":        `{"module":"nope","ip-src":"203.0.113.45"}`,
		"unsupported type":      `{"module":"gadget_all","email-src":"a@b.example"}`,
		"invalid value":         `{"module":"gadget_all","ip-src":"999.1.1.1"}`,
		"kind the module lacks": `{"module":"gadget_abuseipdb","domain":"evil.example"}`,
	} {
		e.Error = ""
		if res := in.post(key, "/misp/query", body, &e); res.StatusCode != 200 || e.Error == "" {
			t.Errorf("%s: %d %+v, want 200 with an error", name, res.StatusCode, e)
		}
	}
	if res := in.post(key, "/misp/query", `not json`, &e); res.StatusCode != 400 || e.Error == "" {
		t.Errorf("not JSON: %d %+v", res.StatusCode, e)
	}

	// hover: a hanging provider is reported pending, within MISP's 5 s
	fake.SetLatency("virustotal", 8*time.Second)
	began := time.Now()
	if res := in.post(key, "/misp/query", `{"module":"gadget_all","ip-dst":"203.0.113.99","persistent":1}`, &leg); res.StatusCode != 200 || leg.Error != "" {
		t.Fatalf("hover with a hanging provider: %d %+v", res.StatusCode, leg)
	}
	took := time.Since(began)
	t.Logf("hover with a hanging provider answered in %v", took.Round(time.Millisecond))
	if took >= 5*time.Second || !strings.Contains(leg.text(), "Pending (ask again shortly): virustotal") || !strings.Contains(leg.text(), "AbuseIPDB") {
		t.Fatalf("hover took %v: %s", took, leg.text())
	}
	fake.ClearLatency("virustotal")

	if err := in.stop(); err != nil { // flushes the usage writer
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, env["GADGET_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Client().UsageLog.Query().Where(usagelog.API("misp")).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// standard, legacy, composite, 4 module errors, hover; refused and malformed requests write none
	if len(rows) != 8 {
		t.Fatalf("misp audit rows = %d, want 8", len(rows))
	}
	for _, r := range rows {
		if r.Username != "root" || r.Endpoint != "POST /misp/query" || strings.Contains(r.Parameters, key) {
			t.Fatalf("audit row = %+v", r)
		}
	}
}
