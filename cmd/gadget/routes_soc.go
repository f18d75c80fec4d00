package main

import (
	"net/http"
	"slices"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/misp"
	"github.com/inspector-gadget/gadget/internal/soc"
)

// analyzers is what the SOC protocols offer as modules and analyzers:
// every live provider together (gadget_all), then each alone.
func (a *app) analyzers() []soc.Analyzer {
	var all []indicator.Kind
	var one []soc.Analyzer
	for _, p := range a.providers.All() {
		d := p.Descriptor()
		for _, k := range d.Kinds {
			if !slices.Contains(all, k) {
				all = append(all, k)
			}
		}
		one = append(one, soc.Analyzer{ID: "gadget_" + d.Name, Name: "InspectorGadget_" + d.Title,
			Description: d.Title + " through Inspector Gadget (cache, quotas, policy): " + d.Description,
			Providers:   []string{d.Name}, Kinds: slices.Clone(d.Kinds)})
	}
	slices.SortFunc(all, func(x, y indicator.Kind) int {
		return slices.Index(indicator.Kinds, x) - slices.Index(indicator.Kinds, y)
	})
	out := []soc.Analyzer{{ID: "gadget_all", Name: "InspectorGadget_All",
		Description: "Every provider Inspector Gadget has, combined into one verdict (cache first; slow providers reported pending)",
		Kinds:       all}}
	return append(out, one...)
}

// socRoutes returns the SOC protocols: misp-modules under /misp/.
func (a *app) socRoutes() map[string]http.Handler {
	out := map[string]http.Handler{}
	m := misp.New(misp.Config{Lookup: a.engine, Catalog: a.analyzers, Auth: a.auth, Usage: a.writer, Logger: a.log, Version: version})
	for p, h := range m.Routes() {
		out[p] = a.auth.Middleware(h)
	}
	return out
}

// stixExporter makes the STIX bundles of lookups: valid_until from each
// provider's configured cache lifetime.
func (a *app) stixExporter() soc.Exporter {
	return soc.Exporter{TTL: func(name string) time.Duration { return a.cfg.Providers[name].CacheTTL }}
}
