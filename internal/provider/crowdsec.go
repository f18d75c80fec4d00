package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "crowdsec",
		Title:       "CrowdSec CTI",
		Source:      "CrowdSec",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6},
		Key:         KeyRequired,
		BaseURL:     "https://cti.api.crowdsec.net/v2",
		Rate:        Rate{Events: 50, Per: 24 * time.Hour},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 12 * time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "key required (free community key from the CrowdSec console): 50 smoke lookups/day",
		Terms:       "the free community CTI key is limited to a small daily quota for individual, non-commercial use; commercial use needs a paid CTI plan (https://docs.crowdsec.net/u/cti_api/api_introduction).",
		Summary:     CrowdSecSummary{},
		Tags:        []string{"reputation"},
		Description: "What CrowdSec's crowd of sensors saw an IP address do (behaviours, attacked services, blocklist membership) and its reputation.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "a commercial service queried under your account and its terms (API key); it sees each address asked about",
		VerdictRules: []string{
			"reputation malicious, or on the CrowdSec community blocklist: MALICIOUS 80",
			"reputation suspicious: SUSPICIOUS 50",
			"reputation safe or known, or a known false positive (crawler, CDN, public DNS): BENIGN 10",
			"no reputation field, behaviours reported and an overall total score of 2 or more: SUSPICIOUS 35",
			"anything else: UNKNOWN; not seen by the network (404) is not found, no verdict",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://app.crowdsec.net/cti/" + url.PathEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &crowdSec{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// crowdSec asks the CrowdSec CTI smoke endpoint: GET /smoke/{ip} with the
// header x-api-key.
type crowdSec struct{ Base }

// CrowdSecSummary is what the CrowdSec network knows about an address.
type CrowdSecSummary struct {
	IP              string    `json:"ip"`
	Reputation      string    `json:"reputation,omitempty"` // malicious, suspicious, known, safe, unknown
	Confidence      string    `json:"confidence,omitempty"`
	Range           string    `json:"range,omitempty"`
	ASN             int       `json:"asn,omitempty"`
	ASName          string    `json:"asName,omitempty"`
	Country         string    `json:"country,omitempty"`
	ReverseDNS      string    `json:"reverseDns,omitempty"`
	Behaviors       []string  `json:"behaviors"`       // labels, e.g. "SSH Bruteforce"
	Classifications []string  `json:"classifications"` // labels, e.g. "CrowdSec Community Blocklist"
	FalsePositives  []string  `json:"falsePositives"`  // labels, e.g. "SEO crawler"
	Attacks         []string  `json:"attacks"`         // scenarios, e.g. "crowdsecurity/ssh-bf"
	NoiseScore      int       `json:"noiseScore"`      // background noise 0–10
	TotalScore      int       `json:"totalScore"`      // scores.overall.total 0–5
	FirstSeen       time.Time `json:"firstSeen,omitzero"`
	LastSeen        time.Time `json:"lastSeen,omitzero"`
	blocklisted     bool
}

// Context gives the address's AS, country, range and the sighting dates.
func (s CrowdSecSummary) Context() Context {
	return Context{ASN: s.ASN, ASOwner: s.ASName, Country: strings.ToUpper(s.Country), Network: s.Range,
		FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, Tags: s.Behaviors}
}

type crowdSecLabel struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

type crowdSecBody struct {
	IP         string  `json:"ip"`
	IPRange    string  `json:"ip_range"`
	ASName     string  `json:"as_name"`
	ASNum      int     `json:"as_num"`
	ReverseDNS *string `json:"reverse_dns"`
	Location   struct {
		Country *string `json:"country"`
	} `json:"location"`
	Reputation      string          `json:"reputation"`
	Confidence      string          `json:"confidence"`
	Behaviors       []crowdSecLabel `json:"behaviors"`
	Classifications struct {
		FalsePositives  []crowdSecLabel `json:"false_positives"`
		Classifications []crowdSecLabel `json:"classifications"`
	} `json:"classifications"`
	AttackDetails []crowdSecLabel `json:"attack_details"`
	History       struct {
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
	} `json:"history"`
	NoiseScore int `json:"background_noise_score"`
	Scores     struct {
		Overall struct {
			Total int `json:"total"`
		} `json:"overall"`
	} `json:"scores"`
	Message string `json:"message"`
}

func (c *crowdSec) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.IPv4 && ind.Kind != indicator.IPv6 {
		return nil, c.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	if !c.Configured() {
		return nil, c.NotConfigured()
	}
	req, err := c.NewRequest(ctx, http.MethodGet, c.URL("/smoke/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	c.setKeyHeader(req, "x-api-key")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	var body crowdSecBody
	jsonErr := c.decode(resp, &body, "malformed JSON answer")
	if resp.Status == http.StatusBadRequest && body.Message != "" {
		return nil, c.Fail(ErrBadInput, resp, clipDetail(body.Message))
	}
	if e := c.Classify(resp); e != nil {
		return nil, e // 404 "IP address information not found": never reported
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	labels := func(ls []crowdSecLabel) []string {
		out := newNameSet(20)
		for _, l := range ls {
			out.add(l.Label)
		}
		return out.list
	}
	s := &CrowdSecSummary{IP: body.IP, Reputation: body.Reputation, Confidence: body.Confidence, Range: body.IPRange,
		ASN: body.ASNum, ASName: body.ASName, Behaviors: labels(body.Behaviors),
		Classifications: labels(body.Classifications.Classifications), FalsePositives: labels(body.Classifications.FalsePositives),
		NoiseScore: body.NoiseScore, TotalScore: body.Scores.Overall.Total,
		FirstSeen: parseTime(body.History.FirstSeen, time.RFC3339), LastSeen: parseTime(body.History.LastSeen, time.RFC3339)}
	if body.ReverseDNS != nil {
		s.ReverseDNS = *body.ReverseDNS
	}
	if body.Location.Country != nil {
		s.Country = *body.Location.Country
	}
	attacks := newNameSet(20)
	for _, a := range body.AttackDetails {
		attacks.add(a.Name)
	}
	s.Attacks = attacks.list
	for _, cl := range body.Classifications.Classifications {
		s.blocklisted = s.blocklisted || cl.Name == "community-blocklist"
	}
	return c.OK(resp, s, crowdSecVerdict(s)), nil
}

// crowdSecVerdict follows CrowdSec's own reputation when the answer has
// one; older answers without it are judged by the reported behaviours.
func crowdSecVerdict(s *CrowdSecSummary) Assessment {
	did := ""
	if len(s.Behaviors) > 0 {
		did = ": " + strings.Join(s.Behaviors[:min(3, len(s.Behaviors))], ", ")
	}
	switch {
	case s.Reputation == "malicious" || s.blocklisted:
		reason := "CrowdSec reputation malicious"
		if s.blocklisted {
			reason = "CrowdSec community blocklist"
		}
		return Assessment{Level: indicator.Malicious, Score: 80, Reason: reason + did}
	case s.Reputation == "suspicious":
		return Assessment{Level: indicator.Suspicious, Score: 50, Reason: "CrowdSec reputation suspicious" + did}
	case s.Reputation == "safe" || s.Reputation == "known" || len(s.FalsePositives) > 0:
		reason := "CrowdSec reputation " + s.Reputation
		if len(s.FalsePositives) > 0 {
			reason = "CrowdSec known false positive: " + strings.Join(s.FalsePositives, ", ")
		}
		return Assessment{Level: indicator.Benign, Score: 10, Reason: reason}
	case s.Reputation == "" && len(s.Behaviors) > 0 && s.TotalScore >= 2:
		return Assessment{Level: indicator.Suspicious, Score: 35, Reason: fmt.Sprintf("CrowdSec sensors reported it (score %d/5)%s", s.TotalScore, did)}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: "CrowdSec has no reputation for it"}
	}
}
