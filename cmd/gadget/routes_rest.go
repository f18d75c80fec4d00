package main

import (
	"net/http"
	"time"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/rest"
	"github.com/inspector-gadget/gadget/internal/tasks"
)

// restRoutes returns the REST compatibility layer (/api/..., /openapi.json, /docs), pattern → handler.
func (a *app) restRoutes() map[string]http.Handler {
	a.tasks = tasks.NewService(tasks.Config{Store: a.store, Logger: a.log, Timeout: a.engine.Deadline() + 5*time.Second})
	api := rest.New(rest.Config{
		Auth:      a.auth,
		Listings:  accounting.NewListings(a.acct, a.store),
		Engine:    a.engine,
		Tasks:     tasks.NewService(tasks.Config{Store: a.store, Logger: a.log, Timeout: a.engine.Deadline() + 5*time.Second}),
		Usage:     a.writer,
		Logger:    a.log,
		Version:   version,
		Started:   a.started,
		Providers: statusSource{a}.Providers,
	})
	return api.Routes()
}
