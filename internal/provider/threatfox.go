package provider

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "threatfox",
		Title:       "ThreatFox (abuse.ch)",
		Source:      "ThreatFox",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.Domain, indicator.URL, indicator.MD5, indicator.SHA256},
		Key:         KeyRequired,
		BaseURL:     "https://threatfox-api.abuse.ch/api/v1",
		Rate:        Rate{Events: 60, Per: time.Minute},
		CacheTTL:    6 * time.Hour,
		NotFoundTTL: time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "free abuse.ch Auth-Key required (auth.abuse.ch); fair use, no published limit (default 60/m); IOCs older than 6 months expire from the API",
		Terms:       "the abuse.ch community API is free under fair use; abuse.ch points commercial and for-profit users to its commercial API, run with Spamhaus (https://abuse.ch/; https://github.com/elastic/integrations/pull/20134).",
		Summary:     ThreatFoxSummary{},
		Link:        threatFoxLink,
		Tags:        []string{"reputation"},
		Description: "abuse.ch ThreatFox: IOCs (C2 addresses, domains, URLs, hashes) reported as malicious.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "abuse.ch, queried under your Auth-Key and its terms; it sees the value asked about, nothing is submitted",
		VerdictRules: []string{
			"search_ioc for every kind; only records that are the value itself count (an IP's ip:port records, the domain, URL or hash IOC)",
			"highest confidence ≥ 75: MALICIOUS, score = the confidence",
			"highest confidence below 75: SUSPICIOUS, score = the confidence (at least 25)",
			"no_result: not found, no verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &threatFox{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// threatFox searches ThreatFox IOCs with a JSON POST to the API root ("/")
// and the header Auth-Key.
type threatFox struct{ Base }

// ThreatFoxSummary is what an analyst reads first from ThreatFox.
type ThreatFoxSummary struct {
	Matches       int            `json:"matches"`       // IOC records that match (for an IP: its ip:port records)
	MaxConfidence int            `json:"maxConfidence"` // highest confidence_level among them, 0–100
	Malware       []string       `json:"malware"`       // distinct malware families, e.g. "Emotet"
	IOCs          []ThreatFoxIOC `json:"iocs"`          // the first few, most confident first
}

// ThreatFoxIOC is one ThreatFox IOC record.
type ThreatFoxIOC struct {
	ID              int64     `json:"id"`
	IOC             string    `json:"ioc"`               // e.g. "198.51.100.23:8000"
	IOCType         string    `json:"iocType"`           // ip:port, domain, url, md5_hash, sha256_hash, …
	ThreatType      string    `json:"threatType"`        // e.g. botnet_cc, payload_delivery
	Malware         string    `json:"malware,omitempty"` // malware_printable, e.g. "Emotet"
	ConfidenceLevel int       `json:"confidenceLevel"`   // 0–100
	FirstSeen       time.Time `json:"firstSeen,omitzero"`
	LastSeen        time.Time `json:"lastSeen,omitzero"`
	Tags            []string  `json:"tags"`
	Reporter        string    `json:"reporter,omitempty"`
	Reference       string    `json:"reference,omitempty"`
}

// threatFoxMaxIOCs caps the IOC list in a summary.
const threatFoxMaxIOCs = 10

type threatFoxBody struct {
	Data []struct {
		ID               abuseCHInt `json:"id"`
		IOC              string     `json:"ioc"`
		IOCType          string     `json:"ioc_type"`
		ThreatType       string     `json:"threat_type"`
		MalwarePrintable string     `json:"malware_printable"`
		ConfidenceLevel  abuseCHInt `json:"confidence_level"`
		FirstSeen        string     `json:"first_seen"`
		LastSeen         string     `json:"last_seen"`
		Tags             []string   `json:"tags"`
		Reporter         string     `json:"reporter"`
		Reference        string     `json:"reference"`
	} `json:"data"`
}

// threatFoxQuery builds the JSON body for ind: search_ioc for every kind,
// as abuse.ch's own script (threatfox_search_ioc.py: "URL, domain, file
// hash") and IntelOwl do. search_hash would answer a different question (the
// C2s a sample talks to), and miss a hash listed as an IOC itself.
//
// Domains, URLs and hashes are searched with exact_match. IPs are stored only
// as ip:port IOCs, which an exact search for the bare address never finds, so
// an IPv4 search leaves exact_match out (a substring search). Lookup keeps
// only the records that are the value (threatFoxMatches).
func threatFoxQuery(ind indicator.Indicator) (any, bool) {
	type searchIOC struct {
		Query      string `json:"query"`
		SearchTerm string `json:"search_term"`
		ExactMatch *bool  `json:"exact_match,omitempty"`
	}
	exact := true
	switch ind.Kind {
	case indicator.IPv4:
		return searchIOC{Query: "search_ioc", SearchTerm: ind.Value}, true
	case indicator.Domain, indicator.URL, indicator.MD5, indicator.SHA256:
		return searchIOC{Query: "search_ioc", SearchTerm: ind.Value, ExactMatch: &exact}, true
	}
	return nil, false
}

// threatFoxMatches reports whether an IOC record is the looked-up value, so
// an answer is never taken on trust (exact_match is not in abuse.ch's
// documentation): an IP must be one of its ip:port records, a domain the
// domain IOC itself (case-insensitive), a URL the URL IOC itself, a hash an
// md5_hash or sha256_hash IOC with that value.
func threatFoxMatches(ind indicator.Indicator, ioc, iocType string) bool {
	switch ind.Kind {
	case indicator.IPv4:
		return iocType == "ip:port" && strings.HasPrefix(ioc, ind.Value+":")
	case indicator.Domain:
		return iocType == "domain" && strings.EqualFold(strings.TrimSuffix(ioc, "."), ind.Value)
	case indicator.URL:
		return iocType == "url" && (ioc == ind.Value || sameURL(ioc, ind.Value))
	case indicator.MD5:
		return iocType == "md5_hash" && strings.EqualFold(ioc, ind.Value)
	case indicator.SHA256:
		return iocType == "sha256_hash" && strings.EqualFold(ioc, ind.Value)
	}
	return false
}

func (f *threatFox) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !f.Configured() {
		return nil, f.NotConfigured()
	}
	q, ok := threatFoxQuery(ind)
	if !ok {
		return nil, f.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	payload, err := json.Marshal(q)
	if err != nil {
		return nil, f.Fail(ErrBadInput, nil, "cannot encode the query")
	}
	resp, err := abuseCHPost(ctx, &f.Base, "/", "application/json", bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	var body threatFoxBody
	if e := f.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	s := &ThreatFoxSummary{Malware: []string{}, IOCs: []ThreatFoxIOC{}}
	malware := newNameSet(threatFoxMaxIOCs)
	for _, d := range body.Data {
		if !threatFoxMatches(ind, d.IOC, d.IOCType) {
			continue
		}
		s.Matches++
		s.MaxConfidence = max(s.MaxConfidence, int(d.ConfidenceLevel))
		malware.add(d.MalwarePrintable)
		s.IOCs = append(s.IOCs, ThreatFoxIOC{
			ID: int64(d.ID), IOC: d.IOC, IOCType: d.IOCType, ThreatType: d.ThreatType, Malware: d.MalwarePrintable,
			ConfidenceLevel: int(d.ConfidenceLevel), FirstSeen: abuseCHTime(d.FirstSeen), LastSeen: abuseCHTime(d.LastSeen),
			Tags: orEmpty(d.Tags), Reporter: d.Reporter, Reference: d.Reference,
		})
	}
	if s.Matches == 0 {
		msg := ""
		switch {
		case ind.Kind == indicator.IPv4:
			msg = "no ip:port IOC for this address"
		case len(body.Data) > 0:
			msg = fmt.Sprintf("none of the %d records returned is this %s", len(body.Data), ind.Kind)
		}
		return nil, f.Fail(ErrNotFound, resp, msg)
	}
	// Most confident first; the search's own order (newest first) breaks ties.
	slices.SortStableFunc(s.IOCs, func(a, b ThreatFoxIOC) int { return cmp.Compare(b.ConfidenceLevel, a.ConfidenceLevel) })
	s.IOCs = s.IOCs[:min(len(s.IOCs), threatFoxMaxIOCs)]
	s.Malware = malware.list
	return f.OK(resp, s, threatFoxVerdict(s)), nil
}

// threatFoxVerdict maps ThreatFox matches to a verdict by the highest
// confidence_level among them:
//
//	signal                        level       score                   reason
//	max confidence ≥ 75           MALICIOUS   the confidence          ThreatFox: Emotet payload_delivery IOC, confidence 90
//	max confidence < 75           SUSPICIOUS  the confidence, ≥ 25    ThreatFox: Cobalt Strike botnet_cc IOC, confidence 50 (3 records)
//
// ThreatFox only holds IOCs someone reported as malicious, so any match is at
// least SUSPICIOUS; reporters grade their confidence (typically 50, 75 or
// 100), and below 75 the reporter was unsure. no_result (or, for an IP, no
// ip:port record of that address) is a not-found, not a verdict.
func threatFoxVerdict(s *ThreatFoxSummary) Assessment {
	top := s.IOCs[0] // Lookup never builds a summary without matches
	what := top.ThreatType
	if top.Malware != "" {
		what = top.Malware + " " + what
	}
	reason := fmt.Sprintf("ThreatFox: %s IOC, confidence %d", strings.TrimSpace(what), s.MaxConfidence)
	if s.Matches > 1 {
		reason += fmt.Sprintf(" (%d records)", s.Matches)
	}
	if s.MaxConfidence >= 75 {
		return Assessment{Level: indicator.Malicious, Score: min(s.MaxConfidence, 100), Reason: reason}
	}
	return Assessment{Level: indicator.Suspicious, Score: max(s.MaxConfidence, 25), Reason: reason}
}

// threatFoxLink is ThreatFox's IOC search for the value.
func threatFoxLink(ind indicator.Indicator) string {
	return "https://threatfox.abuse.ch/browse.php?search=" + url.QueryEscape("ioc:"+ind.Value)
}

// Context is the first and last sighting over the matching IOCs, their
// malware families and tags.
func (s ThreatFoxSummary) Context() Context {
	c := Context{MalwareFamilies: s.Malware}
	tags := newNameSet(threatFoxMaxIOCs)
	for _, x := range s.IOCs {
		if !x.FirstSeen.IsZero() && (c.FirstSeen.IsZero() || x.FirstSeen.Before(c.FirstSeen)) {
			c.FirstSeen = x.FirstSeen
		}
		if x.LastSeen.After(c.LastSeen) {
			c.LastSeen = x.LastSeen
		}
		tags.add(x.Tags...)
	}
	c.Tags = tags.list
	return c
}
