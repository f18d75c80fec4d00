package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// urlscanPageSize is how many scans one search asks for (the documented
// example). The quota counts searches, not results, so a full page costs the
// same as one scan and gives a better first-seen date and tag picture.
const urlscanPageSize = 100

// urlscanMaxScans caps the scans listed in the summary.
const urlscanMaxScans = 10

func init() {
	d := Descriptor{
		Name:        "urlscan",
		Title:       "urlscan.io",
		Source:      "URLScan",
		Kinds:       []indicator.Kind{indicator.Domain, indicator.URL, indicator.IPv4},
		Key:         KeyOptional,
		BaseURL:     "https://urlscan.io/api/v1",
		Rate:        Rate{Events: 30, Per: time.Minute}, // the search quota's per-minute window
		CacheTTL:    6 * time.Hour,                      // new scans arrive all the time
		NotFoundTTL: time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "search works without a key; a free API-Key raises the quota (about 30 searches/m, with hourly and daily windows; only 200 answers count)",
		Summary:     URLScanSummary{},
		Tags:        []string{"reputation"},
		Description: "urlscan.io public scans of a domain, IP address or URL.",
		VerdictRules: []string{
			"returned scans tagged phish*, malware, malicious or scam: SUSPICIOUS 50 (tags are not vetted)",
			"scanned, nothing flagged: UNKNOWN",
			"total 0: not found, no verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) {
		return &urlscan{Base: NewBase(d, cfg)}, nil
	}
	Register(d)
}

// urlscan searches urlscan.io's public scan corpus.
type urlscan struct {
	Base
}

// URLScanSummary is what an analyst reads first about an urlscan search.
type URLScanSummary struct {
	Query   string `json:"query"`   // the search query sent
	Total   int    `json:"total"`   // scans matching the query
	HasMore bool   `json:"hasMore"` // more scans exist than were returned
	// FirstSeen is the oldest scan among those returned; when HasMore is
	// true older scans exist.
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	Tags      []string  `json:"tags"` // submitter tags over the returned scans, sorted
	// FlaggedScans counts returned scans whose submitter tags name a threat
	// (phishing, malware, malicious, scam); FlaggedTags lists those tags.
	FlaggedScans int           `json:"flaggedScans"`
	FlaggedTags  []string      `json:"flaggedTags"`
	Scans        []URLScanScan `json:"scans"` // most recent first, at most 10
}

// URLScanScan is one scan in an urlscan search result.
type URLScanScan struct {
	UUID       string    `json:"uuid"`
	Time       time.Time `json:"time,omitzero"`
	URL        string    `json:"url"`     // the submitted URL
	PageURL    string    `json:"pageUrl"` // the URL finally loaded
	Domain     string    `json:"domain"`
	IP         string    `json:"ip"`
	ASN        string    `json:"asn,omitempty"`
	Country    string    `json:"country"`
	Server     string    `json:"server"`
	Status     string    `json:"status"` // HTTP status of the page, as urlscan reports it
	Title      string    `json:"title"`
	Visibility string    `json:"visibility,omitempty"`
	Tags       []string  `json:"tags,omitempty"`
	Result     string    `json:"result"`    // API link to the full result
	ReportURL  string    `json:"reportUrl"` // human link to the report
	Screenshot string    `json:"screenshot"`
}

type urlscanResponse struct {
	Results []urlscanResult `json:"results"`
	Total   int             `json:"total"`
	HasMore bool            `json:"has_more"`
}

type urlscanResult struct {
	ID   string `json:"_id"`
	Task struct {
		UUID       string   `json:"uuid"`
		Time       string   `json:"time"`
		URL        string   `json:"url"`
		Visibility string   `json:"visibility"`
		Tags       []string `json:"tags"`
	} `json:"task"`
	Page struct {
		Domain  string `json:"domain"`
		IP      string `json:"ip"`
		ASN     string `json:"asn"`
		Country string `json:"country"`
		Server  string `json:"server"`
		Status  string `json:"status"`
		Title   string `json:"title"`
		URL     string `json:"url"`
	} `json:"page"`
	Result     string `json:"result"`
	Screenshot string `json:"screenshot"`
}

// urlscanQuery builds the search query for ind: domain:<d>, ip:"<ip>" or
// page.url:"<url>" (quoted, so ':' and '/' are not query syntax).
func urlscanQuery(ind indicator.Indicator) (string, bool) {
	switch ind.Kind {
	case indicator.Domain:
		return "domain:" + ind.Value, true
	case indicator.IPv4:
		return `ip:"` + ind.Value + `"`, true
	case indicator.URL:
		return `page.url:"` + urlscanQuote(ind.Value) + `"`, true
	}
	return "", false
}

// urlscanQuote escapes backslashes and double quotes for a quoted phrase.
func urlscanQuote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// Lookup sends GET /search/?q=<query>&size=100.
func (p *urlscan) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	q, ok := urlscanQuery(ind)
	if !ok {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("cannot look up %s indicators", ind.Kind))
	}
	params := url.Values{"q": {q}, "size": {strconv.Itoa(urlscanPageSize)}}
	req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/search/?"+params.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	p.setKeyHeader(req, "API-Key")
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	quota := urlscanQuota(resp.Header)
	if e := p.Classify(resp); e != nil {
		if e.Kind == ErrRateLimited && e.RetryAfter == 0 && quota != nil && !quota.Reset.IsZero() {
			if wait := time.Until(quota.Reset); wait > 0 {
				e.RetryAfter = wait.Round(time.Second)
			}
		}
		return nil, e
	}
	var body urlscanResponse
	if e := p.decode(resp, &body, "malformed JSON"); e != nil {
		return nil, e
	}
	if body.Total == 0 && len(body.Results) == 0 {
		return nil, p.Fail(ErrNotFound, resp, "")
	}
	sum := urlscanSummary(q, body)
	r := p.OK(resp, sum, urlscanVerdict(sum))
	r.Quota = quota
	return r, nil
}

