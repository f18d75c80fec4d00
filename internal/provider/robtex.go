package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "robtex",
		Title:       "Robtex (free API)",
		Source:      "Robtex",
		Disabled:    true, // the free API is often down or throttled
		Kinds:       []indicator.Kind{indicator.IPv4},
		Key:         KeyNone,
		BaseURL:     "https://freeapi.robtex.com",
		Rate:        Rate{Events: 10, Per: time.Hour},
		CacheTTL:    72 * time.Hour,
		NotFoundTTL: 24 * time.Hour,
		Timeout:     15 * time.Second,
		FreeTier:    "keyless free API, throttled (answers status ratelimited) and often unavailable; off by default",
		Summary:     RobtexSummary{},
		Tags:        []string{"context"},
		Description: "Who routes an IPv4 address (AS, BGP route, whois) and the host names seen pointing at it (passive DNS).",
		MaxTLP:      indicator.TLPGreen,
		TLPReason:   "a keyless free API with no account or privacy terms, off by default: only what the community may know",
		VerdictRules: []string{
			"context only: UNKNOWN with the AS, route and passive-DNS names",
			"status ratelimited: rate limited; status error: upstream error",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://www.robtex.com/ip-lookup/" + url.PathEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &robtex{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// robtex asks Robtex's free API: GET /ipquery/{ip}.
type robtex struct{ Base }

// RobtexSummary is Robtex's routing and passive-DNS view of an address.
type RobtexSummary struct {
	IP       string   `json:"ip"`
	ASN      int      `json:"asn,omitempty"`
	ASName   string   `json:"asName,omitempty"`
	Route    string   `json:"route,omitempty"` // the announced BGP prefix
	Whois    string   `json:"whois,omitempty"`
	Country  string   `json:"country,omitempty"` // a country name, as Robtex gives it
	City     string   `json:"city,omitempty"`
	Names    []string `json:"names"`    // forward names pointing at it now (act)
	OldNames []string `json:"oldNames"` // names that pointed at it before (acth)
	Reverse  []string `json:"reverse"`  // reverse (PTR) names, current and historical
}

// Context gives the AS and the routed network.
func (s RobtexSummary) Context() Context {
	return Context{ASN: s.ASN, ASOwner: s.ASName, Network: s.Route}
}

type robtexName struct {
	O string `json:"o"`
}

type robtexBody struct {
	Status    string       `json:"status"`
	City      string       `json:"city"`
	Country   string       `json:"country"`
	AS        int          `json:"as"`
	ASName    string       `json:"asname"`
	Whois     string       `json:"whois"`
	BGPRoute  string       `json:"bgproute"`
	Act       []robtexName `json:"act"`
	ActH      []robtexName `json:"acth"`
	Pas       []robtexName `json:"pas"`
	PasH      []robtexName `json:"pash"`
	RouteDesc string       `json:"routedesc"`
}

func (p *robtex) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.IPv4 {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/ipquery/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	var body robtexBody
	if e := p.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	switch body.Status {
	case "ok":
	case "ratelimited":
		return nil, p.Fail(ErrRateLimited, resp, "the free API throttled the call")
	default:
		return nil, p.Fail(ErrUpstream, resp, clipDetail("status "+body.Status))
	}
	names := func(lists ...[]robtexName) []string {
		n := newNameSet(25)
		for _, l := range lists {
			for _, x := range l {
				n.add(x.O)
			}
		}
		return n.list
	}
	s := &RobtexSummary{IP: ind.Value, ASN: body.AS, ASName: body.ASName, Route: body.BGPRoute, Whois: body.Whois,
		Country: body.Country, City: body.City, Names: names(body.Act), OldNames: names(body.ActH), Reverse: names(body.Pas, body.PasH)}
	if s.ASN == 0 && s.Route == "" && len(s.Names)+len(s.OldNames)+len(s.Reverse) == 0 {
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	reason := fmt.Sprintf("Robtex: AS%d %s, route %s, %d names seen", s.ASN, s.ASName, s.Route, len(s.Names)+len(s.OldNames))
	return p.OK(resp, s, Assessment{Level: indicator.Unknown, Score: 0, Reason: reason + ", context only"}), nil
}
