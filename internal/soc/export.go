package soc

import (
	"context"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/stix"
)

// Exporter makes STIX 2.1 bundles of lookups for every transport (GraphQL's
// stix field, REST's Accept: application/stix+json, the portal's export).
type Exporter struct {
	// TTL is a provider's cache lifetime (valid_until of a verdict).
	TTL func(provider string) time.Duration
	// Sightings returns the local sightings of a value; nil: none known.
	Sightings func(ctx context.Context, ind indicator.Indicator) *stix.Sightings
	Now       func() time.Time
}

// DefaultTLP is the marking of an export that names none: the lookups of
// an organisation are for its own use and its partners'.
const DefaultTLP = stix.Amber

// ParseTLP reads a requested marking ("" is DefaultTLP); a bad one is a
// BAD_REQUEST on field.
func ParseTLP(field, s string) (string, error) {
	if s == "" {
		return DefaultTLP, nil
	}
	t, ok := stix.ParseTLP(s)
	if !ok {
		return "", errcode.Field(field, "tlp must be one of CLEAR, GREEN, AMBER, AMBER_STRICT, RED")
	}
	return t, nil
}

// Bundle is the STIX 2.1 bundle of one lookup's results, marked tlp.
func (e Exporter) Bundle(ctx context.Context, ind indicator.Indicator, results []*lookup.Result, tlp string) stix.Object {
	return stix.Bundle(e.Objects(ctx, ind, results, tlp))
}

// Objects are the STIX 2.1 objects of one lookup's results, marked tlp.
func (e Exporter) Objects(ctx context.Context, ind indicator.Indicator, results []*lookup.Result, tlp string) []stix.Object {
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	in := stix.Input{Indicator: ind, Results: results, Verdict: lookup.Combine(results), TLP: tlp, Now: now,
		TTL: e.TTL, Link: Link, Title: Title}
	if e.Sightings != nil {
		in.Sightings = e.Sightings(ctx, ind)
	}
	return stix.Objects(in)
}
