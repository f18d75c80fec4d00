package portal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
)

// Cookie names. The session cookie holds the access token; the login cookie
// holds the sign-in form's CSRF token.
const (
	SessionCookie = "gadget_session"
	loginCookie   = "gadget_login_csrf"
)

// Authenticator verifies an access token (auth.Service does).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Principal, error)
}

// SessionAuth authenticates GET and HEAD requests from the portal's session
// cookie and lets through those whose principal holds scope; it is for
// browser mounts such as the River UI under /admin/river/. Without a valid
// session it redirects to the portal's sign-in page; with one lacking the
// scope it answers 403; other methods get 405, since such a mount has no
// CSRF protection of its own.
func SessionAuth(a Authenticator, scope auth.Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p, _ := principalFromCookie(r, a)
		switch {
		case p == nil:
			http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
		case scope != "" && !p.Has(scope):
			http.Error(w, "this page needs the "+string(scope)+" scope", http.StatusForbidden)
		default:
			next.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
		}
	})
}

// principalFromCookie returns the session's principal, or nil and the
// reason when there is no valid session.
func principalFromCookie(r *http.Request, a Authenticator) (*auth.Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	return a.Authenticate(r.Context(), c.Value)
}

type sessionKey struct{}

// session wraps a page that needs a signed-in user holding scope ("" for
// any). It refuses a POST without the session's CSRF token.
func (p *Portal) session(scope auth.Scope, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, err := principalFromCookie(r, p.cfg.Auth)
		if pr == nil {
			if err != nil {
				clearCookie(w, r, SessionCookie, "/")
			}
			if r.Method == http.MethodGet {
				q := url.Values{}
				if err != nil {
					q.Set("ended", "1")
				}
				http.Redirect(w, r, "/portal/login?"+q.Encode(), http.StatusSeeOther)
				return
			}
			p.fail(w, r, errcode.New(errcode.Unauthenticated, "your session has ended: sign in again"))
			return
		}
		c, _ := r.Cookie(SessionCookie)
		ctx := auth.WithPrincipal(r.Context(), pr)
		ctx = context.WithValue(ctx, sessionKey{}, csrfToken(c.Value))
		r = r.WithContext(ctx)
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !p.csrfOK(r, csrfToken(c.Value)) {
			p.fail(w, r, errcode.New(errcode.Forbidden, "the form has expired or came from another site: reload the page and try again"))
			return
		}
		if scope != "" && !pr.Has(scope) {
			p.fail(w, r, errcode.New(errcode.Forbidden, "this page needs the "+string(scope)+" scope"))
			return
		}
		h(w, r)
	})
}

// csrfToken derives a session's CSRF token from its access token: a page
// can embed it without revealing the token, and another site cannot guess
// it.
func csrfToken(session string) string {
	sum := sha256.Sum256([]byte("gadget portal csrf\x00" + session))
	return hex.EncodeToString(sum[:16])
}

func csrfFrom(ctx context.Context) string {
	s, _ := ctx.Value(sessionKey{}).(string)
	return s
}

// csrfOK checks the form field or X-CSRF-Token header against want, and that
// an Origin header, when sent, names this host.
func (p *Portal) csrfOK(r *http.Request, want string) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// overTLS reports whether the browser reached us over TLS: directly, or
// through a TLS-terminating proxy that says so. Believing the header costs
// nothing: a false "https" only makes that client's own cookie Secure.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteStrictMode})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1, HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteStrictMode})
}

func randomToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Sign in"}
	if r.URL.Query().Get("ended") != "" {
		v.Error = "Your session has ended: sign in again."
	}
	p.renderLogin(w, r, http.StatusOK, v, "")
}

func (p *Portal) renderLogin(w http.ResponseWriter, r *http.Request, status int, v view, username string) {
	tok := randomToken()
	setCookie(w, r, loginCookie, tok, "/portal/login", p.cfg.Now().Add(time.Hour))
	v.CSRF, v.Form = tok, url.Values{"username": {username}}
	p.render(w, r, status, "login", v)
}

func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(loginCookie)
	want := ""
	if err == nil {
		want = c.Value
	}
	username := r.PostFormValue("username")
	if !p.csrfOK(r, want) {
		p.renderLogin(w, r, http.StatusForbidden, view{Title: "Sign in", Error: "The sign-in form has expired: please try again."}, username)
		return
	}
	tok, err := p.cfg.Auth.Login(r.Context(), username, r.PostFormValue("password"), "")
	if err != nil {
		e := errcode.Of(err)
		if e.Code == errcode.Internal {
			p.cfg.Logger.ErrorContext(r.Context(), "portal sign-in", "err", err)
		}
		p.renderLogin(w, r, errcode.HTTPStatus(e.Code), view{Title: "Sign in", Error: e.Message}, username)
		return
	}
	clearCookie(w, r, loginCookie, "/portal/login")
	setCookie(w, r, SessionCookie, tok.AccessToken, "/", tok.ExpiresAt)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (p *Portal) logout(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, r, SessionCookie, "/")
	http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
}

func (p *Portal) home(w http.ResponseWriter, r *http.Request) {
	if auth.FromContext(r.Context()).Has(auth.ScopeTasks) {
		http.Redirect(w, r, "/portal/lookup", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/portal/usage", http.StatusSeeOther)
}
