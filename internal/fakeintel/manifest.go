package fakeintel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ManifestFile is the name of a provider's fake manifest inside its
// recordings directory: internal/provider/testdata/<provider>/fake.json.
const ManifestFile = "fake.json"

// manifest is one provider's fake, read from its fake.json: how a request is
// authorised and routed, and which recording answers which value. The
// server has no per-provider code; a new provider's fake is its manifest and
// recordings.
type manifest struct {
	// Source names where the paths, answers and recordings come from (the
	// provider's API documentation and the responses recorded from it).
	Source string `json:"source"`
	// Echo false says the service's answers do not repeat the value asked
	// for (Spamhaus answers with return codes only); nil means they do.
	Echo *bool `json:"echo,omitempty"`
	// ContentType of every answer; "" means application/json.
	ContentType string `json:"contentType,omitempty"`
	// Key is how the real service reads the API key; nil means it needs
	// none (keyless, or the key is optional). Any non-empty key is accepted.
	Key *keyRule `json:"key,omitempty"`
	// Denied answers a request without the key.
	Denied *answer `json:"denied,omitempty"`
	// Errors answer injected failures, by exact status ("429"), class
	// ("4xx", "5xx") or "default"; their status is the injected one and
	// inline bodies may use {message} and "{status:int}".
	Errors map[string]*answer `json:"errors,omitempty"`
	// NoRoute answers a path no route knows.
	NoRoute *answer `json:"noRoute"`
	// WrongMethod answers a known path asked with another method; nil means
	// 405 {"message":"fakeintel: use GET"}.
	WrongMethod *answer `json:"wrongMethod,omitempty"`
	// Routes are tried in order; the first whose path, method and where
	// conditions match answers.
	Routes []*route `json:"routes"`
}

// keyRule says where the real service reads the key.
type keyRule struct {
	Header string `json:"header,omitempty"` // e.g. "x-apikey"
	Query  string `json:"query,omitempty"`  // e.g. "key"
	Bearer bool   `json:"bearer,omitempty"` // Authorization: Bearer T, or ?token=T
}

// route is one documented endpoint.
type route struct {
	Method string `json:"method"`
	// Path is the path under the provider prefix, segment by segment:
	// literals, {value} (the looked-up value) and {section} (a segment
	// that selects the kinds, see Sections). A trailing slash is ignored.
	Path string `json:"path"`
	// Value says where the value is when not in the path: "query:NAME",
	// "form:NAME", "json:NAME", or "search:NAME" (urlscan's
	// field:"value" syntax in query NAME; the field is the section); a
	// json NAME may be a dotted path ("threatInfo.threatEntries.0.url").
	Value string `json:"value,omitempty"`
	// Decode "vturl" reads VirusTotal's URL identifier: the unpadded
	// base64url of the URL (kind url), or its SHA-256 (kind urlid).
	Decode string `json:"decode,omitempty"`
	// Where lists other inputs ("form:query", "json:query") and the value
	// each must have for this route to apply.
	Where map[string]string `json:"where,omitempty"`
	// Optional skips to the next route when the value is empty.
	Optional bool `json:"optional,omitempty"`
	// Kinds are the kinds the value may be, tried in order; Sections
	// replaces it per section.
	Kinds    []string            `json:"kinds,omitempty"`
	Sections map[string][]string `json:"sections,omitempty"`
	// UnknownSection answers a section not in Sections (default NoRoute).
	UnknownSection *answer `json:"unknownSection,omitempty"`
	// Malformed answers a "search:" value that does not parse, BadBody a
	// JSON body that does not parse.
	Malformed *answer `json:"malformed,omitempty"`
	BadBody   *answer `json:"badBody,omitempty"`
	// Missing answers an empty value (default Invalid); Invalid a value of
	// none of the kinds.
	Missing *answer `json:"missing,omitempty"`
	Invalid *answer `json:"invalid,omitempty"`
	// Answers are tried in order; the first whose kinds and class fit the
	// value answers. A route without a value answers with its first.
	Answers []*answer `json:"answers"`
}

