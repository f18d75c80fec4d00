package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// gqlResponse is a GraphQL answer with its errors' codes.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// post sends query through the real /graphql handler, without a token:
// introspection is public.
func post(t *testing.T, h http.Handler, query string) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out gqlResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("answer is not JSON (%d): %s", rec.Code, rec.Body.String())
	}
	return out
}

// TestStandardIntrospectionQueries sends the exact texts of graphql-js's
// full introspection query and GraphiQL 4's through the handler: both are
// answered with the whole schema, within their bound with room to spare,
// while the ordinary depth limit (12) stays as it was.
func TestStandardIntrospectionQueries(t *testing.T) {
	t.Parallel()
	h := NewHandler(&Resolver{}, Options{})
	files, err := filepath.Glob("testdata/introspection/*.graphql")
	if err != nil || len(files) < 2 {
		t.Fatalf("introspection queries in testdata: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			doc, gerr := gqlparser.LoadQueryWithRules(NewExecutableSchema(Config{}).Schema(), string(b), rules.NewDefaultRules())
			if gerr != nil {
				t.Fatal(gerr)
			}
			m := measure(doc.Operations[0].SelectionSet)
			if m.Introspection <= 12 || m.Introspection+5 > DefaultMaxIntrospectionDepth {
				t.Errorf("measured %+v: want deeper than the ordinary limit 12 (the point of the test) and within %d with 5 levels to spare", m, DefaultMaxIntrospectionDepth)
			}
			res := post(t, h, string(b))
			if len(res.Errors) > 0 {
				t.Fatalf("refused: %+v", res.Errors)
			}
			var data struct {
				Schema struct {
					QueryType struct{ Name string } `json:"queryType"`
					Types     []struct {
						Name   string
						Fields []struct{ Name string }
					} `json:"types"`
				} `json:"__schema"`
			}
			if err := json.Unmarshal(res.Data, &data); err != nil {
				t.Fatal(err)
			}
			var queryFields []string
			for _, ty := range data.Schema.Types {
				if ty.Name == data.Schema.QueryType.Name {
					for _, f := range ty.Fields {
						queryFields = append(queryFields, f.Name)
					}
				}
			}
			joined := " " + strings.Join(queryFields, " ") + " "
			for _, want := range []string{"indicator", "indicators", "status", "me", "usageReport"} {
				if !strings.Contains(joined, " "+want+" ") {
					t.Errorf("Query fields %v lack %s", queryFields, want)
				}
			}
		})
	}
}

// TestDepthLimits covers what the limits refuse and what they let through.
func TestDepthLimits(t *testing.T) {
	t.Parallel()
	// MaxDepth 2: status { providers { name } } is 3 deep; the resolvers
	// are never reached, since the limits run before execution.
	h := NewHandler(&Resolver{}, Options{MaxDepth: 2})
	nest := func(open, leaf string, n int) string {
		return strings.Repeat(open+" { ", n) + leaf + strings.Repeat(" }", n)
	}
	tests := []struct {
		name, query, code string
	}{
		{"ordinary depth still limited", `{ status { providers { name } } }`, "COMPLEXITY_LIMIT"},
		{"ordinary depth limited beside introspection", `{ __schema { queryType { name } } status { providers { name } } }`, "COMPLEXITY_LIMIT"},
		{"introspection is not counted against the ordinary limit", `{ __schema { types { fields { type { ofType { name } } } } } }`, ""},
		{"deep __type ofType chain within the bound", `{ __type(name: "Query") { ` + nest("ofType", "name", 20) + ` } }`, ""},
		{"__type ofType chain past the bound", `{ __type(name: "Query") { ` + nest("ofType", "name", 30) + ` } }`, "COMPLEXITY_LIMIT"},
		{"introspection list explosion", `{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }`, "COMPLEXITY_LIMIT"},
		{"list nesting through a fragment", `query { __schema { types { ...F } } } fragment F on __Type { fields { type { interfaces { fields { name } } } } }`, "COMPLEXITY_LIMIT"},
		{"too many tokens", "{ " + strings.Repeat("__typename ", DefaultMaxTokens) + "}", "BAD_REQUEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := post(t, h, tc.query)
			var codes []string
			for _, e := range res.Errors {
				c, _ := e.Extensions["code"].(string)
				codes = append(codes, c)
			}
			if tc.code == "" && len(codes) > 0 {
				t.Errorf("refused: %+v", res.Errors)
			}
			if tc.code != "" && (len(codes) == 0 || codes[0] != tc.code) {
				t.Errorf("codes %v, want %s: %+v", codes, tc.code, res.Errors)
			}
		})
	}
}
