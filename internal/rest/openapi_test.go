package rest_test

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/inspector-gadget/gadget/internal/rest"
)

// TestDocumentMatchesRoutes: the document is valid OpenAPI 3, every route
// is documented and every documented operation is served
// (POST /api/authenticate by internal/server).
func TestDocumentMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, err := rest.Document()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	served := []string{"POST /api/authenticate"}
	for _, op := range rest.Operations() {
		served = append(served, op.Method+" "+op.Path)
		// the document names the scope the route checks
		if item := doc.Paths.Value(op.Path); item != nil && item.GetOperation(op.Method) != nil {
			var scopes []string
			for _, req := range *item.GetOperation(op.Method).Security {
				scopes = append(scopes, req["oauth2"]...)
			}
			if want := string(op.Scope); (want == "" && len(scopes) != 0) || (want != "" && !slices.Equal(scopes, []string{want})) {
				t.Errorf("%s %s: documented scopes %v, route checks %q", op.Method, op.Path, scopes, want)
			}
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented and served operations differ:\ndocumented %v\nserved     %v", documented, served)
	}
}

// examples fill path parameters.
var examples = map[string]string{
	"username": "carol", "ipv4": "198.51.100.7", "ipv6": "2001:db8::2", "domain": "example.com",
	"url": "http://example.com/x", "hash": "44d88612fea8a8f36de82e1278abb02f",
	"sha256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "provider": "greynoise",
	"name": "demo", // a list and a playbook the harness makes
}

// queries are the query strings of the operations that need one.
var queries = map[string]string{
	"removeListEntries": "?value=192.0.2.0/24",
	"lookup_ipv4":       "?tlp=GREEN&playbook=quick",
}

// bodies are the request bodies of the operations that take one.
var bodies = map[string]string{
	"changePassword":  `{"current":"walker-password-1","new":"walker-password-2"}`,
	"createUser":      `{"username":"newbie","password":"newbie-password-1"}`,
	"setUserPassword": `{"username":"carol","password":"carol-password-2"}`,
	"setUserActive":   `{"username":"carol","account_active":true}`,
	"setUserBudget":   `{"per_day":100}`,
	"extract":         `{"text":"C2 203.0.113.45:443 md5=44d88612fea8a8f36de82e1278abb02f src=10.1.2.3 inv.exe"}`,
	"createList":      `{"name":"made","effect":"BLOCK","description":"from the test"}`,
	"addListEntries":  `{"entries":[{"value":"192.0.2.0/24","reason":"test net"},{"value":"=www.example.com"}]}`,
	"createPlaybook":  `{"name":"made","providers":["kind:ipv4","urlhaus"],"default_tlp":"GREEN","min_coverage":50}`,
}

// TestOpenAPIOperations walks the document and calls every operation,
// validating each request and answer against it: with the right token
// (2xx), and, where a token is needed, without one (401).
func TestOpenAPIOperations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("carol", "carol-password-1", false)
	h.user("walker", "walker-password-1", false)
	root := h.token("root", "")
	walker := h.token("walker", "")
	doc, err := rest.Document()
	if err != nil {
		t.Fatal(err)
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	called := 0
	for _, path := range paths {
		item := doc.Paths.Value(path)
		ops := item.Operations()
		// DELETE last: the other operations of the path need what it removes
		methods := slices.SortedFunc(maps.Keys(ops), func(a, b string) int {
			return cmp.Or(cmpBool(a == http.MethodDelete, b == http.MethodDelete), strings.Compare(a, b))
		})
		for _, method := range methods {
			op := ops[method]
			params := map[string]string{}
			concrete := path
			for name, v := range examples {
				if strings.Contains(path, "{"+name+"}") {
					params[name] = v
					concrete = strings.ReplaceAll(concrete, "{"+name+"}", url.PathEscape(v))
				}
			}
			body, ctype := bodies[op.OperationID], "application/json"
			switch {
			case op.OperationID == "authenticate":
				body, ctype = "username=root&password="+rootPW, "application/x-www-form-urlencoded"
			case strings.HasPrefix(op.OperationID, "submit_"):
				body = `{"indicator":"` + examples[strings.TrimPrefix(op.OperationID, "submit_")] + `"}`
			}
			token := root
			if op.OperationID == "changePassword" {
				token = walker
			}
			route := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			call := func(token string, wantStatus func(int) bool) {
				t.Helper()
				req, _ := http.NewRequest(method, h.base+concrete+queries[op.OperationID], strings.NewReader(body))
				if body != "" {
					req.Header.Set("Content-Type", ctype)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
					Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
				if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
					t.Errorf("%s %s: request does not match the document: %v", method, path, err)
				}
				res := h.do(token, method, concrete+queries[op.OperationID], req.Header.Get("Content-Type"), body)
				if !wantStatus(res.status) {
					t.Errorf("%s %s: status %d: %s", method, path, res.status, res.body)
				}
				out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.status, Header: res.header,
					Options: &openapi3filter.Options{IncludeResponseStatus: true}}
				out.SetBodyBytes(res.body)
				if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
					t.Errorf("%s %s: answer %d does not match the document: %v\n%s", method, path, res.status, err, res.body)
				}
			}
			call(token, func(s int) bool { return s >= 200 && s < 300 })
			called++
			if needsToken(doc, op) {
				call("", func(s int) bool { return s == http.StatusUnauthorized })
			}
		}
	}
	if want := len(rest.Operations()) + 1; called != want {
		t.Errorf("called %d operations, want %d", called, want)
	}
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func needsToken(doc *openapi3.T, op *openapi3.Operation) bool {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	for _, r := range reqs {
		if len(r) == 0 {
			return false
		}
	}
	return len(reqs) > 0
}

