// Package taxii is a read-only TAXII 2.1 server under /taxii2/: discovery,
// one API root, its collections ("malicious verdicts", "suspicious
// verdicts", one per block-list), their objects (added_after, limit, next, match[type],
// match[id], match[version], match[spec_version]), an object's versions and manifests, as application/taxii+json;version=2.1, for the
// stock TAXII clients of Sentinel, Elastic, OpenCTI, Splunk ES and XSOAR.
// Clients authenticate with HTTP Basic and an API key as password (or a
// Bearer token); reading needs the tasks scope.
//
// Spec: OASIS TAXII 2.1 (https://docs.oasis-open.org/cti/taxii/v2.1/os/taxii-v2.1-os.html).
package taxii

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
	"github.com/inspector-gadget/gadget/internal/store"
)

// MediaType is the TAXII 2.1 media type.
const MediaType = "application/taxii+json;version=2.1"

// Prefix is where the server is mounted; Root is its one API root.
const (
	Prefix = "/taxii2/"
	Root   = "gadget"
)

// Page sizes: the default, and the most one request may ask.
const (
	DefaultLimit = 1000
	MaxLimit     = 5000
)

// maxContentLength is what the API root says it accepts (it accepts no
// writes at all).
const maxContentLength = 1 << 20

// Config wires the server.
type Config struct {
	Store  Store
	Usage  soc.Recorder
	Logger *slog.Logger
	// Lists, when set, adds one collection per BLOCK list; Sync, when
	// set, brings a block-list's collection up to date before it is read
	// (so a client sees a change at once, not at the next interval).
	Lists BlockLists
	Sync  *ListSync
}

// Server is the TAXII 2.1 server.
type Server struct{ cfg Config }

// New returns the server.
func New(c Config) *Server {
	c.Logger = soc.Logger(c.Logger)
	return &Server{cfg: c}
}

// collection is one of the collections on offer.
type collection struct {
	name, title, description string
}

var collections = []collection{
	{Malicious, "Inspector Gadget: malicious verdicts", "Indicators of the values this service's lookups found MALICIOUS, at their latest verdict; valid_until is when the evidence's cache expires, and a value that stops being malicious is published again revoked."},
	{Suspicious, "Inspector Gadget: suspicious verdicts", "Indicators of the values this service's lookups found SUSPICIOUS, at their latest verdict; revoked when they no longer are."},
}

// all is every collection on offer: the verdicts', then one per BLOCK list.
func (s *Server) all(ctx context.Context) ([]collection, error) {
	if s.cfg.Lists == nil {
		return collections, nil
	}
	ls, err := s.cfg.Lists.Lists(ctx)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return append(append([]collection(nil), collections...), blockCollections(ls)...), nil
}

func (s *Server) find(ctx context.Context, id string) (collection, error) {
	for _, c := range collections {
		if CollectionID(c.name) == id {
			return c, nil
		}
	}
	if s.cfg.Lists != nil {
		ls, err := s.cfg.Lists.Lists(ctx)
		if err != nil {
			return collection{}, errcode.Wrap(err)
		}
		for _, c := range blockCollections(ls) {
			if CollectionID(c.name) != id {
				continue
			}
			if s.cfg.Sync != nil {
				if err := s.cfg.Sync.sync(ctx, ls, strings.TrimPrefix(c.name, listPrefix)); err != nil {
					return collection{}, errcode.Wrap(err)
				}
			}
			return c, nil
		}
	}
	return collection{}, errcode.New(errcode.NotFound, "no such collection")
}

