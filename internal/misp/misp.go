// Package misp serves the misp-modules expansion protocol under /misp/, so
// that MISP enriches and hovers attributes through this service's cache,
// quotas, policy and verdict without any plug-in: GET /misp/modules (one
// module per analyzer), POST /misp/query (the misp_standard and the legacy
// request formats), GET /misp/healthcheck and GET /misp/version.
//
// Shapes follow MISP/misp-modules (misp_modules/__main__.py, the expansion
// modules' misp_standard results) and the caller, MISP's
// app/Model/Module.php, which gives up after Plugin.Enrichment_hover_timeout
// (5 s) for hover and Plugin.Enrichment_timeout (10 s) otherwise: a query is
// answered from the cache and the providers that answer within its budget,
// the others are reported pending and finish in the background.
package misp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
)

// Prefix is where the protocol is mounted.
const Prefix = "/misp/"

// DefaultBudget is how long a query may take when the request names no
// timeout: under MISP's 5 s hover timeout, with room for the network.
const DefaultBudget = 4 * time.Second

// maxBudget bounds a requested timeout.
const maxBudget = 30 * time.Second

// maxBody bounds a query's body.
const maxBody = 256 << 10

// Authenticator verifies an API key sent in the query's config (MISP's
// Enrichment family sends no Authorization header).
type Authenticator interface {
	AuthenticateKey(ctx context.Context, key string) (*auth.Principal, error)
}

// Config wires the server.
type Config struct {
	Lookup  lookup.Service
	Catalog soc.Catalog
	Auth    Authenticator
	Usage   soc.Recorder
	Logger  *slog.Logger
	Version string
	Budget  time.Duration // default DefaultBudget
}

// Server is the misp-modules server.
type Server struct{ cfg Config }

// New returns the server.
func New(c Config) *Server {
	c.Logger = soc.Logger(c.Logger)
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	return &Server{cfg: c}
}

// Routes returns pattern → handler. The bearer middleware must run first
// (it puts a header's principal in the context); a key in the query's
// config is checked here.
func (s *Server) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"GET /misp/modules":     http.HandlerFunc(s.modules),
		"POST /misp/query":      http.HandlerFunc(s.query),
		"GET /misp/healthcheck": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]bool{"status": true}) }),
		"GET /misp/version": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, map[string]string{"version": s.cfg.Version})
		}),
		Prefix: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusNotFound, errorJSON{Error: "no such path: the misp-modules protocol serves /misp/modules, /misp/query, /misp/healthcheck and /misp/version"})
		}),
	}
}

// typeKinds maps MISP attribute types to the kinds they carry. Composite
// types (domain|ip, ip-dst|port, filename|sha256) are split: the part
// that is an indicator is looked up.
var typeKinds = map[string][]indicator.Kind{
	"ip-src": {indicator.IPv4, indicator.IPv6}, "ip-dst": {indicator.IPv4, indicator.IPv6},
	"ip-src|port": {indicator.IPv4, indicator.IPv6}, "ip-dst|port": {indicator.IPv4, indicator.IPv6},
	"domain": {indicator.Domain}, "hostname": {indicator.Domain}, "domain|ip": {indicator.Domain},
	"url": {indicator.URL}, "link": {indicator.URL}, "uri": {indicator.URL},
	"md5": {indicator.MD5}, "sha1": {indicator.SHA1}, "sha256": {indicator.SHA256},
	"filename|md5": {indicator.MD5}, "filename|sha1": {indicator.SHA1}, "filename|sha256": {indicator.SHA256},
}

