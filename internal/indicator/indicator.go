package indicator

import "fmt"

// Kind is the type of an indicator.
type Kind string

// The indicator kinds.
const (
	IPv4   Kind = "ipv4"
	IPv6   Kind = "ipv6"
	Domain Kind = "domain"
	URL    Kind = "url"
	MD5    Kind = "md5"
	SHA1   Kind = "sha1"
	SHA256 Kind = "sha256"
)

// Kinds lists every kind in a stable order.
var Kinds = []Kind{IPv4, IPv6, Domain, URL, MD5, SHA1, SHA256}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// IsHash reports whether k is a file hash kind.
func (k Kind) IsHash() bool { return k == MD5 || k == SHA1 || k == SHA256 }

// IsIP reports whether k is an IP address kind.
func (k Kind) IsIP() bool { return k == IPv4 || k == IPv6 }

// ParseKind reads a kind name, case-insensitively.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if equalFold(string(k), s) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown indicator kind %q", s)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Indicator is a parsed, normalised indicator. Value is canonical: lower-case
// hex for hashes, the canonical text form for IPs (dotted quad for IPv4,
// RFC 5952 for IPv6), lower-case punycode without a trailing dot for domains,
// and a canonical URL string for URLs (see Parse). Canonical values are
// printable ASCII without spaces. Build indicators with Parse or ParseAs;
// Policy.Check blocks any other value.
type Indicator struct {
	Kind  Kind
	Value string
}

// String returns "kind:value".
func (i Indicator) String() string { return string(i.Kind) + ":" + i.Value }
