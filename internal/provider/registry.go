package provider

import (
	"fmt"
	"sort"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Registry holds the live providers built once in main.
type Registry struct {
	byName map[string]Provider
	names  []string
	byKind map[indicator.Kind][]string // names serving each kind, sorted
}

// NewRegistry builds a registry from live providers.
func NewRegistry(ps ...Provider) (*Registry, error) {
	r := &Registry{byName: make(map[string]Provider, len(ps))}
	for _, p := range ps {
		name := p.Descriptor().Name
		if _, dup := r.byName[name]; dup {
			return nil, fmt.Errorf("provider registry: duplicate %q", name)
		}
		r.byName[name] = p
		r.names = append(r.names, name)
	}
	sort.Strings(r.names)
	r.byKind = make(map[indicator.Kind][]string, len(indicator.Kinds))
	for _, k := range indicator.Kinds {
		for _, n := range r.names {
			if r.byName[n].Descriptor().Serves(k) {
				r.byKind[k] = append(r.byKind[k], n)
			}
		}
	}
	return r, nil
}

// Get returns the live provider called name.
func (r *Registry) Get(name string) (Provider, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// Names lists the live providers' names, sorted.
func (r *Registry) Names() []string { return append([]string(nil), r.names...) }

// All returns the live providers sorted by name.
func (r *Registry) All() []Provider {
	out := make([]Provider, 0, len(r.names))
	for _, n := range r.names {
		out = append(out, r.byName[n])
	}
	return out
}

// NamesFor returns the names of the live providers that serve kind k,
// sorted by name; the caller owns the slice.
func (r *Registry) NamesFor(k indicator.Kind) []string { return append([]string(nil), r.byKind[k]...) }

// CountFor is how many live providers serve kind k.
func (r *Registry) CountFor(k indicator.Kind) int { return len(r.byKind[k]) }

// ForKind returns the live providers that serve kind k, sorted by name.
func (r *Registry) ForKind(k indicator.Kind) []Provider {
	var out []Provider
	for _, n := range r.byKind[k] {
		out = append(out, r.byName[n])
	}
	return out
}
