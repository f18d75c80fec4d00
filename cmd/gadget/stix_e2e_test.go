package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/stix/stixtest"
)

const stixSchemas = "../../internal/stix/testdata/cti-stix2-json-schemas"

// checkBundle validates a bundle and each of its objects against the
// official STIX 2.1 schemas and returns the objects by type.
func checkBundle(t *testing.T, v *stixtest.Validator, raw []byte) map[string][]map[string]any {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("bundle is not JSON: %s", raw)
	}
	v.Check(t, b)
	out := map[string][]map[string]any{}
	objs, _ := b["objects"].([]any)
	for _, o := range objs {
		m := o.(map[string]any)
		v.Check(t, m)
		out[m["type"].(string)] = append(out[m["type"].(string)], m)
	}
	return out
}

// TestSTIXExports: the GraphQL stix field, REST with Accept:
// application/stix+json;version=2.1 and the portal's "Download STIX 2.1"
// answer bundles whose every object validates against the official
// schemas, with the requested TLP marking and the providers' pages.
func TestSTIXExports(t *testing.T) {
	t.Parallel()
	v := stixtest.NewValidator(t, stixSchemas)
	env := backends[0].env(t)
	env["GADGET_ROOT_PASSWORD"] = rootPW
	withFake(t, env)
	in := start(t, env)
	root := in.token("root", rootPW, "")

	a := in.gql(root, `{ indicator(value: "203.0.113.45") { verdict { level } stix(tlp: "RED") } }`, nil)
	ind := field[map[string]json.RawMessage](t, a, "indicator")
	byType := checkBundle(t, v, ind["stix"])
	if len(byType["indicator"]) != 1 || byType["indicator"][0]["pattern"] != "[ipv4-addr:value = '203.0.113.45']" ||
		len(byType["ipv4-addr"]) != 1 || byType["marking-definition"][0]["id"] != "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" {
		t.Fatalf("graphql bundle = %v", byType)
	}
	if byType["indicator"][0]["indicator_types"].([]any)[0] != "malicious-activity" || byType["indicator"][0]["external_references"] == nil {
		t.Fatalf("indicator = %v", byType["indicator"][0])
	}
	mustCode(t, in.gql(root, `{ indicator(value: "203.0.113.45") { stix(tlp: "PURPLE") } }`, nil), "BAD_REQUEST")

	for _, path := range []string{"/api/indicator/ipv4/203.0.113.45", "/api/indicator/domain/evil.example?tlp=GREEN"} {
		req, _ := http.NewRequest("GET", in.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+root)
		req.Header.Set("Accept", "application/stix+json;version=2.1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/stix+json;version=2.1" {
			t.Fatalf("%s: %d %s %s", path, res.StatusCode, res.Header.Get("Content-Type"), raw)
		}
		byType := checkBundle(t, v, raw)
		if len(byType["indicator"]) != 1 {
			t.Fatalf("%s: %v", path, byType)
		}
	}
	// without the media type, the JSON envelope as before
	if res, body := in.rest(root, "GET", "/api/indicator/ipv4/203.0.113.45", "", nil); res.StatusCode != 200 || !strings.Contains(body, `"verdict"`) {
		t.Fatalf("plain GET: %d %s", res.StatusCode, body)
	}

	// the portal's export
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	csrfField := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	res, err := c.Get(in.base + "/portal/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res, err = c.PostForm(in.base+"/portal/login", url.Values{"csrf": {csrfField.FindStringSubmatch(string(page))[1]}, "username": {"root"}, "password": {rootPW}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), `id="download-stix"`) {
		t.Fatal("the lookup page has no STIX export button")
	}
	csrf := regexp.MustCompile(`data-csrf="([^"]+)"`).FindStringSubmatch(string(page))[1]
	res, err = c.PostForm(in.base+"/portal/lookup/stix", url.Values{"csrf": {csrf}, "values": {"203.0.113.45\nevil[.]example"}, "tlp": {"AMBER_STRICT"}})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("portal export: %d %s", res.StatusCode, raw)
	}
	byType = checkBundle(t, v, raw)
	if len(byType["indicator"]) != 2 || len(byType["identity"]) != 1 || len(byType["marking-definition"]) != 1 ||
		byType["marking-definition"][0]["name"] != "TLP:AMBER+STRICT" {
		t.Fatalf("portal bundle = %v", byType)
	}
}
