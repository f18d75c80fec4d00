package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "greynoise",
		Title:       "GreyNoise Community",
		Source:      "GreyNoise",
		Kinds:       []indicator.Kind{indicator.IPv4},
		Key:         KeyOptional,
		BaseURL:     "https://api.greynoise.io",
		Rate:        Rate{Events: 100, Per: 24 * time.Hour},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "key optional: 100 lookups/day per source IP without a key; a free community account meters a small search allowance",
		Summary:     GreyNoiseSummary{},
		Link:        greyNoiseLink,
		Tags:        []string{"reputation"},
		Description: "Whether an IP address scans the internet (noise) or is a known business service (RIOT).",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account (or its keyless community tier) and GreyNoise's terms; it sees the address asked about",
		VerdictRules: []string{
			"classification malicious: MALICIOUS 85",
			"RIOT (a common business service): BENIGN 5",
			"classification benign: BENIGN 10",
			"classification suspicious (GreyNoise's class since 2025 for activity that is not clearly malicious): SUSPICIOUS 40",
			"noise, intent unknown: SUSPICIOUS 30",
			"anything else: UNKNOWN; not observed (404) is not found, no verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &greyNoise{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// greyNoise looks up IPv4 addresses in the GreyNoise Community API:
// GET /v3/community/{ip} with the optional header "key".
type greyNoise struct{ Base }

// GreyNoiseSummary is what an analyst reads first from GreyNoise.
type GreyNoiseSummary struct {
	IP             string    `json:"ip"`
	Noise          bool      `json:"noise"`                    // seen mass-scanning the internet
	RIOT           bool      `json:"riot"`                     // a common business service ("Rule It OuT")
	Classification string    `json:"classification,omitempty"` // benign, suspicious, malicious or unknown
	Name           string    `json:"name,omitempty"`           // e.g. "Cloudflare Public DNS"
	LastSeen       time.Time `json:"lastSeen,omitzero"`        // a day: GreyNoise sends "2023-02-18"
	Link           string    `json:"link,omitempty"`           // the GreyNoise Visualizer page
}

// greyNoiseBody is the community answer, including the 404, 400 and 429
// bodies, which share "message".
type greyNoiseBody struct {
	IP             string `json:"ip"`
	Noise          bool   `json:"noise"`
	RIOT           bool   `json:"riot"`
	Classification string `json:"classification"`
	Name           string `json:"name"`
	Link           string `json:"link"`
	LastSeen       string `json:"last_seen"`
	Message        string `json:"message"`
	Plan           string `json:"plan"`
	RateLimit      string `json:"rate-limit"`
}

func (g *greyNoise) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.IPv4 {
		return nil, g.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	req, err := g.NewRequest(ctx, http.MethodGet, g.URL("/v3/community/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	g.setKeyHeader(req, "key")
	resp, err := g.Do(req)
	if err != nil {
		return nil, err
	}
	var body greyNoiseBody
	jsonErr := g.decode(resp, &body, "malformed JSON answer")
	switch {
	case resp.Status == http.StatusNotFound:
		// "IP not observed scanning the internet or contained in RIOT data
		// set": the normal answer for a quiet address, not an error.
		return nil, g.Fail(ErrNotFound, resp, "")
	case resp.Status == http.StatusTooManyRequests:
		msg := ""
		if body.RateLimit != "" {
			msg = clipDetail(fmt.Sprintf("%s plan limit %s", body.Plan, body.RateLimit))
		}
		return nil, g.Fail(ErrRateLimited, resp, msg)
	case resp.Status == http.StatusBadRequest && body.Message != "":
		// e.g. "Request is not a valid routable IPv4 address".
		return nil, g.Fail(ErrBadInput, resp, clipDetail(body.Message))
	}
	if e := g.Classify(resp); e != nil {
		return nil, e
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	s := &GreyNoiseSummary{
		IP:             body.IP,
		Noise:          body.Noise,
		RIOT:           body.RIOT,
		Classification: body.Classification,
		Name:           body.Name,
		LastSeen:       parseTime(body.LastSeen, time.DateOnly),
		Link:           body.Link,
	}
	return g.OK(resp, s, greyNoiseVerdict(s)), nil
}

// greyNoiseVerdict maps a GreyNoise answer to a verdict. The first matching
// row wins:
//
//	signal                                  level       score  reason
//	classification "malicious"              MALICIOUS   85     GreyNoise classifies it malicious (scanning the internet)
//	riot true                               BENIGN      5      GreyNoise RIOT: Cloudflare Public DNS, a common business service
//	classification "benign"                 BENIGN      10     GreyNoise classifies it benign: Googlebot
//	classification "suspicious"             SUSPICIOUS  40     GreyNoise classifies it suspicious (scanning the internet)
//	noise true, classification unknown     SUSPICIOUS  30     GreyNoise saw it scanning the internet, intent unknown
//	anything else                           UNKNOWN     0      GreyNoise has no classification for it
//
// An unclassified scanner is SUSPICIOUS with a low score: it is not a clean
// address (it probes the whole internet), but GreyNoise has not attributed
// malicious intent, so it should raise attention without outweighing a
// provider that does. "Not observed" (404) is a not-found, not a verdict.
func greyNoiseVerdict(s *GreyNoiseSummary) Assessment {
	named := func(prefix string) string {
		if s.Name != "" {
			return prefix + ": " + s.Name
		}
		return prefix
	}
	switch {
	case s.Classification == "malicious":
		reason := "GreyNoise classifies it malicious"
		if s.Noise {
			reason += " (scanning the internet)"
		}
		return Assessment{Level: indicator.Malicious, Score: 85, Reason: reason}
	case s.RIOT:
		return Assessment{Level: indicator.Benign, Score: 5, Reason: named("GreyNoise RIOT") + ", a common business service"}
	case s.Classification == "benign":
		return Assessment{Level: indicator.Benign, Score: 10, Reason: named("GreyNoise classifies it benign")}
	case s.Classification == "suspicious":
		reason := "GreyNoise classifies it suspicious"
		if s.Noise {
			reason += " (scanning the internet)"
		}
		return Assessment{Level: indicator.Suspicious, Score: 40, Reason: reason}
	case s.Noise:
		return Assessment{Level: indicator.Suspicious, Score: 30, Reason: "GreyNoise saw it scanning the internet, intent unknown"}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: "GreyNoise has no classification for it"}
	}
}

// greyNoiseLink is the GreyNoise Visualizer page of an address.
func greyNoiseLink(ind indicator.Indicator) string {
	return "https://viz.greynoise.io/ip/" + url.PathEscape(ind.Value)
}

// Context is when GreyNoise last saw the address.
func (s GreyNoiseSummary) Context() Context {
	return Context{LastSeen: s.LastSeen}
}
