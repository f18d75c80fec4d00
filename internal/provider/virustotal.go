package provider

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	Register(Descriptor{
		Name:        "virustotal",
		Title:       "VirusTotal",
		Source:      "VirusTotal",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.IPv6, indicator.Domain, indicator.URL, indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:         KeyRequired,
		BaseURL:     "https://www.virustotal.com/api/v3",
		Rate:        Rate{Events: 4, Per: time.Minute},
		CacheTTL:    12 * time.Hour,
		NotFoundTTL: time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "API key required (free community key): 4 requests/min, 500/day, about 15.5K/month; the daily quota resets at 00:00 UTC",
		Terms:       "the public API \"must not be used in commercial products, services or business workflows\"; a SOC service needs VirusTotal's premium API (https://docs.virustotal.com/v2.0/reference/public-vs-private-api).",
		Summary:     VirusTotalSummary{},
		Link:        vtLink,
		Tags:        []string{"reputation"},
		Description: "VirusTotal: the verdicts of some 90 antivirus engines and URL scanners on any indicator.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account and its terms (API key); lookups read existing reports, nothing is submitted for scanning",
		VerdictRules: []string{
			"no engine gave a verdict: UNKNOWN",
			"malicious ≥ 5, or ≥ 3 and ≥ 10 % of engines: MALICIOUS 50+5 per malicious engine, at most 100; SUSPICIOUS 40 instead when fewer than 10 and the community vouches for it (reputation > 0 and more harmless than malicious votes)",
			"malicious 3–4, or suspicious ≥ 3: SUSPICIOUS, at most 60; BENIGN when the community vouches for it",
			"malicious 1–2: SUSPICIOUS when the community condemns it (reputation < 0 and ≥ 3 malicious votes, more than harmless ones), BENIGN when it vouches, else UNKNOWN for an IP address or domain (too few to call on shared infrastructure) and SUSPICIOUS for a URL or file",
			"no malicious: SUSPICIOUS 30 when the community condemns it, else BENIGN 0",
		},
		New: newVirusTotal,
	})
}

// VirusTotalSummary is what an analyst reads first in a VirusTotal v3 object.
// The common fields are always set; the rest depend on the object type.
type VirusTotalSummary struct {
	Type             string          `json:"type"` // ip_address, domain, file or url
	ID               string          `json:"id"`
	Link             string          `json:"link"` // the VirusTotal GUI page
	Stats            VirusTotalStats `json:"stats"`
	Reputation       int             `json:"reputation"`
	VotesHarmless    int             `json:"votesHarmless"`
	VotesMalicious   int             `json:"votesMalicious"`
	Tags             []string        `json:"tags,omitempty"`
	LastAnalysisDate time.Time       `json:"lastAnalysisDate,omitzero"`

	// IP addresses.
	ASOwner string `json:"asOwner,omitempty"`
	ASN     int    `json:"asn,omitempty"`
	Country string `json:"country,omitempty"`
	Network string `json:"network,omitempty"`

	// Domains.
	Registrar    string            `json:"registrar,omitempty"`
	Categories   map[string]string `json:"categories,omitempty"` // vendor → label
	CreationDate time.Time         `json:"creationDate,omitzero"`

	// Files.
	MD5                 string    `json:"md5,omitempty"`
	SHA1                string    `json:"sha1,omitempty"`
	SHA256              string    `json:"sha256,omitempty"`
	MeaningfulName      string    `json:"meaningfulName,omitempty"`
	Names               []string  `json:"names,omitempty"`
	TypeDescription     string    `json:"typeDescription,omitempty"`
	TypeTag             string    `json:"typeTag,omitempty"`
	Size                int64     `json:"size,omitempty"`
	ThreatLabel         string    `json:"threatLabel,omitempty"` // popular_threat_classification.suggested_threat_label
	TimesSubmitted      int       `json:"timesSubmitted,omitempty"`
	FirstSubmissionDate time.Time `json:"firstSubmissionDate,omitzero"`

	// URLs.
	URL                  string `json:"url,omitempty"`
	FinalURL             string `json:"finalUrl,omitempty"`
	Title                string `json:"title,omitempty"`
	LastHTTPResponseCode int    `json:"lastHttpResponseCode,omitempty"`
}

