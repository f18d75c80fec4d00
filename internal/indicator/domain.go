package indicator

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits from RFC 1035 §2.3.4, counted on the ASCII (punycode) form.
const (
	maxLabelLen  = 63
	maxDomainLen = 253
	// maxHostInput bounds the Unicode form before conversion, so that no
	// input makes the quadratic punycode encoder do real work. A domain
	// that fits in 253 ASCII characters is never anywhere near this long.
	maxHostInput = 1024
)

// parseHost parses a host: an IPv4 address, an IPv6 address without
// brackets, or a domain. want is the kind the caller insists on, or "" for
// whichever it is. An IPv4-mapped IPv6 address is its IPv4 address.
func parseHost(h string, want Kind) (Indicator, error) {
	h = mapWidth(h)
	shape := Domain
	switch {
	case strings.Contains(h, ":"):
		shape = IPv6
	default:
		// A single trailing dot marks a fully qualified name; resolvers
		// (and browsers, for addresses) ignore it.
		if len(h) > 1 {
			h = strings.TrimSuffix(h, ".")
		}
		if looksIPv4(h) {
			shape = IPv4
		}
	}
	var (
		got Indicator
		err error
	)
	switch shape {
	case IPv4:
		got, err = parseIPv4(h)
	case IPv6:
		got, err = parseIPv6(h)
	default:
		got, err = parseDomain(h)
	}
	if want == "" {
		return got, err
	}
	if err != nil {
		if shape != want {
			return Indicator{}, fmt.Errorf("not %s", kindNoun(want))
		}
		return Indicator{}, err
	}
	if got.Kind != want {
		if shape == IPv6 && got.Kind == IPv4 {
			return Indicator{}, fmt.Errorf("ipv4-mapped ipv6 address is the ipv4 address %s, not %s", got.Value, kindNoun(want))
		}
		return Indicator{}, fmt.Errorf("%s, not %s", kindNoun(got.Kind), kindNoun(want))
	}
	return got, nil
}

// looksIPv4 reports whether s is made only of digits and dots, which is how
// every IPv4 spelling a resolver might accept starts (and which no valid
// domain is, since a top-level domain is never numeric).
func looksIPv4(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseIPv4 accepts only the dotted-quad form with decimal octets. Shorter
// forms ("127.1") and leading zeros ("010.0.0.1", octal to inet_aton,
// decimal to others) name different hosts to different software, so they
// are rejected rather than guessed.
func parseIPv4(s string) (Indicator, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return Indicator{}, errors.New("ipv4 address must have four decimal octets")
	}
	for _, p := range parts {
		switch {
		case p == "":
			return Indicator{}, errors.New("ipv4 address has an empty octet")
		case len(p) > 1 && p[0] == '0':
			return Indicator{}, fmt.Errorf("ipv4 octet %q has a leading zero, which is ambiguous (octal or decimal)", p)
		case len(p) > 3:
			return Indicator{}, fmt.Errorf("ipv4 octet %q is out of range", p)
		}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Indicator{}, fmt.Errorf("invalid ipv4 address: %s", netipDetail(err))
	}
	return Indicator{Kind: IPv4, Value: a.String()}, nil
}

// parseIPv6 parses an IPv6 address in any RFC 4291 spelling and returns its
// RFC 5952 form. Zones are rejected: they are meaningful only on the host
// that wrote them. An IPv4-mapped address (::ffff:a.b.c.d) is returned as
// the IPv4 address it maps, so that it is looked up, cached and checked by
// policy as that address.
func parseIPv6(s string) (Indicator, error) {
	if strings.Contains(s, "%") {
		return Indicator{}, errors.New("ipv6 zone is not allowed")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return Indicator{}, fmt.Errorf("invalid ipv6 address: %s", netipDetail(err))
	}
	if a.Is4In6() {
		return Indicator{Kind: IPv4, Value: a.Unmap().String()}, nil
	}
	if !a.Is6() {
		return Indicator{}, errors.New("invalid ipv6 address")
	}
	return Indicator{Kind: IPv6, Value: a.String()}, nil
}

// netipDetail strips the `ParseAddr("...")` prefix netip puts on its errors.
func netipDetail(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "): "); ok {
		return after
	}
	return msg
}

// parseDomain validates and canonicalises a domain name: lower-case,
// internationalised labels as punycode A-labels. parseHost has already
// mapped full-width forms and removed one trailing dot.
func parseDomain(s string) (Indicator, error) {
	if len(s) > maxHostInput {
		return Indicator{}, fmt.Errorf("domain longer than %d characters", maxDomainLen)
	}
	if s == "" {
		return Indicator{}, errors.New("empty domain")
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return Indicator{}, errors.New("single-label name is not a domain")
	}
	for i, l := range labels {
		a, err := toASCIILabel(l)
		if err != nil {
			return Indicator{}, err
		}
		labels[i] = a
	}
	tld := labels[len(labels)-1]
	if allDigits(tld) {
		return Indicator{}, fmt.Errorf("top-level domain %q is numeric", tld)
	}
	if !strings.HasPrefix(tld, "xn--") && !allLetters(tld) {
		return Indicator{}, fmt.Errorf("top-level domain %q is not alphabetic", tld)
	}
	d := strings.Join(labels, ".")
	if len(d) > maxDomainLen {
		return Indicator{}, fmt.Errorf("domain longer than %d characters", maxDomainLen)
	}
	return Indicator{Kind: Domain, Value: d}, nil
}

