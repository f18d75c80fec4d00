package rest

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
)

// maxWarninglistBody bounds POST /api/admin/lists?format=misp here; the
// server's cap on every request body (1 MiB by default) comes first, so
// larger warninglists go through gadget list import.
const maxWarninglistBody = policy.MaxWarninglistBytes

// policyService is the lists and playbooks service, or NOT_CONFIGURED.
func (a *API) policyService() (*policy.Service, error) {
	if a.cfg.Policy == nil {
		return nil, errcode.New(errcode.NotConfigured, "lists and playbooks are not configured")
	}
	return a.cfg.Policy, nil
}

// lookupPolicy checks a lookup's tlp and playbook parameters (either may
// be absent) and returns the TLP its lookups carry and the playbook.
func (a *API) lookupPolicy(in input) (indicator.TLP, string, error) {
	tlp, err := in.str("tlp")
	if err != nil {
		return 0, "", err
	}
	pb, err := in.str("playbook")
	if err != nil {
		return 0, "", err
	}
	if a.cfg.Policy == nil {
		if pb != "" {
			return 0, "", errcode.Field("playbook", "playbooks are not configured")
		}
		if tlp == "" {
			return 0, "", nil
		}
		t, err := indicator.ParseTLP(tlp)
		if err != nil {
			return 0, "", errcode.Field("tlp", err.Error())
		}
		return t, "", nil
	}
	return a.cfg.Policy.Options(tlp, pb)
}