// VirusTotalStats counts the engines' verdicts in the last analysis.
type VirusTotalStats struct {
	Malicious  int `json:"malicious"`
	Suspicious int `json:"suspicious"`
	Harmless   int `json:"harmless"`
	Undetected int `json:"undetected"`
	Timeout    int `json:"timeout"`
}

// Engines is the number of engines that gave a verdict (timeouts, failures
// and unsupported types excluded).
func (s VirusTotalStats) Engines() int {
	return s.Malicious + s.Suspicious + s.Harmless + s.Undetected
}

type virusTotal struct{ Base }

func newVirusTotal(cfg Config) (Provider, error) {
	d, _ := Lookup("virustotal")
	return &virusTotal{NewBase(d, cfg)}, nil
}

// vtObject is the part of a v3 object response the summary reads.
type vtObject struct {
	Data *struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Stats      VirusTotalStats `json:"last_analysis_stats"`
			Reputation int             `json:"reputation"`
			TotalVotes struct {
				Harmless  int `json:"harmless"`
				Malicious int `json:"malicious"`
			} `json:"total_votes"`
			Tags             []string `json:"tags"`
			LastAnalysisDate int64    `json:"last_analysis_date"`

			ASOwner string `json:"as_owner"`
			ASN     int    `json:"asn"`
			Country string `json:"country"`
			Network string `json:"network"`

			Registrar    string            `json:"registrar"`
			Categories   map[string]string `json:"categories"`
			CreationDate int64             `json:"creation_date"`

			MD5                 string   `json:"md5"`
			SHA1                string   `json:"sha1"`
			SHA256              string   `json:"sha256"`
			MeaningfulName      string   `json:"meaningful_name"`
			Names               []string `json:"names"`
			TypeDescription     string   `json:"type_description"`
			TypeTag             string   `json:"type_tag"`
			Size                int64    `json:"size"`
			TimesSubmitted      int      `json:"times_submitted"`
			FirstSubmissionDate int64    `json:"first_submission_date"`
			Threat              struct {
				Label string `json:"suggested_threat_label"`
			} `json:"popular_threat_classification"`

			URL                  string `json:"url"`
			FinalURL             string `json:"last_final_url"`
			Title                string `json:"title"`
			LastHTTPResponseCode int    `json:"last_http_response_code"`
		} `json:"attributes"`
	} `json:"data"`
}

// vtError is the body of every VirusTotal error.
type vtError struct {
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// vtPath returns the documented path for ind and the GUI link section.
func vtPath(ind indicator.Indicator) (path, gui string, ok bool) {
	switch ind.Kind {
	case indicator.IPv4, indicator.IPv6:
		return "/ip_addresses/" + url.PathEscape(ind.Value), "ip-address", true
	case indicator.Domain:
		return "/domains/" + url.PathEscape(ind.Value), "domain", true
	case indicator.MD5, indicator.SHA1, indicator.SHA256:
		return "/files/" + url.PathEscape(ind.Value), "file", true
	case indicator.URL:
		// The URL identifier is the unpadded base64url of the URL.
		return "/urls/" + base64.RawURLEncoding.EncodeToString([]byte(ind.Value)), "url", true
	}
	return "", "", false
}

// Lookup fetches the VirusTotal object for ind.
func (v *virusTotal) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !v.Configured() {
		return nil, v.NotConfigured()
	}
	path, gui, ok := vtPath(ind)
	if !ok {
		return nil, v.Fail(ErrBadInput, nil, fmt.Sprintf("kind %s is not served", ind.Kind))
	}
	req, err := v.NewRequest(ctx, http.MethodGet, v.URL(path), nil, "")
	if err != nil {
		return nil, err
	}
	v.setKeyHeader(req, "x-apikey")
	resp, err := v.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return nil, v.classify(resp)
	}
	var obj vtObject
	if e := v.decode(resp, &obj, "malformed JSON"); e != nil {
		return nil, e
	}
	if obj.Data == nil {
		return nil, v.Fail(ErrUpstream, resp, "response has no data object")
	}
	sum := vtSummary(&obj, gui)
	return v.OK(resp, sum, vtVerdict(sum)), nil
}

