package indicator

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxInputLen is the longest input, in bytes, that Parse and ParseAs accept.
// It is generous for real URLs and keeps hostile input cheap to reject.
const MaxInputLen = 8192

// ParseError reports input that is not a valid indicator, and why.
type ParseError struct {
	Input  string // the input as given
	Reason string // what is wrong with it, e.g. "single-label name is not a domain"
}

// Error returns `invalid indicator "<input>": <reason>`, with the input cut
// to about 100 characters.
func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid indicator %q: %s", truncate(e.Input, 100), e.Reason)
}

// Parse reads an indicator from analyst input and detects its kind.
//
// It trims surrounding whitespace and wrapping brackets or quotes ("<x>",
// "[x]", "(x)", "{x}", `"x"`, "'x'", "`x`", “x”), and refangs defanged
// input: hxxp:// and hxxps:// in any case, [:] and [://], and [.], {.},
// [dot] and {dot} anywhere, (.) and (dot) outside a URL's path and query,
// and words separated by " dot " ("evil dot com") when nothing else in the
// host is separated by spaces. Spaces around the bracketed forms are
// dropped. Whitespace left after that is an error.
//
// Kinds are detected in this order: anything containing "://" is a URL;
// 32, 40 or 64 hex digits are an MD5, SHA-1 or SHA-256 hash; digits and
// dots are an IPv4 address; anything with a colon is an IPv6 address;
// everything else must be a domain. The Value of the result is canonical
// (see Indicator), and Parse(result.Value) returns the same Indicator.
//
// Errors are *ParseError.
func Parse(s string) (Indicator, error) { return parse(s, "") }

// ParseAs is Parse for input that must be of kind k. It fails with a
// *ParseError if the input is invalid or is another kind. Whenever
// Parse(s) returns an indicator of kind k, ParseAs(s, k) returns the same.
func ParseAs(s string, k Kind) (Indicator, error) {
	if !k.Valid() {
		return Indicator{}, &ParseError{Input: s, Reason: fmt.Sprintf("unknown indicator kind %q", truncate(string(k), 32))}
	}
	return parse(s, k)
}

// Format returns the canonical text of i, its Value. For an indicator from
// Parse, Parse(Format(i)) returns i.
func Format(i Indicator) string { return i.Value }

// Host returns the host part of a URL, domain or IP indicator: the value
// itself for a domain or IP address, and for a URL its host without port
// or brackets (an IPv6 host is returned as the bare address). It returns ""
// for hashes and for values that are not valid URLs.
func (i Indicator) Host() string {
	switch i.Kind {
	case Domain, IPv4, IPv6:
		return i.Value
	case URL:
		u, err := url.Parse(i.Value)
		if err != nil {
			return ""
		}
		return u.Hostname()
	}
	return ""
}

func parse(s string, want Kind) (Indicator, error) {
	c, err := clean(s)
	if err != nil {
		return Indicator{}, &ParseError{Input: s, Reason: err.Error()}
	}
	var ind Indicator
	switch {
	case want == URL || (want == "" && strings.Contains(c, "://")):
		ind, err = parseURL(c)
	case want.IsHash():
		ind, err = parseHash(c, want)
	case want == "" && looksHash(c):
		ind, err = parseHash(c, "")
	default:
		ind, err = parseBareHost(c, want)
	}
	if err != nil {
		return Indicator{}, &ParseError{Input: s, Reason: err.Error()}
	}
	return ind, nil
}

// clean trims, unwraps and refangs s, and rejects what no indicator may
// contain: invalid UTF-8, control and invisible formatting characters, and
// inner whitespace.
func clean(s string) (string, error) {
	if len(s) > MaxInputLen {
		return "", fmt.Errorf("longer than %d bytes", MaxInputLen)
	}
	if !utf8.ValidString(s) {
		return "", errors.New("not valid utf-8")
	}
	s = unwrap(trimSpace(s))
	if s == "" {
		return "", errors.New("empty")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", fmt.Errorf("contains control or invisible character %U", r)
		}
	}
	s = refang(s)
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", errors.New("contains whitespace")
	}
	if s == "" {
		return "", errors.New("empty")
	}
	return s, nil
}

// trimSpace trims white space and the invisible characters that copying
// from documents and chat tends to leave at either end.
func trimSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF'
	})
}

// wrappers maps each opening wrapper to its closing one.
var wrappers = map[rune]rune{
	'<': '>', '[': ']', '(': ')', '{': '}', '"': '"', '\'': '\'', '`': '`',
	'\u201C': '\u201D', // “ ”
	'\u2018': '\u2019', // ‘ ’
	'\u00AB': '\u00BB', // « »
}

// unwrap removes matching wrappers around s, repeatedly: `<"[x]">` is x.
func unwrap(s string) string {
	for {
		first, n := utf8.DecodeRuneInString(s)
		last, m := utf8.DecodeLastRuneInString(s)
		closer, ok := wrappers[first]
		if !ok || len(s) < n+m || last != closer {
			return s
		}
		s = trimSpace(s[n : len(s)-m])
	}
}

