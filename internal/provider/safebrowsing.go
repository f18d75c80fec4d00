package provider

import (
	"bytes"
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
		Name:        "safebrowsing",
		Title:       "Google Safe Browsing / Web Risk",
		Source:      "GoogleSafeBrowsing",
		Kinds:       []indicator.Kind{indicator.URL, indicator.Domain},
		Key:         KeyRequired,
		BaseURL:     "https://safebrowsing.googleapis.com/v4",
		Rate:        Rate{Events: 10000, Per: 24 * time.Hour},
		CacheTTL:    30 * time.Minute, // lists change fast; Google's own cacheDuration is minutes
		NotFoundTTL: 30 * time.Minute,
		Timeout:     10 * time.Second,
		FreeTier: "key required (Google Cloud API key); Safe Browsing is free for non-commercial use only (10,000 lookups/day by default). " +
			"For commercial use set GADGET_SAFEBROWSING_BASE_URL=https://webrisk.googleapis.com/v1 to use the paid Web Risk API instead",
		Terms:       "Google Safe Browsing APIs are \"for non-commercial use only\"; commercial use goes through Web Risk, a paid Google Cloud API (https://developers.google.com/safe-browsing/v4#what-is-safe-browsing; https://cloud.google.com/web-risk/docs/overview).",
		Summary:     SafeBrowsingSummary{},
		Tags:        []string{"reputation"},
		Description: "Whether Google lists a URL (or a domain's home page) as malware, social engineering (phishing), unwanted software or a potentially harmful application.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "a Google API queried under your project and its terms (API key); it sees the URL or domain asked about",
		VerdictRules: []string{
			"MALWARE or SOCIAL_ENGINEERING match: MALICIOUS 90",
			"UNWANTED_SOFTWARE or POTENTIALLY_HARMFUL_APPLICATION match: SUSPICIOUS 60",
			"no match ({}): not found, no verdict (absence from Google's lists is no proof of safety)",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://transparencyreport.google.com/safe-browsing/search?url=" + url.QueryEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) {
		b := NewBase(d, cfg)
		// The commercial Web Risk API is chosen by its base URL
		// (https://webrisk.googleapis.com/v1): same key, other request.
		return &safeBrowsing{Base: b, webRisk: strings.HasSuffix(b.URL(""), "/v1")}, nil
	}
	Register(d)
}

// safeBrowsing asks Google Safe Browsing v4 (POST /threatMatches:find?key=)
// or, with a base URL ending in /v1, Web Risk (GET /uris:search?key=).
type safeBrowsing struct {
	Base
	webRisk bool
}

// SafeBrowsingSummary lists Google's matches for the value.
type SafeBrowsingSummary struct {
	API         string              `json:"api"`         // "safebrowsing" or "webrisk"
	ThreatTypes []string            `json:"threatTypes"` // e.g. MALWARE, SOCIAL_ENGINEERING
	Matches     []SafeBrowsingMatch `json:"matches"`
}

// SafeBrowsingMatch is one listed URL.
type SafeBrowsingMatch struct {
	ThreatType string `json:"threatType"`
	Platform   string `json:"platform,omitempty"`
	URL        string `json:"url,omitempty"`
}

var safeBrowsingThreats = []string{"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE", "POTENTIALLY_HARMFUL_APPLICATION"}

type safeBrowsingBody struct {
	Matches []struct {
		ThreatType   string `json:"threatType"`
		PlatformType string `json:"platformType"`
		Threat       struct {
			URL string `json:"url"`
		} `json:"threat"`
	} `json:"matches"`
	Threat *struct {
		ThreatTypes []string `json:"threatTypes"`
	} `json:"threat"`
	Error *struct {
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

// safeBrowsingURLs are the entries asked about: the URL, or a domain's
// home page over http and https (as the original asked for an address).
func safeBrowsingURLs(ind indicator.Indicator) []string {
	if ind.Kind == indicator.Domain {
		return []string{"http://" + ind.Value + "/", "https://" + ind.Value + "/"}
	}
	return []string{ind.Value}
}

func (p *safeBrowsing) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.URL && ind.Kind != indicator.Domain {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	if !p.Configured() {
		return nil, p.NotConfigured()
	}
	var req *http.Request
	var err error
	if p.webRisk {
		q := url.Values{"threatTypes": {"MALWARE", "SOCIAL_ENGINEERING", "UNWANTED_SOFTWARE"}, "uri": {safeBrowsingURLs(ind)[0]}, "key": {p.APIKey()}}
		req, err = p.NewRequest(ctx, http.MethodGet, p.URL("/uris:search?"+q.Encode()), nil, "")
	} else {
		entries := []map[string]string{}
		for _, u := range safeBrowsingURLs(ind) {
			entries = append(entries, map[string]string{"url": u})
		}
		body, _ := json.Marshal(map[string]any{
			"client": map[string]string{"clientId": "inspector-gadget", "clientVersion": "2"},
			"threatInfo": map[string]any{"threatTypes": safeBrowsingThreats, "platformTypes": []string{"ANY_PLATFORM"},
				"threatEntryTypes": []string{"URL"}, "threatEntries": entries},
		})
		req, err = p.NewRequest(ctx, http.MethodPost, p.URL("/threatMatches:find?key="+url.QueryEscape(p.APIKey())), bytes.NewReader(body), "")
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return nil, err
	}
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	var body safeBrowsingBody
	jsonErr := p.decode(resp, &body, "malformed JSON answer")
	if jsonErr == nil && body.Error != nil && resp.Status == http.StatusBadRequest {
		for _, d := range body.Error.Details {
			if d.Reason == "API_KEY_INVALID" {
				return nil, p.Fail(ErrAuth, resp, "API key not valid")
			}
		}
		return nil, p.Fail(ErrBadInput, resp, clipDetail(body.Error.Message))
	}
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	s := &SafeBrowsingSummary{API: "safebrowsing", ThreatTypes: []string{}, Matches: []SafeBrowsingMatch{}}
	types := newNameSet(8)
	for _, m := range body.Matches {
		s.Matches = append(s.Matches, SafeBrowsingMatch{ThreatType: m.ThreatType, Platform: m.PlatformType, URL: m.Threat.URL})
		types.add(m.ThreatType)
	}
	if p.webRisk {
		s.API = "webrisk"
		if body.Threat != nil {
			for _, t := range body.Threat.ThreatTypes {
				s.Matches = append(s.Matches, SafeBrowsingMatch{ThreatType: t, URL: safeBrowsingURLs(ind)[0]})
				types.add(t)
			}
		}
	}
	s.ThreatTypes = types.list
	if len(s.Matches) == 0 {
		return nil, p.Fail(ErrNotFound, resp, "") // {}: on no list
	}
	return p.OK(resp, s, safeBrowsingVerdict(s)), nil
}

func safeBrowsingVerdict(s *SafeBrowsingSummary) Assessment {
	name := map[string]string{"safebrowsing": "Google Safe Browsing", "webrisk": "Google Web Risk"}[s.API]
	reason := name + " lists it as " + strings.Join(s.ThreatTypes, ", ")
	for _, t := range s.ThreatTypes {
		if t == "MALWARE" || t == "SOCIAL_ENGINEERING" {
			return Assessment{Level: indicator.Malicious, Score: 90, Reason: reason}
		}
	}
	return Assessment{Level: indicator.Suspicious, Score: 60, Reason: reason}
}
