package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "hybridanalysis",
		Title:       "Hybrid Analysis (Falcon Sandbox)",
		Source:      "HybridAnalysis",
		Kinds:       []indicator.Kind{indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:         KeyRequired,
		BaseURL:     "https://www.hybrid-analysis.com/api/v2",
		Rate:        Rate{Events: 5, Per: time.Minute},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     20 * time.Second,
		FreeTier:    "key required (free community account): 5 requests/minute, 200/hour",
		Terms:       "the free community API key is for non-commercial research use; commercial use needs CrowdStrike Falcon Sandbox (https://www.hybrid-analysis.com/terms).",
		Summary:     HybridAnalysisSummary{},
		Tags:        []string{"reputation", "sandbox"},
		Description: "What the Hybrid Analysis sandbox concluded when it ran a file: verdict, threat score, malware family and the hosts it contacted.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account and its terms (API key); it searches existing reports, nothing is submitted",
		VerdictRules: []string{
			"a report with verdict malicious: MALICIOUS, score max(70, threat score)",
			"a report with verdict suspicious: SUSPICIOUS 50",
			"verdict whitelisted: BENIGN 5",
			"no specific threat / no verdict: UNKNOWN (a sandbox run that found nothing is no proof)",
			"no report ([]): not found, no verdict",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://www.hybrid-analysis.com/search?query=" + url.QueryEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &hybridAnalysis{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// hybridAnalysis searches Hybrid Analysis: POST /search/hash (form hash=)
// with the header api-key; the API refuses clients without the
// "Falcon Sandbox" User-Agent.
type hybridAnalysis struct{ Base }

// HybridAnalysisSummary sums up the sandbox reports of a file.
type HybridAnalysisSummary struct {
	Reports     int       `json:"reports"`
	Verdict     string    `json:"verdict"`     // the worst verdict of the reports
	ThreatScore int       `json:"threatScore"` // the highest, 0–100
	Family      string    `json:"family,omitempty"`
	FileName    string    `json:"fileName,omitempty"`
	FileType    string    `json:"fileType,omitempty"`
	AVDetect    int       `json:"avDetect"` // percent of AV engines, as HA reports it
	Tags        []string  `json:"tags"`
	Hosts       []string  `json:"hosts"`   // contacted addresses
	Domains     []string  `json:"domains"` // contacted domains
	LastRun     time.Time `json:"lastRun,omitzero"`
}

// Context gives the malware family and tags.
func (s HybridAnalysisSummary) Context() Context {
	c := Context{Tags: s.Tags, LastSeen: s.LastRun}
	if s.Family != "" {
		c.MalwareFamilies = []string{s.Family}
	}
	return c
}

type hybridAnalysisReport struct {
	Verdict      string   `json:"verdict"`
	ThreatScore  *int     `json:"threat_score"`
	VxFamily     *string  `json:"vx_family"`
	SubmitName   string   `json:"submit_name"`
	Type         string   `json:"type"`
	AVDetect     *int     `json:"av_detect"`
	Tags         []string `json:"tags"`
	Classified   []string `json:"classification_tags"`
	Hosts        []string `json:"hosts"`
	Domains      []string `json:"domains"`
	AnalysisTime string   `json:"analysis_start_time"`
}

// hybridAnalysisRank orders verdicts from worst to best.
var hybridAnalysisRank = map[string]int{"malicious": 4, "suspicious": 3, "no specific threat": 2, "no verdict": 1, "whitelisted": 0}

func (h *hybridAnalysis) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !ind.Kind.IsHash() {
		return nil, h.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	if !h.Configured() {
		return nil, h.NotConfigured()
	}
	form := url.Values{"hash": {ind.Value}}
	req, err := h.NewRequest(ctx, http.MethodPost, h.URL("/search/hash"), strings.NewReader(form.Encode()), "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Falcon Sandbox") // required by the API
	h.setKeyHeader(req, "api-key")
	resp, err := h.Do(req)
	if err != nil {
		return nil, err
	}
	if e := h.Classify(resp); e != nil {
		return nil, e
	}
	var reports []hybridAnalysisReport
	if e := h.decode(resp, &reports, "malformed JSON answer"); e != nil {
		return nil, e
	}
	if len(reports) == 0 {
		return nil, h.Fail(ErrNotFound, resp, "")
	}
	sort.SliceStable(reports, func(i, j int) bool {
		return hybridAnalysisRank[reports[i].Verdict] > hybridAnalysisRank[reports[j].Verdict]
	})
	worst := reports[0]
	s := &HybridAnalysisSummary{Reports: len(reports), Verdict: worst.Verdict, FileName: worst.SubmitName, FileType: worst.Type}
	tags, hosts, domains := newNameSet(20), newNameSet(20), newNameSet(20)
	for _, r := range reports {
		if r.ThreatScore != nil {
			s.ThreatScore = max(s.ThreatScore, min(100, *r.ThreatScore))
		}
		if r.AVDetect != nil {
			s.AVDetect = max(s.AVDetect, *r.AVDetect)
		}
		if s.Family == "" && r.VxFamily != nil {
			s.Family = *r.VxFamily
		}
		tags.add(r.Tags...)
		tags.add(r.Classified...)
		hosts.add(r.Hosts...)
		domains.add(r.Domains...)
		if t := parseTime(r.AnalysisTime, time.RFC3339); t.After(s.LastRun) {
			s.LastRun = t
		}
	}
	s.Tags, s.Hosts, s.Domains = tags.list, hosts.list, domains.list
	return h.OK(resp, s, hybridAnalysisVerdict(s)), nil
}

func hybridAnalysisVerdict(s *HybridAnalysisSummary) Assessment {
	reason := fmt.Sprintf("Hybrid Analysis: %s (threat score %d", s.Verdict, s.ThreatScore)
	if s.Family != "" {
		reason += ", " + s.Family
	}
	reason += fmt.Sprintf(", %d reports)", s.Reports)
	switch s.Verdict {
	case "malicious":
		return Assessment{Level: indicator.Malicious, Score: max(70, s.ThreatScore), Reason: reason}
	case "suspicious":
		return Assessment{Level: indicator.Suspicious, Score: 50, Reason: reason}
	case "whitelisted":
		return Assessment{Level: indicator.Benign, Score: 5, Reason: reason}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason}
	}
}