// answer is one reply: a recording (File, in the provider's directory) or
// an inline Body, with the recorded values substituted.
type answer struct {
	// Kinds and Class select the answer: empty matches any; Class is one
	// or more of notfound, ordinary, malicious joined by "|".
	Kinds  []string        `json:"kinds,omitempty"`
	Class  string          `json:"class,omitempty"`
	Status int             `json:"status"`
	File   string          `json:"file,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Subs   []subRule       `json:"subs,omitempty"`
}

// subRule replaces a recorded value (Tok: on its own; Dom: a host name and
// its subdomains; Raw: the bytes, by raw JSON) with To, a template: {value},
// {raw} (before decoding), {upper}, {lower}, {host}, {sha256}, {ipnum},
// {net/N}, {first/N}, {last/N}, {first/N|dashes}, {now-5d+20h}.
type subRule struct {
	Tok string `json:"tok,omitempty"`
	Dom string `json:"dom,omitempty"`
	Raw string `json:"raw,omitempty"`
	To  string `json:"to"`
}

var classNames = map[string]class{"ordinary": ordinary, "notfound": notFound, "malicious": malicious}

var knownKinds = []kind{kindIPv4, kindIPv6, kindDomain, kindURL, kindMD5, kindSHA1, kindSHA256, kindURLID}

// kindURLID is VirusTotal's SHA-256 URL identifier, whose URL is unknown.
const kindURLID kind = "urlid"

// parseManifest reads a fake.json and checks it: every kind a route accepts
// has an answer for every class, and every template is known.
func parseManifest(b []byte) (*manifest, error) {
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	var errs []error
	if m.Source == "" {
		errs = append(errs, errors.New("source is empty: name the documentation the fake follows"))
	}
	if m.NoRoute == nil {
		errs = append(errs, errors.New("noRoute is missing"))
	}
	if m.Key != nil && m.Denied == nil {
		errs = append(errs, errors.New("key without a denied answer"))
	}
	for i, rt := range m.Routes {
		if !strings.HasPrefix(rt.Path, "/") {
			errs = append(errs, fmt.Errorf("route %d: path %q must start with /", i, rt.Path))
		}
		if len(rt.Answers) == 0 {
			errs = append(errs, fmt.Errorf("route %d (%s): no answers", i, rt.Path))
		}
		if !rt.hasValue() {
			continue
		}
		if rt.Invalid == nil {
			errs = append(errs, fmt.Errorf("route %d (%s): no invalid answer", i, rt.Path))
		}
		kinds := slices.Clone(rt.Kinds)
		for _, ks := range rt.Sections {
			kinds = append(kinds, ks...)
		}
		if rt.Decode == "vturl" {
			kinds = append(kinds, string(kindURLID))
		}
		for _, k := range kinds {
			if !slices.Contains(knownKinds, kind(k)) {
				errs = append(errs, fmt.Errorf("route %d (%s): unknown kind %q", i, rt.Path, k))
				continue
			}
			for _, cn := range []string{"ordinary", "notfound", "malicious"} { // a fixed order: the messages are stable
				if rt.pick(kind(k), classNames[cn]) == nil {
					errs = append(errs, fmt.Errorf("route %d (%s): no answer for kind %s, class %s", i, rt.Path, k, cn))
				}
			}
		}
	}
	for _, a := range m.answers() {
		if len(a.Body) > 0 { // served compact, as the services answer
			var b bytes.Buffer
			if err := json.Compact(&b, a.Body); err == nil {
				a.Body = b.Bytes()
			}
		}
		for _, c := range strings.Split(a.Class, "|") {
			if _, ok := classNames[c]; c != "" && !ok {
				errs = append(errs, fmt.Errorf("answer %s: unknown class %q", a.File, c))
			}
		}
		for _, s := range a.Subs {
			if _, err := expand(s.To, &value{v: "192.0.2.1", k: kindIPv4}, time.Now); err != nil {
				errs = append(errs, fmt.Errorf("answer %s: %w", a.File, err))
			}
		}
	}
	return &m, errors.Join(errs...)
}

// servesText reports whether the fake answers with other than JSON (a
// local provider's downloads: CSV and text lists), so its recordings may be
// any file.
func (m *manifest) servesText() bool {
	return m.ContentType != "" && !strings.Contains(m.ContentType, "json")
}

// answers lists every answer of the manifest.
func (m *manifest) answers() []*answer {
	out := []*answer{m.Denied, m.NoRoute, m.WrongMethod}
	for _, a := range m.Errors {
		out = append(out, a)
	}
	for _, rt := range m.Routes {
		out = append(out, rt.UnknownSection, rt.Malformed, rt.BadBody, rt.Missing, rt.Invalid)
		out = append(out, rt.Answers...)
	}
	return slices.DeleteFunc(out, func(a *answer) bool { return a == nil })
}

// files lists the recordings the manifest answers with.
func (m *manifest) files() []string {
	var out []string
	for _, a := range m.answers() {
		if a.File != "" && !slices.Contains(out, a.File) {
			out = append(out, a.File)
		}
	}
	return out
}

func (rt *route) hasValue() bool { return rt.Value != "" || strings.Contains(rt.Path, "{value}") }

// pick returns the first answer for a value of kind k and class cl.
func (rt *route) pick(k kind, cl class) *answer {
	for _, a := range rt.Answers {
		if len(a.Kinds) > 0 && !slices.Contains(a.Kinds, string(k)) {
			continue
		}
		if a.Class != "" && !slices.ContainsFunc(strings.Split(a.Class, "|"), func(c string) bool { return classNames[c] == cl }) {
			continue
		}
		return a
	}
	return nil
}

// authorized reports whether r carries the key where the service reads it.
func (k *keyRule) authorized(r *http.Request) bool {
	switch {
	case k == nil:
		return true
	case k.Header != "":
		return strings.TrimSpace(r.Header.Get(k.Header)) != ""
	case k.Query != "":
		return strings.TrimSpace(r.URL.Query().Get(k.Query)) != ""
	case k.Bearer:
		if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && strings.TrimSpace(t) != "" {
			return true
		}
		return strings.TrimSpace(r.URL.Query().Get("token")) != ""
	}
	return true
}

// value is the looked-up value of one request.
type value struct {
	raw string // as received, before decoding
	v   string
	k   kind
}

// route answers a request for the provider described by m.
func (s *Server) route(name string, m *manifest, c *call) reply {
	for _, rt := range m.Routes {
		section, v, ok := rt.matchPath(c.segs)
		if !ok {
			continue
		}
		if c.r.Method != rt.Method {
			if m.WrongMethod != nil {
				return s.render(name, m.WrongMethod, nil)
			}
			return methodNotAllowed(rt.Method)
		}
		in, err := c.inputs(rt)
		if err != nil {
			if rt.BadBody != nil {
				return s.render(name, rt.BadBody, nil)
			}
			continue
		}
		if !rt.where(in) {
			continue
		}
		if !rt.hasValue() {
			return s.render(name, rt.Answers[0], nil)
		}
		if rt.Value != "" {
			src, key, _ := strings.Cut(rt.Value, ":")
			v = strings.TrimSpace(in.get(src, key))
			if src == "search" {
				field, sv, ok := parseURLScanQuery(v)
				if !ok {
					return s.render(name, cmpOr(rt.Malformed, rt.Invalid), &value{raw: v, v: v})
				}
				section, v = field, sv
			}
		}
		val := &value{raw: v, v: v}
		if v == "" {
			if rt.Optional {
				continue
			}
			return s.render(name, cmpOr(rt.Missing, rt.Invalid), val)
		}
		kinds := rt.Kinds
		if rt.Sections != nil {
			ks, ok := rt.Sections[section]
			if !ok {
				return s.render(name, cmpOr(rt.UnknownSection, m.NoRoute), val)
			}
			kinds = ks
		}
		if rt.Decode == "vturl" {
			u, ok := vtURLID(v)
			switch {
			case !ok:
				return s.render(name, rt.Invalid, val)
			case u == "":
				val.k, val.v = kindURLID, strings.ToLower(v)
			default:
				val.v = u
			}
		}
		if val.k == kindNone {
			val.v, val.k = detect(val.v, kinds)
		}
		if val.k == kindNone {
			return s.render(name, rt.Invalid, val)
		}
		if a := rt.pick(val.k, classify(val.k, val.v)); a != nil {
			return s.render(name, a, val)
		}
		return jsonReply(http.StatusInternalServerError, map[string]string{"error": "fakeintel: " + name + "/" + ManifestFile + " has no answer for this " + string(val.k)})
	}
	return s.render(name, m.NoRoute, nil)
}

func cmpOr(a, b *answer) *answer {
	if a != nil {
		return a
	}
	return b
}

// matchPath matches the request's segments against the route's path and
// returns the {section} and {value} segments.
func (rt *route) matchPath(segs []string) (section, v string, ok bool) {
	want := strings.Split(strings.Trim(rt.Path, "/"), "/")
	if len(want) == 1 && want[0] == "" {
		want = nil
	}
	if len(want) != len(segs) {
		return "", "", false
	}
	for i, w := range want {
		switch w {
		case "{value}":
			v = segs[i]
		case "{section}":
			section = segs[i]
		default:
			if w != segs[i] {
				return "", "", false
			}
		}
	}
	return section, v, true
}

// inputs are a request's query, form and JSON body as a route reads them.
type inputs struct {
	c    *call
	form map[string][]string
	json map[string]any
}

func (c *call) inputs(rt *route) (*inputs, error) {
	in := &inputs{c: c, form: c.form()}
	usesJSON := strings.HasPrefix(rt.Value, "json:")
	for k := range rt.Where {
		usesJSON = usesJSON || strings.HasPrefix(k, "json:")
	}
	if usesJSON {
		if err := json.Unmarshal(c.body, &in.json); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// get reads one input: src is query, form, json or search (a query
// parameter in urlscan's syntax). A json key may be a dotted path through
// objects and arrays ("threatInfo.threatEntries.0.url").
func (in *inputs) get(src, key string) string {
	switch src {
	case "query", "search":
		return in.c.r.URL.Query().Get(key)
	case "form":
		if vs := in.form[key]; len(vs) > 0 {
			return vs[0]
		}
	case "json":
		var v any = in.json
		for _, step := range strings.Split(key, ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[step]
			case []any:
				i, err := strconv.Atoi(step)
				if err != nil || i < 0 || i >= len(x) {
					return ""
				}
				v = x[i]
			default:
				return ""
			}
		}
		if s, ok := v.(string); ok {
			return s
		}
	}
	return ""
}

func (rt *route) where(in *inputs) bool {
	for k, want := range rt.Where {
		src, key, _ := strings.Cut(k, ":")
		if in.get(src, key) != want {
			return false
		}
	}
	return true
}

// detect returns the first of kinds that v is, with v normalised (a domain
// lower-cased without a trailing dot).
func detect(v string, kinds []string) (string, kind) {
	for _, k := range kinds {
		switch kind(k) {
		case kindIPv4, kindIPv6:
			if _, got := ipKind(v); got == kind(k) {
				return v, got
			}
		case kindDomain:
			if d := strings.ToLower(strings.TrimSuffix(v, ".")); isDomain(d) {
				return d, kindDomain
			}
		case kindURL:
			if isURL(v) {
				return v, kindURL
			}
		case kindMD5, kindSHA1, kindSHA256:
			if hashKind(v) == kind(k) {
				return v, kind(k)
			}
		}
	}
	return v, kindNone
}

// render builds the reply of a: its recording or inline body, with the
// substitutions applied while the result stays valid JSON.
func (s *Server) render(name string, a *answer, val *value) reply {
	if val == nil {
		val = &value{}
	}
	body := []byte(a.Body)
	if a.File != "" {
		b, ok := s.files[name+"/"+a.File]
		if !ok {
			return jsonReply(http.StatusInternalServerError, map[string]string{"error": "fakeintel: recording " + name + "/" + a.File + " is missing from the data directory"})
		}
		body = b
	} else if len(body) > 0 {
		body = expandBody(body, val, s.now)
	}
	var subs []sub
	for _, r := range a.Subs {
		to, err := expand(r.To, val, s.now)
		if err != nil {
			continue // parseManifest reported it
		}
		switch {
		case r.Tok != "":
			subs = append(subs, tok(r.Tok, to))
		case r.Dom != "":
			subs = append(subs, dom(r.Dom, to))
		default:
			subs = append(subs, raw(r.Raw, to))
		}
	}
	if out := rewrite(body, subs); json.Valid(out) {
		body = out
	}
	return reply{status: a.Status, body: body}
}

// expandBody fills the templates of an inline body; values are JSON-string
// escaped.
func expandBody(body []byte, val *value, now func() time.Time) []byte {
	return placeholder.ReplaceAllFunc(body, func(m []byte) []byte {
		out, err := expand(string(m), val, now)
		if err != nil {
			return m
		}
		return []byte(jsonEscape(out))
	})
}

var placeholder = regexp.MustCompile(`\{[a-z0-9/|+\-]+\}`)

// expand fills the placeholders of a template.
func expand(tmpl string, val *value, now func() time.Time) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(tmpl, func(ph string) string {
		s, e := fill(strings.Trim(ph, "{}"), val, now)
		if e != nil && err == nil {
			err = e
		}
		return s
	})
	return out, err
}

func fill(name string, val *value, now func() time.Time) (string, error) {
	v := val.v
	a, _ := netip.ParseAddr(v)
	switch name {
	case "value":
		return v, nil
	case "raw":
		return val.raw, nil
	case "upper":
		return strings.ToUpper(v), nil
	case "lower":
		return strings.ToLower(v), nil
	case "host":
		return urlHost(v), nil
	case "sha256":
		return sha256Hex(v), nil
	case "ipnum":
		if !a.IsValid() {
			return "0", nil
		}
		return ipNumber(a), nil
	}
	if rest, ok := strings.CutPrefix(name, "now"); ok {
		t := now().UTC().Truncate(time.Second)
		for rest != "" {
			i := strings.IndexAny(rest[1:], "+-") + 1
			if i == 0 {
				i = len(rest)
			}
			step := rest[:i]
			rest = rest[i:]
			if len(step) < 3 || (step[0] != '+' && step[0] != '-') {
				return "", fmt.Errorf("template {%s}: want now±N[dhy]", name)
			}
			n, err := strconv.Atoi(step[1 : len(step)-1])
			if err != nil {
				return "", fmt.Errorf("template {%s}: %w", name, err)
			}
			if step[0] == '-' {
				n = -n
			}
			switch step[len(step)-1] {
			case 'd':
				t = t.AddDate(0, 0, n)
			case 'h':
				t = t.Add(time.Duration(n) * time.Hour)
			case 'y':
				t = t.AddDate(n, 0, 0)
			default:
				return "", fmt.Errorf("template {%s}: unit must be d, h or y", name)
			}
		}
		return t.Format(time.RFC3339), nil
	}
	fn, arg, ok := strings.Cut(name, "/")
	if !ok {
		return "", fmt.Errorf("unknown template {%s}", name)
	}
	bitsStr, dashes := strings.CutSuffix(arg, "|dashes")
	bits, err := strconv.Atoi(bitsStr)
	if err != nil {
		return "", fmt.Errorf("template {%s}: %w", name, err)
	}
	if !a.IsValid() {
		return v, nil
	}
	var out string
	switch fn {
	case "net":
		out = prefixString(a, bits)
	case "first":
		p, err := a.Prefix(bits)
		if err != nil {
			return v, nil
		}
		out = p.Addr().String()
	case "last":
		out = lastAddr(a, bits).String()
	default:
		return "", fmt.Errorf("unknown template {%s}", name)
	}
	if dashes {
		out = strings.NewReplacer(".", "-", ":", "-").Replace(out)
	}
	return out, nil
}

// parseURLScanQuery reads urlscan's field:value or field:"value" with \"
// and \\ escapes, as the client builds them. Of alternatives
// (page.domain:"x" OR page.domain:"www.x"), the first is read.
func parseURLScanQuery(q string) (field, value string, ok bool) {
	for i := strings.Index(q, `" OR `); i > 0; {
		if q[i-1] != '\\' {
			q = q[:i+1]
			break
		}
		j := strings.Index(q[i+1:], `" OR `)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	field, rest, found := strings.Cut(strings.TrimSpace(q), ":")
	if !found || field == "" || rest == "" {
		return "", "", false
	}
	if rest[0] != '"' {
		return field, rest, true
	}
	var b strings.Builder
	for i := 1; i < len(rest); i++ {
		switch ch := rest[i]; ch {
		case '\\':
			if i+1 == len(rest) {
				return "", "", false
			}
			i++
			b.WriteByte(rest[i])
		case '"':
			if i != len(rest)-1 {
				return "", "", false
			}
			return field, b.String(), true
		default:
			b.WriteByte(ch)
		}
	}
	return "", "", false // no closing quote
}
