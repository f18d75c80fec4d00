package main

import (
	"net/http"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/portal"
	"github.com/inspector-gadget/gadget/internal/rest"
)

// riverUIPrefix is where River UI is mounted (MON scope).
const riverUIPrefix = "/admin/river"

// adminRoutes returns admin mounts: River UI under /admin/river/ when the
// River executor is on, for Bearer tokens holding the MON scope, or (to
// read) for a portal session holding it.
func (a *app) adminRoutes() map[string]http.Handler {
	if a.riverUI == nil {
		return nil
	}
	bearer := a.auth.Middleware(rest.RequireScope(a.log, auth.ScopeMon, a.riverUI))
	session := portal.SessionAuth(a.auth, auth.ScopeMon, a.riverUI)
	// API clients send a Bearer token; a browser signed in to the portal
	// brings its session cookie, good for reading only (River UI's actions
	// are POSTs, and the mount has no CSRF protection of its own)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			if _, err := r.Cookie(portal.SessionCookie); err == nil {
				session.ServeHTTP(w, r)
				return
			}
		}
		bearer.ServeHTTP(w, r)
	})
	return map[string]http.Handler{
		riverUIPrefix + "/":    h,
		"GET " + riverUIPrefix: http.RedirectHandler(riverUIPrefix+"/", http.StatusMovedPermanently),
	}
}