// inputTypes are the MISP types an analyzer takes, sorted.
func inputTypes(a soc.Analyzer) []string {
	var out []string
	for t, ks := range typeKinds {
		for _, k := range ks {
			if a.Serves(k) {
				out = append(out, t)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

type moduleJSON struct {
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	MispAttributes mispAttributes `json:"mispattributes"`
	Meta           metaJSON       `json:"meta"`
}

type mispAttributes struct {
	Input  []string `json:"input"`
	Output []string `json:"output"`
	Format string   `json:"format"`
}

type metaJSON struct {
	Version     string   `json:"version"`
	Author      string   `json:"author"`
	Description string   `json:"description"`
	ModuleType  []string `json:"module-type"`
	Config      []string `json:"config"`
}

func (s *Server) modules(w http.ResponseWriter, r *http.Request) {
	out := []moduleJSON{}
	for _, a := range s.cfg.Catalog() {
		out = append(out, moduleJSON{Name: a.ID, Type: "expansion",
			MispAttributes: mispAttributes{Input: inputTypes(a), Output: []string{"text", "link"}, Format: "misp_standard"},
			Meta: metaJSON{Version: s.cfg.Version, Author: "Inspector Gadget", Description: a.Description,
				ModuleType: []string{"expansion", "hover", "cortex"},
				// MISP turns each into Plugin.Enrichment_<module>_<name> and sends it with every query
				Config: []string{"apikey"}}})
	}
	writeJSON(w, http.StatusOK, out)
}

type errorJSON struct {
	Error string `json:"error"`
}

// queryJSON is a query in either format: misp_standard carries attribute;
// the legacy one carries "<misp-type>": value at the top level.
type queryJSON struct {
	Module    string
	Attribute *attributeJSON
	Config    map[string]any
	Timeout   *json.Number // seconds the client waits, when it says
	legacy    bool         // the legacy format
	typ       string       // the MISP type asked about
	value     string       // its value
}

type attributeJSON struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	UUID     string `json:"uuid,omitempty"`
	Category string `json:"category,omitempty"`
}

// errUnauthenticated answers a query without valid credentials.
var errUnauthenticated = errors.New("authentication required: set the module's apikey to an Inspector Gadget API key (Plugin.Enrichment_<module>_apikey), or send Authorization")

func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var q queryJSON
	if err := decodeQuery(r, &q); err != nil {
		writeJSON(w, http.StatusBadRequest, errorJSON{Error: err.Error()})
		return
	}
	ctx := r.Context()
	p := auth.FromContext(ctx)
	if key, _ := q.Config["apikey"].(string); key != "" && s.cfg.Auth != nil {
		kp, err := s.cfg.Auth.AuthenticateKey(ctx, strings.TrimSpace(key))
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, errorJSON{Error: errcode.Of(err).Message})
			return
		}
		p = kp
	} else if p == nil {
		msg := errUnauthenticated.Error()
		if err := auth.AuthErrorFromContext(ctx); err != nil {
			msg = errcode.Of(err).Message
		}
		writeJSON(w, http.StatusUnauthorized, errorJSON{Error: msg})
		return
	}
	if !p.Has(auth.ScopeTasks) {
		writeJSON(w, http.StatusForbidden, errorJSON{Error: "this key lacks the tasks scope that lookups need"})
		return
	}
	r = r.WithContext(auth.WithPrincipal(ctx, p))
	soc.Audit("misp", s.cfg.Usage, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.answer(w, r, &q) })).ServeHTTP(w, r)
}

// decodeQuery reads either request format and the indicator in it.
func decodeQuery(r *http.Request, q *queryJSON) error {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("query body over %d bytes", maxBody)
		}
		return errors.New("the query must be a JSON object")
	}
	get := func(k string, v any) error {
		if m, ok := raw[k]; ok && string(m) != "null" {
			if err := json.Unmarshal(m, v); err != nil {
				return fmt.Errorf("%s: %v", k, err)
			}
		}
		return nil
	}
	if err := get("module", &q.Module); err != nil {
		return err
	}
	if q.Module == "" {
		return errors.New("module is required")
	}
	if err := get("config", &q.Config); err != nil {
		return err
	}
	if err := get("attribute", &q.Attribute); err != nil {
		return err
	}
	if m, ok := raw["timeout"]; ok {
		var n json.Number
		if json.Unmarshal(m, &n) == nil {
			q.Timeout = &n
		}
	}
	if q.Attribute != nil {
		q.typ, q.value = q.Attribute.Type, q.Attribute.Value
	} else {
		// legacy: the first member that is a MISP type we know (Cortex's
		// MispSrv takes the first non-module key; we skip the known
		// non-type members so their order does not matter)
		q.legacy = true
		keys := make([]string, 0, len(raw))
		for k := range raw {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if _, ok := typeKinds[k]; ok {
				q.typ = k
				if err := json.Unmarshal(raw[k], &q.value); err != nil {
					return fmt.Errorf("%s: the value must be a string", k)
				}
				break
			}
		}
		if q.typ == "" {
			for _, k := range keys {
				switch k {
				case "module", "config", "event_id", "persistent", "timeout", "attribute_uuid", "object_uuid":
					continue
				}
				q.typ = k // an unsupported type: answered as the module's error
				return nil
			}
			return errors.New("no attribute in the query: send attribute {type, value} or \"<misp-type>\": value")
		}
	}
	return nil
}

