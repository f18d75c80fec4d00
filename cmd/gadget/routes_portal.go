package main

import (
	"fmt"
	"net/http"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/portal"
)

// portalRoutes returns the web portal (/portal/), pattern → handler.
func (a *app) portalRoutes() (map[string]http.Handler, error) {
	riverUI := ""
	if a.riverUI != nil { // mounted by adminRoutes
		riverUI = riverUIPrefix + "/"
	}
	p, err := portal.New(portal.Config{
		Auth: a.auth, Accounting: a.acct, Stats: accounting.NewStatsService(a.store, nil), Engine: a.lookups, Usage: a.writer,
		Providers: statusSource{a}.Providers, RiverUI: riverUI, Logger: a.log, Extractor: newExtractor(a.cfg), STIX: a.stixExporter(), Policy: a.policy,
	})
	if err != nil { // the embedded templates and assets are broken: a build defect
		return nil, fmt.Errorf("portal: %w", err)
	}
	return map[string]http.Handler{portal.Prefix: p}, nil
}
