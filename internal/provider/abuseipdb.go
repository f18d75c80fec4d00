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

// abuseIPDBMaxAgeDays is the report window asked for; the verdict reasons
// quote it.
const abuseIPDBMaxAgeDays = 90

func init() {
	Register(Descriptor{
		Name:        "abuseipdb",
		Title:       "AbuseIPDB",
		Source:      "AbuseIPDB",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6},
		Key:         KeyRequired,
		BaseURL:     "https://api.abuseipdb.com/api/v2",
		Rate:        Rate{Events: 1000, Per: 24 * time.Hour},
		CacheTTL:    12 * time.Hour,
		NotFoundTTL: time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "API key required (free Individual plan): 1,000 checks/day; quota in X-RateLimit-* headers",
		Summary:     AbuseIPDBSummary{},
		Link:        abuseIPDBLink,
		Tags:        []string{"reputation"},
		Description: "Crowd-sourced abuse reports on IP addresses with a 0–100 abuse confidence score.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "a commercial service queried under your account and its terms (API key); it sees each address asked about",
		VerdictRules: []string{
			"abuse confidence score ≥ 75: MALICIOUS, score = the confidence score",
			"confidence score 25–74: SUSPICIOUS",
			"confidence score below 25 (reports or none): BENIGN; a whitelisted address or Tor exit is named in the reason",
		},
		New: newAbuseIPDB,
	})
}

// AbuseIPDBSummary is what an analyst reads first in an AbuseIPDB check.
type AbuseIPDBSummary struct {
	IPAddress            string    `json:"ipAddress"`
	AbuseConfidenceScore int       `json:"abuseConfidenceScore"`
	TotalReports         int       `json:"totalReports"`
	NumDistinctUsers     int       `json:"numDistinctUsers"`
	LastReportedAt       time.Time `json:"lastReportedAt,omitzero"`
	IsPublic             bool      `json:"isPublic"`
	IsWhitelisted        bool      `json:"isWhitelisted"`
	IsTor                bool      `json:"isTor"`
	CountryCode          string    `json:"countryCode,omitempty"`
	UsageType            string    `json:"usageType,omitempty"`
	ISP                  string    `json:"isp,omitempty"`
	Domain               string    `json:"domain,omitempty"`
	Hostnames            []string  `json:"hostnames,omitempty"`
}

type abuseIPDB struct{ Base }

func newAbuseIPDB(cfg Config) (Provider, error) {
	d, _ := Lookup("abuseipdb")
	return &abuseIPDB{NewBase(d, cfg)}, nil
}

type abuseIPDBCheck struct {
	Data *struct {
		IPAddress            string   `json:"ipAddress"`
		IsPublic             bool     `json:"isPublic"`
		IsWhitelisted        *bool    `json:"isWhitelisted"` // null for some addresses
		AbuseConfidenceScore int      `json:"abuseConfidenceScore"`
		CountryCode          string   `json:"countryCode"`
		UsageType            string   `json:"usageType"`
		ISP                  string   `json:"isp"`
		Domain               string   `json:"domain"`
		Hostnames            []string `json:"hostnames"`
		IsTor                bool     `json:"isTor"`
		TotalReports         int      `json:"totalReports"`
		NumDistinctUsers     int      `json:"numDistinctUsers"`
		LastReportedAt       *string  `json:"lastReportedAt"` // null when never reported
	} `json:"data"`
}

type abuseIPDBErrors struct {
	Errors []struct {
		Detail string `json:"detail"`
	} `json:"errors"`
}

