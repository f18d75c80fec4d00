package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// rdapAccept asks for RDAP JSON (RFC 7480) and accepts plain JSON.
const rdapAccept = "application/rdap+json, application/json"

// rdapNewDomainAge is how young a domain must be to look suspicious.
const rdapNewDomainAge = 30 * 24 * time.Hour

func init() {
	d := Descriptor{
		Name:    "rdap",
		Title:   "RDAP",
		Source:  "RDAP",
		Kinds:   []indicator.Kind{indicator.IPv4, indicator.IPv6, indicator.Domain},
		Key:     KeyNone,
		BaseURL: "https://rdap.org",
		// rdap.org throttles per client IP and is meant for low volume;
		// registries throttle bulk use too.
		Rate:        Rate{Events: 10, Per: time.Minute},
		CacheTTL:    24 * time.Hour, // registration data changes rarely
		NotFoundTTL: time.Hour,      // an unregistered domain may be registered soon
		Timeout:     10 * time.Second,
		// rdap.org answers with a redirect to the authoritative registry.
		Redirects:   RedirectPublicHTTPS,
		FreeTier:    "keyless; rdap.org and the registries it redirects to throttle per IP and are meant for low volume, default budget 10/m",
		Summary:     RDAPSummary{},
		Link:        rdapLink,
		Tags:        []string{"context"},
		Description: "Registration data (RDAP) of a domain or IP network: registrar, dates, network owner.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "the registries' own public registration service (through rdap.org's redirect); it sees the domain or address asked about",
		VerdictRules: []string{
			"domain registered less than 30 days ago: SUSPICIOUS 50",
			"other domains and IP networks: UNKNOWN (registration data is context)",
			"404: not found, no verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) {
		return &rdap{Base: NewBase(d, cfg), now: time.Now}, nil
	}
	Register(d)
}

// rdap looks up IP networks and domains through the rdap.org bootstrap
// redirector. The http.Client follows its redirect to the authoritative
// server (https and public only, see RedirectPublicHTTPS) with the Accept
// and User-Agent headers and nothing else.
type rdap struct {
	Base
	now func() time.Time // the clock for a domain's age; time.Now outside tests
}

// RDAPSummary is what an analyst reads first about an RDAP record: an IP
// network (objectClassName "ip network") or a domain ("domain"). Fields that
// do not apply to the object's class are left empty.
type RDAPSummary struct {
	ObjectClass string   `json:"objectClassName"`
	Handle      string   `json:"handle,omitempty"`
	Status      []string `json:"status"`

	// IP networks.
	Name         string   `json:"name,omitempty"`
	Type         string   `json:"type,omitempty"` // e.g. "DIRECT ALLOCATION"
	StartAddress string   `json:"startAddress,omitempty"`
	EndAddress   string   `json:"endAddress,omitempty"`
	IPVersion    string   `json:"ipVersion,omitempty"`
	CIDRs        []string `json:"cidrs,omitempty"` // from the cidr0 extension, e.g. "8.8.8.0/24"
	Country      string   `json:"country,omitempty"`
	ParentHandle string   `json:"parentHandle,omitempty"`

	// Domains.
	LDHName     string       `json:"ldhName,omitempty"`
	UnicodeName string       `json:"unicodeName,omitempty"`
	Nameservers []string     `json:"nameservers,omitempty"`
	DNSSEC      *bool        `json:"dnssec,omitempty"` // secureDNS.delegationSigned, when given
	Registrar   *RDAPContact `json:"registrar,omitempty"`

	// Both.
	Registrant  *RDAPContact `json:"registrant,omitempty"`
	Abuse       *RDAPContact `json:"abuse,omitempty"`
	Registered  time.Time    `json:"registered,omitzero"`
	LastChanged time.Time    `json:"lastChanged,omitzero"`
	Expires     time.Time    `json:"expires,omitzero"`
	Port43      string       `json:"port43,omitempty"` // the WHOIS server
}

// RDAPContact is an entity from an RDAP record, read from its vCard.
type RDAPContact struct {
	Handle string `json:"handle,omitempty"`
	Name   string `json:"name,omitempty"`  // vCard fn
	Email  string `json:"email,omitempty"` // first vCard email
	IANAID string `json:"ianaId,omitempty"`
}

