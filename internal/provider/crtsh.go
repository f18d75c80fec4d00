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
		Name:        "crtsh",
		Title:       "crt.sh certificate transparency",
		Source:      "crt.sh",
		Kinds:       []indicator.Kind{indicator.Domain, indicator.URL},
		Key:         KeyNone,
		BaseURL:     "https://crt.sh",
		Rate:        Rate{Events: 5, Per: time.Minute},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 12 * time.Hour,
		Timeout:     45 * time.Second, // crt.sh is slow; big names take tens of seconds
		FreeTier:    "keyless public service (Sectigo); slow and often 502/503 under load, so a low rate, a long timeout and a day's cache",
		Summary:     CrtShSummary{},
		Tags:        []string{"context"},
		Description: "The certificates logged in certificate transparency for a domain (a URL's host): how many, first and last issued, by which CAs, and the names they cover.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "an established keyless public service (Sectigo's crt.sh); it sees the domain asked about and publishes nothing",
		VerdictRules: []string{
			"the domain's first certificate was issued in the last 7 days (a brand-new site): SUSPICIOUS 35",
			"anything else: UNKNOWN, context only (count, first and last issued, issuers)",
			"no certificate logged ([]): not found, no verdict",
		},
		Link: func(ind indicator.Indicator) string {
			if h := crtShName(ind); h != "" {
				return "https://crt.sh/?q=" + url.QueryEscape(h)
			}
			return ""
		},
	}
	d.New = func(cfg Config) (Provider, error) {
		if cfg.MaxBodyBytes <= 0 {
			cfg.MaxBodyBytes = 16 << 20 // a popular name's history is several MiB
		}
		return &crtSh{Base: NewBase(d, cfg), now: time.Now}, nil
	}
	Register(d)
}

// crtSh searches crt.sh: GET /?q={domain}&output=json, keyless.
type crtSh struct {
	Base
	now func() time.Time
}

// CrtShSummary is a domain's certificate history.
type CrtShSummary struct {
	Name         string    `json:"name"`         // the name asked for
	Certificates int       `json:"certificates"` // distinct certificates (a precertificate and its leaf count once)
	FirstIssued  time.Time `json:"firstIssued,omitzero"`
	LastIssued   time.Time `json:"lastIssued,omitzero"`
	Issuers      []string  `json:"issuers"`     // issuing CAs, e.g. "Let's Encrypt R3"
	RecentNames  []string  `json:"recentNames"` // names on the newest certificates, newest first, at most 20
}

// Context gives the first and last certificate dates as sightings.
func (s CrtShSummary) Context() Context {
	return Context{FirstSeen: s.FirstIssued, LastSeen: s.LastIssued}
}

type crtShEntry struct {
	IssuerName   string `json:"issuer_name"`
	NameValue    string `json:"name_value"`
	NotBefore    string `json:"not_before"`
	SerialNumber string `json:"serial_number"`
	IssuerCAID   int    `json:"issuer_ca_id"`
}

// crtShName is the name crt.sh is asked about: the domain, or a URL's host
// (an IP host has no certificate history worth asking for).
func crtShName(ind indicator.Indicator) string {
	switch ind.Kind {
	case indicator.Domain:
		return ind.Value
	case indicator.URL:
		u, err := url.Parse(ind.Value)
		if err != nil || u.Hostname() == "" || strings.Trim(u.Hostname(), "0123456789.") == "" || strings.Contains(u.Hostname(), ":") {
			return ""
		}
		return strings.ToLower(u.Hostname())
	}
	return ""
}

func (c *crtSh) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	name := crtShName(ind)
	if name == "" {
		return nil, c.Fail(ErrBadInput, nil, fmt.Sprintf("no domain to ask crt.sh about in this %s", ind.Kind))
	}
	q := url.Values{"q": {name}, "output": {"json"}}
	req, err := c.NewRequest(ctx, http.MethodGet, c.URL("/?"+q.Encode()), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if e := c.Classify(resp); e != nil {
		return nil, e // 502/503 under load: upstream
	}
	var entries []crtShEntry
	if e := c.decode(resp, &entries, "malformed JSON answer"); e != nil {
		return nil, e
	}
	if len(entries) == 0 {
		return nil, c.Fail(ErrNotFound, resp, "")
	}
	s := &CrtShSummary{Name: name}
	type cert struct {
		issued time.Time
		names  []string
	}
	certs := map[string]cert{}
	issuers := newNameSet(10)
	for _, e := range entries {
		key := fmt.Sprintf("%d/%s", e.IssuerCAID, strings.ToLower(e.SerialNumber))
		issued := parseTime(e.NotBefore, "2006-01-02T15:04:05", time.RFC3339)
		if _, seen := certs[key]; !seen {
			certs[key] = cert{issued: issued, names: strings.Fields(e.NameValue)}
		}
		issuers.add(crtShIssuer(e.IssuerName))
	}
	list := make([]cert, 0, len(certs))
	for _, ct := range certs {
		list = append(list, ct)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].issued.After(list[j].issued) })
	s.Certificates = len(list)
	s.LastIssued, s.FirstIssued = list[0].issued, list[len(list)-1].issued
	s.Issuers = issuers.list
	names := newNameSet(20)
	for _, ct := range list {
		names.add(ct.names...)
	}
	s.RecentNames = names.list
	return c.OK(resp, s, crtShVerdict(s, c.now())), nil
}

// crtShIssuer shortens "C=US, O=Let's Encrypt, CN=R3" to "Let's Encrypt R3"
// and "O=DigiCert Inc, CN=DigiCert TLS RSA SHA256 2020 CA1" to its CN.
func crtShIssuer(dn string) string {
	var o, cn string
	for _, part := range strings.Split(dn, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "O":
			o = v
		case "CN":
			cn = v
		}
	}
	brand := o
	if f := strings.Fields(o); len(f) > 0 {
		brand = f[0] // "DigiCert Inc" → "DigiCert", already in its CN
	}
	switch {
	case o != "" && cn != "" && !strings.HasPrefix(cn, brand):
		return o + " " + cn
	case cn != "":
		return cn
	}
	return o
}

// crtShVerdict is context only, except that a domain whose first
// certificate is days old is a classic sign of a freshly set-up phishing
// or malware site.
func crtShVerdict(s *CrtShSummary, now time.Time) Assessment {
	age := now.Sub(s.FirstIssued)
	if !s.FirstIssued.IsZero() && age >= 0 && age < 7*24*time.Hour {
		return Assessment{Level: indicator.Suspicious, Score: 35,
			Reason: fmt.Sprintf("crt.sh: first certificate for %s issued %d days ago (%s)", s.Name, int(age.Hours()/24), s.FirstIssued.Format(time.DateOnly))}
	}
	return Assessment{Level: indicator.Unknown, Score: 0,
		Reason: fmt.Sprintf("crt.sh: %d certificates since %s, context only", s.Certificates, s.FirstIssued.Format(time.DateOnly))}
}