// TestScopes: every route answers 401 with WWW-Authenticate: Bearer without
// a token, and 403 with error="insufficient_scope" for a token without its
// scope; public routes answer without a token.
func TestScopes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.user("carol", "carol-password-1", false)
	lacking := map[string]string{ // a token without the scope
		"users": h.token("root", "tasks mon"),
		"tasks": h.token("root", "users mon"),
		"mon":   h.token("carol", ""),
	}
	for _, op := range rest.Operations() {
		path := op.Path
		for name, v := range examples {
			path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(v))
		}
		noToken := h.do("", op.Method, path, "", "")
		if op.Scope == "" {
			if noToken.status != http.StatusOK {
				t.Errorf("%s %s without a token: %d, want 200", op.Method, op.Path, noToken.status)
			}
			continue
		}
		if noToken.status != http.StatusUnauthorized || noToken.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s %s without a token: %d %q, want 401 Bearer", op.Method, op.Path, noToken.status, noToken.header.Get("WWW-Authenticate"))
		}
		res := h.do(lacking[string(op.Scope)], op.Method, path, "", "")
		if res.status != http.StatusForbidden || res.header.Get("WWW-Authenticate") != `Bearer error="insufficient_scope"` {
			t.Errorf("%s %s without scope %s: %d %q, want 403 insufficient_scope", op.Method, op.Path, op.Scope, res.status, res.header.Get("WWW-Authenticate"))
		}
	}
}

// documented checks an answer against the operation the document gives
// for its request; answers outside the document (the JSON 404 and 405 of
// unknown paths and methods) are skipped.
func documented(t *testing.T, doc *openapi3.T, a answer) {
	t.Helper()
	path, _, _ := strings.Cut(a.path, "?")
	for tmpl, item := range doc.Paths.Map() {
		op := item.GetOperation(a.method)
		if op == nil || !templateRE(tmpl).MatchString(path) {
			continue
		}
		req, _ := http.NewRequest(a.method, "http://gadget"+a.path, nil)
		in := &openapi3filter.RequestValidationInput{Request: req, Route: &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: a.method, Operation: op},
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: a.status, Header: a.header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		out.SetBodyBytes(a.body)
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s %s: answer %d does not match the document: %v", a.method, a.path, a.status, err)
		}
		return
	}
	if a.status != http.StatusNotFound && a.status != http.StatusMethodNotAllowed {
		t.Errorf("%s %s: no documented operation", a.method, a.path)
	}
}

// templateRE matches a documented path; {url} takes the rest of the path.
func templateRE(tmpl string) *regexp.Regexp {
	re := regexp.QuoteMeta(tmpl)
	re = strings.ReplaceAll(re, `\{url\}`, `.+`)
	re = regexp.MustCompile(`\\\{[a-z0-9_]+\\\}`).ReplaceAllString(re, `[^/]+`)
	return regexp.MustCompile("^" + re + "$")
}
