package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "threatminer",
		Title:       "ThreatMiner",
		Source:      "ThreatMiner",
		Disabled:    true, // keyless and often failing upstream, as the original found
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.Domain, indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:         KeyNone,
		BaseURL:     "https://api.threatminer.org/v2",
		Rate:        Rate{Events: 3, Per: time.Minute}, // 10 queries a minute, 2–3 per lookup
		CacheTTL:    72 * time.Hour,
		NotFoundTTL: 24 * time.Hour,
		Timeout:     20 * time.Second,
		Calls:       3,
		FreeTier:    "keyless; ThreatMiner allows 10 queries a minute and a lookup asks one per report type (2–3), so the default is 3 lookups a minute; often unavailable, off by default",
		Summary:     ThreatMinerSummary{},
		Tags:        []string{"context"},
		Description: "ThreatMiner's report types as named parts of one answer (one GraphQL field; in the REST envelope one entry each, as in the original), in the original's source names: ThreatMiner_PassiveDNS, _URIs and _Samples for an IPv4 address, _PassiveDNS and _WHOIS for a domain, _Metadata and _AVDetections for a file hash.",
		MaxTLP:      indicator.TLPGreen,
		TLPReason:   "a keyless research service with no account or privacy terms, off by default: only what the community may know",
		VerdictRules: []string{
			"a file hash named by 10 or more antivirus engines (ThreatMiner_AVDetections): MALICIOUS 70",
			"a file hash named by 3–9 engines: SUSPICIOUS 40",
			"otherwise context only: UNKNOWN with the counts of each part (ThreatMiner's data is historical)",
			"every part answers status_code 404: not found",
		},
		Parts: func(k indicator.Kind) []string {
			var names []string
			for _, p := range threatMinerParts(k) {
				names = append(names, p.name)
			}
			return names
		},
		Link: func(ind indicator.Indicator) string {
			page := threatMinerPage(ind.Kind)
			if page == "" {
				return ""
			}
			return "https://www.threatminer.org/" + page + "?q=" + url.QueryEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &threatMiner{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// threatMiner asks ThreatMiner's API v2: GET /{host,domain,sample}.php?q=V&rt=N,
// one request per report type, answered {"status_code","status_message","results"}.
type threatMiner struct{ Base }

// ThreatMinerSummary holds each report type asked as a named part, under
// the original service's source names.
type ThreatMinerSummary struct {
	Parts        []string               `json:"parts"`                          // the report types asked, e.g. "ThreatMiner_PassiveDNS"
	PassiveDNS   []ThreatMinerDNS       `json:"ThreatMiner_PassiveDNS"`         // ipv4: names seen on it; domain: addresses it resolved to
	URIs         []ThreatMinerURI       `json:"ThreatMiner_URIs"`               // ipv4: URLs seen on it
	Samples      []string               `json:"ThreatMiner_Samples"`            // ipv4: SHA-256 of samples that contacted it
	WHOIS        *ThreatMinerWhois      `json:"ThreatMiner_WHOIS,omitempty"`    // domain
	Metadata     *ThreatMinerMetadata   `json:"ThreatMiner_Metadata,omitempty"` // file hash
	AVDetections []ThreatMinerDetection `json:"ThreatMiner_AVDetections"`       // file hash: engine and its detection name
}

// ThreatMinerDNS is one passive-DNS pair.
type ThreatMinerDNS struct {
	Domain    string    `json:"domain,omitempty"`
	IP        string    `json:"ip,omitempty"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// ThreatMinerURI is a URL seen on an address.
type ThreatMinerURI struct {
	URI      string    `json:"uri"`
	Domain   string    `json:"domain,omitempty"`
	LastSeen time.Time `json:"lastSeen"`
}

// ThreatMinerWhois is a domain's registration as ThreatMiner recorded it.
type ThreatMinerWhois struct {
	Registrar    string    `json:"registrar,omitempty"`
	Organization string    `json:"organization,omitempty"` // the registrant's
	Created      time.Time `json:"created"`
	Expires      time.Time `json:"expires"`
	Nameservers  []string  `json:"nameservers"`
}

// ThreatMinerMetadata describes a sample.
type ThreatMinerMetadata struct {
	MD5          string    `json:"md5,omitempty"`
	SHA1         string    `json:"sha1,omitempty"`
	SHA256       string    `json:"sha256,omitempty"`
	FileName     string    `json:"fileName,omitempty"`
	FileType     string    `json:"fileType,omitempty"`
	FileSize     string    `json:"fileSize,omitempty"` // as given, e.g. "546304 bytes"
	Imphash      string    `json:"imphash,omitempty"`
	DateAnalysed time.Time `json:"dateAnalysed"`
}

// ThreatMinerDetection is one antivirus engine's name for a sample.
type ThreatMinerDetection struct {
	AV        string `json:"av"`
	Detection string `json:"detection"`
}

// Context gives the passive-DNS sighting span and, for a domain, its
// registrar and creation date.
func (s ThreatMinerSummary) Context() Context {
	var c Context
	for _, r := range s.PassiveDNS {
		if !r.FirstSeen.IsZero() && (c.FirstSeen.IsZero() || r.FirstSeen.Before(c.FirstSeen)) {
			c.FirstSeen = r.FirstSeen
		}
		if r.LastSeen.After(c.LastSeen) {
			c.LastSeen = r.LastSeen
		}
	}
	if c.LastSeen.Before(c.FirstSeen) {
		c.LastSeen = c.FirstSeen
	}
	if s.WHOIS != nil {
		c.Registrar, c.RegisteredAt = s.WHOIS.Registrar, s.WHOIS.Created
	}
	return c
}

// threatMinerPart is one report type of an endpoint.
type threatMinerPart struct {
	name string // the original's source name
	rt   int
}

// threatMinerPage is the endpoint (and web page) for a kind.
func threatMinerPage(k indicator.Kind) string {
	switch k {
	case indicator.IPv4:
		return "host.php"
	case indicator.Domain:
		return "domain.php"
	case indicator.MD5, indicator.SHA1, indicator.SHA256:
		return "sample.php"
	}
	return ""
}

// threatMinerParts are the report types asked per kind: the original's
// (its domain WHOIS asked rt=2 by mistake; rt=1 is WHOIS).
func threatMinerParts(k indicator.Kind) []threatMinerPart {
	switch k {
	case indicator.IPv4:
		return []threatMinerPart{{"ThreatMiner_PassiveDNS", 2}, {"ThreatMiner_URIs", 3}, {"ThreatMiner_Samples", 4}}
	case indicator.Domain:
		return []threatMinerPart{{"ThreatMiner_PassiveDNS", 2}, {"ThreatMiner_WHOIS", 1}}
	case indicator.MD5, indicator.SHA1, indicator.SHA256:
		return []threatMinerPart{{"ThreatMiner_Metadata", 1}, {"ThreatMiner_AVDetections", 6}}
	}
	return nil
}

type threatMinerBody struct {
	StatusCode    string          `json:"status_code"`
	StatusMessage string          `json:"status_message"`
	Results       json.RawMessage `json:"results"`
}

func (p *threatMiner) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	page, parts := threatMinerPage(ind.Kind), threatMinerParts(ind.Kind)
	if page == "" {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	s := &ThreatMinerSummary{Parts: []string{}, PassiveDNS: []ThreatMinerDNS{}, URIs: []ThreatMinerURI{}, Samples: []string{}, AVDetections: []ThreatMinerDetection{}}
	raw := map[string]json.RawMessage{}
	var total int64
	found := false
	for _, part := range parts {
		q := url.Values{"q": {ind.Value}, "rt": {strconv.Itoa(part.rt)}}
		req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/"+page+"?"+q.Encode()), nil, "")
		if err != nil {
			return nil, err
		}
		resp, err := p.Do(req)
		if err != nil {
			return nil, err
		}
		total += int64(len(resp.Body))
		s.Parts = append(s.Parts, part.name)
		if resp.Status == http.StatusNotFound {
			continue // this report type has nothing; the others may
		}
		if e := p.Classify(resp); e != nil {
			e.Bytes = total
			return nil, e
		}
		var body threatMinerBody
		if e := p.decode(resp, &body, "malformed JSON answer"); e != nil {
			e.Bytes = total
			return nil, e
		}
		raw[part.name] = resp.Body
		switch body.StatusCode {
		case "200":
		case "404":
			continue // "No results found."
		default:
			e := p.Fail(ErrUpstream, resp, clipDetail("status_code "+body.StatusCode+": "+body.StatusMessage))
			e.Bytes = total
			return nil, e
		}
		ok, e := p.readPart(resp, part.name, body.Results, s)
		if e != nil {
			e.Bytes = total
			return nil, e
		}
		found = found || ok
	}
	composed, _ := json.Marshal(raw) // raw bodies decoded above, so valid JSON
	if !found {
		return nil, &Error{Provider: p.desc.Name, Kind: ErrNotFound, StatusCode: http.StatusOK, Bytes: total, Raw: composed}
	}
	return &Result{Provider: p.desc.Name, Raw: composed, Summary: s, Verdict: threatMinerVerdict(s), Bytes: total, StatusCode: http.StatusOK}, nil
}

// readPart decodes one report type's results into s; false when it holds
// nothing.
func (p *threatMiner) readPart(resp *Response, name string, results json.RawMessage, s *ThreatMinerSummary) (bool, *Error) {
	const layout = "2006-01-02 15:04:05"
	bad := func() (bool, *Error) { return false, p.Fail(ErrUpstream, resp, "malformed "+name+" results") }
	switch name {
	case "ThreatMiner_PassiveDNS":
		var rs []struct {
			Domain    string `json:"domain"`
			IP        string `json:"ip"`
			FirstSeen string `json:"first_seen"`
			LastSeen  string `json:"last_seen"`
		}
		if json.Unmarshal(results, &rs) != nil {
			return bad()
		}
		for _, r := range rs[:min(len(rs), 50)] {
			s.PassiveDNS = append(s.PassiveDNS, ThreatMinerDNS{Domain: r.Domain, IP: r.IP, FirstSeen: parseTime(r.FirstSeen, layout), LastSeen: parseTime(r.LastSeen, layout)})
		}
		return len(rs) > 0, nil
	case "ThreatMiner_URIs":
		var rs []struct {
			URI      string `json:"uri"`
			Domain   string `json:"domain"`
			LastSeen string `json:"last_seen"`
		}
		if json.Unmarshal(results, &rs) != nil {
			return bad()
		}
		for _, r := range rs[:min(len(rs), 50)] {
			s.URIs = append(s.URIs, ThreatMinerURI{URI: r.URI, Domain: r.Domain, LastSeen: parseTime(r.LastSeen, layout)})
		}
		return len(rs) > 0, nil
	case "ThreatMiner_Samples":
		var rs []string
		if json.Unmarshal(results, &rs) != nil {
			return bad()
		}
		s.Samples = append(s.Samples, rs[:min(len(rs), 50)]...)
		return len(rs) > 0, nil
	case "ThreatMiner_WHOIS":
		var rs []struct {
			Whois struct {
				Registrar   string            `json:"registrar"`
				Created     string            `json:"creation_date"`
				Expires     string            `json:"expiration_date"`
				Nameservers []string          `json:"nameservers"`
				Registrant  map[string]string `json:"registrant_info"`
			} `json:"whois"`
		}
		if json.Unmarshal(results, &rs) != nil {
			return bad()
		}
		if len(rs) == 0 {
			return false, nil
		}
		w := rs[0].Whois
		s.WHOIS = &ThreatMinerWhois{Registrar: strings.TrimSpace(w.Registrar), Organization: strings.TrimSpace(w.Registrant["Organization"]),
			Created: parseTime(w.Created, layout), Expires: parseTime(w.Expires, layout), Nameservers: orEmpty(w.Nameservers)}
		return true, nil
	case "ThreatMiner_Metadata":
		var rs []struct {
			MD5          string `json:"md5"`
			SHA1         string `json:"sha1"`
			SHA256       string `json:"sha256"`
			Imphash      string `json:"imphash"`
			FileName     string `json:"file_name"`
			FileType     string `json:"file_type"`
			FileSize     string `json:"file_size"`
			DateAnalysed string `json:"date_analysed"`
		}
		if json.Unmarshal(results, &rs) != nil {
			return bad()
		}
		if len(rs) == 0 {
			return false, nil
		}
		m := rs[0]
		s.Metadata = &ThreatMinerMetadata{MD5: m.MD5, SHA1: m.SHA1, SHA256: m.SHA256, FileName: m.FileName, FileType: m.FileType,
			FileSize: m.FileSize, Imphash: m.Imphash, DateAnalysed: parseTime(m.DateAnalysed, layout)}
		return true, nil
	case "ThreatMiner_AVDetections":
		var rs []struct {
			AVDetections []ThreatMinerDetection `json:"av_detections"`
		}
		if json.Unmarshal(results, &rs) != nil {
			return bad()
		}
		for _, r := range rs {
			s.AVDetections = append(s.AVDetections, r.AVDetections...)
		}
		return len(s.AVDetections) > 0, nil
	}
	return false, nil
}

// threatMinerVerdict: only antivirus detections of a sample say something
// about it; the rest is historical context.
func threatMinerVerdict(s *ThreatMinerSummary) Assessment {
	n := len(s.AVDetections)
	names := newNameSet(3)
	for _, d := range s.AVDetections {
		names.add(d.Detection)
	}
	switch {
	case n >= 10:
		return Assessment{Level: indicator.Malicious, Score: 70, Reason: fmt.Sprintf("ThreatMiner: %d antivirus engines detect it (%s)", n, strings.Join(names.list, ", "))}
	case n >= 3:
		return Assessment{Level: indicator.Suspicious, Score: 40, Reason: fmt.Sprintf("ThreatMiner: %d antivirus engines detect it (%s)", n, strings.Join(names.list, ", "))}
	}
	var got []string
	count := func(n int, what string) {
		if n > 0 {
			got = append(got, fmt.Sprintf("%d %s", n, what))
		}
	}
	count(len(s.PassiveDNS), "passive-DNS records")
	count(len(s.URIs), "URIs")
	count(len(s.Samples), "related samples")
	if s.WHOIS != nil {
		got = append(got, "WHOIS")
	}
	if s.Metadata != nil {
		got = append(got, "sample metadata")
	}
	count(n, "antivirus detections")
	return Assessment{Level: indicator.Unknown, Score: 0, Reason: "ThreatMiner: " + strings.Join(got, ", ") + ", context only"}
}
