package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "cymru",
		Title:       "Team Cymru (IP to ASN, Malware Hash Registry)",
		Source:      "TeamCymru",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:         KeyNone,
		NotHTTP:     true,
		Rate:        Rate{Events: 60, Per: time.Minute},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 6 * time.Hour,
		Timeout:     5 * time.Second,
		Calls:       3,
		FreeTier:    "keyless DNS TXT lookups through the resolver the operator configures (GADGET_CYMRU_RESOLVER); Team Cymru asks to be told before automated use and prefers its whois service for bulk queries",
		Terms:       "the Malware Hash Registry is free for non-commercial use only (https://team-cymru.com/community-services/mhr/).",
		Settings: []Setting{
			{Name: "RESOLVER", Doc: "the DNS resolver (host:port, UDP with TCP fallback) that asks Team Cymru's zones; unset, the provider is not configured, so no lookup leaves through a resolver nobody chose."},
		},
		Summary:     CymruSummary{},
		Tags:        []string{"context", "reputation"},
		Description: "Who announces an IPv4 address (origin AS, prefix, registry, allocation date, AS name and upstream peers) and whether a file hash is known malware (Malware Hash Registry: last seen and antivirus detection rate), over DNS.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "an established keyless community service asked over DNS: Team Cymru and the resolver you set see the value",
		VerdictRules: []string{
			"a hash in the Malware Hash Registry (it lists only malware that 5 % or more of 30+ antivirus engines detect, NIST-known files excluded) at 10 % detection or more: MALICIOUS 75",
			"a hash in the registry below 10 % detection: SUSPICIOUS 50",
			"an IPv4 address: context only, UNKNOWN with its origin AS and prefix",
			"NXDOMAIN (no origin AS, hash not in the registry): not found",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return newCymru(d, cfg), nil }
	Register(d)
}

// cymru asks Team Cymru's DNS zones for TXT records: <reversed ip>.origin.asn.cymru.com,
// <reversed ip>.peer.asn.cymru.com and AS<n>.asn.cymru.com for an address,
// <hash>.hash.cymru.com (a SHA-256 split into two 32-character labels) for a file.
type cymru struct {
	Base
	resolver string // host:port; "" when not configured
	dns      *net.Resolver
}

func newCymru(d Descriptor, cfg Config) *cymru {
	c := &cymru{Base: NewBase(d, cfg)}
	c.resolver = c.Setting("RESOLVER")
	c.dns = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, network, c.resolver) // always the configured resolver, never /etc/resolv.conf's
	}}
	return c
}

// Configured reports whether a resolver is configured.
func (c *cymru) Configured() bool { return c.resolver != "" }

// CymruSummary is Team Cymru's answer: routing for an address, the Malware
// Hash Registry's entry for a hash.
type CymruSummary struct {
	ASN       int       `json:"asn,omitempty"`
	ASName    string    `json:"asName,omitempty"`
	Prefix    string    `json:"prefix,omitempty"`   // the announced BGP prefix
	Country   string    `json:"country,omitempty"`  // ISO 3166-1 alpha-2
	Registry  string    `json:"registry,omitempty"` // e.g. "arin"
	Allocated string    `json:"allocated,omitempty"`
	Peers     []int     `json:"peers"`     // upstream peer ASNs
	LastSeen  time.Time `json:"lastSeen"`  // hashes: when the registry last saw the sample
	Detection int       `json:"detection"` // hashes: antivirus detection rate, percent
	Malware   bool      `json:"malware"`   // hashes: listed in the registry
}

// Context gives the routing of an address, or the sample's last sighting.
func (s CymruSummary) Context() Context {
	return Context{ASN: s.ASN, ASOwner: s.ASName, Network: s.Prefix, Country: s.Country, LastSeen: s.LastSeen}
}

func (c *cymru) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !c.Configured() {
		return nil, &Error{Provider: c.desc.Name, Kind: ErrNotConfigured, Message: "no DNS resolver configured (GADGET_CYMRU_RESOLVER=host:port)"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	switch ind.Kind {
	case indicator.IPv4:
		return c.address(ctx, ind)
	case indicator.MD5, indicator.SHA1, indicator.SHA256:
		return c.hash(ctx, ind)
	}
	return nil, c.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
}

// txt asks one name; found is false for NXDOMAIN or no TXT record.
func (c *cymru) txt(ctx context.Context, name string, raw map[string][]string, bytes *int64) ([]string, bool, error) {
	recs, err := c.dns.LookupTXT(ctx, name)
	var de *net.DNSError
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled):
		return nil, false, fmt.Errorf("%s: %w", c.desc.Name, context.Canceled)
	case errors.As(err, &de) && de.IsNotFound:
		return nil, false, nil
	case errors.As(err, &de) && de.IsTimeout, errors.Is(err, context.DeadlineExceeded):
		return nil, false, &Error{Provider: c.desc.Name, Kind: ErrTimeout, Message: fmt.Sprintf("no DNS answer within %s", c.cfg.Timeout)}
	default:
		msg := "DNS lookup failed"
		if errors.As(err, &de) {
			msg += ": " + de.Err
		}
		return nil, false, &Error{Provider: c.desc.Name, Kind: ErrUpstream, Message: msg}
	}
	raw[name] = recs
	for _, r := range recs {
		*bytes += int64(len(r))
	}
	return recs, len(recs) > 0, nil
}

