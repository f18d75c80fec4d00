package portal

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/policy"
)

// listsPage is the data of the lists page and of one list's page.
type listsPage struct {
	Lists   []policy.List
	Effects []effectOption
	// List, Entries and Next are one list's page: its entries from the
	// cursor on, and the link to the next page ("" on the last).
	List    *policy.List
	Entries []*policy.Entry
	Next    template.URL // a relative link built by url.Values.Encode (already escaped)
	CanEdit bool         // the user holds mon
}

type effectOption struct{ Value, Help string }

// effects are the list effects as the create form offers them.
var effects = []effectOption{
	{string(policy.NeverSend), "never send: internal, no provider is asked"},
	{string(policy.KnownGood), "known good: providers are asked, the verdict is capped at BENIGN"},
	{string(policy.Block), "block: the verdict is MALICIOUS, nothing is sent upstream"},
}

// entriesPerPage is how many entries one list page shows.
const entriesPerPage = 100

// canReadLists reports whether the user may see the lists (tasks or mon),
// else answers 403.
func (p *Portal) canReadLists(w http.ResponseWriter, r *http.Request) bool {
	pr := auth.FromContext(r.Context())
	if !pr.Has(auth.ScopeTasks) && !pr.Has(auth.ScopeMon) {
		p.fail(w, r, errcode.New(errcode.Forbidden, "this page needs the tasks or mon scope"))
		return false
	}
	if p.cfg.Policy == nil {
		p.fail(w, r, errcode.New(errcode.NotFound, "lists are not available on this server"))
		return false
	}
	return true
}

func (p *Portal) lists(w http.ResponseWriter, r *http.Request) {
	if p.canReadLists(w, r) {
		p.showLists(w, r, http.StatusOK, view{Notice: r.URL.Query().Get("done")})
	}
}

// showLists renders the lists page with v's message and form.
func (p *Portal) showLists(w http.ResponseWriter, r *http.Request, status int, v view) {
	ls, err := p.cfg.Policy.Lists(r.Context())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Title, v.Nav = "Lists", "lists"
	v.Data = listsPage{Lists: ls, Effects: effects, CanEdit: auth.FromContext(r.Context()).Has(auth.ScopeMon)}
	p.render(w, r, status, "lists", v)
}

func (p *Portal) listPage(w http.ResponseWriter, r *http.Request) {
	if p.canReadLists(w, r) {
		p.showList(w, r, http.StatusOK, view{Notice: r.URL.Query().Get("done")})
	}
}

// showList renders one list's page (entries from ?after on).
func (p *Portal) showList(w http.ResponseWriter, r *http.Request, status int, v view) {
	name := r.PathValue("name")
	l, err := p.cfg.Policy.List(r.Context(), name)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	es, err := p.cfg.Policy.Entries(r.Context(), name, r.URL.Query().Get("after"), entriesPerPage+1)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data := listsPage{List: &l, Entries: es, Effects: effects, CanEdit: auth.FromContext(r.Context()).Has(auth.ScopeMon)}
	if len(es) > entriesPerPage {
		data.Entries = es[:entriesPerPage]
		data.Next = template.URL("?" + url.Values{"after": {es[entriesPerPage-1].Value}}.Encode())
	}
	v.Title, v.Nav, v.Data = "List "+l.Name, "lists", data
	p.render(w, r, status, "list", v)
}

func (p *Portal) createList(w http.ResponseWriter, r *http.Request) {
	if !p.canReadLists(w, r) {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	effect, err := policy.ParseEffect(r.PostFormValue("effect"))
	if err != nil {
		err = errcode.Field("effect", err.Error())
	} else {
		_, err = p.cfg.Policy.CreateList(r.Context(), auth.FromContext(r.Context()).Username, name, effect, strings.TrimSpace(r.PostFormValue("description")))
	}
	if err != nil {
		form := url.Values{"name": {name}, "effect": {r.PostFormValue("effect")}, "description": {r.PostFormValue("description")}}
		p.showLists(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message, Form: form})
		return
	}
	http.Redirect(w, r, "/portal/lists/"+url.PathEscape(name)+"?"+url.Values{"done": {"Created the list " + name + "."}}.Encode(), http.StatusSeeOther)
}

func (p *Portal) deleteList(w http.ResponseWriter, r *http.Request) {
	if !p.canReadLists(w, r) {
		return
	}
	name := r.PathValue("name")
	if _, err := p.cfg.Policy.DeleteList(r.Context(), name); err != nil {
		p.showLists(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message})
		return
	}
	http.Redirect(w, r, "/portal/lists?"+url.Values{"done": {"Deleted the list " + name + " and its entries."}}.Encode(), http.StatusSeeOther)
}

// addEntries adds the values of the form (one a line) with one reason and
// an optional expiry date (the end of that UTC day).
func (p *Portal) addEntries(w http.ResponseWriter, r *http.Request) {
	if !p.canReadLists(w, r) {
		return
	}
	name := r.PathValue("name")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var in []policy.EntryInput
	var err error
	var expires time.Time
	if e := strings.TrimSpace(r.PostFormValue("expires")); e != "" {
		if expires, err = time.Parse(time.DateOnly, e); err != nil {
			err = errcode.Field("expires", "expires must be a date such as 2026-12-31")
		}
		expires = expires.AddDate(0, 0, 1)
	}
	for line := range strings.Lines(r.PostFormValue("values")) {
		if v := strings.TrimSpace(line); v != "" {
			in = append(in, policy.EntryInput{Value: v, Reason: reason, ExpiresAt: expires})
		}
	}
	switch {
	case err != nil:
	case len(in) == 0:
		err = errcode.Field("values", "give at least one value, one a line")
	case len(in) > maxFormEntries:
		err = errcode.Field("values", "at most 10000 values per form: use gadget list import for more")
	default:
		_, err = p.cfg.Policy.AddEntries(r.Context(), auth.FromContext(r.Context()).Username, name, in)
	}
	if err != nil {
		form := url.Values{"values": {r.PostFormValue("values")}, "reason": {reason}, "expires": {r.PostFormValue("expires")}}
		p.showList(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message, Form: form})
		return
	}
	p.listChanged(w, r, name, plural(len(in), "entry", "entries")+" added or replaced.")
}

// maxFormEntries bounds the values one add form may carry.
const maxFormEntries = 10_000

func (p *Portal) removeEntries(w http.ResponseWriter, r *http.Request) {
	if !p.canReadLists(w, r) {
		return
	}
	name := r.PathValue("name")
	values := r.PostForm["value"]
	var err error
	if len(values) == 0 {
		err = errcode.Field("value", "name the entry to remove")
	} else {
		_, err = p.cfg.Policy.RemoveEntries(r.Context(), name, values)
	}
	if err != nil {
		p.showList(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message})
		return
	}
	p.listChanged(w, r, name, "Removed "+strings.Join(values, ", ")+".")
}

// listChanged sends the browser back to the list's page with a notice.
func (p *Portal) listChanged(w http.ResponseWriter, r *http.Request, name, notice string) {
	http.Redirect(w, r, "/portal/lists/"+url.PathEscape(name)+"?"+url.Values{"done": {notice}}.Encode(), http.StatusSeeOther)
}

// plural is "1 entry" or "3 entries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(int64(n)) + " " + many
}