// classify reads VirusTotal's error code before the shared status mapping.
// Only the code is kept: the message may quote the indicator.
func (v *virusTotal) classify(resp *Response) error {
	var body vtError
	if json.Unmarshal(resp.Body, &body) == nil && body.Error != nil {
		switch code := body.Error.Code; code {
		case "NotFoundError":
			return v.Fail(ErrNotFound, resp, "")
		case "QuotaExceededError", "TooManyRequestsError":
			return v.Fail(ErrRateLimited, resp, code)
		case "AuthenticationRequiredError", "WrongCredentialsError", "UserNotActiveError", "ForbiddenError":
			return v.Fail(ErrAuth, resp, code)
		case "BadRequestError", "InvalidArgumentError", "NotAvailableYet", "UnselectiveContentQueryError", "UnsupportedContentQueryError":
			return v.Fail(ErrBadInput, resp, code)
		case "":
		default:
			e := v.Classify(resp)
			e.Message = code
			return e
		}
	}
	return v.Classify(resp)
}

func vtSummary(obj *vtObject, gui string) *VirusTotalSummary {
	d := obj.Data
	a := d.Attributes
	s := &VirusTotalSummary{
		Type:             d.Type,
		ID:               d.ID,
		Link:             "https://www.virustotal.com/gui/" + gui + "/" + url.PathEscape(d.ID),
		Stats:            a.Stats,
		Reputation:       a.Reputation,
		VotesHarmless:    a.TotalVotes.Harmless,
		VotesMalicious:   a.TotalVotes.Malicious,
		Tags:             a.Tags,
		LastAnalysisDate: unixTime(a.LastAnalysisDate),

		ASOwner: a.ASOwner,
		ASN:     a.ASN,
		Country: a.Country,
		Network: a.Network,

		Registrar:    a.Registrar,
		Categories:   a.Categories,
		CreationDate: unixTime(a.CreationDate),

		MD5:                 a.MD5,
		SHA1:                a.SHA1,
		SHA256:              a.SHA256,
		MeaningfulName:      a.MeaningfulName,
		Names:               a.Names,
		TypeDescription:     a.TypeDescription,
		TypeTag:             a.TypeTag,
		Size:                a.Size,
		ThreatLabel:         a.Threat.Label,
		TimesSubmitted:      a.TimesSubmitted,
		FirstSubmissionDate: unixTime(a.FirstSubmissionDate),

		URL:                  a.URL,
		FinalURL:             a.FinalURL,
		Title:                a.Title,
		LastHTTPResponseCode: a.LastHTTPResponseCode,
	}
	if len(s.Names) > 10 {
		s.Names = s.Names[:10]
	}
	if len(s.Categories) == 0 {
		s.Categories = nil
	}
	return s
}