// fields splits a "a | b | c" TXT record.
func cymruFields(rec string) []string {
	f := strings.Split(rec, "|")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return f
}

func (c *cymru) address(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	ip, err := netip.ParseAddr(ind.Value)
	if err != nil || !ip.Is4() {
		return nil, c.Fail(ErrBadInput, nil, "not an IPv4 address")
	}
	b := ip.As4()
	rev := fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	raw, n := map[string][]string{}, int64(0)
	origin, found, err := c.txt(ctx, rev+".origin.asn.cymru.com.", raw, &n)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, c.notFound(raw, n)
	}
	// "23028 | 216.90.108.0/24 | US | arin | 1998-09-25"; several origins
	// (multi-origin prefixes) list several ASNs in the first field.
	f := cymruFields(origin[0])
	s := &CymruSummary{Peers: []int{}}
	if len(f) >= 5 {
		s.ASN, _ = strconv.Atoi(strings.Fields(f[0] + " ")[0])
		s.Prefix, s.Country, s.Registry, s.Allocated = f[1], strings.ToUpper(f[2]), f[3], f[4]
	}
	if _, err := netip.ParsePrefix(s.Prefix); err != nil {
		s.Prefix = ""
	}
	if len(s.Country) != 2 {
		s.Country = ""
	}
	if s.ASN > 0 {
		// "23028 | US | arin | 2002-01-04 | TEAMCYMRU - SAUNET"
		names, ok, err := c.txt(ctx, "AS"+strconv.Itoa(s.ASN)+".asn.cymru.com.", raw, &n)
		if err != nil {
			return nil, err
		}
		if ok {
			if f := cymruFields(names[0]); len(f) >= 5 {
				s.ASName = f[4]
			}
		}
	}
	// "701 1239 3549 3561 7132 | 216.90.108.0/24 | US | arin | 1998-09-25"
	peers, ok, err := c.txt(ctx, rev+".peer.asn.cymru.com.", raw, &n)
	if err != nil {
		return nil, err
	}
	if ok {
		for _, a := range strings.Fields(cymruFields(peers[0])[0]) {
			if asn, err := strconv.Atoi(a); err == nil && len(s.Peers) < 25 {
				s.Peers = append(s.Peers, asn)
			}
		}
	}
	reason := fmt.Sprintf("Team Cymru: AS%d %s, prefix %s (%s), context only", s.ASN, s.ASName, s.Prefix, s.Registry)
	return c.result(raw, n, s, Assessment{Level: indicator.Unknown, Reason: reason}), nil
}

func (c *cymru) hash(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	h := strings.ToLower(ind.Value)
	if ind.Kind == indicator.SHA256 && len(h) == 64 {
		h = h[:32] + "." + h[32:] // a DNS label holds at most 63 characters
	}
	raw, n := map[string][]string{}, int64(0)
	recs, found, err := c.txt(ctx, h+".hash.cymru.com.", raw, &n)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, c.notFound(raw, n)
	}
	// "[Unix epoch] [AV hit %]", e.g. "1611956489 28"
	f := strings.Fields(recs[0])
	if len(f) != 2 {
		return nil, &Error{Provider: c.desc.Name, Kind: ErrUpstream, Message: clipDetail("unexpected registry answer " + strconv.Quote(recs[0]))}
	}
	sec, err1 := strconv.ParseInt(f[0], 10, 64)
	pct, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || pct < 0 || pct > 100 {
		return nil, &Error{Provider: c.desc.Name, Kind: ErrUpstream, Message: clipDetail("unexpected registry answer " + strconv.Quote(recs[0]))}
	}
	s := &CymruSummary{Peers: []int{}, Malware: true, Detection: pct, LastSeen: unixTime(sec)}
	seen := s.LastSeen.Format(time.DateOnly)
	v := Assessment{Level: indicator.Malicious, Score: 75,
		Reason: fmt.Sprintf("Team Cymru Malware Hash Registry: known malware, %d %% antivirus detection, last seen %s", pct, seen)}
	if pct < 10 {
		v = Assessment{Level: indicator.Suspicious, Score: 50,
			Reason: fmt.Sprintf("Team Cymru Malware Hash Registry: listed with a low %d %% antivirus detection, last seen %s", pct, seen)}
	}
	return c.result(raw, n, s, v), nil
}

// result builds a Result whose Raw is the TXT answers by name.
func (c *cymru) result(raw map[string][]string, n int64, s *CymruSummary, v Assessment) *Result {
	b, _ := json.Marshal(raw)
	return &Result{Provider: c.desc.Name, Raw: b, Summary: s, Verdict: v, Bytes: n}
}

// notFound is an NXDOMAIN answer, kept so it can be cached.
func (c *cymru) notFound(raw map[string][]string, n int64) *Error {
	b, _ := json.Marshal(raw)
	return &Error{Provider: c.desc.Name, Kind: ErrNotFound, Raw: b, Bytes: n}
}
