package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/stix/stixtest"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/taxii"
)

// taxiiGet sends a request as taxii2-client (oasis-open/cti-taxii-client,
// taxii2client/v21 and common.py, commit 54dabad) does: GET with
// "Accept: application/taxii+json;version=2.1", HTTP Basic through
// requests, filters as added_after, limit, next and match[<field>].
func taxiiGet(t *testing.T, rawURL, user, key, accept string, params url.Values) (*http.Response, []byte) {
	t.Helper()
	if len(params) > 0 {
		rawURL += "?" + params.Encode()
	}
	req, _ := http.NewRequest("GET", rawURL, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if key != "" {
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+key)))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

type taxiiEnvelope struct {
	More    bool             `json:"more"`
	Next    string           `json:"next"`
	Objects []map[string]any `json:"objects"`
}

// TestTAXII drives the read-only TAXII 2.1 server with the requests
// taxii2-client sends: discovery → API root → collections → objects paged
// with limit/next (and as_pages' loop on "more"), added_after, match[type],
// match[id], one object, the manifest; the published indicator validates
// against the official STIX 2.1 schemas; errors are TAXII error messages.
func TestTAXII(t *testing.T) {
	t.Parallel()
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			testTAXII(t, be)
		})
	}
}

func testTAXII(t *testing.T, be backend) {
	v := stixtest.NewValidator(t, stixSchemas)
	env := be.env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	withFake(t, env)
	in := start(t, env)
	root := in.token("root", rootPW, "")
	key := in.apiKey(root, "sentinel", "TASKS")
	const accept = "application/taxii+json;version=2.1"

	// a lookup found MALICIOUS is published to the malicious collection
	field[map[string]any](t, in.gql(root, `{ indicator(value: "203.0.113.45") { verdict { level } } }`, nil), "indicator")

	res, body := taxiiGet(t, in.base+"/taxii2/", "root", key, accept, nil)
	var disc struct {
		Default  string   `json:"default"`
		APIRoots []string `json:"api_roots"`
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != accept || json.Unmarshal(body, &disc) != nil || len(disc.APIRoots) != 1 {
		t.Fatalf("discovery: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	apiRoot := disc.APIRoots[0]
	if res, body := taxiiGet(t, apiRoot, "root", key, accept, nil); res.StatusCode != 200 || !strings.Contains(string(body), `"versions":["application/taxii+json;version=2.1"]`) {
		t.Fatalf("api root: %d %s", res.StatusCode, body)
	}
	res, body = taxiiGet(t, apiRoot+"collections/", "root", key, accept, nil)
	var cols struct {
		Collections []struct {
			ID       string `json:"id"`
			Title    string `json:"title"`
			CanRead  bool   `json:"can_read"`
			CanWrite bool   `json:"can_write"`
		} `json:"collections"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &cols) != nil || len(cols.Collections) != 2 || !cols.Collections[0].CanRead || cols.Collections[0].CanWrite {
		t.Fatalf("collections: %d %s", res.StatusCode, body)
	}
	malicious := apiRoot + "collections/" + taxii.CollectionID(taxii.Malicious) + "/"
	if cols.Collections[0].ID != taxii.CollectionID(taxii.Malicious) {
		t.Fatalf("first collection = %+v", cols.Collections[0])
	}
	if res, _ := taxiiGet(t, malicious, "root", key, accept, nil); res.StatusCode != 200 {
		t.Fatalf("collection: %d", res.StatusCode)
	}

	// the published indicator (the publisher writes in the background)
	var env0 taxiiEnvelope
	for i := 0; i < 100; i++ {
		_, body = taxiiGet(t, malicious+"objects/", "root", key, accept, url.Values{"match[type]": {"indicator"}})
		json.Unmarshal(body, &env0)
		if len(env0.Objects) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(env0.Objects) != 1 || env0.Objects[0]["pattern"] != "[ipv4-addr:value = '203.0.113.45']" {
		t.Fatalf("published indicators = %s", body)
	}
	published := env0.Objects[0]
	_, body = taxiiGet(t, malicious+"objects/", "root", key, accept, nil)
	var all taxiiEnvelope
	json.Unmarshal(body, &all)
	types := map[string]bool{}
	for _, o := range all.Objects {
		v.Check(t, o)
		types[o["type"].(string)] = true
	}
	if !types["identity"] || !types["marking-definition"] || !types["indicator"] {
		t.Fatalf("the collection lacks the objects its indicator refers to: %s", body)
	}
	res, body = taxiiGet(t, malicious+"objects/"+published["id"].(string)+"/", "root", key, accept, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), published["id"].(string)) {
		t.Fatalf("one object: %d %s", res.StatusCode, body)
	}
	// its versions (Collection.object_versions), and match[version]: the
	// one version kept, at its modified
	res, body = taxiiGet(t, malicious+"objects/"+published["id"].(string)+"/versions/", "root", key, accept, nil)
	if want := `{"more":false,"versions":["` + published["modified"].(string) + `"]}`; res.StatusCode != 200 || strings.TrimSpace(string(body)) != want {
		t.Fatalf("versions: %d %s, want %s", res.StatusCode, body, want)
	}
	for _, c := range []struct {
		version string
		want    int
	}{{published["modified"].(string), 1}, {"last", 1}, {"first,all", 1}, {"2001-01-01T00:00:00Z", 0}} {
		_, body = taxiiGet(t, malicious+"objects/", "root", key, accept, url.Values{"match[id]": {published["id"].(string)}, "match[version]": {c.version}})
		var e taxiiEnvelope
		if json.Unmarshal(body, &e); len(e.Objects) != c.want {
			t.Errorf("match[version]=%s: %s, want %d objects", c.version, body, c.want)
		}
	}

	// paging over many stored verdicts: limit, next and more, as as_pages does
	const n = 2500
	t0 := time.Now().UTC().Add(time.Hour) // after everything published so far
	rows := putIndicators(t, env["GADGET_DATABASE_URL"], n, 3, t0)
	seen := map[string]bool{}
	params := url.Values{"limit": {"1000"}, "added_after": {t0.Add(-time.Millisecond).Format(time.RFC3339Nano)}}
	pages := 0
	for {
		res, body := taxiiGet(t, malicious+"objects/", "root", key, accept, params)
		var e taxiiEnvelope
		if res.StatusCode != 200 || json.Unmarshal(body, &e) != nil {
			t.Fatalf("page %d: %d %s", pages, res.StatusCode, body)
		}
		if len(e.Objects) > 0 && (res.Header.Get("X-TAXII-Date-Added-First") == "" || res.Header.Get("X-TAXII-Date-Added-Last") == "") {
			t.Fatal("no X-TAXII-Date-Added headers")
		}
		pages++
		for _, o := range e.Objects {
			id := o["id"].(string)
			if seen[id] {
				t.Fatalf("%s served twice", id)
			}
			seen[id] = true
		}
		if !e.More {
			break
		}
		params.Set("next", e.Next)
	}
	if len(seen) != n || pages != 3 {
		t.Fatalf("paged %d objects in %d pages, want %d in 3", len(seen), pages, n)
	}
	// added_after is strict: the last object's date_added leaves nothing after it
	last := t0.Add(time.Duration((n-1)/3) * time.Microsecond)
	_, body = taxiiGet(t, malicious+"objects/", "root", key, accept, url.Values{"added_after": {last.Format(time.RFC3339Nano)}})
	var none taxiiEnvelope
	if json.Unmarshal(body, &none); len(none.Objects) != 0 || none.More {
		t.Fatalf("after the last: %s", body)
	}
	// match[id] with several ids, and the manifest
	_, body = taxiiGet(t, malicious+"objects/", "root", key, accept, url.Values{"match[id]": {rows[7].ObjectID + "," + rows[9].ObjectID}})
	var two taxiiEnvelope
	if json.Unmarshal(body, &two); len(two.Objects) != 2 {
		t.Fatalf("match[id]: %s", body)
	}
	res, body = taxiiGet(t, malicious+"manifest/", "root", key, accept, url.Values{"limit": {"2"}})
	var man struct {
		More    bool `json:"more"`
		Objects []struct {
			ID, DateAdded, Version, MediaType string
		} `json:"objects"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &man) != nil || len(man.Objects) != 2 || !man.More || !strings.Contains(string(body), `"media_type":"application/stix+json;version=2.1"`) {
		t.Fatalf("manifest: %d %s", res.StatusCode, body)
	}

	// errors
	for _, tt := range []struct {
		name, url, user, key, accept string
		params                       url.Values
		status                       int
	}{
		{"no credentials", apiRoot, "", "", accept, nil, 401},
		{"someone else's name", apiRoot, "nobody", key, accept, nil, 401},
		{"TAXII 2.0", apiRoot, "root", key, "application/vnd.oasis.taxii+json; version=2.0", nil, 406},
		{"unknown collection", apiRoot + "collections/" + taxii.CollectionID("nope") + "/objects/", "root", key, accept, nil, 404},
		{"unknown api root", in.base + "/taxii2/other/collections/", "root", key, accept, nil, 404},
		{"bad limit", malicious + "objects/", "root", key, accept, url.Values{"limit": {"zero"}}, 400},
		{"bad added_after", malicious + "objects/", "root", key, accept, url.Values{"added_after": {"yesterday"}}, 400},
		{"forged next", malicious + "objects/", "root", key, accept, url.Values{"next": {"!!"}}, 400},
		{"bad match[version]", malicious + "objects/", "root", key, accept, url.Values{"match[version]": {"newest"}}, 400},
		{"versions of an object not there", malicious + "objects/indicator--00000000-0000-4000-8000-00000000dead/versions/", "root", key, accept, nil, 404},
	} {
		res, body := taxiiGet(t, tt.url, tt.user, tt.key, tt.accept, tt.params)
		var e struct {
			Title      string `json:"title"`
			HTTPStatus string `json:"http_status"`
		}
		if res.StatusCode != tt.status || json.Unmarshal(body, &e) != nil || e.Title == "" || e.HTTPStatus != fmt.Sprint(tt.status) {
			t.Errorf("%s: %d %s, want %d with a TAXII error", tt.name, res.StatusCode, body, tt.status)
		}
		if tt.status == 401 && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("%s: WWW-Authenticate %q", tt.name, res.Header.Get("WWW-Authenticate"))
		}
	}
	req, _ := http.NewRequest("POST", malicious+"objects/", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("root:"+key)))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 405 {
		t.Fatalf("POST objects: %v %v", res.StatusCode, err)
	}
}

// TestTAXIIBlockLists: every BLOCK list is a collection (and only BLOCK
// lists are) whose objects are one indicator per entry, with the entry's
// value as a STIX pattern, valid until its expiry; a removed entry is
// published again revoked, and a reader sees a change at once.
func TestTAXIIBlockLists(t *testing.T) {
	t.Parallel()
	v := stixtest.NewValidator(t, stixSchemas)
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	in := start(t, env)
	root := in.token("root", rootPW, "")
	key := in.apiKey(root, "sentinel", "TASKS")
	const accept = "application/taxii+json;version=2.1"
	const sha = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
	for _, q := range []string{
		`mutation { createList(name: "c2", effect: BLOCK, description: "C2 servers") { name } }`,
		`mutation { createList(name: "ours", effect: NEVER_SEND) { name } }`,
		`mutation { addListEntries(list: "c2", entries: [{value: "203.0.113.0/24", reason: "bulletproof hoster"},
			{value: "198.51.100.7", reason: "case 7"}, {value: "evil.example", reason: "phishing kit"},
			{value: "http://bad.example/kit/", reason: "kit path"}, {value: "` + sha + `", reason: "Agent Tesla", expiresAt: "2030-01-01T00:00:00Z"}]) { size } }`,
	} {
		if a := in.gql(root, q, nil); len(a.Errors) > 0 {
			t.Fatalf("%s: %+v", q, a.Errors)
		}
	}
	apiRoot := in.base + "/taxii2/gadget/"
	res, body := taxiiGet(t, apiRoot+"collections/", "root", key, accept, nil)
	var cols struct {
		Collections []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"collections"`
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &cols) != nil || len(cols.Collections) != 3 ||
		cols.Collections[2].ID != taxii.CollectionID(taxii.ListCollection("c2")) || !strings.Contains(cols.Collections[2].Title, "c2") {
		t.Fatalf("collections (want the two verdict collections and the c2 block-list, not the NEVER_SEND list): %d %s", res.StatusCode, body)
	}
	objects := apiRoot + "collections/" + cols.Collections[2].ID + "/objects/"
	patterns := func(params url.Values) (map[string]map[string]any, []byte) {
		_, body := taxiiGet(t, objects, "root", key, accept, params)
		var e taxiiEnvelope
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("objects: %s", body)
		}
		out := map[string]map[string]any{}
		for _, o := range e.Objects {
			v.Check(t, o)
			if o["type"] == "indicator" {
				out[o["pattern"].(string)] = o
			}
		}
		return out, body
	}
	got, body := patterns(nil)
	want := []string{
		"[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
		"[ipv4-addr:value = '198.51.100.7']",
		"[domain-name:value = 'evil.example' OR domain-name:value LIKE '%.evil.example']",
		"[url:value = 'http://bad.example/kit/' OR url:value LIKE 'http://bad.example/kit/%']",
		"[file:hashes.'SHA-256' = '" + sha + "']",
	}
	if len(got) != len(want) || !strings.Contains(string(body), `"type":"identity"`) || !strings.Contains(string(body), `"type":"marking-definition"`) {
		t.Fatalf("block-list objects: %s", body)
	}
	for _, p := range want {
		o, ok := got[p]
		if !ok {
			t.Fatalf("no indicator with pattern %s in %s", p, body)
		}
		if o["indicator_types"].([]any)[0] != "malicious-activity" || o["revoked"] != nil {
			t.Errorf("%s: %v", p, o)
		}
	}
	if o := got[want[4]]; o["valid_until"] != "2030-01-01T00:00:00.000Z" || !strings.Contains(o["description"].(string), "Agent Tesla") {
		t.Errorf("the hash entry: %v", o)
	}
	before := got[want[2]]

	// a removed entry: its revoked version, seen at once by the next read
	if a := in.gql(root, `mutation { removeListEntries(list: "c2", values: ["evil.example"]) { size } }`, nil); len(a.Errors) > 0 {
		t.Fatalf("remove: %+v", a.Errors)
	}
	got, body = patterns(url.Values{"match[id]": {before["id"].(string)}})
	o := got[want[2]]
	if o == nil || o["revoked"] != true || o["modified"].(string) <= before["modified"].(string) {
		t.Fatalf("after removing evil.example: %s", body)
	}
	// an unknown collection, and one of a list that is not a block-list
	if res, _ := taxiiGet(t, apiRoot+"collections/"+taxii.CollectionID(taxii.ListCollection("ours"))+"/objects/", "root", key, accept, nil); res.StatusCode != 404 {
		t.Errorf("a NEVER_SEND list's collection: %d, want 404", res.StatusCode)
	}
}

// putIndicators stores n STIX indicators (ids indicator--00000000-0000-4000-8000-<i>)
// in the malicious collection, added from t0 on, tie of them sharing each
// microsecond of date_added (the id breaks the ties), in statements of at
// most 500 rows; it returns the rows stored.
func putIndicators(t *testing.T, dbURL string, n, tie int, t0 time.Time) []store.StixRow {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows := make([]store.StixRow, n)
	for i := range rows {
		id := fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", i)
		obj, _ := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "created": "2026-01-01T00:00:00.000Z",
			"modified": "2026-01-01T00:00:00.000Z", "pattern": fmt.Sprintf("[ipv4-addr:value = '198.51.100.%d']", i%256), "pattern_type": "stix",
			"valid_from": "2026-01-01T00:00:00Z"})
		rows[i] = store.StixRow{Collection: taxii.Malicious, ObjectID: id, ObjectType: "indicator", Version: t0,
			DateAdded: t0.Add(time.Duration(i/tie) * time.Microsecond), Object: obj}
	}
	for i := 0; i < n; i += 500 {
		if err := st.PutStixObjects(ctx, rows[i:min(i+500, n)]); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}
