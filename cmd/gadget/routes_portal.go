package main

import (
	"fmt"
	"net/http"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/portal"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// portalRoutes returns the web portal (/portal/), pattern → handler.
func (a *app) portalRoutes() (map[string]http.Handler, error) {
	riverUI := ""
	if a.riverUI != nil { // mounted by adminRoutes
		riverUI = riverUIPrefix + "/"
	}
	p, err := portal.New(portal.Config{
		Auth: a.auth, Accounting: a.acct, Stats: accounting.NewStatsService(a.store, nil), Engine: a.engine,
		Providers: a.portalProviders, RiverUI: riverUI, Logger: a.log, Extractor: newExtractor(a.cfg),
	})
	if err != nil { // the embedded templates and assets are broken: a build defect
		return nil, fmt.Errorf("portal: %w", err)
	}
	return map[string]http.Handler{portal.Prefix: p}, nil
}

// portalProviders is each provider's state for the portal's overview.
func (a *app) portalProviders() []portal.ProviderInfo {
	var out []portal.ProviderInfo
	for _, info := range (statusSource{a}).Providers() {
		d, _ := provider.Lookup(info.Name)
		out = append(out, portal.ProviderInfo{Name: info.Name, Enabled: info.Enabled, Configured: info.Configured,
			Keyless: d.Key != provider.KeyRequired, Kinds: info.Kinds, Rate: a.cfg.Providers[info.Name].Rate.String()})
	}
	return out
}
