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
		Link:        urlscanLink,
		Tags:        []string{"reputation"},
		Description: "urlscan.io public scans of a domain, IP address or URL.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account (or anonymously) and its terms; it searches existing scans, nothing is submitted",
		VerdictRules: []string{
			"only scans of the looked-up host count: the page's own domain (or its www. form), a URL whose host is the address itself, or the URL as submitted or finally loaded; scans that merely loaded something from it are not asked for (page.domain, page.ip, page.url/task.url queries)",
			"urlscan's own verdict malicious on such a scan: MALICIOUS 70+5 per further malicious scan, at most 90 (for an IP address SUSPICIOUS 50)",
			"such a scan tagged by its submitter phishing, malware, malicious or scam (whole words, not handles such as @phishunt_io): SUSPICIOUS 40 (tags are not vetted)",
			"scanned, nothing flagged on the host: UNKNOWN",
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
	Total   int    `json:"total"`   // scans matching the query (exact up to 10,000)
	HasMore bool   `json:"hasMore"` // more than 10,000 scans match
	// FirstSeen is the oldest matching scan. It is set only when every
	// matching scan was returned (total ≤ 100); otherwise only the newest
	// 100 were read and OldestReturned is the oldest of those.
	FirstSeen      time.Time `json:"firstSeen,omitzero"`
	OldestReturned time.Time `json:"oldestReturned,omitzero"` // the oldest of the scans returned (the newest 100 at most)
	LastSeen       time.Time `json:"lastSeen,omitzero"`
	Tags           []string  `json:"tags"` // submitter tags over the returned scans, sorted
	// FlaggedScans counts returned scans of the looked-up host itself that
	// urlscan judged malicious or whose submitter tagged them as a threat
	// (phishing, malware, malicious, scam); FlaggedTags lists those tags.
	FlaggedScans int      `json:"flaggedScans"`
	FlaggedTags  []string `json:"flaggedTags"`
	// MaliciousScans counts returned scans of the looked-up host that
	// urlscan's own verdict calls malicious.
	MaliciousScans int `json:"maliciousScans"`
	// OffHostFlagged counts flagged scans that are not of the host itself
	// (another site on the same address, or a subdomain); they do not count
	// towards the verdict.
	OffHostFlagged int           `json:"offHostFlagged"`
	Scans          []URLScanScan `json:"scans"` // most recent first, at most 10
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
	Malicious  bool      `json:"malicious"` // urlscan's own verdict on this scan
	Score      int       `json:"score"`     // urlscan's verdict score, when given
	OnHost     bool      `json:"onHost"`    // a scan of the looked-up host itself
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
	Result     string          `json:"result"`
	Screenshot string          `json:"screenshot"`
	Verdicts   urlscanVerdicts `json:"verdicts"`
}

// urlscanVerdicts is urlscan's own verdict on a scan. Search results carry
// it flat ({"malicious":true,"score":100}); a full result carries it under
// "overall". Both are read.
type urlscanVerdicts struct {
	Malicious bool `json:"malicious"`
	Score     int  `json:"score"`
	Overall   struct {
		Malicious bool `json:"malicious"`
		Score     int  `json:"score"`
	} `json:"overall"`
}

func (v urlscanVerdicts) malicious() (bool, int) {
	return v.Malicious || v.Overall.Malicious, max(v.Score, v.Overall.Score)
}

// urlscanQuery builds the search query for ind, asking only for scans of
// the value itself: page.domain (the page's own host, and its www. form),
// page.ip (the address that served the page) or the URL as submitted
// (task.url) or finally loaded (page.url). Values are quoted, so ':' and '/'
// are not query syntax. The bare domain: and ip: fields would also match
// every scan that merely loaded a resource from the host.
func urlscanQuery(ind indicator.Indicator) (string, bool) {
	switch ind.Kind {
	case indicator.Domain:
		q := `page.domain:"` + urlscanQuote(ind.Value) + `"`
		if !strings.HasPrefix(ind.Value, "www.") {
			q += ` OR page.domain:"www.` + urlscanQuote(ind.Value) + `"`
		}
		return q, true
	case indicator.IPv4:
		return `page.ip:"` + ind.Value + `"`, true
	case indicator.URL:
		v := urlscanQuote(ind.Value)
		return `page.url:"` + v + `" OR task.url:"` + v + `"`, true
	}
	return "", false
}

