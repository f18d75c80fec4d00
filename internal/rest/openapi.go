package rest

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/inspector-gadget/gadget/internal/apidocs"
)

// openapiYAML documents every route but the indicator families, whose
// paths are written from kindRoutes where the #INDICATORS# line stands.
//
//go:embed openapi.yaml
var openapiYAML []byte

// indicatorPaths is the OpenAPI of one kindRoute.
const indicatorPaths = `  /api/indicator/%[1]s/{%[2]s}:
    get:
      operationId: lookup_%[1]s
      tags: [indicators]
      summary: Look up %[3]s with every provider serving it, or poll a task of POST /api/indicator/%[1]s (scope tasks).
      security: [{oauth2: [tasks]}]
      description: |
        The value may be defanged (hxxp, [.], (.)). When it is a task id the answer is that task's
        envelope once done, else its state. Each provider result is accounted as in GraphQL.
        cached_only=true makes no upstream call (what is not cached is PENDING); format=csv
        answers one row per provider with its level, score, reason and link. tlp= and playbook=
        apply the house's policy (docs/policy.md): a provider above its maximum TLP, or outside the
        playbook, is SKIPPED with the reason; an unknown TLP or playbook is 400 naming the field.
      parameters:
        - {name: %[2]s, in: path, required: true, description: "%[3]s, or a task id", schema: {type: string}}
        - $ref: "#/components/parameters/Providers"
        - $ref: "#/components/parameters/CachedOnly"
        - $ref: "#/components/parameters/TLP"
        - $ref: "#/components/parameters/Playbook"
        - $ref: "#/components/parameters/Format"
      responses:
        "200": {$ref: "#/components/responses/Lookup"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
        "404": {$ref: "#/components/responses/NotFound"}
  /api/indicator/%[1]s:
    post:
      operationId: submit_%[1]s
      tags: [indicators]
      summary: Submit %[3]s as a task, the original's two-step form (scope tasks); 429 with Retry-After beyond the running tasks allowed per user and per process.
      security: [{oauth2: [tasks]}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Indicator"}
          application/x-www-form-urlencoded:
            schema: {$ref: "#/components/schemas/Indicator"}
      responses:
        "200": {$ref: "#/components/responses/Submitted"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "403": {$ref: "#/components/responses/Forbidden"}
        "429": {$ref: "#/components/responses/TooManyRequests"}
`

var kindTitles = map[string]string{"ipv4": "an IPv4 address", "ipv6": "an IPv6 address", "domain": "a domain",
	"url": "a URL (percent-encoded)", "hash": "an MD5, SHA-1 or SHA-256 hash", "sha256": "a SHA-256 hash"}

// Document returns the REST layer's OpenAPI 3 document, validated.
func Document() (*openapi3.T, error) {
	var paths strings.Builder
	for _, k := range kindRoutes {
		fmt.Fprintf(&paths, indicatorPaths, k.path, k.param, kindTitles[k.path])
	}
	src := bytes.Replace(openapiYAML, []byte("#INDICATORS#\n"), []byte(paths.String()), 1)
	doc, err := openapi3.NewLoader().LoadFromData(src)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return doc, nil
}

// documentJSON is the served /openapi.json, made once.
var documentJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := Document()
	if err != nil {
		return nil, err
	}
	return doc.MarshalJSON()
})

// openAPI serves GET /openapi.json.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	b, err := documentJSON()
	if err != nil {
		writeError(w, r, a.cfg.Logger, err, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// docsRoutes is /docs: Swagger UI on /openapi.json.
func docsRoutes() map[string]http.Handler {
	return apidocs.Routes("Inspector Gadget REST API", "/openapi.json")
}
