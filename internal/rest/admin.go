package rest

import (
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
)

// createUser serves POST /api/admin/user: username, password, optional
// account_active (default true) and account_admin (default false).
func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "username", "password", "account_active", "account_admin")
	if err != nil {
		return err
	}
	username, password, err := in.credentials()
	if err != nil {
		return err
	}
	active, err := in.boolean("account_active", true)
	if err != nil {
		return err
	}
	admin, err := in.boolean("account_admin", false)
	if err != nil {
		return err
	}
	u, err := a.cfg.Auth.CreateUser(r.Context(), username, password, admin, active)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUserJSON(u))
	return nil
}

// setUserPassword serves PATCH /api/admin/user/password: username, password.
func (a *API) setUserPassword(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "username", "password")
	if err != nil {
		return err
	}
	username, password, err := in.credentials()
	if err != nil {
		return err
	}
	u, err := a.cfg.Auth.SetUserPassword(r.Context(), username, password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, successJSON{Username: u.Username, Status: "success"})
	return nil
}

type activeJSON struct {
	Username      string `json:"username"`
	AccountActive bool   `json:"account_active"`
}

// setUserActive serves PATCH /api/admin/user/status: username,
// account_active.
func (a *API) setUserActive(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "username", "account_active")
	if err != nil {
		return err
	}
	username, err := in.required("username")
	if err != nil {
		return err
	}
	if _, ok := in["account_active"]; !ok {
		return errcode.Field("account_active", "account_active is required")
	}
	active, err := in.boolean("account_active", false)
	if err != nil {
		return err
	}
	u, err := a.cfg.Auth.SetUserActive(r.Context(), auth.FromContext(r.Context()), username, active)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, activeJSON{Username: u.Username, AccountActive: u.Active})
	return nil
}

// budgetJSON is one per-user daily budget.
type budgetJSON struct {
	Provider  string     `json:"provider"`
	PerDay    int        `json:"per_day"`
	Remaining int        `json:"remaining"`
	ResetsAt  *time.Time `json:"resets_at"`
}

// setUserBudget serves PUT /api/admin/user/{username}/budget/{provider}
// with {"per_day": N} (0 removes the budget) and answers the user's budgets.
func (a *API) setUserBudget(w http.ResponseWriter, r *http.Request) error {
	in, err := readInput(r, "per_day")
	if err != nil {
		return err
	}
	if _, ok := in["per_day"]; !ok {
		return errcode.Field("per_day", "per_day is required")
	}
	n, err := in.integer("per_day")
	if err != nil {
		return err
	}
	bs, err := a.cfg.Budgets.Set(r.Context(), r.PathValue("username"), r.PathValue("provider"), n)
	if err != nil {
		return err
	}
	out := make([]budgetJSON, len(bs))
	for i, b := range bs {
		out[i] = budgetJSON{Provider: b.Provider, PerDay: b.PerDay, Remaining: b.Remaining, ResetsAt: b.ResetsAt}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// users serves GET /api/admin/users?offset=&limit=.
func (a *API) users(w http.ResponseWriter, r *http.Request) error {
	offset, limit, err := pageOf(r)
	if err != nil {
		return err
	}
	us, err := a.cfg.Auth.UsersPage(r.Context(), offset, limit)
	if err != nil {
		return err
	}
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = newUserJSON(u)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// user serves GET /api/admin/user/{username}.
func (a *API) user(w http.ResponseWriter, r *http.Request) error {
	u, err := a.cfg.Auth.User(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUserJSON(u))
	return nil
}

// pageOf reads and checks offset and limit from the query.
func pageOf(r *http.Request) (int, int, error) {
	in, err := readInput(r, "offset", "limit")
	if err != nil {
		return 0, 0, err
	}
	return in.page()
}
