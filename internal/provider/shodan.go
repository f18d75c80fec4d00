package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	Register(Descriptor{
		Name:        "shodan",
		Title:       "Shodan",
		Source:      "Shodan",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6},
		Key:         KeyRequired,
		BaseURL:     "https://api.shodan.io",
		Rate:        Rate{Events: 1, Per: time.Second},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "API key with a paid Membership (one-time $49) required for host lookups, free keys get 403 (use internetdb instead); 1 request/s; host lookups use no query credits",
		Summary:     ShodanSummary{},
		Link:        shodanLink,
		Tags:        []string{"context"},
		Description: "The Shodan host record of an IP address: services, banners, tags and known CVEs.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "a commercial service queried under your account and its terms (API key); it sees the address asked about",
		VerdictRules: []string{
			"the same rules as internetdb: tag malware, c2, compromised or doublepulsar MALICIOUS 80; tor, proxy, vpn or scanner SUSPICIOUS 40; known CVEs SUSPICIOUS 30; otherwise UNKNOWN",
		},
		New: newShodan,
	})
}

// ShodanSummary is what an analyst reads first in a Shodan host record.
type ShodanSummary struct {
	IP          string    `json:"ip"`
	Org         string    `json:"org,omitempty"`
	ISP         string    `json:"isp,omitempty"`
	ASN         string    `json:"asn,omitempty"` // e.g. "AS13335"
	Country     string    `json:"country,omitempty"`
	CountryName string    `json:"countryName,omitempty"`
	City        string    `json:"city,omitempty"`
	OS          string    `json:"os,omitempty"`
	Ports       []int     `json:"ports"`
	Hostnames   []string  `json:"hostnames"`
	Domains     []string  `json:"domains,omitempty"`
	Vulns       []string  `json:"vulns"`
	Tags        []string  `json:"tags"`
	LastUpdate  time.Time `json:"lastUpdate,omitzero"`
}

type shodan struct{ Base }

func newShodan(cfg Config) (Provider, error) {
	d, _ := Lookup("shodan")
	return &shodan{NewBase(d, cfg)}, nil
}

type shodanHost struct {
	IPStr       string   `json:"ip_str"`
	Org         string   `json:"org"`
	ISP         string   `json:"isp"`
	ASN         string   `json:"asn"`
	CountryCode string   `json:"country_code"`
	CountryName string   `json:"country_name"`
	City        string   `json:"city"`
	OS          *string  `json:"os"`
	Ports       []int    `json:"ports"`
	Hostnames   []string `json:"hostnames"`
	Domains     []string `json:"domains"`
	Tags        []string `json:"tags"`
	// Vulns is a list of CVE ids on the host record; absent when empty.
	Vulns      []string `json:"vulns"`
	LastUpdate string   `json:"last_update"`
	// Data are the service banners; each may carry its own vulns, a map
	// from CVE id to details.
	Data []struct {
		Vulns map[string]json.RawMessage `json:"vulns"`
	} `json:"data"`
}

