package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "spamhaus",
		Title:       "Spamhaus (ZEN and DBL via the Web Query Service)",
		Source:      "Spamhaus",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6, indicator.Domain},
		Key:         KeyRequired,
		BaseURL:     "https://apibl.spamhaus.net",
		Rate:        Rate{Events: 1000, Per: 24 * time.Hour},
		CacheTTL:    1 * time.Hour, // blocklists change by the minute
		NotFoundTTL: 1 * time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "key required (a free Data Query Service key for low-volume, non-commercial use; commercial use needs a subscription)",
		Terms:       "the free Data Query Service key is for low-volume, non-commercial use; commercial use, or more than the free query volume, needs a Spamhaus subscription (https://www.spamhaus.com/free-trial/free-data-query-service/).",
		Summary:     SpamhausSummary{},
		Tags:        []string{"reputation"},
		Description: "Whether Spamhaus lists an IP address (ZEN: SBL, CSS, XBL, DROP, PBL) or a domain (DBL) and on which list.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account and its terms (API key); it sees the address or domain asked about",
		VerdictRules: []string{
			"DBL malware, phishing or botnet C&C domain (codes 4, 5, 6): MALICIOUS 85",
			"SBL, DROP or XBL (exploited host) listing: MALICIOUS 70",
			"DBL spam domain or an abused legitimate domain (2, 102–106), or CSS: SUSPICIOUS 50",
			"PBL only (an end-user range that should not send mail): UNKNOWN, a policy listing",
			"not listed (404): not found, no verdict",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://check.spamhaus.org/results/?query=" + url.QueryEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &spamhaus{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// spamhaus asks the Spamhaus Web Query Service: GET /lookup/v1/ZEN/{ip} or
// /lookup/v1/DBL/{domain} with the DQS key as a bearer token.
type spamhaus struct{ Base }

// SpamhausSummary names the lists a value is on.
type SpamhausSummary struct {
	Dataset string   `json:"dataset"` // ZEN or DBL
	Codes   []int    `json:"codes"`   // return codes, e.g. 2 (SBL), 4 (XBL)
	Lists   []string `json:"lists"`   // what the codes mean, e.g. "SBL", "XBL (exploited host)"
}

// spamhausCodes are the documented ZEN and DBL return codes.
var spamhausCodes = map[string]map[int]string{
	"ZEN": {2: "SBL", 3: "SBL CSS", 4: "XBL (exploited host)", 5: "XBL (exploited host)", 6: "XBL (exploited host)",
		7: "XBL (exploited host)", 9: "DROP", 10: "PBL (ISP)", 11: "PBL (Spamhaus)"},
	"DBL": {2: "spam domain", 4: "phishing domain", 5: "malware domain", 6: "botnet C&C domain",
		102: "abused legit spam", 103: "abused spammed redirector", 104: "abused legit phish", 105: "abused legit malware", 106: "abused legit botnet C&C"},
}

type spamhausBody struct {
	Resp   []int `json:"resp"`
	Status int   `json:"status"`
}

func (p *spamhaus) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	dataset := "ZEN"
	switch ind.Kind {
	case indicator.IPv4, indicator.IPv6:
	case indicator.Domain:
		dataset = "DBL"
	default:
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	if !p.Configured() {
		return nil, p.NotConfigured()
	}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/lookup/v1/"+dataset+"/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.APIKey())
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	if e := p.Classify(resp); e != nil {
		return nil, e // 404: not listed
	}
	var body spamhausBody
	if e := p.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	if len(body.Resp) == 0 {
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	s := &SpamhausSummary{Dataset: dataset, Codes: body.Resp, Lists: []string{}}
	lists := newNameSet(10)
	for _, c := range body.Resp {
		if name, ok := spamhausCodes[dataset][c]; ok {
			lists.add(name)
		} else {
			lists.add(fmt.Sprintf("code %d", c))
		}
	}
	s.Lists = lists.list
	return p.OK(resp, s, spamhausVerdict(s)), nil
}

func spamhausVerdict(s *SpamhausSummary) Assessment {
	reason := "Spamhaus " + s.Dataset + ": " + strings.Join(s.Lists, ", ")
	has := func(codes ...int) bool {
		for _, c := range codes {
			if slices.Contains(s.Codes, c) {
				return true
			}
		}
		return false
	}
	switch {
	case s.Dataset == "DBL" && has(4, 5, 6):
		return Assessment{Level: indicator.Malicious, Score: 85, Reason: reason}
	case s.Dataset == "ZEN" && has(2, 4, 5, 6, 7, 9):
		return Assessment{Level: indicator.Malicious, Score: 70, Reason: reason}
	case s.Dataset == "DBL" || has(3):
		return Assessment{Level: indicator.Suspicious, Score: 50, Reason: reason}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason + ", a policy listing (not a reputation)"}
	}
}