// listJSON is a list as the admin paths answer it.
type listJSON struct {
	Name        string    `json:"name"`
	Effect      string    `json:"effect"`
	Description string    `json:"description"`
	Owner       string    `json:"owner"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Size        int       `json:"size"`
}

func newListJSON(l policy.List) listJSON {
	return listJSON{Name: l.Name, Effect: string(l.Effect), Description: l.Description, Owner: l.Owner,
		CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC(), Size: l.Entries}
}

type entryJSON struct {
	Value     string     `json:"value"`
	Type      string     `json:"type"`
	Reason    string     `json:"reason"`
	Owner     string     `json:"owner"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// listPage is GET /api/admin/list/{name}: the list and a page of entries.
type listPage struct {
	listJSON
	Entries []entryJSON `json:"entries"`
	// Next is the after= of the next page; empty on the last.
	Next string `json:"next,omitempty"`
}

// importJSON is what a warninglist import did.
type importJSON struct {
	List     listJSON      `json:"list"`
	Created  bool          `json:"created"`
	Imported int           `json:"imported"`
	Skipped  []skippedJSON `json:"skipped"`
}

type skippedJSON struct {
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// lists serves GET /api/admin/lists.
func (a *API) lists(w http.ResponseWriter, r *http.Request) error {
	if _, err := readInput(r); err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	ls, err := svc.Lists(r.Context())
	if err != nil {
		return err
	}
	out := make([]listJSON, len(ls))
	for i, l := range ls {
		out[i] = newListJSON(l)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createList serves POST /api/admin/lists: {name, effect, description}
// creates an empty list; with ?format=misp the body is a MISP
// warninglist, imported into a KNOWN_GOOD list (?name= or one named after
// the warninglist).
func (a *API) createList(w http.ResponseWriter, r *http.Request) error {
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("format") == "misp" {
		return a.importWarninglist(w, r, svc)
	}
	in, err := readInput(r, "name", "effect", "description", "format")
	if err != nil {
		return err
	}
	if f, _ := in.str("format"); f != "" {
		return errcode.Field("format", "format is misp (a MISP warninglist as the body) or absent")
	}
	name, err := in.required("name")
	if err != nil {
		return err
	}
	effect, err := in.required("effect")
	if err != nil {
		return err
	}
	e, err := policy.ParseEffect(effect)
	if err != nil {
		return errcode.Field("effect", err.Error())
	}
	desc, err := in.str("description")
	if err != nil {
		return err
	}
	l, err := svc.CreateList(r.Context(), principal(r), name, e, desc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newListJSON(l))
	return nil
}

// importWarninglist reads a MISP warninglist body (?name= names the list).
func (a *API) importWarninglist(w http.ResponseWriter, r *http.Request, svc *policy.Service) error {
	q := r.URL.Query()
	for k, vs := range q {
		if k != "format" && k != "name" {
			return errcode.Field(k, "unknown parameter "+quoteShort(k))
		}
		if len(vs) > 1 {
			return errcode.Field(k, k+" given more than once")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxWarninglistBody)
	wl, err := policy.ParseWarninglist(r.Body)
	if err != nil {
		if isTooLarge(err) {
			return errcode.Field("body", "the warninglist is larger than a request body may be; import it with gadget list import")
		}
		return errcode.Field("body", err.Error())
	}
	name := q.Get("name")
	if name != "" {
		if err := policy.ValidName(name); err != nil {
			return errcode.Field("name", err.Error())
		}
	}
	rep, err := svc.ImportWarninglist(r.Context(), principal(r), name, wl)
	if err != nil {
		return err
	}
	out := importJSON{List: newListJSON(rep.List), Created: rep.Created, Imported: rep.Imported, Skipped: make([]skippedJSON, len(rep.Skipped))}
	for i, s := range rep.Skipped {
		out.Skipped[i] = skippedJSON{Value: s.Value, Reason: s.Reason}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// list serves GET /api/admin/list/{name}?after=&limit=: the list and up to
// limit (1–1000, default 100) entries after the value after.
func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "after", "limit")
	if err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	after, err := in.str("after")
	if err != nil {
		return err
	}
	limit, err := in.integer("limit")
	if err != nil {
		return err
	}
	if _, given := in["limit"]; !given {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return errcode.Field("limit", "limit is between 1 and 1000")
	}
	name := r.PathValue("name")
	l, err := svc.List(r.Context(), name)
	if err != nil {
		return err
	}
	es, err := svc.Entries(r.Context(), name, after, limit+1)
	if err != nil {
		return err
	}
	out := listPage{listJSON: newListJSON(l), Entries: make([]entryJSON, 0, min(len(es), limit))}
	for i, e := range es {
		if i == limit {
			out.Next = es[i-1].Value
			break
		}
		ej := entryJSON{Value: e.Value, Type: string(e.Type), Reason: e.Reason, Owner: e.Owner, CreatedAt: e.CreatedAt.UTC()}
		if !e.ExpiresAt.IsZero() {
			t := e.ExpiresAt.UTC()
			ej.ExpiresAt = &t
		}
		out.Entries = append(out.Entries, ej)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// addEntries serves POST /api/admin/list/{name}: {"entries": [{value,
// reason, expires_at}]}, or one entry as {value, reason, expires_at}.
func (a *API) addEntries(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "entries", "value", "reason", "expires_at")
	if err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	var es []policy.EntryInput
	if raw, ok := in["entries"]; ok {
		if _, one := in["value"]; one {
			return errcode.Field("value", "give entries or value, not both")
		}
		if es, err = entryInputs(raw); err != nil {
			return err
		}
	} else {
		e, err := entryInput(map[string]any(in), "")
		if err != nil {
			return err
		}
		es = []policy.EntryInput{e}
	}
	l, err := svc.AddEntries(r.Context(), principal(r), r.PathValue("name"), es)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newListJSON(l))
	return nil
}

// entryInputs reads a JSON array of entries.
func entryInputs(raw any) ([]policy.EntryInput, error) {
	arr, ok := raw.([]any)
	if !ok || len(arr) == 0 {
		return nil, errcode.Field("entries", "entries is a non-empty array of {value, reason, expires_at}")
	}
	if len(arr) > policy.MaxEntriesPerCall {
		return nil, errcode.Field("entries", fmt.Sprintf("at most %d entries per call", policy.MaxEntriesPerCall))
	}
	out := make([]policy.EntryInput, len(arr))
	for i, x := range arr {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, errcode.Field("entries", fmt.Sprintf("entries[%d] is not an object", i))
		}
		e, err := entryInput(m, fmt.Sprintf("entries[%d].", i))
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// entryInput reads one entry's value, reason and expires_at (RFC 3339).
func entryInput(m map[string]any, at string) (policy.EntryInput, error) {
	field := func(f string) string {
		if at == "" {
			return f
		}
		return "entries"
	}
	for k := range m {
		if k != "value" && k != "reason" && k != "expires_at" {
			return policy.EntryInput{}, errcode.Field(field(k), fmt.Sprintf("%sunknown field %s", at, quoteShort(k)))
		}
	}
	in := input(m)
	var e policy.EntryInput
	v, err := in.str("value")
	if err != nil || v == "" {
		return e, errcode.Field(field("value"), at+"value is a required string")
	}
	e.Value = v
	if e.Reason, err = in.str("reason"); err != nil {
		return e, errcode.Field(field("reason"), at+"reason must be a string")
	}
	exp, err := in.str("expires_at")
	if err != nil {
		return e, errcode.Field(field("expires_at"), at+"expires_at must be a string")
	}
	if exp != "" {
		if e.ExpiresAt, err = time.Parse(time.RFC3339, exp); err != nil {
			return e, errcode.Field(field("expires_at"), at+"expires_at must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z")
		}
	}
	return e, nil
}

// removeEntries serves DELETE /api/admin/list/{name}?value=V: removes one
// entry; ?all=true deletes the whole list instead.
func (a *API) removeEntries(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "value", "all")
	if err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	all, err := in.boolean("all", false)
	if err != nil {
		return err
	}
	value, err := in.str("value")
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	switch {
	case all && value != "":
		return errcode.Field("value", "give value (remove one entry) or all=true (delete the list), not both")
	case all:
		if _, err := svc.DeleteList(r.Context(), name); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": name, "deleted": true})
		return nil
	case value == "":
		return errcode.Field("value", "value is required (the entry to remove); all=true deletes the whole list")
	}
	l, err := svc.RemoveEntries(r.Context(), name, []string{value})
	if err != nil {
		return renamed(err, map[string]string{"values": "value"})
	}
	writeJSON(w, http.StatusOK, newListJSON(l))
	return nil
}

// playbookJSON is a playbook as the admin paths answer it.
type playbookJSON struct {
	Name              string    `json:"name"`
	Description       string    `json:"description"`
	Providers         []string  `json:"providers"`
	ResolvedProviders []string  `json:"resolved_providers"`
	DefaultTLP        string    `json:"default_tlp"`
	MinCoverage       int       `json:"min_coverage"`
	BuiltIn           bool      `json:"built_in"`
	Owner             string    `json:"owner"`
	UpdatedAt         time.Time `json:"updated_at"`
}

func newPlaybookJSON(svc *policy.Service, p *policy.Playbook) playbookJSON {
	tlp := p.DefaultTLP
	if tlp == 0 {
		tlp = svc.DefaultTLP()
	}
	return playbookJSON{Name: p.Name, Description: p.Description, Providers: append([]string{}, p.Members...),
		ResolvedProviders: append([]string{}, svc.Members(p)...), DefaultTLP: tlp.String(), MinCoverage: p.MinCoverage,
		BuiltIn: p.BuiltIn, Owner: p.Owner, UpdatedAt: p.UpdatedAt.UTC()}
}

// playbooks serves GET /api/admin/playbooks.
func (a *API) playbooks(w http.ResponseWriter, r *http.Request) error {
	if _, err := readInput(r); err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	ps := svc.Playbooks()
	out := make([]playbookJSON, len(ps))
	for i, p := range ps {
		out[i] = newPlaybookJSON(svc, p)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// playbook serves GET /api/admin/playbook/{name}.
func (a *API) playbook(w http.ResponseWriter, r *http.Request) error {
	if _, err := readInput(r); err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	p, ok := svc.Playbook(r.PathValue("name"))
	if !ok {
		return errcode.New(errcode.NotFound, "no such playbook")
	}
	writeJSON(w, http.StatusOK, newPlaybookJSON(svc, p))
	return nil
}

// putPlaybook serves POST /api/admin/playbooks: {name, description,
// providers (array or comma-separated), default_tlp, min_coverage}
// creates or replaces a playbook.
func (a *API) putPlaybook(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "name", "description", "providers", "default_tlp", "min_coverage")
	if err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	var p policy.Playbook
	if p.Name, err = in.required("name"); err != nil {
		return err
	}
	if p.Description, err = in.str("description"); err != nil {
		return err
	}
	if p.Members, err = in.names("providers"); err != nil {
		return err
	}
	tlp, err := in.str("default_tlp")
	if err != nil {
		return err
	}
	if tlp != "" {
		if p.DefaultTLP, err = indicator.ParseTLP(tlp); err != nil {
			return errcode.Field("default_tlp", err.Error())
		}
	}
	if p.MinCoverage, err = in.integer("min_coverage"); err != nil {
		return err
	}
	out, err := svc.PutPlaybook(r.Context(), principal(r), p)
	if err != nil {
		return renamed(err, map[string]string{"minCoverage": "min_coverage", "defaultTlp": "default_tlp"})
	}
	writeJSON(w, http.StatusOK, newPlaybookJSON(svc, out))
	return nil
}

// deletePlaybook serves DELETE /api/admin/playbook/{name}.
func (a *API) deletePlaybook(w http.ResponseWriter, r *http.Request) error {
	if _, err := readInput(r); err != nil {
		return err
	}
	svc, err := a.policyService()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if _, err := svc.DeletePlaybook(r.Context(), name); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "deleted": true})
	return nil
}

// names returns a parameter given as a JSON array of strings or a
// comma-separated string, trimmed, empty items dropped.
func (in input) names(name string) ([]string, error) {
	var items []string
	switch v := in[name].(type) {
	case nil:
		return nil, nil
	case string:
		items = strings.Split(v, ",")
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, errcode.Field(name, name+" is an array of strings or a comma-separated string")
			}
			items = append(items, s)
		}
	default:
		return nil, errcode.Field(name, name+" is an array of strings or a comma-separated string")
	}
	var out []string
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// principal is the request's username (the owner of what it creates).
func principal(r *http.Request) string {
	if p := auth.FromContext(r.Context()); p != nil {
		return p.Username
	}
	return ""
}
