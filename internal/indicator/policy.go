package indicator

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// DefaultInternalDomains are the suffixes that are never public: mDNS
// (.local), the private-use TLD (.internal), home networks (.home.arpa,
// .lan) and the never-delegated .corp. A Policy always blocks them, in
// addition to its own InternalDomains.
var DefaultInternalDomains = []string{".local", ".internal", ".lan", ".home.arpa", ".corp"}

// Policy decides whether an indicator may be sent to external services.
// The zero Policy blocks private and special addresses and
// DefaultInternalDomains.
type Policy struct {
	// InternalDomains are domain suffixes such as ".corp" or
	// ".example.com". A domain is internal if it equals a suffix without
	// its leading dot or ends with the suffix: ".corp" blocks "corp" and
	// "x.corp" but not "xcorp". Entries are best normalised by NewPolicy;
	// Check tolerates entries without the leading dot or in upper case.
	// DefaultInternalDomains apply whatever this holds.
	InternalDomains []string
}

// PolicyError reports an indicator that may not leave the building.
type PolicyError struct {
	Indicator Indicator
	Reason    string // e.g. "private address (RFC 1918)", "internal domain (.corp)"
}

// Error returns `blocked by policy: <kind> "<value>": <reason>`, with the
// value cut to about 100 characters.
func (e *PolicyError) Error() string {
	kind := truncate(string(e.Indicator.Kind), 16)
	if kind == "" {
		kind = "indicator"
	}
	return fmt.Sprintf("blocked by policy: %s %q: %s", kind, truncate(e.Indicator.Value, 100), e.Reason)
}

// NewPolicy returns a Policy that blocks DefaultInternalDomains and the
// given suffixes. Each entry is trimmed, lower-cased, converted to
// punycode if internationalised, and given a leading dot; "*.corp", "corp",
// ".corp" and "CORP." are all ".corp". Empty entries and duplicates are
// dropped.
func NewPolicy(internalDomains []string) Policy {
	var out []string
	seen := map[string]bool{}
	for _, list := range [][]string{DefaultInternalDomains, internalDomains} {
		for _, d := range list {
			n := normalizeSuffix(d)
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			out = append(out, n)
		}
	}
	return Policy{InternalDomains: out}
}

// normalizeSuffix turns a configured internal domain into ".example"
// form, or "" if nothing is left of it.
func normalizeSuffix(d string) string {
	d = strings.TrimSpace(d)
	d = strings.TrimPrefix(d, "*")
	d = strings.Trim(mapWidth(d), ".")
	if d == "" {
		return ""
	}
	labels := strings.Split(strings.ToLower(d), ".")
	for i, l := range labels {
		if a, err := toASCIILabel(l); err == nil {
			labels[i] = a
		}
	}
	return "." + strings.Join(labels, ".")
}

// Check returns nil if ind may be sent to external services, and a
// *PolicyError saying why not otherwise.
//
// Blocked are: loopback, private (RFC 1918, IPv6 unique local), link-local,
// shared (100.64.0.0/10), multicast, unspecified, broadcast, "this network"
// (0.0.0.0/8), reserved (240.0.0.0/4), IETF protocol (192.0.0.0/24) and
// benchmarking (198.18.0.0/15, 2001:2::/48) addresses; IPv6 site-local,
// discard-only, local-use NAT64 and anything outside 2000::/3; IPv4
// addresses of those kinds embedded in IPv4-mapped, NAT64 (64:ff9b::/96)
// or 6to4 (2002::/16) addresses; internal domains and *.localhost; and
// URLs whose host is any of those or that carry a password. The
// documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
// 2001:db8::/32, 3fff::/20) are allowed. Hashes are always allowed.
//
// Check fails closed: an indicator that is not exactly what Parse would
// return for its Value (an unknown kind, an invalid or non-canonical value)
// is blocked.
func (p Policy) Check(ind Indicator) error {
	deny := func(reason string) error { return &PolicyError{Indicator: ind, Reason: reason} }
	canon, err := ParseAs(ind.Value, ind.Kind)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return deny("invalid indicator: " + pe.Reason)
		}
		return deny("invalid indicator")
	}
	if canon != ind {
		return deny("indicator is not in canonical form; parse it first")
	}
	var reason string
	switch ind.Kind {
	case MD5, SHA1, SHA256:
		return nil
	case IPv4, IPv6:
		reason = addrReason(ind.Value)
	case Domain:
		reason = p.domainReason(ind.Value)
	case URL:
		reason = p.urlReason(ind.Value)
	}
	if reason != "" {
		return deny(reason)
	}
	return nil
}

func (p Policy) urlReason(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		return "invalid url"
	}
	if _, ok := u.User.Password(); ok {
		return "url contains a password"
	}
	host, err := parseHost(u.Hostname(), "")
	if err != nil {
		return "invalid url host"
	}
	var reason string
	if host.Kind == Domain {
		reason = p.domainReason(host.Value)
	} else {
		reason = addrReason(host.Value)
	}
	if reason != "" {
		return "url host is " + reason
	}
	return ""
}

func (p Policy) domainReason(d string) string {
	if d == "localhost" || strings.HasSuffix(d, ".localhost") {
		return "loopback name (.localhost)"
	}
	for _, list := range [][]string{DefaultInternalDomains, p.InternalDomains} {
		for _, s := range list {
			s = normalizeSuffix(s)
			if s != "" && (d == s[1:] || strings.HasSuffix(d, s)) {
				return "internal domain (" + s + ")"
			}
		}
	}
	return ""
}

type addrRule struct {
	prefix netip.Prefix
	reason string // "" allows the range
}

// v4Rules are checked in order; the first match decides.
var v4Rules = []addrRule{
	{netip.MustParsePrefix("0.0.0.0/32"), "unspecified address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" address (0.0.0.0/8)`},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private address (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (RFC 6598, carrier-grade NAT)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment (192.0.0.0/24)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking address (RFC 2544)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved address (240.0.0.0/4)"},
}

// v6Rules are checked in order after the embedded-IPv4 forms; the first
// match decides.
var v6Rules = []addrRule{
	{netip.MustParsePrefix("::/128"), "unspecified address"},
	{netip.MustParsePrefix("::1/128"), "loopback address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64 address (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only address (RFC 6666)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local address (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "site-local address (deprecated)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast address"},
	{netip.MustParsePrefix("2001:db8::/32"), ""}, // documentation
	{netip.MustParsePrefix("3fff::/20"), ""},     // documentation
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking address (RFC 5180)"},
	{netip.MustParsePrefix("2000::/3"), ""},
	{netip.MustParsePrefix("::/0"), "reserved address (outside 2000::/3)"},
}

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// addrReason says why the address v may not leave, or "".
func addrReason(v string) string {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return "invalid address"
	}
	return addrRuleReason(a.WithZone(""))
}

func addrRuleReason(a netip.Addr) string {
	if a.Is4() {
		for _, r := range v4Rules {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return ""
	}
	b := a.As16()
	switch {
	case a.Is4In6():
		if r := addrRuleReason(a.Unmap()); r != "" {
			return r + " (ipv4-mapped)"
		}
		return ""
	case nat64Prefix.Contains(a):
		if r := addrRuleReason(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); r != "" {
			return r + " (embedded in a NAT64 address)"
		}
		return ""
	case sixToFour.Contains(a):
		if r := addrRuleReason(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})); r != "" {
			return r + " (embedded in a 6to4 address)"
		}
		return ""
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}