// refang undoes the usual ways of defanging an indicator. See Parse.
func refang(s string) string {
	s = strings.ReplaceAll(s, "[://]", "://")
	s = strings.ReplaceAll(s, "[:]", ":")
	switch {
	case hasPrefixFold(s, "hxxps://"):
		s = "https://" + s[len("hxxps://"):]
	case hasPrefixFold(s, "hxxp://"):
		s = "http://" + s[len("hxxp://"):]
	}
	i := strings.Index(s, "://")
	if i < 0 {
		return refangWords(refangDots(s, true))
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	// In the path and query "(.)" may well be literal (parentheses are
	// legal there and stay unescaped in the canonical form), so only the
	// bracket and brace forms, which never survive canonicalisation, are
	// refanged. That keeps Parse idempotent.
	return s[:i+3] + refangWords(refangDots(rest[:end], true)) + refangDots(rest[end:], false)
}

// refangDots replaces [.], {.}, [dot] and {dot} (and, if parens, (.) and
// (dot)) with ".", dropping spaces around them.
func refangDots(s string, parens bool) string {
	if !strings.ContainsAny(s, "[{(") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if n := dotTokenLen(s[i:], parens); n > 0 {
			for len(b) > 0 && b[len(b)-1] == ' ' {
				b = b[:len(b)-1]
			}
			b = append(b, '.')
			i += n
			for i < len(s) && s[i] == ' ' {
				i++
			}
			continue
		}
		b = append(b, s[i])
		i++
	}
	return string(b)
}

// dotTokenLen returns the length of the defanged dot at the start of s, or 0.
func dotTokenLen(s string, parens bool) int {
	if s == "" {
		return 0
	}
	var closer byte
	switch s[0] {
	case '[':
		closer = ']'
	case '{':
		closer = '}'
	case '(':
		if !parens {
			return 0
		}
		closer = ')'
	default:
		return 0
	}
	switch {
	case len(s) >= 3 && s[1] == '.' && s[2] == closer:
		return 3
	case len(s) >= 5 && hasPrefixFold(s[1:], "dot") && s[4] == closer:
		return 5
	}
	return 0
}

// refangWords turns "evil dot example dot com" into "evil.example.com". It
// applies only when the whole of s is words alternating with "dot", so
// ordinary text with the word "dot" in it is left alone (and then rejected
// for its whitespace).
func refangWords(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	f := strings.Fields(s)
	if len(f) < 3 || len(f)%2 == 0 {
		return s
	}
	for i, w := range f {
		if isDot := equalFold(w, "dot"); isDot != (i%2 == 1) {
			return s
		}
	}
	parts := make([]string, 0, len(f)/2+1)
	for i := 0; i < len(f); i += 2 {
		parts = append(parts, f[i])
	}
	return strings.Join(parts, ".")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

// looksHash reports whether s is 32, 40 or 64 hex digits, or is long and
// all hex, which is a hash of an unsupported length rather than anything
// else.
func looksHash(s string) bool {
	return isHex(s) && (len(s) >= 16 && !allDigits(s) || len(s) == 32 || len(s) == 40 || len(s) == 64)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// hashLen maps each hash kind to its length in hex digits.
var hashLen = map[Kind]int{MD5: 32, SHA1: 40, SHA256: 64}

// parseHash accepts a hex digest of kind want, or of any hash kind if want
// is "", and lower-cases it.
func parseHash(s string, want Kind) (Indicator, error) {
	if !isHex(s) {
		return Indicator{}, fmt.Errorf("not %s: not hexadecimal", kindNoun(want))
	}
	k := want
	if k == "" {
		switch len(s) {
		case 32:
			k = MD5
		case 40:
			k = SHA1
		case 64:
			k = SHA256
		default:
			return Indicator{}, fmt.Errorf("%d hex digits is not an md5 (32), sha1 (40) or sha256 (64) hash", len(s))
		}
	}
	if len(s) != hashLen[k] {
		return Indicator{}, fmt.Errorf("%d hex digits, but %s has %d", len(s), kindNoun(k), hashLen[k])
	}
	return Indicator{Kind: k, Value: strings.ToLower(s)}, nil
}

// parseBareHost parses an IP address or domain given on its own, first
// recognising a few near misses to explain them.
func parseBareHost(s string, want Kind) (Indicator, error) {
	switch {
	case strings.Contains(s, "/"):
		if _, err := netip.ParsePrefix(s); err == nil {
			return Indicator{}, errors.New("a cidr prefix is not a single address")
		}
		return Indicator{}, errors.New("contains \"/\"; a url needs a scheme such as http://")
	case strings.Contains(s, "@"):
		return Indicator{}, errors.New("contains \"@\"; email addresses are not indicators")
	case hasPort(s):
		return Indicator{}, errors.New("a host with a port is not an indicator; give the host alone or a url")
	}
	return parseHost(s, want)
}

// hasPort reports whether s looks like host:port or [ipv6]:port.
func hasPort(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || !allDigits(s[i+1:]) {
		return false
	}
	host := s[:i]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return true
	}
	return host != "" && !strings.Contains(host, ":")
}

// kindNoun names a kind with its article, for error messages.
func kindNoun(k Kind) string {
	switch k {
	case IPv4:
		return "an ipv4 address"
	case IPv6:
		return "an ipv6 address"
	case Domain:
		return "a domain"
	case URL:
		return "a url"
	case MD5:
		return "an md5 hash"
	case SHA1:
		return "a sha1 hash"
	case SHA256:
		return "a sha256 hash"
	}
	return "a hash"
}
