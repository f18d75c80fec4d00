package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "otx",
		Title:       "AlienVault OTX",
		Source:      "AlienVaultOTX",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6, indicator.Domain, indicator.URL, indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:         KeyOptional,
		BaseURL:     "https://otx.alienvault.com/api/v1",
		Rate:        Rate{Events: 30, Per: time.Minute},
		CacheTTL:    12 * time.Hour,
		NotFoundTTL: time.Hour,
		Timeout:     25 * time.Second,
		FreeTier:    "free key strongly recommended: since late 2025 OTX refuses anonymous calls on some endpoints (\"Anonymous access to this endpoint is limited\"), which is then reported as such; limits unpublished, 429 reported after sustained polling; slow (25 s timeout)",
		Summary:     OTXSummary{},
		Link:        otxLink,
		Tags:        []string{"reputation"},
		Description: "AlienVault OTX community pulses that mention an indicator, and OTX's own validations.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your OTX account (or anonymously) and its terms; it reads pulses, nothing is published",
		VerdictRules: []string{
			"a registrable domain is asked as domain, a name under it (login.evil.example) as hostname",
			"a whitelist validation (whitelist, alexa, …): BENIGN 5",
			"no pulse mentions it: UNKNOWN",
			"≥ 3 pulses, or ≥ 1 pulse and a malware family: MALICIOUS 60+5 per pulse, at most 90",
			"1–2 pulses: SUSPICIOUS 30+10 per pulse",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &otx{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// otx reads the "general" section of an OTX indicator:
// GET /indicators/{IPv4|IPv6|domain|hostname|url|file}/{value}/general with
// the optional header X-OTX-API-KEY.
type otx struct{ Base }

// OTXSummary is what an analyst reads first from AlienVault OTX.
type OTXSummary struct {
	Indicator       string          `json:"indicator"`
	Type            string          `json:"type,omitempty"` // e.g. "IPv4", "domain", "FileHash-SHA256"
	PulseCount      int             `json:"pulseCount"`     // community reports (pulses) that contain it
	Pulses          []string        `json:"pulses"`         // names of the first few pulses
	Tags            []string        `json:"tags"`           // distinct pulse tags
	MalwareFamilies []string        `json:"malwareFamilies"`
	Adversaries     []string        `json:"adversaries"`
	Reputation      int             `json:"reputation"`
	CountryCode     string          `json:"countryCode,omitempty"`
	CountryName     string          `json:"countryName,omitempty"`
	ASN             string          `json:"asn,omitempty"` // e.g. "AS15169 google llc"
	Whitelisted     bool            `json:"whitelisted"`   // OTX validation lists it as known-good
	Validation      []OTXValidation `json:"validation"`
}

// OTXValidation is one OTX validation entry, e.g. a whitelist hit.
type OTXValidation struct {
	Source  string `json:"source"`  // e.g. "whitelist", "alexa", "akamai", "false_positive"
	Name    string `json:"name"`    // e.g. "Whitelisted IP"
	Message string `json:"message"` // e.g. "contained in whitelisted prefix"
}

// otxWhitelistSources are the validation sources that mean "known good":
// OTX's whitelists, popularity rankings and confirmed false positives.
var otxWhitelistSources = map[string]bool{
	"whitelist": true, "alexa": true, "majestic": true, "akamai": true, "false_positive": true,
}

// otxWhitelist returns the label of the first validation entry that marks
// the indicator as known good.
func otxWhitelist(vs []OTXValidation) (label string, ok bool) {
	for _, v := range vs {
		if otxWhitelistSources[v.Source] || strings.Contains(v.Source, "whitelist") {
			if v.Name != "" {
				return v.Name, true
			}
			return v.Source, true
		}
	}
	return "", false
}

// How many pulse names, tags, families and adversaries the summary keeps.
const (
	otxMaxPulses = 5
	otxMaxNames  = 10
)

type otxBody struct {
	Indicator   string          `json:"indicator"`
	Type        string          `json:"type"`
	Reputation  int             `json:"reputation"`
	ASN         string          `json:"asn"`
	CountryCode string          `json:"country_code"`
	CountryName string          `json:"country_name"`
	Validation  []OTXValidation `json:"validation"`
	PulseInfo   struct {
		Count  int `json:"count"`
		Pulses []struct {
			Name            string    `json:"name"`
			Tags            []string  `json:"tags"`
			MalwareFamilies []otxName `json:"malware_families"`
			Adversary       otxName   `json:"adversary"`
		} `json:"pulses"`
		Related map[string]struct {
			Adversary       []otxName `json:"adversary"`
			MalwareFamilies []otxName `json:"malware_families"`
		} `json:"related"`
	} `json:"pulse_info"`
}

// otxName reads a name OTX writes either as a string or as an object with
// display_name (pulse malware families) or name.
type otxName string

func (n *otxName) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*n = otxName(s)
		return nil
	}
	var o struct {
		DisplayName string `json:"display_name"`
		Name        string `json:"name"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*n = otxName(o.DisplayName)
	if o.DisplayName == "" {
		*n = otxName(o.Name)
	}
	return nil
}

// otxPath returns the escaped path of the general section for ind.
func otxPath(ind indicator.Indicator) (string, bool) {
	var section string
	switch {
	case ind.Kind == indicator.IPv4:
		section = "IPv4"
	case ind.Kind == indicator.IPv6:
		section = "IPv6"
	case ind.Kind == indicator.Domain:
		section = otxDomainSection(ind.Value)
	case ind.Kind == indicator.URL:
		section = "url"
	case ind.Kind.IsHash():
		section = "file"
	default:
		return "", false
	}
	return "/indicators/" + section + "/" + url.PathEscape(ind.Value) + "/general", true
}

// otxDomainSection picks OTX's indicator type for a domain name. OTX keeps
// registrable domains ("domain") apart from the names under them
// ("hostname"), and pulses list a phishing host such as login.evil.example
// under hostname, so asking /domain/ for it misses them (the SDK's
// is_malicious example asks both). A name that is its own registrable domain
// (eTLD+1 by the public suffix list) is a domain; anything below it a
// hostname.
func otxDomainSection(name string) string {
	if apex, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil && apex != name {
		return "hostname"
	}
	return "domain"
}

// otxAnonymousLimited is the text OTX answers anonymous calls with where it
// no longer serves them (reported since October 2025).
const otxAnonymousLimited = "Anonymous access to this endpoint is limited"

func (o *otx) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	path, ok := otxPath(ind)
	if !ok {
		return nil, o.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	req, err := o.NewRequest(ctx, http.MethodGet, o.URL(path), nil, "")
	if err != nil {
		return nil, err
	}
	o.setKeyHeader(req, "X-OTX-API-KEY")
	resp, err := o.Do(req)
	if err != nil {
		return nil, err
	}
	// OTX has no in-band status: an unknown indicator is a 200 with
	// pulse_info.count 0 (a result without intel), a malformed one 400/404.
	if resp.Status >= 400 && strings.Contains(string(resp.Body), otxAnonymousLimited) {
		msg := "OTX refused the anonymous request (\"" + otxAnonymousLimited + "\"); configure GADGET_OTX_API_KEY (free at otx.alienvault.com)"
		if o.APIKey() != "" {
			msg = "OTX answered \"" + otxAnonymousLimited + "\" although an API key was sent; check the key"
		}
		return nil, o.Fail(ErrAuth, resp, msg)
	}
	if e := o.Classify(resp); e != nil {
		return nil, e
	}
	var body otxBody
	if e := o.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	s := otxSummarize(&body)
	return o.OK(resp, s, otxVerdict(s)), nil
}

func otxSummarize(b *otxBody) *OTXSummary {
	s := &OTXSummary{
		Indicator:   b.Indicator,
		Type:        b.Type,
		PulseCount:  b.PulseInfo.Count,
		Reputation:  b.Reputation,
		CountryCode: b.CountryCode,
		CountryName: b.CountryName,
		ASN:         b.ASN,
		Validation:  b.Validation,
	}
	_, s.Whitelisted = otxWhitelist(b.Validation)
	tags, families, adversaries := newNameSet(otxMaxNames), newNameSet(otxMaxNames), newNameSet(otxMaxNames)
	for _, p := range b.PulseInfo.Pulses {
		if len(s.Pulses) < otxMaxPulses && p.Name != "" {
			s.Pulses = append(s.Pulses, p.Name)
		}
		tags.add(p.Tags...)
		for _, f := range p.MalwareFamilies {
			families.add(string(f))
		}
		adversaries.add(string(p.Adversary))
	}
	// "alienvault" (curated) first, then the community's "other".
	for _, k := range []string{"alienvault", "other"} {
		r := b.PulseInfo.Related[k]
		for _, f := range r.MalwareFamilies {
			families.add(string(f))
		}
		for _, a := range r.Adversary {
			adversaries.add(string(a))
		}
	}
	s.Tags, s.MalwareFamilies, s.Adversaries = tags.list, families.list, adversaries.list
	s.Pulses, s.Validation = orEmpty(s.Pulses), orEmpty(s.Validation)
	return s
}

// otxVerdict maps an OTX answer to a verdict. The first matching row wins:
//
//	signal                                          level       score            reason
//	a whitelist validation (whitelist, alexa, …)    BENIGN      5                OTX validation: Whitelisted IP (2 pulses mention it)
//	pulse count 0                                   UNKNOWN     0                no OTX pulse mentions it
//	≥ 3 pulses, or ≥ 1 pulse and a malware family   MALICIOUS   60+5/pulse ≤ 90  6 OTX pulses mention it (malware: Emotet)
//	1–2 pulses                                      SUSPICIOUS  30+10/pulse      1 OTX pulse mentions it: "Example campaign"
//
// Validation wins over pulses on purpose: well-known infrastructure such as
// 8.8.8.8 sits in many pulses because malware talks to it, and OTX itself
// marks those indicators as validated. Pulses are community reports of
// uneven quality, so one or two alone are only SUSPICIOUS.
func otxVerdict(s *OTXSummary) Assessment {
	n := s.PulseCount
	mention := fmt.Sprintf("%d OTX pulses mention it", n)
	if n == 1 {
		mention = "1 OTX pulse mentions it"
	}
	switch {
	case s.Whitelisted:
		label, _ := otxWhitelist(s.Validation)
		reason := "OTX validation: " + label
		if n > 0 {
			reason += " (" + mention + ")"
		}
		return Assessment{Level: indicator.Benign, Score: 5, Reason: reason}
	case n <= 0:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: "no OTX pulse mentions it"}
	case n >= 3 || len(s.MalwareFamilies) > 0:
		reason := mention
		if len(s.MalwareFamilies) > 0 {
			reason += " (malware: " + strings.Join(s.MalwareFamilies[:min(3, len(s.MalwareFamilies))], ", ") + ")"
		}
		return Assessment{Level: indicator.Malicious, Score: min(60+5*n, 90), Reason: reason}
	default:
		reason := mention
		if len(s.Pulses) > 0 {
			reason += fmt.Sprintf(": %q", s.Pulses[0])
		}
		return Assessment{Level: indicator.Suspicious, Score: 30 + 10*n, Reason: reason}
	}
}

// otxLink is the OTX indicator page: /indicator/{ip|domain|hostname|url|file}/{value}.
func otxLink(ind indicator.Indicator) string {
	var section string
	switch {
	case ind.Kind.IsIP():
		section = "ip"
	case ind.Kind == indicator.Domain:
		section = otxDomainSection(ind.Value)
	case ind.Kind == indicator.URL:
		section = "url"
	case ind.Kind.IsHash():
		section = "file"
	default:
		return ""
	}
	return "https://otx.alienvault.com/indicator/" + section + "/" + url.PathEscape(ind.Value)
}

// Context is the AS ("AS15169 google llc"), country, pulse tags and malware
// families OTX reports.
func (s OTXSummary) Context() Context {
	c := Context{Country: strings.ToUpper(s.CountryCode), Tags: s.Tags, MalwareFamilies: s.MalwareFamilies}
	if num, owner, ok := strings.Cut(s.ASN, " "); ok {
		c.ASN, c.ASOwner = asNumber(num), owner
	} else {
		c.ASN = asNumber(s.ASN)
	}
	return c
}
