package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
)

// keysPage is the data of the API keys page.
type keysPage struct {
	Keys []*auth.APIKey
	// New is the key just created: shown on this one answer, never again.
	New *auth.NewAPIKey
}

func (p *Portal) keys(w http.ResponseWriter, r *http.Request) {
	p.showKeys(w, r, http.StatusOK, view{Notice: r.URL.Query().Get("done")}, nil)
}

func (p *Portal) showKeys(w http.ResponseWriter, r *http.Request, status int, v view, created *auth.NewAPIKey) {
	ks, err := p.cfg.Auth.APIKeys(r.Context(), auth.FromContext(r.Context()))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Title, v.Nav, v.Data = "API keys", "keys", keysPage{Keys: ks, New: created}
	p.render(w, r, status, "keys", v)
}

// createKey creates a key and shows it once, on this answer (no redirect:
// the key must not land in a URL or the history).
func (p *Portal) createKey(w http.ResponseWriter, r *http.Request) {
	var scopes []auth.Scope
	for _, s := range r.PostForm["scope"] {
		scopes = append(scopes, auth.Scope(s))
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	nk, err := p.cfg.Auth.CreateAPIKey(r.Context(), auth.FromContext(r.Context()), name, scopes)
	if err != nil {
		p.showKeys(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message, Form: url.Values{"name": {name}}}, nil)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	p.showKeys(w, r, http.StatusOK, view{Notice: "Created the key " + name + ". Copy it now: it is not shown again."}, nk)
}

func (p *Portal) revokeKey(w http.ResponseWriter, r *http.Request) {
	err := p.cfg.Auth.RevokeAPIKey(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		p.showKeys(w, r, errcode.HTTPStatus(errcode.CodeOf(err)), view{Error: errcode.Of(err).Message}, nil)
		return
	}
	http.Redirect(w, r, "/portal/keys?"+url.Values{"done": {"Revoked the key."}}.Encode(), http.StatusSeeOther)
}