func knownTypes() []string {
	out := make([]string, 0, len(typeKinds))
	for t := range typeKinds {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// indicatorOf reads the indicator out of a MISP type and value.
func indicatorOf(typ, value string) (indicator.Indicator, error) {
	kinds, ok := typeKinds[typ]
	if !ok {
		return indicator.Indicator{}, fmt.Errorf("unsupported attribute type %q: the modules take %s", truncate(typ, 40), strings.Join(knownTypes(), ", "))
	}
	v := value
	if i := strings.Index(typ, "|"); i >= 0 { // composite: domain|ip, ip-dst|port, filename|sha256
		left, right, ok := strings.Cut(value, "|")
		if !ok {
			return indicator.Indicator{}, fmt.Errorf("a %s value must be two parts joined by |", typ)
		}
		if strings.HasPrefix(typ, "filename|") {
			v = right
		} else {
			v = left
		}
	}
	var lastErr error
	for _, k := range kinds {
		ind, err := indicator.ParseAs(strings.TrimSpace(v), k)
		if err == nil {
			return ind, nil
		}
		lastErr = err
	}
	return indicator.Indicator{}, lastErr
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, q *queryJSON) {
	a, ok := s.cfg.Catalog.Find(q.Module)
	if !ok {
		writeJSON(w, http.StatusOK, errorJSON{Error: fmt.Sprintf("unknown module %q: GET /misp/modules lists them", truncate(q.Module, 64))})
		return
	}
	ind, err := indicatorOf(q.typ, q.value)
	if err != nil {
		writeJSON(w, http.StatusOK, errorJSON{Error: err.Error()})
		return
	}
	if !a.Serves(ind.Kind) {
		writeJSON(w, http.StatusOK, errorJSON{Error: fmt.Sprintf("module %s does not look up %s values", a.ID, ind.Kind)})
		return
	}
	soc.SetParam(r.Context(), "module", a.ID)
	soc.SetParam(r.Context(), "kind", string(ind.Kind))
	soc.SetParam(r.Context(), "value", ind.Value)
	budget := s.cfg.Budget
	if q.Timeout != nil {
		if f, err := q.Timeout.Float64(); err == nil && f > 0 {
			budget = min(time.Duration(f*float64(time.Second))-time.Second, maxBudget)
			budget = max(budget, 500*time.Millisecond)
		}
	}
	rep := soc.Analyze(r.Context(), s.cfg.Lookup, a, ind, soc.Caller(r), budget)
	if q.legacy {
		writeJSON(w, http.StatusOK, legacyResults(q, rep))
		return
	}
	writeJSON(w, http.StatusOK, standardResults(q, rep))
}

// summary is the verdict in one line, with what is still pending.
func summary(rep *soc.Report) string {
	v := rep.Verdict
	s := fmt.Sprintf("Inspector Gadget: %s (score %d/100)", v.Level, v.Score)
	if len(v.Reasons) > 0 {
		s += ": " + strings.Join(v.Reasons, "; ")
	}
	if len(rep.Pending) > 0 {
		s += ". Pending (ask again shortly): " + strings.Join(rep.Pending, ", ")
	}
	return s
}

// links are the providers' own pages about the value.
func links(rep *soc.Report) []string {
	var out []string
	for _, r := range rep.Results {
		if l := soc.Link(rep.Indicator, r); l != "" {
			out = append(out, l)
		}
	}
	return out
}

type legacyResult struct {
	Types   []string `json:"types"`
	Values  []string `json:"values"`
	Comment string   `json:"comment,omitempty"`
}

func legacyResults(q *queryJSON, rep *soc.Report) map[string]any {
	out := []legacyResult{{Types: []string{"text"}, Values: []string{summary(rep)}}}
	for _, r := range rep.Results {
		out = append(out, legacyResult{Types: []string{"text"}, Values: []string{providerLine(r)}})
	}
	if ls := links(rep); len(ls) > 0 {
		out = append(out, legacyResult{Types: []string{"link"}, Values: ls, Comment: "the providers' pages about " + rep.Indicator.Value})
	}
	return map[string]any{"results": out}
}

// providerLine is one provider's answer in one line.
func providerLine(r *lookup.Result) string {
	title := soc.Title(r.Provider)
	switch r.Status {
	case lookup.StatusOK:
		s := fmt.Sprintf("%s: %s", title, r.Verdict.Level)
		if r.Verdict.Reason != "" {
			s += " (" + r.Verdict.Reason + ")"
		}
		if r.Cached {
			s += ", cached"
		}
		return s
	case lookup.StatusNotFound:
		return title + ": not found"
	}
	msg := strings.ToLower(string(r.Status))
	if r.Err != nil {
		msg += ": " + r.Err.Message
	}
	return title + ": " + msg
}

// levelTag is the verdict's tag in the MISP ioc taxonomy.
var levelTag = map[indicator.Level]string{
	indicator.Malicious: `ioc:artifact-state="malicious"`, indicator.Suspicious: `ioc:artifact-state="suspicious"`,
	indicator.Benign: `ioc:artifact-state="not-malicious"`,
}

type tagJSON struct {
	Name string `json:"name"`
}

type attrOut struct {
	UUID           string    `json:"uuid"`
	Type           string    `json:"type"`
	Category       string    `json:"category,omitempty"`
	Value          string    `json:"value"`
	Comment        string    `json:"comment,omitempty"`
	ToIDs          bool      `json:"to_ids"`
	ObjectRelation string    `json:"object_relation,omitempty"`
	Tag            []tagJSON `json:"Tag,omitempty"`
}

type objectRef struct {
	ReferencedUUID   string `json:"referenced_uuid"`
	RelationshipType string `json:"relationship_type"`
}

type objectOut struct {
	UUID            string      `json:"uuid"`
	Name            string      `json:"name"`
	MetaCategory    string      `json:"meta-category"`
	Description     string      `json:"description"`
	Comment         string      `json:"comment,omitempty"`
	Attribute       []attrOut   `json:"Attribute"`
	ObjectReference []objectRef `json:"ObjectReference,omitempty"`
}

// standardResults is the misp_standard answer: the queried attribute again
// (same uuid) tagged with the verdict and the summary as its comment, and one
// object per provider that answered, with its verdict and its page.
func standardResults(q *queryJSON, rep *soc.Report) map[string]any {
	in := q.Attribute
	id := in.UUID
	if id == "" {
		id = uuid.NewString()
	}
	v := rep.Verdict
	tags := []tagJSON{{Name: fmt.Sprintf(`inspector-gadget:verdict="%s"`, strings.ToLower(v.Level.String()))}}
	if t, ok := levelTag[v.Level]; ok {
		tags = append(tags, tagJSON{Name: t})
	}
	attrs := []attrOut{{UUID: id, Type: in.Type, Category: in.Category, Value: in.Value, Comment: summary(rep),
		ToIDs: v.Level == indicator.Malicious, Tag: tags}}
	objs := []objectOut{}
	for _, r := range rep.Results {
		title := soc.Title(r.Provider)
		o := objectOut{UUID: uuid.NewString(), Name: "inspector-gadget-report", MetaCategory: "misc",
			Description: "What one provider said about the value, through Inspector Gadget", Comment: title,
			ObjectReference: []objectRef{{ReferencedUUID: id, RelationshipType: "describes"}}}
		add := func(rel, typ, val string) {
			if val != "" {
				o.Attribute = append(o.Attribute, attrOut{UUID: uuid.NewString(), Type: typ, Value: val, ObjectRelation: rel})
			}
		}
		add("provider", "text", title)
		add("status", "text", strings.ToLower(string(r.Status)))
		if r.Status == lookup.StatusOK {
			add("verdict", "text", strings.ToLower(r.Verdict.Level.String()))
			add("score", "counter", fmt.Sprint(r.Verdict.Score))
			add("reason", "text", r.Verdict.Reason)
		}
		if r.Err != nil {
			add("error", "text", r.Err.Message)
		}
		if !r.FetchedAt.IsZero() {
			add("fetched", "datetime", r.FetchedAt.UTC().Format(time.RFC3339))
		}
		add("permalink", "link", soc.Link(rep.Indicator, r))
		objs = append(objs, o)
	}
	return map[string]any{"results": map[string]any{"Attribute": attrs, "Object": objs}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
