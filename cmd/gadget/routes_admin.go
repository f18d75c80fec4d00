package main

import (
	"context"
	"encoding/json"
	"net/http"

	"riverqueue.com/riverui"

	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/portal"
)

// riverUIPrefix is where River UI is mounted (MON scope).
const riverUIPrefix = "/admin/river"

// startRiverUI builds River UI over this process's River client; it has no
// authentication of its own, so adminRoutes puts it behind the MON scope.
func (a *app) startRiverUI(ctx context.Context) error {
	if a.jobs == nil {
		return nil
	}
	ui, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.jobs.Client, nil),
		Logger:    a.log.With("component", "riverui"),
		Prefix:    riverUIPrefix,
	})
	if err != nil {
		return err
	}
	if err := ui.Start(ctx); err != nil {
		return err
	}
	a.riverUI = ui
	return nil
}

// adminRoutes returns admin mounts: River UI under /admin/river/ when the
// River executor is on, for Bearer tokens holding the MON scope, or (to
// read) for a portal session holding it.
func (a *app) adminRoutes() map[string]http.Handler {
	if a.riverUI == nil {
		return nil
	}
	bearer := a.auth.Middleware(requireScope(auth.ScopeMon, a.riverUI))
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

// requireScope answers 401 (with WWW-Authenticate) or 403 unless the
// request's principal holds scope.
func requireScope(scope auth.Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.Require(r.Context(), scope); err != nil {
			e := errcode.Of(err)
			status := http.StatusForbidden
			if e.Code == errcode.Unauthenticated {
				status = http.StatusUnauthorized
				w.Header().Set("WWW-Authenticate", `Bearer realm="gadget"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="gadget", error="insufficient_scope", scope="`+string(scope)+`"`)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"detail": e.Message, "code": string(e.Code)})
			return
		}
		next.ServeHTTP(w, r)
	})
}
