package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:    "ipinfo",
		Title:   "IPinfo Lite",
		Source:  "IPinfo",
		Kinds:   []indicator.Kind{indicator.IPv4, indicator.IPv6},
		Key:     KeyRequired,
		BaseURL: "https://api.ipinfo.io",
		// The Lite API publishes no limit; 1000/d is a courtesy budget that
		// leaves room for a busy SOC once answers are cached.
		Rate:        Rate{Events: 1000, Per: 24 * time.Hour},
		CacheTTL:    72 * time.Hour, // ASN and country move rarely
		NotFoundTTL: 24 * time.Hour, // the only not-found is a bogon, which stays one
		Timeout:     10 * time.Second,
		FreeTier:    "free token required (ipinfo.io signup); the Lite API (ASN and country) is unlimited, default budget 1000/d",
		Summary:     IPinfoSummary{},
		Link:        ipinfoLink,
		Tags:        []string{"context"},
		Description: "IPinfo Lite: the AS number, AS owner and country of an IP address.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "a commercial service queried under your account and its terms (API key); it sees the address asked about",
		VerdictRules: []string{
			"always UNKNOWN: network ownership is context, not a verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) {
		return &ipinfo{Base: NewBase(d, cfg)}, nil
	}
	Register(d)
}

// ipinfo looks up IP addresses with the IPinfo Lite API.
type ipinfo struct {
	Base
}

// IPinfoSummary is what an analyst reads first about an IPinfo Lite answer:
// who announces the address and where it is registered.
type IPinfoSummary struct {
	IP            string `json:"ip"`
	ASN           string `json:"asn"`      // e.g. "AS15169"
	ASName        string `json:"asName"`   // e.g. "Google LLC"
	ASDomain      string `json:"asDomain"` // e.g. "google.com"
	CountryCode   string `json:"countryCode"`
	Country       string `json:"country"`
	ContinentCode string `json:"continentCode"`
	Continent     string `json:"continent"`
}

type ipinfoResponse struct {
	IP            string          `json:"ip"`
	Bogon         bool            `json:"bogon"`
	ASN           string          `json:"asn"`
	ASName        string          `json:"as_name"`
	ASDomain      string          `json:"as_domain"`
	CountryCode   string          `json:"country_code"`
	Country       string          `json:"country"`
	ContinentCode string          `json:"continent_code"`
	Continent     string          `json:"continent"`
	Error         json.RawMessage `json:"error"`
}

// Lookup sends GET /lite/{ip} with Authorization: Bearer <token>.
func (p *ipinfo) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !p.Configured() {
		return nil, p.NotConfigured()
	}
	if !p.Descriptor().Serves(ind.Kind) {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("cannot look up %s indicators", ind.Kind))
	}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/lite/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.APIKey())
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}

	var body ipinfoResponse
	jsonErr := p.decode(resp, &body, "malformed JSON")
	// IPinfo answers an invalid address with 404 and an error object
	// ("Wrong ip"): that is bad input, not an address without data.
	if resp.Status == http.StatusNotFound && jsonErr == nil && len(body.Error) > 0 && string(body.Error) != "null" {
		return nil, p.Fail(ErrBadInput, resp, "IPinfo rejected the IP address")
	}
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	if body.Bogon {
		// Private, reserved and documentation ranges: IPinfo has no data.
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	if body.IP == "" {
		return nil, p.Fail(ErrUpstream, resp, "answer without an ip field")
	}
	sum := &IPinfoSummary{
		IP:            body.IP,
		ASN:           body.ASN,
		ASName:        body.ASName,
		ASDomain:      body.ASDomain,
		CountryCode:   body.CountryCode,
		Country:       body.Country,
		ContinentCode: body.ContinentCode,
		Continent:     body.Continent,
	}
	return p.OK(resp, sum, ipinfoVerdict(sum)), nil
}

// ipinfoVerdict maps an IPinfo Lite answer to a verdict. IPinfo is context
// (who announces the address, where), never reputation:
//
//	| signal                   | level   | score | reason example                |
//	|--------------------------|---------|-------|-------------------------------|
//	| any answer with data     | UNKNOWN | 0     | "AS15169 Google LLC, US"      |
//	| answer without ASN       | UNKNOWN | 0     | "no ASN, US"                  |
//	| bogon:true               | —       | —     | not found: no verdict         |
func ipinfoVerdict(s *IPinfoSummary) Assessment {
	as := strings.TrimSpace(s.ASN + " " + s.ASName)
	if as == "" {
		as = "no ASN"
	}
	where := s.CountryCode
	if where == "" {
		where = s.Country
	}
	if where == "" {
		where = "country unknown"
	}
	return Assessment{Level: indicator.Unknown, Score: 0, Reason: as + ", " + where}
}

// ipinfoLink is IPinfo's page of an address.
func ipinfoLink(ind indicator.Indicator) string {
	return "https://ipinfo.io/" + url.PathEscape(ind.Value)
}

// Context is the address's AS, AS holder and country.
func (s IPinfoSummary) Context() Context {
	return Context{ASN: asNumber(s.ASN), ASOwner: s.ASName, Country: strings.ToUpper(s.CountryCode)}
}