// Lookup checks an IP address. An address nobody reported is a 200 with
// score 0: a found, clean result, not a not-found.
func (a *abuseIPDB) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !a.Configured() {
		return nil, a.NotConfigured()
	}
	if !ind.Kind.IsIP() {
		return nil, a.Fail(ErrBadInput, nil, fmt.Sprintf("kind %s is not served", ind.Kind))
	}
	q := url.Values{"ipAddress": {ind.Value}, "maxAgeInDays": {strconv.Itoa(abuseIPDBMaxAgeDays)}}
	req, err := a.NewRequest(ctx, http.MethodGet, a.URL("/check?"+q.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	a.setKeyHeader(req, "Key")
	resp, err := a.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		// /check answers every address; a 404 means a wrong base URL or path,
		// which must not be cached as "no data".
		return nil, a.Fail(ErrUpstream, resp, "endpoint not found; check the base URL")
	}
	if e := a.Classify(resp); e != nil {
		var body abuseIPDBErrors
		if json.Unmarshal(resp.Body, &body) == nil && len(body.Errors) > 0 && body.Errors[0].Detail != "" {
			e.Message = a.redact(abuseIPDBTrim(body.Errors[0].Detail))
		}
		return nil, e
	}
	var check abuseIPDBCheck
	if e := a.decode(resp, &check, "malformed JSON"); e != nil {
		return nil, e
	}
	if check.Data == nil {
		return nil, a.Fail(ErrUpstream, resp, "response has no data object")
	}
	d := check.Data
	sum := &AbuseIPDBSummary{
		IPAddress:            d.IPAddress,
		AbuseConfidenceScore: d.AbuseConfidenceScore,
		TotalReports:         d.TotalReports,
		NumDistinctUsers:     d.NumDistinctUsers,
		IsPublic:             d.IsPublic,
		IsWhitelisted:        d.IsWhitelisted != nil && *d.IsWhitelisted,
		IsTor:                d.IsTor,
		CountryCode:          d.CountryCode,
		UsageType:            d.UsageType,
		ISP:                  d.ISP,
		Domain:               d.Domain,
		Hostnames:            d.Hostnames,
	}
	if d.LastReportedAt != nil {
		sum.LastReportedAt = parseTime(*d.LastReportedAt, time.RFC3339)
	}
	if len(sum.Hostnames) == 0 {
		sum.Hostnames = nil
	}
	r := a.OK(resp, sum, abuseIPDBVerdict(sum))
	r.Quota = abuseIPDBQuota(resp.Header)
	return r, nil
}

func abuseIPDBTrim(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// abuseIPDBQuota reads X-RateLimit-Limit, -Remaining and -Reset (Unix
// seconds). Nil when the headers are absent.
func abuseIPDBQuota(h http.Header) *Quota {
	limit, errL := headerInt(h, "X-RateLimit-Limit")
	remaining, errR := headerInt(h, "X-RateLimit-Remaining")
	if errL != nil && errR != nil {
		return nil
	}
	q := &Quota{Limit: limit, Remaining: remaining}
	if sec, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
		q.Reset = unixTime(sec)
	}
	return q
}

// abuseIPDBVerdict maps the abuse confidence score (0–100, over the last 90
// days) to a verdict; the score is the confidence itself.
//
//	signal                         level       reason example
//	confidence ≥ 75                MALICIOUS   "AbuseIPDB confidence 100 (567 reports from 123 users in 90 days)"
//	confidence 25–74               SUSPICIOUS  "AbuseIPDB confidence 40 (12 reports from 5 users in 90 days)"
//	confidence 0–24 with reports   BENIGN      "AbuseIPDB confidence 0 (41 reports from 18 users in 90 days), whitelisted"
//	no reports in 90 days          BENIGN      "AbuseIPDB confidence 0, no reports in 90 days"
//
// ", Tor exit node" is added to the reason when AbuseIPDB says so; it does
// not change the level.
func abuseIPDBVerdict(s *AbuseIPDBSummary) Assessment {
	score := min(max(s.AbuseConfidenceScore, 0), 100)
	var reason string
	if s.TotalReports == 0 {
		reason = fmt.Sprintf("AbuseIPDB confidence %d, no reports in %d days", score, abuseIPDBMaxAgeDays)
	} else {
		reason = fmt.Sprintf("AbuseIPDB confidence %d (%d reports from %d users in %d days)", score, s.TotalReports, s.NumDistinctUsers, abuseIPDBMaxAgeDays)
	}
	if s.IsWhitelisted {
		reason += ", whitelisted"
	}
	if s.IsTor {
		reason += ", Tor exit node"
	}
	level := indicator.Benign
	switch {
	case score >= 75:
		level = indicator.Malicious
	case score >= 25:
		level = indicator.Suspicious
	}
	return Assessment{Level: level, Score: score, Reason: reason}
}

// abuseIPDBLink is AbuseIPDB's report page of an address.
func abuseIPDBLink(ind indicator.Indicator) string {
	return "https://www.abuseipdb.com/check/" + url.PathEscape(ind.Value)
}

// Context is the address's country and when it was last reported.
func (s AbuseIPDBSummary) Context() Context {
	return Context{Country: strings.ToUpper(s.CountryCode), LastSeen: s.LastReportedAt}
}
