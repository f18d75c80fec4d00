package provider

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "urlhaus",
		Title:       "URLhaus (abuse.ch)",
		Source:      "URLHaus",
		Kinds:       []indicator.Kind{indicator.Domain, indicator.URL, indicator.MD5, indicator.SHA256, indicator.IPv4},
		Key:         KeyRequired,
		BaseURL:     "https://urlhaus-api.abuse.ch/v1",
		Rate:        Rate{Events: 60, Per: time.Minute},
		CacheTTL:    6 * time.Hour,
		NotFoundTTL: time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "free abuse.ch Auth-Key required (auth.abuse.ch); fair use, no published limit (default 60/m)",
		Terms:       "the abuse.ch community API is free under fair use; abuse.ch points commercial and for-profit users to its commercial API, run with Spamhaus (https://abuse.ch/; https://github.com/elastic/integrations/pull/20134).",
		Summary:     URLhausSummary{},
		Link:        urlhausLink,
		Tags:        []string{"reputation"},
		Description: "abuse.ch URLhaus: URLs, hosts and payloads seen distributing malware.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "abuse.ch, queried under your Auth-Key and its terms; it sees the value asked about, nothing is submitted",
		VerdictRules: []string{
			"url online: MALICIOUS 95; url offline or unknown: SUSPICIOUS 60",
			"host that Spamhaus DBL lists as an abused legitimate site (abused_legit_*, e.g. gist.github.com): UNKNOWN, the reason counts its malware URLs (look the URLs up)",
			"host with at least one URL online: MALICIOUS 85; URLs listed, none online: SUSPICIOUS 50; no URLs: UNKNOWN",
			"known payload: MALICIOUS 90",
			"no_results: not found, no verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &urlhaus{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// urlhaus looks up hosts, URLs and payloads in URLhaus with form-encoded
// POSTs to /host/, /url/ and /payload/ and the header Auth-Key.
type urlhaus struct{ Base }

// URLhausSummary is what an analyst reads first from URLhaus. Exactly one
// of Host, URL and Payload is set, according to Lookup.
type URLhausSummary struct {
	Lookup    string          `json:"lookup"`              // "host", "url" or "payload"
	Reference string          `json:"reference,omitempty"` // the URLhaus page
	Host      *URLhausHost    `json:"host,omitempty"`
	URL       *URLhausURL     `json:"url,omitempty"`
	Payload   *URLhausPayload `json:"payload,omitempty"`
}

// URLhausHost is a host (domain or IP) lookup.
type URLhausHost struct {
	Host       string            `json:"host"`
	FirstSeen  time.Time         `json:"firstSeen,omitzero"`
	URLCount   int               `json:"urlCount"`   // malware URLs ever seen on the host
	OnlineURLs int               `json:"onlineUrls"` // of the listed URLs, those still online
	Blacklists map[string]string `json:"blacklists,omitempty"`
	Threats    []string          `json:"threats"` // distinct threat types of the listed URLs
	Tags       []string          `json:"tags"`    // distinct tags of the listed URLs
	URLs       []URLhausHostURL  `json:"urls"`    // the first few, online ones first
}

// URLhausHostURL is one malware URL on a host.
type URLhausHostURL struct {
	URL       string    `json:"url"`
	Status    string    `json:"status"` // online, offline or unknown
	Threat    string    `json:"threat,omitempty"`
	DateAdded time.Time `json:"dateAdded,omitzero"`
	Tags      []string  `json:"tags,omitempty"`
}

// URLhausURL is a URL lookup.
type URLhausURL struct {
	URL        string              `json:"url"`
	Status     string              `json:"status"` // online, offline or unknown
	Host       string              `json:"host,omitempty"`
	Threat     string              `json:"threat,omitempty"` // e.g. malware_download
	DateAdded  time.Time           `json:"dateAdded,omitzero"`
	LastOnline time.Time           `json:"lastOnline,omitzero"`
	Tags       []string            `json:"tags"`
	Blacklists map[string]string   `json:"blacklists,omitempty"`
	Payloads   []URLhausURLPayload `json:"payloads"` // the first few
}

// URLhausURLPayload is a file a malware URL served.
type URLhausURLPayload struct {
	Filename  string    `json:"filename,omitempty"`
	FileType  string    `json:"fileType,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	Signature string    `json:"signature,omitempty"` // malware family, when known
	FirstSeen time.Time `json:"firstSeen,omitzero"`
}

// URLhausPayload is a payload (file hash) lookup.
type URLhausPayload struct {
	MD5        string              `json:"md5,omitempty"`
	SHA256     string              `json:"sha256,omitempty"`
	FileType   string              `json:"fileType,omitempty"`
	FileSize   int64               `json:"fileSize"`
	Signature  string              `json:"signature,omitempty"`
	FirstSeen  time.Time           `json:"firstSeen,omitzero"`
	LastSeen   time.Time           `json:"lastSeen,omitzero"`
	URLCount   int                 `json:"urlCount"`   // malware URLs that served it
	OnlineURLs int                 `json:"onlineUrls"` // of the listed URLs, those still online
	URLs       []URLhausPayloadURL `json:"urls"`       // the first few, online ones first
}

// URLhausPayloadURL is one URL that served a payload.
type URLhausPayloadURL struct {
	URL       string    `json:"url"`
	Status    string    `json:"status"`
	Filename  string    `json:"filename,omitempty"`
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
}

// urlhausMaxList caps the URL and payload lists in a summary.
const urlhausMaxList = 10

// urlhausBody holds the fields of the host, url and payload answers.
type urlhausBody struct {
	Reference  string             `json:"urlhaus_reference"`
	Host       string             `json:"host"`
	FirstSeen  string             `json:"firstseen"`
	LastSeen   string             `json:"lastseen"`
	URLCount   abuseCHInt         `json:"url_count"`
	Blacklists map[string]string  `json:"blacklists"`
	URLs       []urlhausListedURL `json:"urls"`
	// url lookup
	URL        string   `json:"url"`
	URLStatus  string   `json:"url_status"`
	Threat     string   `json:"threat"`
	DateAdded  string   `json:"date_added"`
	LastOnline string   `json:"last_online"`
	Tags       []string `json:"tags"`
	Payloads   []struct {
		FirstSeen string `json:"firstseen"`
		Filename  string `json:"filename"`
		FileType  string `json:"file_type"`
		SHA256    string `json:"response_sha256"`
		Signature string `json:"signature"`
	} `json:"payloads"`
	// payload lookup
	MD5       string     `json:"md5_hash"`
	SHA256    string     `json:"sha256_hash"`
	FileType  string     `json:"file_type"`
	FileSize  abuseCHInt `json:"file_size"`
	Signature string     `json:"signature"`
}

// urlhausListedURL is an entry of the urls list of a host or payload answer.
type urlhausListedURL struct {
	URL       string   `json:"url"`
	Status    string   `json:"url_status"`
	Threat    string   `json:"threat"`
	DateAdded string   `json:"date_added"`
	Tags      []string `json:"tags"`
	Filename  string   `json:"filename"`
	FirstSeen string   `json:"firstseen"`
	LastSeen  string   `json:"lastseen"`
}

func (u *urlhaus) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !u.Configured() {
		return nil, u.NotConfigured()
	}
	var path, lookup string
	form := url.Values{}
	switch ind.Kind {
	case indicator.IPv4, indicator.Domain:
		path, lookup = "/host/", "host"
		form.Set("host", ind.Value)
	case indicator.URL:
		path, lookup = "/url/", "url"
		form.Set("url", ind.Value)
	case indicator.MD5:
		path, lookup = "/payload/", "payload"
		form.Set("md5_hash", ind.Value)
	case indicator.SHA256:
		path, lookup = "/payload/", "payload"
		form.Set("sha256_hash", ind.Value)
	default:
		return nil, u.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	resp, err := abuseCHPost(ctx, &u.Base, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	var body urlhausBody
	if e := u.decode(resp, &body, "malformed JSON answer"); e != nil {
		return nil, e
	}
	s := urlhausSummarize(lookup, &body)
	return u.OK(resp, s, urlhausVerdict(s)), nil
}

func urlhausSummarize(lookup string, b *urlhausBody) *URLhausSummary {
	s := &URLhausSummary{Lookup: lookup, Reference: b.Reference}
	// Online URLs matter most, so they lead the capped lists.
	var urls, rest []urlhausListedURL
	for _, x := range b.URLs {
		if x.Status == "online" {
			urls = append(urls, x)
		} else {
			rest = append(rest, x)
		}
	}
	online := len(urls)
	urls = append(urls, rest...)
	switch lookup {
	case "host":
		h := &URLhausHost{
			Host: b.Host, FirstSeen: abuseCHTime(b.FirstSeen), URLCount: int(b.URLCount), OnlineURLs: online,
			Blacklists: b.Blacklists, URLs: []URLhausHostURL{},
		}
		threats, tags := newNameSet(urlhausMaxList), newNameSet(urlhausMaxList)
		for _, x := range urls {
			threats.add(x.Threat)
			tags.add(x.Tags...)
			if len(h.URLs) < urlhausMaxList {
				h.URLs = append(h.URLs, URLhausHostURL{URL: x.URL, Status: x.Status, Threat: x.Threat, DateAdded: abuseCHTime(x.DateAdded), Tags: x.Tags})
			}
		}
		h.Threats, h.Tags = threats.list, tags.list
		s.Host = h
	case "url":
		v := &URLhausURL{
			URL: b.URL, Status: b.URLStatus, Host: b.Host, Threat: b.Threat, DateAdded: abuseCHTime(b.DateAdded),
			LastOnline: abuseCHTime(b.LastOnline), Tags: orEmpty(b.Tags), Blacklists: b.Blacklists, Payloads: []URLhausURLPayload{},
		}
		for _, p := range b.Payloads[:min(len(b.Payloads), urlhausMaxList)] {
			v.Payloads = append(v.Payloads, URLhausURLPayload{Filename: p.Filename, FileType: p.FileType, SHA256: p.SHA256, Signature: p.Signature, FirstSeen: abuseCHTime(p.FirstSeen)})
		}
		s.URL = v
	case "payload":
		p := &URLhausPayload{
			MD5: b.MD5, SHA256: b.SHA256, FileType: b.FileType, FileSize: int64(b.FileSize), Signature: b.Signature,
			FirstSeen: abuseCHTime(b.FirstSeen), LastSeen: abuseCHTime(b.LastSeen), URLCount: int(b.URLCount), OnlineURLs: online, URLs: []URLhausPayloadURL{},
		}
		for _, x := range urls[:min(len(urls), urlhausMaxList)] {
			p.URLs = append(p.URLs, URLhausPayloadURL{URL: x.URL, Status: x.Status, Filename: x.Filename, FirstSeen: abuseCHTime(x.FirstSeen), LastSeen: abuseCHTime(x.LastSeen)})
		}
		s.Payload = p
	}
	return s
}

// urlhausVerdict maps a URLhaus answer to a verdict:
//
//	lookup   signal                                   level       score  reason
//	url      url_status online                        MALICIOUS   95     URLhaus: online malware_download URL (elf, mirai)
//	url      url_status offline or unknown            SUSPICIOUS  60     URLhaus: malware_download URL, offline since 2024-02-10
//	host     at least one listed URL online           MALICIOUS   85     URLhaus: 3 of 10 malware URLs on this host are online
//	host     URLs listed, none online                 SUSPICIOUS  50     URLhaus: 10 malware URLs on this host, none online
//	host     no URLs                                  UNKNOWN     0      URLhaus lists the host without malware URLs
//	payload  known payload                            MALICIOUS   90     URLhaus: Mozi payload served by 3 malware URLs
//
// Every URLhaus entry was reported as a malware distribution point, so only
// liveness separates "block it now" from "was bad, look closer"; a host with
// only offline URLs may be a cleaned-up compromised site. A payload is a file
// that malware URLs delivered, which makes it malicious whether or not the
// URLs are still up. Not found ("no_results") is not a verdict.
func urlhausVerdict(s *URLhausSummary) Assessment {
	switch {
	case s.URL != nil:
		u := s.URL
		threat := u.Threat
		if threat == "" {
			threat = "malware"
		}
		if u.Status == "online" {
			reason := "URLhaus: online " + threat + " URL"
			if len(u.Tags) > 0 {
				reason += " (" + strings.Join(u.Tags[:min(len(u.Tags), 3)], ", ") + ")"
			}
			return Assessment{Level: indicator.Malicious, Score: 95, Reason: reason}
		}
		reason := "URLhaus: " + threat + " URL, " + cmp.Or(u.Status, "unknown")
		if u.Status == "offline" && !u.LastOnline.IsZero() {
			reason += " since " + u.LastOnline.Format(time.DateOnly)
		}
		return Assessment{Level: indicator.Suspicious, Score: 60, Reason: reason}
	case s.Host != nil:
		h := s.Host
		total := max(h.URLCount, len(h.URLs))
		switch {
		case total > 0 && strings.HasPrefix(h.Blacklists["spamhaus_dbl"], "abused_legit"):
			// Spamhaus DBL's abused_legit_* class: a legitimate site whose
			// hosting others abuse (gist.github.com, a file-sharing service,
			// a compromised blog). The URLs are bad; the host is not.
			return Assessment{Level: indicator.Unknown, Score: 0,
				Reason: fmt.Sprintf("URLhaus: %d malware URLs on this host (%d online), but Spamhaus DBL calls it an abused legitimate site (%s): judge the URLs, not the host",
					total, h.OnlineURLs, h.Blacklists["spamhaus_dbl"])}
		case h.OnlineURLs > 0:
			return Assessment{Level: indicator.Malicious, Score: 85,
				Reason: fmt.Sprintf("URLhaus: %d of %d malware URLs on this host are online", h.OnlineURLs, total)}
		case total > 0:
			return Assessment{Level: indicator.Suspicious, Score: 50,
				Reason: fmt.Sprintf("URLhaus: %d malware URLs on this host, none online", total)}
		default:
			return Assessment{Level: indicator.Unknown, Score: 0, Reason: "URLhaus lists the host without malware URLs"}
		}
	case s.Payload != nil:
		p := s.Payload
		what := "payload"
		if p.Signature != "" {
			what = p.Signature + " payload"
		}
		return Assessment{Level: indicator.Malicious, Score: 90,
			Reason: fmt.Sprintf("URLhaus: %s served by %d malware URLs", what, max(p.URLCount, len(p.URLs)))}
	}
	return Assessment{Level: indicator.Unknown, Score: 0, Reason: "URLhaus answer without data"}
}

// urlhausLink is the URLhaus page of a host, or its search for a URL or a
// payload hash.
func urlhausLink(ind indicator.Indicator) string {
	if ind.Kind == indicator.Domain || ind.Kind.IsIP() {
		return "https://urlhaus.abuse.ch/host/" + url.PathEscape(ind.Value) + "/"
	}
	return "https://urlhaus.abuse.ch/browse.php?search=" + url.QueryEscape(ind.Value)
}

// Context is when URLhaus first and last saw the value, its tags and, for a
// payload, its malware family (signature).
func (s URLhausSummary) Context() Context {
	switch {
	case s.Host != nil:
		return Context{FirstSeen: s.Host.FirstSeen, Tags: s.Host.Tags}
	case s.URL != nil:
		return Context{FirstSeen: s.URL.DateAdded, LastSeen: s.URL.LastOnline, Tags: s.URL.Tags}
	case s.Payload != nil:
		c := Context{FirstSeen: s.Payload.FirstSeen, LastSeen: s.Payload.LastSeen}
		if s.Payload.Signature != "" {
			c.MalwareFamilies = []string{s.Payload.Signature}
		}
		return c
	}
	return Context{}
}