type rdapObject struct {
	ObjectClassName string `json:"objectClassName"`
	Handle          string `json:"handle"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	ParentHandle    string `json:"parentHandle"`
	StartAddress    string `json:"startAddress"`
	EndAddress      string `json:"endAddress"`
	IPVersion       string `json:"ipVersion"`
	Country         string `json:"country"`
	CIDR0           []struct {
		V4Prefix string `json:"v4prefix"`
		V6Prefix string `json:"v6prefix"`
		Length   *int   `json:"length"`
	} `json:"cidr0_cidrs"`
	LDHName     string `json:"ldhName"`
	UnicodeName string `json:"unicodeName"`
	Nameservers []struct {
		LDHName string `json:"ldhName"`
	} `json:"nameservers"`
	SecureDNS *struct {
		DelegationSigned *bool `json:"delegationSigned"`
	} `json:"secureDNS"`
	Status    []string     `json:"status"`
	Port43    string       `json:"port43"`
	Events    []rdapEvent  `json:"events"`
	Entities  []rdapEntity `json:"entities"`
	ErrorCode int          `json:"errorCode"`
}

type rdapEvent struct {
	Action string `json:"eventAction"`
	Date   string `json:"eventDate"`
}

type rdapEntity struct {
	Handle    string          `json:"handle"`
	Roles     []string        `json:"roles"`
	VCard     json.RawMessage `json:"vcardArray"`
	PublicIDs []struct {
		Type       string `json:"type"`
		Identifier string `json:"identifier"`
	} `json:"publicIds"`
	Entities []rdapEntity `json:"entities"`
}

// Lookup sends GET /ip/{ip} or GET /domain/{domain} and follows the
// redirect to the authoritative server.
func (p *rdap) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	var path string
	switch ind.Kind {
	case indicator.IPv4, indicator.IPv6:
		path = "/ip/" + url.PathEscape(ind.Value)
	case indicator.Domain:
		path = "/domain/" + url.PathEscape(ind.Value)
	default:
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("cannot look up %s indicators", ind.Kind))
	}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL(path), nil, rdapAccept)
	if err != nil {
		return nil, err
	}
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	// 404 is RFC 9083's not-found (with an errorCode body) and also rdap.org's
	// "no RDAP server known" for the name: both are not found.
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	var obj rdapObject
	if e := p.decode(resp, &obj, "malformed JSON"); e != nil {
		return nil, e
	}
	if obj.ErrorCode == http.StatusNotFound {
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	if obj.ErrorCode != 0 {
		return nil, p.Fail(ErrUpstream, resp, fmt.Sprintf("RDAP errorCode %d", obj.ErrorCode))
	}
	if obj.ObjectClassName == "" && obj.Handle == "" && obj.LDHName == "" {
		return nil, p.Fail(ErrUpstream, resp, "answer is not an RDAP object")
	}
	sum := rdapSummary(obj)
	return p.OK(resp, sum, rdapVerdict(sum, p.now())), nil
}

func rdapSummary(o rdapObject) *RDAPSummary {
	s := &RDAPSummary{
		ObjectClass:  o.ObjectClassName,
		Handle:       o.Handle,
		Status:       orEmpty(o.Status),
		Name:         o.Name,
		Type:         o.Type,
		StartAddress: o.StartAddress,
		EndAddress:   o.EndAddress,
		IPVersion:    o.IPVersion,
		Country:      o.Country,
		ParentHandle: o.ParentHandle,
		LDHName:      strings.ToLower(o.LDHName),
		UnicodeName:  o.UnicodeName,
		Port43:       o.Port43,
	}
	for _, c := range o.CIDR0 {
		prefix := c.V4Prefix
		if prefix == "" {
			prefix = c.V6Prefix
		}
		if prefix == "" || c.Length == nil {
			continue
		}
		s.CIDRs = append(s.CIDRs, prefix+"/"+strconv.Itoa(*c.Length))
	}
	for _, ns := range o.Nameservers {
		if ns.LDHName != "" {
			s.Nameservers = append(s.Nameservers, strings.ToLower(ns.LDHName))
		}
	}
	if o.SecureDNS != nil {
		s.DNSSEC = o.SecureDNS.DelegationSigned
	}
	for _, e := range o.Events {
		t := parseTime(strings.TrimSpace(e.Date), time.RFC3339)
		if t.IsZero() {
			continue
		}
		switch strings.ToLower(e.Action) {
		case "registration":
			s.Registered = t
		case "last changed":
			s.LastChanged = t
		case "expiration":
			s.Expires = t
		}
	}
	s.Registrant = rdapFindContact(o.Entities, "registrant")
	s.Registrar = rdapFindContact(o.Entities, "registrar")
	s.Abuse = rdapFindContact(o.Entities, "abuse")
	return s
}

// rdapFindContact returns the first entity with role that says anything
// (a fully redacted one is skipped), searching breadth first: registries nest
// the abuse contact inside the registrar or registrant entity.
func rdapFindContact(entities []rdapEntity, role string) *RDAPContact {
	for level := entities; len(level) > 0; {
		var next []rdapEntity
		for _, e := range level {
			for _, r := range e.Roles {
				if strings.EqualFold(r, role) {
					if c := rdapContact(e); *c != (RDAPContact{}) {
						return c
					}
				}
			}
			next = append(next, e.Entities...)
		}
		level = next
	}
	return nil
}

func rdapContact(e rdapEntity) *RDAPContact {
	c := &RDAPContact{Handle: e.Handle}
	c.Name, c.Email = rdapVCard(e.VCard)
	for _, id := range e.PublicIDs {
		if strings.EqualFold(id.Type, "IANA Registrar ID") {
			c.IANAID = id.Identifier
		}
	}
	return c
}

// rdapVCard reads fn and the first email from a jCard (RFC 7095):
// ["vcard", [["version",{},"text","4.0"], ["fn",{},"text","Name"], ...]].
func rdapVCard(raw json.RawMessage) (name, email string) {
	var card []json.RawMessage
	if json.Unmarshal(raw, &card) != nil || len(card) < 2 {
		return "", ""
	}
	var props [][]json.RawMessage
	if json.Unmarshal(card[1], &props) != nil {
		return "", ""
	}
	for _, prop := range props {
		if len(prop) < 4 {
			continue
		}
		var key, value string
		if json.Unmarshal(prop[0], &key) != nil || json.Unmarshal(prop[3], &value) != nil {
			continue // structured values (adr, n) are not needed
		}
		switch strings.ToLower(key) {
		case "fn":
			if name == "" {
				name = value
			}
		case "email":
			if email == "" {
				email = value
			}
		}
	}
	return name, email
}

// rdapVerdict maps an RDAP record to a verdict. Registration data is context;
// the one signal is a young domain, a common trait of phishing and malware
// infrastructure:
//
//	| signal                                   | level      | score | reason example                                         |
//	|------------------------------------------|------------|-------|--------------------------------------------------------|
//	| domain registered less than 30 days ago  | SUSPICIOUS | 50    | "registered 5 days ago"                                |
//	| other domain                             | UNKNOWN    | 0     | "example.com registered 1995-08-14 via Example Registrar" |
//	| IP network                               | UNKNOWN    | 0     | "8.8.8.0/24 GOGL (Google LLC)"                         |
//	| 404 / errorCode 404                      | —          | —     | not found: no verdict                                  |
func rdapVerdict(s *RDAPSummary, now time.Time) Assessment {
	if s.ObjectClass == "domain" || (s.ObjectClass == "" && s.LDHName != "") {
		if !s.Registered.IsZero() {
			age := now.Sub(s.Registered)
			if age < rdapNewDomainAge {
				days := max(int(age/(24*time.Hour)), 0)
				reason := fmt.Sprintf("registered %d days ago", days)
				if days == 1 {
					reason = "registered 1 day ago"
				}
				return Assessment{Level: indicator.Suspicious, Score: 50, Reason: reason}
			}
		}
		reason := s.LDHName
		if reason == "" {
			reason = "domain"
		}
		if !s.Registered.IsZero() {
			reason += " registered " + s.Registered.Format(time.DateOnly)
		}
		if s.Registrar != nil && s.Registrar.Name != "" {
			reason += " via " + s.Registrar.Name
		}
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason}
	}

	var parts []string
	switch {
	case len(s.CIDRs) > 0:
		parts = append(parts, strings.Join(s.CIDRs, ", "))
	case s.StartAddress != "" && s.EndAddress != "":
		parts = append(parts, s.StartAddress+" - "+s.EndAddress)
	}
	if s.Name != "" {
		parts = append(parts, s.Name)
	} else if s.Handle != "" {
		parts = append(parts, s.Handle)
	}
	reason := strings.Join(parts, " ")
	if s.Registrant != nil && s.Registrant.Name != "" && s.Registrant.Name != s.Name {
		reason += " (" + s.Registrant.Name + ")"
	}
	if s.Country != "" {
		reason += ", " + s.Country
	}
	reason = strings.TrimSpace(strings.TrimPrefix(reason, ","))
	if reason == "" {
		reason = "RDAP record found"
	}
	return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason}
}

// rdapLink is ICANN's registration data lookup page for a domain; RDAP has
// no page of its own for addresses.
func rdapLink(ind indicator.Indicator) string {
	if ind.Kind != indicator.Domain {
		return ""
	}
	return "https://lookup.icann.org/en/lookup?name=" + url.QueryEscape(ind.Value)
}

// Context is the registration: registrar and date for a domain; network,
// holder and country for an address block.
func (s RDAPSummary) Context() Context {
	c := Context{RegisteredAt: s.Registered, Country: strings.ToUpper(s.Country)}
	if s.Registrar != nil {
		c.Registrar = s.Registrar.Name
	}
	if len(s.CIDRs) > 0 {
		c.Network = s.CIDRs[0]
	}
	return c
}