// shodanVulns merges the host's vulns list with the CVE ids of its
// banners, sorted and without duplicates.
func shodanVulns(h *shodanHost) []string {
	seen := map[string]bool{}
	out := []string{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, v := range h.Vulns {
		add(v)
	}
	for _, b := range h.Data {
		for id := range b.Vulns {
			add(id)
		}
	}
	sort.Strings(out)
	return out
}

type shodanError struct {
	Error string `json:"error"`
}

// shodanPaidMessage explains the 403 every free key gets for host lookups.
const shodanPaidMessage = "Shodan host lookups need a paid Membership; free API keys are refused (the keyless internetdb provider covers the basics)"

// Lookup fetches GET /shodan/host/{ip}?key=KEY. The key is in
// the query string: the URL is never put in an error or log (Base.Do drops
// it from transport errors).
func (s *shodan) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !s.Configured() {
		return nil, s.NotConfigured()
	}
	if !ind.Kind.IsIP() {
		return nil, s.Fail(ErrBadInput, nil, fmt.Sprintf("kind %s is not served", ind.Kind))
	}
	// No minify=true: the documentation says it keeps only "the list of
	// ports and the general host information, no banners", and the CVEs
	// the verdict relies on are found per banner (data[].vulns); the
	// top-level vulns list is read too. The 4 MiB body cap bounds the
	// banners.
	q := url.Values{"key": {s.APIKey()}}
	req, err := s.NewRequest(ctx, http.MethodGet, s.URL("/shodan/host/"+url.PathEscape(ind.Value)+"?"+q.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := s.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return nil, s.classify(resp)
	}
	var host shodanHost
	if e := s.decode(resp, &host, "malformed JSON"); e != nil {
		return nil, e
	}
	if host.IPStr == "" {
		var body shodanError
		if json.Unmarshal(resp.Body, &body) == nil && body.Error != "" {
			return nil, s.classifyText(resp, body.Error)
		}
		return nil, s.Fail(ErrUpstream, resp, "response has no ip_str")
	}
	sum := &ShodanSummary{
		IP:          host.IPStr,
		Org:         host.Org,
		ISP:         host.ISP,
		ASN:         host.ASN,
		Country:     host.CountryCode,
		CountryName: host.CountryName,
		City:        host.City,
		Ports:       orEmpty(host.Ports),
		Hostnames:   orEmpty(host.Hostnames),
		Domains:     host.Domains,
		Vulns:       shodanVulns(&host),
		Tags:        orEmpty(host.Tags),
	}
	if host.OS != nil {
		sum.OS = *host.OS
	}
	sum.LastUpdate = parseTime(host.LastUpdate, "2006-01-02T15:04:05.999999")
	return s.OK(resp, sum, shodanVerdict(sum)), nil
}

// classify maps Shodan's error statuses and {"error": "..."} texts.
func (s *shodan) classify(resp *Response) error {
	var body shodanError
	_ = json.Unmarshal(resp.Body, &body)
	switch resp.Status {
	case http.StatusNotFound:
		// {"error":"No information available for that IP."}: not indexed.
		return s.Fail(ErrNotFound, resp, "")
	case http.StatusUnauthorized:
		return s.Fail(ErrAuth, resp, "Shodan refused the API key")
	case http.StatusForbidden:
		return s.Fail(ErrAuth, resp, shodanPaidMessage)
	}
	if body.Error != "" && resp.Status != http.StatusTooManyRequests {
		return s.classifyText(resp, body.Error)
	}
	return s.Classify(resp)
}

// classifyText reads an error text that came with an unexpected status.
func (s *shodan) classifyText(resp *Response, text string) error {
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(lower, "rate limit"):
		return s.Fail(ErrRateLimited, resp, "Shodan allows 1 request/second")
	case strings.Contains(lower, "no information available"):
		return s.Fail(ErrNotFound, resp, "")
	case strings.Contains(lower, "access denied"), strings.Contains(lower, "membership"):
		return s.Fail(ErrAuth, resp, shodanPaidMessage)
	case strings.Contains(lower, "invalid api key"):
		return s.Fail(ErrAuth, resp, "Shodan refused the API key")
	}
	if e := s.Classify(resp); e != nil {
		return e
	}
	return s.Fail(ErrUpstream, resp, "unexpected error body")
}

// shodanVerdict judges the host record like InternetDB's (the same tags and
// CVE lists; see shodanExposureVerdict).
//
//	signal                                              level       score  reason example
//	tag malware, c2, compromised or doublepulsar        MALICIOUS   80     "Shodan tags it c2"
//	tag tor, proxy, vpn or scanner                      SUSPICIOUS  40     "Shodan tags it tor; 2 known vulnerabilities"
//	known vulnerabilities on exposed services           SUSPICIOUS  30     "Shodan lists 1 known vulnerability (CVE-2021-0000)"
//	anything else                                       UNKNOWN     0      "Shodan: 4 open ports (53, 80, 443, 8080), no risky tags or known vulnerabilities"
func shodanVerdict(s *ShodanSummary) Assessment {
	return shodanExposureVerdict("Shodan", s.Tags, s.Vulns, s.Ports)
}

// shodanLink is the Shodan host page of an address.
func shodanLink(ind indicator.Indicator) string {
	return "https://www.shodan.io/host/" + url.PathEscape(ind.Value)
}

// Context is the host record's AS, organisation, country, tags and the time
// Shodan last updated it.
func (s ShodanSummary) Context() Context {
	return Context{ASN: asNumber(s.ASN), ASOwner: s.Org, Country: strings.ToUpper(s.Country), Tags: s.Tags, LastSeen: s.LastUpdate}
}