// urlscanQuota reads X-Rate-Limit-Limit, -Remaining and -Reset (RFC 3339).
// It returns nil when the headers are absent.
func urlscanQuota(h http.Header) *Quota {
	limit, errL := headerInt(h, "X-Rate-Limit-Limit")
	remaining, errR := headerInt(h, "X-Rate-Limit-Remaining")
	if errL != nil || errR != nil {
		return nil
	}
	return &Quota{Limit: limit, Remaining: remaining, Reset: parseTime(strings.TrimSpace(h.Get("X-Rate-Limit-Reset")), time.RFC3339)}
}

func urlscanSummary(q string, body urlscanResponse) *URLScanSummary {
	s := &URLScanSummary{
		Query: q, Total: body.Total, HasMore: body.HasMore,
		Tags: []string{}, FlaggedTags: []string{}, Scans: []URLScanScan{},
	}
	if s.Total < len(body.Results) {
		s.Total = len(body.Results)
	}
	tags, flagged := map[string]bool{}, map[string]bool{}
	for _, r := range body.Results {
		t := parseTime(r.Task.Time, time.RFC3339)
		if !t.IsZero() {
			if s.FirstSeen.IsZero() || t.Before(s.FirstSeen) {
				s.FirstSeen = t
			}
			if t.After(s.LastSeen) {
				s.LastSeen = t
			}
		}
		alarm := false
		for _, tag := range r.Task.Tags {
			tags[tag] = true
			if urlscanAlarmTag(tag) {
				flagged[tag], alarm = true, true
			}
		}
		if alarm {
			s.FlaggedScans++
		}
		uuid := r.Task.UUID
		if uuid == "" {
			uuid = r.ID
		}
		scan := URLScanScan{
			UUID: uuid, Time: t, URL: r.Task.URL, PageURL: r.Page.URL,
			Domain: r.Page.Domain, IP: r.Page.IP, ASN: r.Page.ASN, Country: r.Page.Country,
			Server: r.Page.Server, Status: r.Page.Status, Title: r.Page.Title,
			Visibility: r.Task.Visibility, Tags: r.Task.Tags,
			Result: r.Result, Screenshot: r.Screenshot,
		}
		if uuid != "" {
			scan.ReportURL = "https://urlscan.io/result/" + url.PathEscape(uuid) + "/"
		}
		s.Scans = append(s.Scans, scan)
	}
	for tag := range tags {
		s.Tags = append(s.Tags, tag)
	}
	sort.Strings(s.Tags)
	for tag := range flagged {
		s.FlaggedTags = append(s.FlaggedTags, tag)
	}
	sort.Strings(s.FlaggedTags)
	// urlscan sorts by time already; sort again so the summary does not
	// depend on it.
	sort.SliceStable(s.Scans, func(i, j int) bool { return s.Scans[i].Time.After(s.Scans[j].Time) })
	if len(s.Scans) > urlscanMaxScans {
		s.Scans = s.Scans[:urlscanMaxScans]
	}
	return s
}

// urlscanAlarmWords are words that, inside a submitter's tag, mark a scan
// as reported bad (e.g. "phishing", "microsoft-phishing", "malware").
var urlscanAlarmWords = []string{"phish", "malware", "malicious", "scam"}

// urlscanAlarmTag reports whether a submitter tag names a threat.
func urlscanAlarmTag(tag string) bool {
	low := strings.ToLower(tag)
	for _, w := range urlscanAlarmWords {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

// urlscanVerdict maps an urlscan search to a verdict. Search results carry no
// urlscan verdict (that needs a per-scan result fetch), so being scanned is
// context, not evidence. Tags are set by whoever submitted a scan and are not
// vetted, so they raise the level to SUSPICIOUS at most:
//
//	| signal                                                  | level      | score | reason example                               |
//	|---------------------------------------------------------|------------|-------|----------------------------------------------|
//	| total > 0, no returned scan tagged as a threat          | UNKNOWN    | 0     | "seen in 12 urlscan scans"                   |
//	| returned scans tagged phish*/malware/malicious/scam     | SUSPICIOUS | 50    | "seen in 12 urlscan scans; 3 tagged phishing" |
//	| total 0                                                 | —          | —     | not found: no verdict from this provider     |
func urlscanVerdict(s *URLScanSummary) Assessment {
	seen := fmt.Sprintf("seen in %d urlscan scans", s.Total)
	switch {
	case s.HasMore:
		seen = fmt.Sprintf("seen in %d+ urlscan scans", s.Total)
	case s.Total == 1:
		seen = "seen in 1 urlscan scan"
	}
	if s.FlaggedScans == 0 {
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: seen}
	}
	return Assessment{
		Level:  indicator.Suspicious,
		Score:  50,
		Reason: fmt.Sprintf("%s; %d tagged %s", seen, s.FlaggedScans, strings.Join(s.FlaggedTags, ", ")),
	}
}
