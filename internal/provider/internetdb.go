package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	Register(Descriptor{
		Name:        "internetdb",
		Title:       "Shodan InternetDB",
		Source:      "InternetDB",
		Kinds:       []indicator.Kind{indicator.IPv4},
		Key:         KeyNone,
		BaseURL:     "https://internetdb.shodan.io",
		Rate:        Rate{Events: 60, Per: time.Minute},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     10 * time.Second,
		FreeTier:    "keyless, free for non-commercial use; no published limit (we default to 60/min), abuse is throttled with 429; data refreshed about weekly",
		Terms:       "InternetDB is free for non-commercial use; commercial use needs a Shodan plan (https://internetdb.shodan.io).",
		Summary:     InternetDBSummary{},
		Tags:        []string{"context"},
		Description: "Shodan's free weekly snapshot of an IPv4 address: open ports, hostnames, tags and known CVEs.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "an established keyless service run by Shodan; it sees the address asked about",
		VerdictRules: []string{
			"tag malware, c2, compromised or doublepulsar: MALICIOUS 80",
			"tag tor, proxy, vpn or scanner: SUSPICIOUS 40",
			"known vulnerabilities on exposed services: SUSPICIOUS 30",
			"anything else: UNKNOWN (exposure is context, not a verdict)",
		},
		New: newInternetDB,
	})
}

// InternetDBSummary is Shodan InternetDB's view of an IP: what it exposes.
type InternetDBSummary struct {
	IP        string   `json:"ip"`
	Ports     []int    `json:"ports"`
	Hostnames []string `json:"hostnames"`
	Tags      []string `json:"tags"`
	Vulns     []string `json:"vulns"`
	CPEs      []string `json:"cpes"`
}

type internetDB struct{ Base }

func newInternetDB(cfg Config) (Provider, error) {
	d, _ := Lookup("internetdb")
	return &internetDB{NewBase(d, cfg)}, nil
}

// Lookup fetches GET /{ip}. A 404 ({"detail":"No information available"})
// is the normal answer for an unindexed address: not found.
func (i *internetDB) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if ind.Kind != indicator.IPv4 {
		return nil, i.Fail(ErrBadInput, nil, fmt.Sprintf("kind %s is not served", ind.Kind))
	}
	req, err := i.NewRequest(ctx, http.MethodGet, i.URL("/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := i.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusNotFound {
		return nil, i.Fail(ErrNotFound, resp, "")
	}
	if e := i.Classify(resp); e != nil {
		return nil, e
	}
	var sum InternetDBSummary
	if e := i.decode(resp, &sum, "malformed JSON"); e != nil {
		return nil, e
	}
	if sum.IP == "" {
		return nil, i.Fail(ErrUpstream, resp, "response has no ip")
	}
	return i.OK(resp, &sum, internetDBVerdict(&sum)), nil
}

// internetDBBadTags are Shodan tags that say the host itself is hostile or
// infected; internetDBRiskyTags say it hides or scans for someone.
var (
	internetDBBadTags   = []string{"malware", "c2", "compromised", "doublepulsar"}
	internetDBRiskyTags = []string{"tor", "proxy", "vpn", "scanner"}
)

// internetDBVerdict judges exposure data. InternetDB says what a host runs,
// not whether it is benign, so a quiet host stays UNKNOWN.
//
//	signal                                              level       score  reason example
//	tag malware, c2, compromised or doublepulsar        MALICIOUS   80     "InternetDB tags it malware; 1 known vulnerability"
//	tag tor, proxy, vpn or scanner                      SUSPICIOUS  40     "InternetDB tags it vpn"
//	known vulnerabilities on exposed services           SUSPICIOUS  30     "InternetDB lists 3 known vulnerabilities (CVE-2021-41773, …)"
//	anything else                                       UNKNOWN     0      "InternetDB: 2 open ports (53, 443), no risky tags or known vulnerabilities"
func internetDBVerdict(s *InternetDBSummary) Assessment {
	return shodanExposureVerdict("InternetDB", s.Tags, s.Vulns, s.Ports)
}

// shodanExposureVerdict is the verdict for Shodan's exposure data, shared by
// InternetDB and the Shodan host API (same tags, same CVE lists).
func shodanExposureVerdict(source string, tags, vulns []string, ports []int) Assessment {
	s := &InternetDBSummary{Tags: tags, Vulns: vulns, Ports: ports}
	if bad := internetDBMatch(s.Tags, internetDBBadTags); len(bad) > 0 {
		return Assessment{Level: indicator.Malicious, Score: 80, Reason: source + " tags it " + strings.Join(bad, ", ") + internetDBVulnNote(s)}
	}
	if risky := internetDBMatch(s.Tags, internetDBRiskyTags); len(risky) > 0 {
		return Assessment{Level: indicator.Suspicious, Score: 40, Reason: source + " tags it " + strings.Join(risky, ", ") + internetDBVulnNote(s)}
	}
	if len(s.Vulns) > 0 {
		noun := "vulnerabilities"
		if len(s.Vulns) == 1 {
			noun = "vulnerability"
		}
		return Assessment{Level: indicator.Suspicious, Score: 30, Reason: fmt.Sprintf("%s lists %d known %s (%s)", source, len(s.Vulns), noun, internetDBList(s.Vulns, 3))}
	}
	portList := make([]string, len(s.Ports))
	for k, p := range s.Ports {
		portList[k] = strconv.Itoa(p)
	}
	if len(portList) == 0 {
		return Assessment{Level: indicator.Unknown, Reason: source + ": no open ports, risky tags or known vulnerabilities"}
	}
	return Assessment{Level: indicator.Unknown, Reason: fmt.Sprintf("%s: %d open ports (%s), no risky tags or known vulnerabilities", source, len(portList), internetDBList(portList, 8))}
}

func internetDBVulnNote(s *InternetDBSummary) string {
	if len(s.Vulns) == 0 {
		return ""
	}
	if len(s.Vulns) == 1 {
		return "; 1 known vulnerability"
	}
	return fmt.Sprintf("; %d known vulnerabilities", len(s.Vulns))
}

// internetDBMatch returns the tags (lower-cased) that appear in want.
func internetDBMatch(tags, want []string) []string {
	var out []string
	for _, t := range tags {
		t = strings.ToLower(t)
		for _, w := range want {
			if t == w {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// internetDBList joins at most n items, with "…" when there are more.
func internetDBList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + ", …"
}

// Context is InternetDB's tags for the address (e.g. "cdn", "vpn").
// InternetDB has no page of its own to link to.
func (s InternetDBSummary) Context() Context {
	return Context{Tags: s.Tags}
}
