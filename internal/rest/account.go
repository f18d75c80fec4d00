package rest

import (
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// startTimeLayout is the original's start_time format.
const startTimeLayout = "15:04:05 MST 2006-01-02"

// userJSON is an account as the REST layer shows it (the original's names).
type userJSON struct {
	ID                 string     `json:"id"`
	Username           string     `json:"username"`
	CreatedDate        time.Time  `json:"created_date"`
	AccountActive      bool       `json:"account_active"`
	AccountAdmin       bool       `json:"account_admin"`
	LastLoginAt        *time.Time `json:"last_login_at"`
	LastLoginIP        string     `json:"last_login_ip"`
	LastLoginUserAgent string     `json:"last_login_user_agent"`
}

func newUserJSON(u *auth.User) userJSON {
	return userJSON{ID: u.ID.String(), Username: u.Username, CreatedDate: u.CreatedAt.UTC(), AccountActive: u.Active,
		AccountAdmin: u.Admin, LastLoginAt: u.LastLoginAt, LastLoginIP: u.LastLoginIP, LastLoginUserAgent: u.LastLoginUserAgent}
}

// uptimeJSON is the original's /api/uptime answer.
type uptimeJSON struct {
	StartTime string  `json:"start_time"`
	Uptime    float64 `json:"uptime"`
	Status    string  `json:"status"`
}

func (a *API) uptimeOf() uptimeJSON {
	return uptimeJSON{StartTime: a.cfg.Started.UTC().Format(startTimeLayout), Uptime: a.cfg.Now().Sub(a.cfg.Started).Seconds(), Status: "functional"}
}

type statusJSON struct {
	uptimeJSON
	Version       string                  `json:"version"`
	Authenticated bool                    `json:"authenticated"`
	Username      string                  `json:"username,omitempty"`
	Providers     []lookup.ProviderStatus `json:"providers"`
}

// status serves GET /api/status: the site's status and whether the caller's
// token (if any) is valid.
func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	s := statusJSON{uptimeJSON: a.uptimeOf(), Version: a.cfg.Version, Providers: a.cfg.Providers()}
	if s.Providers == nil {
		s.Providers = []lookup.ProviderStatus{}
	}
	if p := auth.FromContext(r.Context()); p != nil {
		s.Authenticated, s.Username = true, p.Username
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

// uptime serves GET /api/uptime.
func (a *API) uptime(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, a.uptimeOf())
	return nil
}

type verifyJSON struct {
	Username  string    `json:"username"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
	Status    string    `json:"status"`
}

func scopeNames(ss []auth.Scope) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// verify serves GET /api/verify: the token's user, scopes and expiry.
func (a *API) verify(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	writeJSON(w, http.StatusOK, verifyJSON{Username: p.Username, Scopes: scopeNames(p.Scopes), ExpiresAt: p.ExpiresAt.UTC(), Status: "valid"})
	return nil
}

type meJSON struct {
	userJSON
	StartTime string   `json:"start_time"`
	Uptime    float64  `json:"uptime"`
	Status    string   `json:"status"`
	Scopes    []string `json:"scopes"`
}

// me serves GET /api/me.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p := auth.FromContext(r.Context())
	u, err := a.cfg.Auth.Me(r.Context(), p)
	if err != nil {
		return err
	}
	up := a.uptimeOf()
	writeJSON(w, http.StatusOK, meJSON{userJSON: newUserJSON(u), StartTime: up.StartTime, Uptime: up.Uptime, Status: up.Status, Scopes: scopeNames(p.Scopes)})
	return nil
}

// successJSON is the original's answer to a password or status change.
type successJSON struct {
	Username string `json:"username"`
	Status   string `json:"status"`
}

// changePassword serves PATCH /api/me/password: current and new (or the
// original's password) from JSON, a form or the query.
func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "current", "new", "password")
	if err != nil {
		return err
	}
	current, err := in.required("current")
	if err != nil {
		return err
	}
	next, err := in.str("new")
	if err != nil {
		return err
	}
	if next == "" {
		if next, err = in.required("password"); err != nil {
			return renamed(err, map[string]string{"password": "new"})
		}
	}
	p := auth.FromContext(r.Context())
	if err := a.cfg.Auth.ChangePassword(r.Context(), p, current, next); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successJSON{Username: p.Username, Status: "success"})
	return nil
}

// myUsage serves GET /api/me/usage: the caller's usage report.
func (a *API) myUsage(w http.ResponseWriter, r *http.Request) error {
	return a.writeReport(w, r, auth.FromContext(r.Context()).Username)
}
