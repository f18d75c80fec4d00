package provider

import (
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Context is what one provider's answer says about who holds a value and
// when it was seen, besides its verdict: the fields an analyst pivots on.
// The engine merges the Contexts of the providers that answered into the
// indicator's context, each field naming the provider it came from. A zero
// field means "this provider does not say".
type Context struct {
	ASN          int       // autonomous system number, e.g. 15169
	ASOwner      string    // the AS's holder, e.g. "GOOGLE"
	Country      string    // ISO 3166-1 alpha-2, upper case, e.g. "US"
	Network      string    // the announced or registered network, CIDR, e.g. "8.8.8.0/24"
	Registrar    string    // domains: the registrar's name
	RegisteredAt time.Time // domains: registration (creation) date
	FirstSeen    time.Time // first sighting at this provider
	LastSeen     time.Time // latest sighting at this provider
	Tags         []string  // the provider's labels, e.g. "cdn", "botnet_cc"
	// MalwareFamilies are family names as the provider spells them, e.g.
	// "Emotet", "CobaltStrike".
	MalwareFamilies []string
}

// IsZero reports whether c says nothing.
func (c Context) IsZero() bool {
	return c.ASN == 0 && c.ASOwner == "" && c.Country == "" && c.Network == "" && c.Registrar == "" &&
		c.RegisteredAt.IsZero() && c.FirstSeen.IsZero() && c.LastSeen.IsZero() && len(c.Tags) == 0 && len(c.MalwareFamilies) == 0
}

// Contexter is implemented by a provider's summary (value receiver, so both
// the <Type>Summary and its pointer have it) that carries context:
//
//	func (s VirusTotalSummary) Context() Context {
//		return Context{ASN: s.ASN, ASOwner: s.ASOwner, Country: s.Country, Network: s.Network}
//	}
//
// Context must be cheap (no I/O, no parsing of the raw answer): it runs on
// every cached answer an indicator's context is asked of.
type Contexter interface {
	Context() Context
}

// LinkFunc returns the provider's own page about ind (its GUI, not its
// API), or "" when it has none for that kind. It is pure: no I/O, no API
// key in the URL.
type LinkFunc func(ind indicator.Indicator) string

// LinkOf returns descriptor d's page about ind, "" when d has none.
func (d Descriptor) LinkOf(ind indicator.Indicator) string {
	if d.Link == nil || !d.Serves(ind.Kind) {
		return ""
	}
	return d.Link(ind)
}
