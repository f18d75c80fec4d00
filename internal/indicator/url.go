package indicator

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// defaultPorts are dropped from canonical URLs.
var defaultPorts = map[string]string{"http": "80", "https": "443"}

// parseURL canonicalises an http or https URL:
//
//   - scheme and host lower-case; an internationalised host as punycode;
//     a host that is an IPv4-mapped IPv6 address as the IPv4 address
//   - hosts obey the same rules as bare domains and addresses, so
//     single-label hosts ("http://intranet/") and numeric shorthands
//     ("http://2130706433/", "http://127.1/") are rejected
//   - the default port dropped, any other port without leading zeros
//   - an empty userinfo ("http://@host/") dropped; any other kept
//   - an empty path becomes "/"; the fragment and an empty query ("?")
//     are removed; the query is otherwise kept in its order
//   - percent-encoding normalised as RFC 3986 §6.2.2 allows: escapes of
//     unreserved characters decoded, other escapes upper-case, and bytes
//     that may not appear literally (non-ASCII, space, "[", "{", ...)
//     escaped. Dot segments are kept as given.
//
// Other schemes, including ftp, are rejected: no provider we call looks
// them up, and a narrow grammar is easier to keep safe.
func parseURL(s string) (Indicator, error) {
	i := strings.Index(s, "://")
	if i < 0 {
		return Indicator{}, errors.New("not a url: a url starts with http:// or https://")
	}
	scheme := strings.ToLower(s[:i])
	if scheme != "http" && scheme != "https" {
		if scheme == "" {
			return Indicator{}, errors.New("url has no scheme")
		}
		return Indicator{}, fmt.Errorf("unsupported url scheme %s (want http or https)", quoteShort(scheme))
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Indicator{}, fmt.Errorf("malformed url: %v", err)
	}
	if u.Scheme != scheme || u.Opaque != "" {
		return Indicator{}, errors.New("malformed url")
	}
	if u.Hostname() == "" {
		return Indicator{}, errors.New("url has no host")
	}

	var host Indicator
	if strings.HasPrefix(u.Host, "[") {
		host, err = parseIPv6(u.Hostname())
	} else {
		host, err = parseHost(u.Hostname(), "")
	}
	if err != nil {
		return Indicator{}, fmt.Errorf("url host: %w", err)
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if u.User != nil {
		pw, _ := u.User.Password()
		if u.User.Username() != "" || pw != "" {
			b.WriteString(u.User.String())
			b.WriteByte('@')
		}
	}
	if host.Kind == IPv6 {
		b.WriteString("[" + host.Value + "]")
	} else {
		b.WriteString(host.Value)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Indicator{}, fmt.Errorf("url port %s is out of range", quoteShort(p))
		}
		if p = strconv.Itoa(n); p != defaultPorts[scheme] {
			b.WriteString(":" + p)
		}
	}

	// The path exactly as given: RawPath is set whenever it differs from
	// the default encoding of Path, and otherwise the default encoding is
	// what was given.
	rawPath := u.RawPath
	if rawPath == "" {
		rawPath = u.EscapedPath()
	}
	path, err := normalizeEscapes(rawPath, isPathChar)
	if err != nil {
		return Indicator{}, fmt.Errorf("url path: %w", err)
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if u.RawQuery != "" {
		q, err := normalizeEscapes(u.RawQuery, isQueryChar)
		if err != nil {
			return Indicator{}, fmt.Errorf("url query: %w", err)
		}
		b.WriteString("?" + q)
	}
	out := b.String()
	if len(out) > MaxInputLen {
		return Indicator{}, fmt.Errorf("url longer than %d bytes once normalised", MaxInputLen)
	}
	return Indicator{Kind: URL, Value: out}, nil
}

// normalizeEscapes rewrites a path or query so that equal ones are spelt
// the same (RFC 3986 §6.2.2.1 and §6.2.2.2): "%xx" of an unreserved
// character is decoded, other escapes are upper-cased, and bytes that
// allowed does not accept are escaped. A "%" not followed by two hex
// digits is an error rather than a guess.
func normalizeEscapes(s string, allowed func(byte) bool) (string, error) {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1:i+3]) {
				return "", fmt.Errorf("invalid percent-encoding %s", quoteShort(s[i:min(i+3, len(s))]))
			}
			v := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(hexDigits[v>>4])
				b.WriteByte(hexDigits[v&15])
			}
			i += 2
		case allowed(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String(), nil
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathChar reports whether c may appear unescaped in a path: pchar or "/".
func isPathChar(c byte) bool {
	if isUnreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

// isQueryChar reports whether c may appear unescaped in a query.
func isQueryChar(c byte) bool { return isPathChar(c) || c == '?' }