// toASCIILabel lower-cases one label and converts it to its ASCII form:
// unchanged if it is LDH, "xn--" and punycode if it has non-ASCII letters.
// An existing "xn--" label must be exactly what we would have produced.
func toASCIILabel(l string) (string, error) {
	if l == "" {
		return "", errors.New("domain has an empty label")
	}
	l = strings.ToLower(l)
	if !isASCII(l) {
		if err := checkULabel(l); err != nil {
			return "", err
		}
		enc, err := punyEncode(l)
		if err != nil {
			return "", fmt.Errorf("label %s cannot be converted to punycode", quoteShort(l))
		}
		a := "xn--" + enc
		if len(a) > maxLabelLen {
			return "", fmt.Errorf("label %s is longer than %d characters as punycode", quoteShort(l), maxLabelLen)
		}
		return a, nil
	}
	if len(l) > maxLabelLen {
		return "", fmt.Errorf("label %s is longer than %d characters", quoteShort(l), maxLabelLen)
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isLDH(c) {
			return "", fmt.Errorf("invalid character %q in domain label %s", c, quoteShort(l))
		}
	}
	if l[0] == '-' || l[len(l)-1] == '-' {
		return "", fmt.Errorf("domain label %s starts or ends with a hyphen", quoteShort(l))
	}
	if strings.HasPrefix(l, "xn--") {
		if err := checkALabel(l); err != nil {
			return "", err
		}
	}
	return l, nil
}

// checkALabel verifies that an "xn--" label decodes to a valid
// internationalised label and is that label's canonical encoding, so that
// every domain has exactly one Value.
func checkALabel(l string) error {
	u, err := punyDecode(l[4:])
	if err != nil {
		return fmt.Errorf("label %s is not valid punycode", quoteShort(l))
	}
	if isASCII(u) {
		return fmt.Errorf("punycode label %s encodes plain ascii", quoteShort(l))
	}
	if err := checkULabel(u); err != nil {
		return fmt.Errorf("punycode label %s: %w", quoteShort(l), err)
	}
	if enc, err := punyEncode(u); err != nil || "xn--"+enc != l {
		return fmt.Errorf("punycode label %s is not in canonical form", quoteShort(l))
	}
	return nil
}

// checkULabel checks a lower-cased internationalised label. Without the
// IDNA2008 tables (not in the standard library) it approximates them: ASCII
// must be LDH, anything else a letter, mark, decimal digit or other symbol
// (emoji: IDNA2008 forbids them, but browsers following UTS #46 resolve
// them, so they occur in phishing) already in lower case and not a
// full-width form (those map to ASCII); the label may
// not start with a combining mark, start or end with a hyphen, or have
// hyphens in the third and fourth positions (RFC 5891 §4.2.3). Input is not
// NFC-normalised; decomposed input gives a different, valid A-label.
func checkULabel(u string) error {
	if !utf8.ValidString(u) {
		return errors.New("label is not valid utf-8")
	}
	for i, r := range u {
		switch {
		case r < utf8.RuneSelf:
			if !isLDH(byte(r)) {
				return fmt.Errorf("invalid character %q in domain label %s", r, quoteShort(u))
			}
		case isWidthMapped(r):
			return fmt.Errorf("full-width character %q in domain label %s", r, quoteShort(u))
		case !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.So, r):
			return fmt.Errorf("character %U is not allowed in a domain label", r)
		case unicode.ToLower(r) != r:
			return fmt.Errorf("character %U is not lower-case", r)
		case i == 0 && unicode.IsMark(r):
			return fmt.Errorf("domain label %s starts with a combining mark", quoteShort(u))
		}
	}
	if u[0] == '-' || u[len(u)-1] == '-' {
		return fmt.Errorf("domain label %s starts or ends with a hyphen", quoteShort(u))
	}
	if r := []rune(u); len(r) >= 4 && r[2] == '-' && r[3] == '-' {
		return fmt.Errorf("domain label %s has hyphens in the third and fourth positions", quoteShort(u))
	}
	return nil
}

// isWidthMapped reports whether mapWidth changes r.
func isWidthMapped(r rune) bool {
	return r == '\u3002' || r == '\uFF0E' || r == '\uFF61' || (0xFF01 <= r && r <= 0xFF5E)
}

// mapWidth maps full-width ASCII forms to ASCII and the ideographic full
// stops to ".", as UTS #46 does, so that "ｅｘａｍｐｌｅ．com" names the same
// host here as it does in a browser.
func mapWidth(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u3002' || r == '\uFF0E' || r == '\uFF61':
			return '.'
		case 0xFF01 <= r && r <= 0xFF5E:
			return r - 0xFEE0
		}
		return r
	}, s)
}

func isLDH(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string { return fmt.Sprintf("%q", truncate(s, 64)) }

// truncate cuts s to at most n runes, marking the cut with "...".
func truncate(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i] + "..."
		}
		count++
	}
	return s
}
