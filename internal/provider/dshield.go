package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "dshield",
		Title:       "SANS ISC DShield",
		Source:      "DShield",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6},
		Key:         KeyNone,
		BaseURL:     "https://isc.sans.edu/api",
		Rate:        Rate{Events: 30, Per: time.Minute},
		CacheTTL:    12 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     15 * time.Second,
		FreeTier:    "keyless; the ISC asks for an identifying User-Agent and blocks bulk lookups (use its daily summary feeds for those)",
		Summary:     DShieldSummary{},
		Tags:        []string{"reputation"},
		Description: "How often the Internet Storm Center's DShield sensors saw an IP address attack (reports, targets, first and last day) and which threat feeds list it.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "an established keyless service of the SANS Internet Storm Center; it sees the address asked about",
		VerdictRules: []string{
			"on a threat feed and seen attacking in the last 30 days: MALICIOUS 70",
			"on a threat feed, or 10 or more sensor reports: SUSPICIOUS 40, plus 10 with more than 100 targets",
			"fewer than 10 reports and on no feed: UNKNOWN (background noise)",
			"never reported and on no feed: not found, no verdict (the raw answer keeps the AS data)",
			"an in-band error (malformed address): rejected input",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://isc.sans.edu/ipinfo/" + url.PathEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &dshield{Base: NewBase(d, cfg), now: time.Now}, nil }
	Register(d)
}

// dshield asks the SANS Internet Storm Center: GET /ip/{ip}?json.
type dshield struct {
	Base
	now func() time.Time
}

// DShieldSummary is the ISC's record of an address.
type DShieldSummary struct {
	IP           string    `json:"ip"`
	Reports      int       `json:"reports"` // "count": packets/reports from the sensors
	Targets      int       `json:"targets"` // "attacks": distinct targets
	FirstSeen    time.Time `json:"firstSeen,omitzero"`
	LastSeen     time.Time `json:"lastSeen,omitzero"`
	ThreatFeeds  []string  `json:"threatFeeds"` // ISC threat feeds listing it
	ASN          int       `json:"asn,omitempty"`
	ASName       string    `json:"asName,omitempty"`
	Country      string    `json:"country,omitempty"`
	Network      string    `json:"network,omitempty"`
	AbuseContact string    `json:"abuseContact,omitempty"`
}

// Context gives the AS, country, network and sighting days.
func (s DShieldSummary) Context() Context {
	return Context{ASN: s.ASN, ASOwner: s.ASName, Country: s.Country, Network: s.Network, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen}
}

type dshieldBody struct {
	IP struct {
		Number         string                 `json:"number"`
		Count          *int                   `json:"count"`
		Attacks        *int                   `json:"attacks"`
		MaxDate        *string                `json:"maxdate"`
		MinDate        *string                `json:"mindate"`
		AS             int                    `json:"as"`
		ASName         string                 `json:"asname"`
		ASCountry      string                 `json:"ascountry"`
		Network        string                 `json:"network"`
		ASAbuseContact string                 `json:"asabusecontact"`
		ThreatFeeds    map[string]dshieldFeed `json:"threatfeeds"`
		Error          string                 `json:"error"`
	} `json:"ip"`
}

type dshieldFeed struct {
	LastSeen string `json:"lastseen"`
}

func (p *dshield) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.IPv4 && ind.Kind != indicator.IPv6 {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/ip/"+url.PathEscape(ind.Value)+"?json"), nil, "")
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
	var body dshieldBody
	if e := p.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	if body.IP.Error != "" {
		return nil, p.Fail(ErrBadInput, resp, clipDetail(body.IP.Error))
	}
	b := body.IP
	s := &DShieldSummary{IP: b.Number, ASN: b.AS, ASName: b.ASName, Country: b.ASCountry, Network: b.Network,
		AbuseContact: b.ASAbuseContact, ThreatFeeds: []string{}}
	if b.Count != nil {
		s.Reports = *b.Count
	}
	if b.Attacks != nil {
		s.Targets = *b.Attacks
	}
	if b.MinDate != nil {
		s.FirstSeen = parseTime(*b.MinDate, time.DateOnly, time.RFC3339)
	}
	if b.MaxDate != nil {
		s.LastSeen = parseTime(*b.MaxDate, time.DateOnly, time.RFC3339)
	}
	for name, f := range b.ThreatFeeds {
		s.ThreatFeeds = append(s.ThreatFeeds, name)
		if t := parseTime(f.LastSeen, time.DateOnly, time.RFC3339); t.After(s.LastSeen) {
			s.LastSeen = t
		}
	}
	sort.Strings(s.ThreatFeeds)
	if s.Reports == 0 && s.Targets == 0 && len(s.ThreatFeeds) == 0 {
		return nil, p.Fail(ErrNotFound, resp, "") // the ISC answers every address; never reported is its not-found
	}
	return p.OK(resp, s, dshieldVerdict(s, p.now())), nil
}

// dshieldVerdict: sensor reports make an address suspicious; being on a
// threat feed while still active makes it malicious.
func dshieldVerdict(s *DShieldSummary, now time.Time) Assessment {
	recent := !s.LastSeen.IsZero() && now.Sub(s.LastSeen) <= 30*24*time.Hour
	seen := fmt.Sprintf("DShield: %d reports against %d targets", s.Reports, s.Targets)
	if !s.LastSeen.IsZero() {
		seen += ", last " + s.LastSeen.Format(time.DateOnly)
	}
	switch {
	case len(s.ThreatFeeds) > 0 && recent:
		return Assessment{Level: indicator.Malicious, Score: 70, Reason: fmt.Sprintf("%s; on %d ISC threat feeds", seen, len(s.ThreatFeeds))}
	case len(s.ThreatFeeds) == 0 && s.Reports < 10:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: seen + ", below the noise threshold of 10"}
	default:
		score := 40
		if s.Targets > 100 {
			score += 10
		}
		return Assessment{Level: indicator.Suspicious, Score: score, Reason: seen}
	}
}
