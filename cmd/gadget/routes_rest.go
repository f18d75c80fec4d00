package main

import (
	"net/http"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/rest"
)

// restRoutes returns the REST compatibility layer (/api/..., /openapi.json,
// /docs), pattern → handler. Its two-step tasks run in a.tasks, the one
// service close waits for.
func (a *app) restRoutes() map[string]http.Handler {
	api := rest.New(rest.Config{
		Auth:      a.auth,
		Listings:  accounting.NewListings(a.acct, a.store),
		Engine:    a.lookups,
		Tasks:     a.tasks,
		Budgets:   a.budgets,
		Usage:     a.writer,
		Extractor: newExtractor(a.cfg),
		Policy:    a.policy,
		Logger:    a.log,
		Version:   version,
		Started:   a.started,
		Providers: statusSource{a}.Providers,
		STIX:      a.stixExporter(),
	})
	return api.Routes()
}