// urlscanOnHost reports whether a scan is of the looked-up value itself:
// for a domain, the page's own domain is it or its www. form; for an IP
// address, the submitted or loaded URL's host is the address (not a site
// that merely resolves to it, which on a CDN or shared host says nothing
// about the address); for a URL, the submitted or loaded URL is it.
func urlscanOnHost(ind indicator.Indicator, r urlscanResult) bool {
	switch ind.Kind {
	case indicator.Domain:
		d := strings.ToLower(strings.TrimSuffix(r.Page.Domain, "."))
		return d == ind.Value || d == "www."+ind.Value
	case indicator.IPv4:
		for _, raw := range []string{r.Task.URL, r.Page.URL} {
			if u, err := url.Parse(raw); err == nil && u.Hostname() == ind.Value {
				return true
			}
		}
		return false
	case indicator.URL:
		return sameURL(r.Task.URL, ind.Value) || sameURL(r.Page.URL, ind.Value)
	}
	return false
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
	sum := urlscanSummary(ind, q, body)
	r := p.OK(resp, sum, urlscanVerdict(ind, sum))
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

func urlscanSummary(ind indicator.Indicator, q string, body urlscanResponse) *URLScanSummary {
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
			if s.OldestReturned.IsZero() || t.Before(s.OldestReturned) {
				s.OldestReturned = t
			}
			if t.After(s.LastSeen) {
				s.LastSeen = t
			}
		}
		onHost := urlscanOnHost(ind, r)
		malicious, score := r.Verdicts.malicious()
		alarm := malicious
		for _, tag := range r.Task.Tags {
			tags[tag] = true
			if urlscanAlarmTag(tag) {
				alarm = true
				if onHost {
					flagged[tag] = true
				}
			}
		}
		switch {
		case alarm && onHost:
			s.FlaggedScans++
			if malicious {
				s.MaliciousScans++
			}
		case alarm:
			s.OffHostFlagged++
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
			Malicious: malicious, Score: score, OnHost: onHost,
		}
		if uuid != "" {
			scan.ReportURL = "https://urlscan.io/result/" + url.PathEscape(uuid) + "/"
		}
		s.Scans = append(s.Scans, scan)
	}
	// Every matching scan was read only when none is left out; then the
	// oldest returned is the first seen.
	if !s.HasMore && s.Total <= len(body.Results) {
		s.FirstSeen = s.OldestReturned
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

// urlscanAlarmWords are the submitter tag words that report a scan as bad.
// A tag is split into words at every non-letter ("microsoft-phishing",
// "#phishing" count); a word must match whole, so a feed's handle such as
// "@phishunt_io" or a tag like "antiphishing-test" does not.
var urlscanAlarmWords = map[string]bool{"phish": true, "phishing": true, "malware": true, "malicious": true, "scam": true}

// urlscanAlarmTag reports whether a submitter tag names a threat. Handles
// (tags starting with "@") name who submitted, never what was found.
func urlscanAlarmTag(tag string) bool {
	if strings.HasPrefix(tag, "@") {
		return false
	}
	words := strings.FieldsFunc(strings.ToLower(tag), func(r rune) bool { return r < 'a' || r > 'z' })
	for _, w := range words {
		if urlscanAlarmWords[w] {
			return true
		}
	}
	return false
}

// urlscanVerdict maps an urlscan search to a verdict. Only scans of the
// looked-up host itself count (urlscanOnHost); being scanned is context, not
// evidence. urlscan's own verdict (its classifiers and brand detection) is
// evidence; submitter tags are not vetted and raise the level to SUSPICIOUS
// at most:
//
//	| signal                                                  | level      | score          | reason example                                        |
//	|---------------------------------------------------------|------------|----------------|-------------------------------------------------------|
//	| urlscan verdict malicious on a scan of the host         | MALICIOUS  | 70+5/more, ≤90 | "seen in 12 urlscan scans; urlscan judged 2 of them malicious"|
//	|   … the host is an IP address                           | SUSPICIOUS | 50             | "seen in 3 urlscan scans; urlscan judged 1 of them malicious"|
//	| a scan of the host tagged phishing/malware/malicious/scam | SUSPICIOUS | 40             | "seen in 12 urlscan scans; 3 tagged phishing"          |
//	| total > 0, nothing flagged on the host                   | UNKNOWN    | 0              | "seen in 12 urlscan scans"                             |
//	| total 0                                                  | —          | —              | not found: no verdict from this provider              |
func urlscanVerdict(ind indicator.Indicator, s *URLScanSummary) Assessment {
	seen := fmt.Sprintf("seen in %d urlscan scans", s.Total)
	switch {
	case s.HasMore:
		seen = fmt.Sprintf("seen in %d+ urlscan scans", s.Total)
	case s.Total == 1:
		seen = "seen in 1 urlscan scan"
	}
	switch {
	case s.MaliciousScans > 0:
		reason := fmt.Sprintf("%s; urlscan judged %d of them malicious", seen, s.MaliciousScans)
		if ind.Kind == indicator.IPv4 {
			return Assessment{Level: indicator.Suspicious, Score: 50, Reason: reason}
		}
		return Assessment{Level: indicator.Malicious, Score: min(90, 70+5*(s.MaliciousScans-1)), Reason: reason}
	case s.FlaggedScans > 0:
		return Assessment{
			Level:  indicator.Suspicious,
			Score:  40,
			Reason: fmt.Sprintf("%s; %d tagged %s by their submitters", seen, s.FlaggedScans, strings.Join(s.FlaggedTags, ", ")),
		}
	}
	return Assessment{Level: indicator.Unknown, Score: 0, Reason: seen}
}

// urlscanLink is urlscan.io's search page with the query Lookup sends.
func urlscanLink(ind indicator.Indicator) string {
	q, ok := urlscanQuery(ind)
	if !ok {
		return ""
	}
	return "https://urlscan.io/search/#" + url.PathEscape(q)
}

// Context is the first scan (only when every scan was returned) and the
// latest one.
func (s URLScanSummary) Context() Context {
	return Context{FirstSeen: s.FirstSeen, LastSeen: s.LastSeen}
}
