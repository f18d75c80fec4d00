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
		Name:        "pulsedive",
		Title:       "Pulsedive",
		Source:      "Pulsedive",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6, indicator.Domain, indicator.URL},
		Key:         KeyOptional,
		BaseURL:     "https://pulsedive.com/api",
		Rate:        Rate{Events: 30, Per: time.Minute},
		CacheTTL:    12 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     15 * time.Second,
		FreeTier:    "key optional; the free plan allows about 30 requests/minute and 1,000/day, anonymous calls less",
		Summary:     PulsediveSummary{},
		Tags:        []string{"reputation"},
		Description: "Pulsedive's risk for an IP address, domain or URL, with the threats and feeds that list it and its risk factors.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account (or anonymously) and its terms; information lookups only, no scan is submitted",
		VerdictRules: []string{
			"risk critical: MALICIOUS 90; high: MALICIOUS 75",
			"risk medium: SUSPICIOUS 50; low: SUSPICIOUS 30",
			"risk none: BENIGN 10",
			"risk unknown or retired: UNKNOWN; not in Pulsedive (404): not found, no verdict",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://pulsedive.com/indicator/?ioc=" + url.QueryEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &pulsedive{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// pulsedive asks Pulsedive: GET /info.php?indicator={value}[&key=KEY].
type pulsedive struct{ Base }

// PulsediveSummary is Pulsedive's view of an indicator.
type PulsediveSummary struct {
	Indicator   string    `json:"indicator"`
	Type        string    `json:"type"`
	Risk        string    `json:"risk"` // none, low, medium, high, critical, unknown
	Retired     bool      `json:"retired"`
	Threats     []string  `json:"threats"`     // e.g. "Zeus"
	Feeds       []string  `json:"feeds"`       // e.g. "Zeus Bad Domains (abuse.ch)"
	RiskFactors []string  `json:"riskFactors"` // e.g. "found in threat feeds"
	FirstSeen   time.Time `json:"firstSeen,omitzero"`
	LastSeen    time.Time `json:"lastSeen,omitzero"`
}

// Context gives the sighting dates and the threats as families.
func (s PulsediveSummary) Context() Context {
	return Context{FirstSeen: s.FirstSeen, LastSeen: s.LastSeen, MalwareFamilies: s.Threats}
}

type pulsediveBody struct {
	Indicator   string  `json:"indicator"`
	Type        string  `json:"type"`
	Risk        string  `json:"risk"`
	Retired     *string `json:"retired"`
	StampAdded  string  `json:"stamp_added"`
	StampSeen   string  `json:"stamp_seen"`
	RiskFactors []struct {
		Description string `json:"description"`
	} `json:"riskfactors"`
	Threats []struct {
		Name string `json:"name"`
	} `json:"threats"`
	Feeds []struct {
		Name         string `json:"name"`
		Organization string `json:"organization"`
	} `json:"feeds"`
	Error string `json:"error"`
}

func (p *pulsedive) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	switch ind.Kind {
	case indicator.IPv4, indicator.IPv6, indicator.Domain, indicator.URL:
	default:
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	q := url.Values{"indicator": {ind.Value}}
	if k := p.APIKey(); k != "" {
		q.Set("key", k)
	}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/info.php?"+q.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	var body pulsediveBody
	jsonErr := p.decode(resp, &body, "malformed JSON answer")
	if body.Error != "" {
		e := strings.ToLower(body.Error)
		switch {
		case strings.Contains(e, "not found"):
			return nil, p.Fail(ErrNotFound, resp, "")
		case strings.Contains(e, "rate limit"):
			return nil, p.Fail(ErrRateLimited, resp, clipDetail(body.Error))
		case strings.Contains(e, "api key"):
			return nil, p.Fail(ErrAuth, resp, "the provider refused the API key")
		}
	}
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	const stamp = "2006-01-02 15:04:05"
	s := &PulsediveSummary{Indicator: body.Indicator, Type: body.Type, Risk: body.Risk, Retired: body.Retired != nil && *body.Retired != "",
		FirstSeen: parseTime(body.StampAdded, stamp), LastSeen: parseTime(body.StampSeen, stamp)}
	threats, feeds, factors := newNameSet(20), newNameSet(20), newNameSet(20)
	for _, t := range body.Threats {
		threats.add(t.Name)
	}
	for _, f := range body.Feeds {
		name := f.Name
		if f.Organization != "" {
			name += " (" + f.Organization + ")"
		}
		feeds.add(name)
	}
	for _, r := range body.RiskFactors {
		factors.add(r.Description)
	}
	s.Threats, s.Feeds, s.RiskFactors = threats.list, feeds.list, factors.list
	return p.OK(resp, s, pulsediveVerdict(s)), nil
}

func pulsediveVerdict(s *PulsediveSummary) Assessment {
	reason := "Pulsedive risk " + s.Risk
	if len(s.Threats) > 0 {
		reason += ": " + strings.Join(s.Threats, ", ")
	} else if len(s.RiskFactors) > 0 {
		reason += ": " + strings.Join(s.RiskFactors[:min(2, len(s.RiskFactors))], ", ")
	}
	if s.Retired {
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: "Pulsedive: retired indicator (was " + s.Risk + ")"}
	}
	switch s.Risk {
	case "critical":
		return Assessment{Level: indicator.Malicious, Score: 90, Reason: reason}
	case "high":
		return Assessment{Level: indicator.Malicious, Score: 75, Reason: reason}
	case "medium":
		return Assessment{Level: indicator.Suspicious, Score: 50, Reason: reason}
	case "low":
		return Assessment{Level: indicator.Suspicious, Score: 30, Reason: reason}
	case "none":
		return Assessment{Level: indicator.Benign, Score: 10, Reason: reason}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason}
	}
}