// Routes returns pattern → handler; the auth middleware must run first.
func (s *Server) Routes() map[string]http.Handler {
	root := Prefix + "{root}/"
	col := root + "collections/{id}/"
	out := map[string]http.Handler{
		"GET " + Prefix:                             s.handle(s.discovery),
		"GET " + root:                               s.handle(s.apiRoot),
		"GET " + root + "collections/":              s.handle(s.collections),
		"GET " + col:                                s.handle(s.collection),
		"GET " + col + "objects/":                   s.handle(s.objects),
		"GET " + col + "objects/{object}/":          s.handle(s.objects),
		"GET " + col + "objects/{object}/versions/": s.handle(s.versions),
		"GET " + col + "manifest/":                  s.handle(s.manifest),
		Prefix: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET")
				writeError(w, http.StatusMethodNotAllowed, "method not allowed", "this TAXII server is read-only: every collection has can_write false")
				return
			}
			writeError(w, http.StatusNotFound, "not found", "no such TAXII resource")
		}),
	}
	return out
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle checks credentials, the scope and the Accept header, audits the
// request under api "taxii" and turns errors into TAXII error messages.
func (s *Server) handle(h handlerFunc) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			e := errcode.Of(err)
			status := errcode.HTTPStatus(e.Code)
			if e.Code == errcode.Internal {
				s.cfg.Logger.ErrorContext(r.Context(), "taxii", "path", r.URL.Path, "err", err)
			}
			writeError(w, status, strings.ToLower(http.StatusText(status)), e.Message)
		}
	})
	audited := soc.Audit("taxii", s.cfg.Usage, inner)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.Require(r.Context(), auth.ScopeTasks); err != nil {
			status := errcode.HTTPStatus(errcode.CodeOf(err))
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="Inspector Gadget TAXII", charset="UTF-8"`)
			}
			writeError(w, status, strings.ToLower(http.StatusText(status)), errcode.Of(err).Message+" (TAXII clients: HTTP Basic with an Inspector Gadget API key as password)")
			return
		}
		if !acceptable(r.Header.Get("Accept")) {
			writeError(w, http.StatusNotAcceptable, "not acceptable", "this server speaks "+MediaType)
			return
		}
		if root := r.PathValue("root"); root != "" && root != Root {
			writeError(w, http.StatusNotFound, "not found", "no such API root: "+truncate(root, 40))
			return
		}
		audited.ServeHTTP(w, r)
	})
}

// acceptable reports whether an Accept header admits TAXII 2.1 JSON.
func acceptable(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return true
		case "application/taxii+json":
			if v := params["version"]; v == "" || v == "2.1" {
				return true
			}
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

type errorMessage struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

func writeError(w http.ResponseWriter, status int, title, desc string) {
	writeJSON(w, status, errorMessage{Title: title, Description: desc, HTTPStatus: strconv.Itoa(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// base is the absolute URL of the server's prefix as the client reached it.
func base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) error {
	root := base(r) + Root + "/"
	writeJSON(w, http.StatusOK, map[string]any{"title": "Inspector Gadget",
		"description": "The verdicts of this organisation's Inspector Gadget lookups, as STIX 2.1 indicators",
		"default":     root, "api_roots": []string{root}})
	return nil
}

func (s *Server) apiRoot(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"title": "Inspector Gadget verdicts",
		"description": "Read-only collections of STIX 2.1 indicators", "versions": []string{MediaType},
		"max_content_length": maxContentLength})
	return nil
}

type collectionJSON struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
}

func (c collection) json() collectionJSON {
	return collectionJSON{ID: CollectionID(c.name), Title: c.title, Description: c.description, CanRead: true,
		MediaTypes: []string{stix.MediaType}}
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.all(r.Context())
	if err != nil {
		return err
	}
	out := make([]collectionJSON, len(cs))
	for i, c := range cs {
		out[i] = c.json()
	}
	writeJSON(w, http.StatusOK, map[string]any{"collections": out})
	return nil
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.find(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.json())
	return nil
}

// page reads a page request's filters and returns the rows, whether more
// follow, and the next token.
func (s *Server) page(r *http.Request) (rows []store.StixRow, more bool, next string, err error) {
	c, err := s.find(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, false, "", err
	}
	q := r.URL.Query()
	sq := store.StixQuery{Collection: c.name, Limit: DefaultLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, false, "", errcode.Field("limit", "limit must be a positive whole number")
		}
		sq.Limit = min(n, MaxLimit)
	}
	if v := q.Get("added_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, false, "", errcode.Field("added_after", "added_after must be a timestamp such as 2026-12-01T00:00:00.000Z")
		}
		sq.After = t
	}
	if v := q.Get("next"); v != "" {
		t, id, err := decodeNext(v)
		if err != nil {
			return nil, false, "", errcode.Field("next", "next is not a token this server gave")
		}
		sq.After, sq.AfterID = t, id
	}
	sq.Types = splitList(q.Get("match[type]"))
	sq.IDs = splitList(q.Get("match[id]"))
	if obj := r.PathValue("object"); obj != "" {
		sq.IDs = []string{obj}
	}
	if v := q.Get("match[spec_version]"); v != "" && !contains(splitList(v), "2.1") {
		return nil, false, "", nil // every object here is 2.1
	}
	if sq.Versions, err = matchVersion(q.Get("match[version]")); err != nil {
		return nil, false, "", err
	}
	if len(sq.Types) > 16 || len(sq.IDs) > 100 || len(sq.Versions) > 100 {
		return nil, false, "", errcode.Field("match", "at most 16 types, 100 ids and 100 versions per request")
	}
	want := sq.Limit
	sq.Limit++
	rows, err = s.cfg.Store.StixObjects(r.Context(), sq)
	if err != nil {
		return nil, false, "", errcode.Wrap(err)
	}
	if len(rows) > want {
		rows, more = rows[:want], true
		last := rows[len(rows)-1]
		next = encodeNext(last.DateAdded, last.ID)
	}
	return rows, more, next, nil
}

// matchVersion reads match[version]: "first", "last", "all" or
// timestamps. A collection keeps one version of each object, its latest,
// which is also its first and all of them: any of the three words selects
// every object, and timestamps alone select the objects at one of them.
func matchVersion(v string) ([]time.Time, error) {
	var out []time.Time
	for _, f := range splitList(v) {
		switch f {
		case "first", "last", "all":
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339Nano, f)
		if err != nil {
			return nil, errcode.Field("match[version]", "match[version] takes first, last, all or timestamps such as 2026-12-01T00:00:00.000Z")
		}
		out = append(out, t)
	}
	return out, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// encodeNext is an opaque page token: the last row's position.
func encodeNext(t time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeNext(s string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, err
	}
	a, c, ok := strings.Cut(string(b), ".")
	if !ok {
		return time.Time{}, 0, fmt.Errorf("bad token")
	}
	us, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(c, 10, 64)
	if err1 != nil || err2 != nil || id < 1 {
		return time.Time{}, 0, fmt.Errorf("bad token")
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// taxiiTime is a TAXII timestamp (microseconds).
func taxiiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// versionTime is an object's version as its modified property has it.
func versionTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// dateHeaders sets X-TAXII-Date-Added-First/Last of a page.
func dateHeaders(w http.ResponseWriter, rows []store.StixRow) {
	if len(rows) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", taxiiTime(rows[0].DateAdded))
	w.Header().Set("X-TAXII-Date-Added-Last", taxiiTime(rows[len(rows)-1].DateAdded))
}

// servePage answers a page request: item of each row under key
// ("objects", "versions"), with more, next and the date headers; when
// mustFind (one object's resources), no row is 404.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, key string, mustFind bool, item func(store.StixRow) any) error {
	rows, more, next, err := s.page(r)
	if err != nil {
		return err
	}
	if mustFind && len(rows) == 0 {
		return errcode.New(errcode.NotFound, "no such object in this collection")
	}
	out := map[string]any{"more": more} // encoding/json writes the keys sorted: more, next, objects/versions
	if next != "" {
		out["next"] = next
	}
	if len(rows) > 0 {
		items := make([]any, len(rows))
		for i, row := range rows {
			items[i] = item(row)
		}
		out[key] = items
	}
	dateHeaders(w, rows)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) objects(w http.ResponseWriter, r *http.Request) error {
	return s.servePage(w, r, "objects", r.PathValue("object") != "", func(row store.StixRow) any { return json.RawMessage(row.Object) })
}

type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request) error {
	return s.servePage(w, r, "objects", false, func(row store.StixRow) any {
		return manifestRecord{ID: row.ObjectID, DateAdded: taxiiTime(row.DateAdded), Version: versionTime(row.Version), MediaType: stix.MediaType}
	})
}

// versions serves an object's versions (Get Object Versions): the one
// version this collection keeps, with the filters of a page.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) error {
	return s.servePage(w, r, "versions", true, func(row store.StixRow) any { return versionTime(row.Version) })
}