// vtVerdict maps the last analysis and the community's opinion to a
// verdict. Engines counts the engines that gave a verdict (malicious +
// suspicious + harmless + undetected); the score is a badness score.
//
// The community vouches for a value when its reputation is positive and
// harmless votes outnumber malicious ones (8.8.8.8: +520, 184 : 28); it
// condemns it when the reputation is negative and at least 3 malicious votes
// outnumber harmless ones. First match wins:
//
//	signal                                              level       score                reason example
//	no engine gave a verdict                            UNKNOWN     0                    "no VirusTotal engine has analysed it"
//	malicious ≥ 5, or ≥ 3 and ≥ 10% of engines          MALICIOUS   50+5×malicious, ≤100 "12/94 VirusTotal engines flag it malicious"
//	  … but the community vouches and malicious < 10   SUSPICIOUS  40                   "6/90 …; community reputation +300, votes 100 harmless : 4 malicious"
//	malicious 3–4, or suspicious ≥ 3                    SUSPICIOUS  30+5×mal+2×susp, ≤60 "4/94 VirusTotal engines flag it malicious"
//	  … but the community vouches                      BENIGN      0                    "4/94 …; community reputation +134, votes 64 harmless : 9 malicious"
//	malicious 1–2, the community condemns it           SUSPICIOUS  30+5×malicious       "1/94 …; community reputation -12, votes 1 harmless : 7 malicious"
//	malicious 1–2, the community vouches               BENIGN      0                    "2/89 …; community reputation +520, votes 184 harmless : 28 malicious"
//	malicious 1–2 otherwise, an IP address or domain    UNKNOWN     0                    "1/94 … (too few to call for an address or domain)"
//	malicious 1–2 otherwise, a URL or file              SUSPICIOUS  30+5×mal+2×susp, ≤60 "2/93 VirusTotal engines flag it malicious, 1 suspicious"
//	no malicious, the community condemns it            SUSPICIOUS  30                   "0/94 …; community reputation -40, votes 0 harmless : 9 malicious"
//	no malicious, suspicious 0–2                        BENIGN      0                    "0/94 VirusTotal engines flag it malicious"
//
// One or two blocklist engines flagging big shared infrastructure (a public
// resolver, a CDN or cloud address, a popular domain) is routine, so for
// addresses and domains they alone say nothing (a URL or file is one
// object, where two detections deserve a look); the community reputation, which VirusTotal computes from
// votes weighted by the voters' standing, settles the small counts.
func vtVerdict(s *VirusTotalSummary) Assessment {
	st := s.Stats
	n := st.Engines()
	if n == 0 {
		return Assessment{Level: indicator.Unknown, Reason: "no VirusTotal engine has analysed it"}
	}
	reason := fmt.Sprintf("%d/%d VirusTotal engines flag it malicious", st.Malicious, n)
	if st.Suspicious > 0 {
		reason += fmt.Sprintf(", %d suspicious", st.Suspicious)
	}
	vouched := s.Reputation > 0 && s.VotesHarmless > s.VotesMalicious
	condemned := s.Reputation < 0 && s.VotesMalicious >= 3 && s.VotesMalicious > s.VotesHarmless
	community := reason + fmt.Sprintf("; community reputation %+d, votes %d harmless : %d malicious", s.Reputation, s.VotesHarmless, s.VotesMalicious)
	switch {
	case st.Malicious >= 5 || (st.Malicious >= 3 && st.Malicious*10 >= n):
		if vouched && st.Malicious < 10 {
			return Assessment{Level: indicator.Suspicious, Score: 40, Reason: community}
		}
		return Assessment{Level: indicator.Malicious, Score: min(100, 50+5*st.Malicious), Reason: reason}
	case st.Malicious >= 3 || st.Suspicious >= 3:
		if vouched {
			return Assessment{Level: indicator.Benign, Score: 0, Reason: community}
		}
		return Assessment{Level: indicator.Suspicious, Score: min(60, 30+5*st.Malicious+2*st.Suspicious), Reason: reason}
	case st.Malicious >= 1:
		switch {
		case condemned:
			return Assessment{Level: indicator.Suspicious, Score: 30 + 5*st.Malicious, Reason: community}
		case vouched:
			return Assessment{Level: indicator.Benign, Score: 0, Reason: community}
		}
		if s.Type == "ip_address" || s.Type == "domain" {
			return Assessment{Level: indicator.Unknown, Score: 0, Reason: reason + " (too few to call for an address or domain)"}
		}
		return Assessment{Level: indicator.Suspicious, Score: min(60, 30+5*st.Malicious+2*st.Suspicious), Reason: reason}
	case condemned:
		return Assessment{Level: indicator.Suspicious, Score: 30, Reason: community}
	default:
		return Assessment{Level: indicator.Benign, Score: 0, Reason: reason}
	}
}

// vtLink is the VirusTotal GUI page of ind: /gui/{ip-address|domain|file}/{value},
// and for a URL /gui/url/{SHA-256 of the URL}, the identifier the GUI uses.
func vtLink(ind indicator.Indicator) string {
	_, gui, ok := vtPath(ind)
	if !ok {
		return ""
	}
	id := ind.Value
	if ind.Kind == indicator.URL {
		sum := sha256.Sum256([]byte(ind.Value))
		id = hex.EncodeToString(sum[:])
	}
	return "https://www.virustotal.com/gui/" + gui + "/" + url.PathEscape(id)
}

// Context is what a VirusTotal object says about who holds the value and
// when it was first submitted: AS, owner, country and network for an
// address; registrar and creation date for a domain; the first submission
// of a file; its tags.
func (s VirusTotalSummary) Context() Context {
	return Context{
		ASN: s.ASN, ASOwner: s.ASOwner, Country: strings.ToUpper(s.Country), Network: s.Network,
		Registrar: s.Registrar, RegisteredAt: s.CreationDate, FirstSeen: s.FirstSubmissionDate, Tags: s.Tags,
	}
}
