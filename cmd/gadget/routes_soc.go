package main

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/misp"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
	"github.com/inspector-gadget/gadget/internal/taxii"
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
	// one per playbook: its members, its TLP rules
	for _, pb := range a.policy.Playbooks() {
		var kinds []indicator.Kind
		for _, name := range a.policy.Members(pb) {
			if p, ok := a.providers.Get(name); ok {
				for _, k := range p.Descriptor().Kinds {
					if !slices.Contains(kinds, k) {
						kinds = append(kinds, k)
					}
				}
			}
		}
		if len(kinds) == 0 {
			continue
		}
		slices.SortFunc(kinds, func(x, y indicator.Kind) int {
			return slices.Index(indicator.Kinds, x) - slices.Index(indicator.Kinds, y)
		})
		desc := pb.Description
		if desc == "" {
			desc = "The " + pb.Name + " playbook"
		}
		out = append(out, soc.Analyzer{ID: "gadget_pb_" + pb.Name, Name: "InspectorGadget_Playbook_" + pb.Name,
			Description: desc + " (playbook, through Inspector Gadget)", Playbook: pb.Name, Kinds: kinds})
	}
	return append(out, one...)
}

// taxiiTLP marks the objects of the TAXII collections.
const taxiiTLP = stix.Amber

// socRoutes returns the SOC protocols: misp-modules under /misp/, the
// Cortex API under /cortex/, TAXII 2.1 under /taxii2/.
func (a *app) socRoutes() map[string]http.Handler {
	out := map[string]http.Handler{}
	m := misp.New(misp.Config{Lookup: a.lookups, Catalog: a.analyzers, Auth: a.auth, Usage: a.writer, Logger: a.log, Version: version})
	t := taxii.New(taxii.Config{Store: a.store, Usage: a.writer, Logger: a.log, Lists: a.policy, Sync: a.listSync})
	for _, part := range []map[string]http.Handler{m.Routes(), t.Routes(), a.cortex.Routes()} {
		for p, h := range part {
			out[p] = a.auth.Middleware(h)
		}
	}
	return out
}

// stixExporter makes the STIX bundles of lookups: valid_until from each
// provider's configured cache lifetime.
func (a *app) stixExporter() soc.Exporter {
	return soc.Exporter{TTL: func(name string) time.Duration { return a.cfg.Providers[name].CacheTTL },
		Sightings: func(ctx context.Context, ind indicator.Indicator) *stix.Sightings {
			s, err := a.policy.Sightings(ctx, ind)
			if err != nil || s.Count == 0 {
				return nil
			}
			return &stix.Sightings{Count: int(s.Count), FirstSeen: s.FirstSeen, LastSeen: s.LastSeen}
		}}
}
