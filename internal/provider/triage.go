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
		Name:        "triage",
		Title:       "Hatching Triage (tria.ge)",
		Source:      "Triage",
		Kinds:       []indicator.Kind{indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:         KeyRequired,
		BaseURL:     "https://tria.ge/api/v0",
		Rate:        Rate{Events: 60, Per: time.Minute},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     20 * time.Second,
		FreeTier:    "key required (free researcher account on tria.ge); public samples only",
		Summary:     TriageSummary{},
		Tags:        []string{"reputation", "sandbox"},
		Description: "Public sandbox runs of a file at Hatching Triage: how many, the highest score (1–10), malware families and tags.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account and its terms (API key); it searches existing public runs, nothing is submitted",
		VerdictRules: []string{
			"highest task score 8–10: MALICIOUS, score × 10",
			"highest score 6–7: SUSPICIOUS, score × 10",
			"highest score 1–5: UNKNOWN (likely benign, but a sandbox run proves little)",
			"no scored task yet: UNKNOWN, context only",
			"no public sample ({\"data\":[]}): not found, no verdict",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://tria.ge/s?q=" + url.QueryEscape(string(ind.Kind)+":"+ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &triage{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// triage searches Hatching Triage: GET /search?query=<md5|sha1|sha256>:<h>
// with the key as a bearer token.
type triage struct{ Base }

// TriageSummary sums up the public analyses of a file.
type TriageSummary struct {
	Samples   int       `json:"samples"`  // public submissions of the file
	MaxScore  int       `json:"maxScore"` // highest task score, 1–10; 0 when none is scored
	Families  []string  `json:"families"` // from family:<name> tags
	Tags      []string  `json:"tags"`
	FileNames []string  `json:"fileNames"`
	Analyses  []string  `json:"analyses"` // sample ids, newest first as Triage lists them
	LastRun   time.Time `json:"lastRun,omitzero"`
}

// Context gives the families and tags.
func (s TriageSummary) Context() Context {
	return Context{MalwareFamilies: s.Families, Tags: s.Tags, LastSeen: s.LastRun}
}

type triageBody struct {
	Data []struct {
		ID        string `json:"id"`
		Filename  string `json:"filename"`
		Completed string `json:"completed"`
		Submitted string `json:"submitted"`
		Tasks     []struct {
			Score int      `json:"score"`
			Tags  []string `json:"tags"`
		} `json:"tasks"`
	} `json:"data"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

func (p *triage) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !ind.Kind.IsHash() {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	if !p.Configured() {
		return nil, p.NotConfigured()
	}
	q := url.Values{"query": {string(ind.Kind) + ":" + ind.Value}}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/search?"+q.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+p.APIKey())
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	var body triageBody
	jsonErr := p.decode(resp, &body, "malformed JSON answer")
	if resp.Status == http.StatusBadRequest && body.Message != "" {
		return nil, p.Fail(ErrBadInput, resp, clipDetail(body.Message))
	}
	if e := p.Classify(resp); e != nil {
		return nil, e
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	if len(body.Data) == 0 {
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	s := &TriageSummary{Samples: len(body.Data)}
	families, tags, names, ids := newNameSet(10), newNameSet(20), newNameSet(10), newNameSet(10)
	for _, d := range body.Data {
		ids.add(d.ID)
		names.add(d.Filename)
		if t := parseTime(d.Completed, time.RFC3339); t.After(s.LastRun) {
			s.LastRun = t
		}
		for _, task := range d.Tasks {
			s.MaxScore = max(s.MaxScore, min(10, task.Score))
			for _, tag := range task.Tags {
				if fam, ok := strings.CutPrefix(tag, "family:"); ok {
					families.add(fam)
				} else {
					tags.add(tag)
				}
			}
		}
	}
	s.Families, s.Tags, s.FileNames, s.Analyses = families.list, tags.list, names.list, ids.list
	return p.OK(resp, s, triageVerdict(s)), nil
}

func triageVerdict(s *TriageSummary) Assessment {
	reason := fmt.Sprintf("Triage: %d public analyses, highest score %d/10", s.Samples, s.MaxScore)
	if len(s.Families) > 0 {
		reason += " (" + strings.Join(s.Families, ", ") + ")"
	}
	switch {
	case s.MaxScore >= 8:
		return Assessment{Level: indicator.Malicious, Score: s.MaxScore * 10, Reason: reason}
	case s.MaxScore >= 6:
		return Assessment{Level: indicator.Suspicious, Score: s.MaxScore * 10, Reason: reason}
	case s.MaxScore == 0:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: fmt.Sprintf("Triage: %d public analyses, none scored yet", s.Samples)}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason + ", likely benign"}
	}
}
