package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Effect is what a list does to the values it holds.
type Effect string

// The effects, strongest first: a value on a BLOCK list and on a
// KNOWN_GOOD list is blocked.
const (
	// Block raises the verdict to MALICIOUS with the entry's reason; no
	// provider is called upstream (cached answers still show).
	Block Effect = "BLOCK"
	// NeverSend treats the value as internal: no provider is asked, each
	// answers SKIPPED with the list's reason.
	NeverSend Effect = "NEVER_SEND"
	// KnownGood lets providers be asked but caps the combined verdict at
	// BENIGN: "allow-listed by <list>: <reason>".
	KnownGood Effect = "KNOWN_GOOD"
)

// ParseEffect reads an effect name in any case ("never-send" too).
func ParseEffect(s string) (Effect, error) {
	e := Effect(strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_")))
	switch e {
	case Block, NeverSend, KnownGood:
		return e, nil
	}
	return "", fmt.Errorf("unknown effect %q: use NEVER_SEND, KNOWN_GOOD or BLOCK", cut(s, 40))
}

// rank orders effects, strongest first.
func (e Effect) rank() int {
	switch e {
	case Block:
		return 0
	case NeverSend:
		return 1
	}
	return 2
}

// List is a named allow-list or block-list.
type List struct {
	Name        string
	Effect      Effect
	Description string
	Owner       string // who created it
	CreatedAt   time.Time
	UpdatedAt   time.Time // last change of the list or its entries
	Entries     int       // how many entries it holds (when read with its count)
}

// EntryType is the kind of value a list entry matches.
type EntryType string

// The entry types.
const (
	// CIDR matches addresses in a prefix; a single address is a /32 or
	// /128. URLs whose host is in the prefix match too.
	CIDR EntryType = "cidr"
	// DomainSuffix matches a domain and every name under it ("example.com"
	// matches "www.example.com", not "badexample.com"), and URLs on them.
	DomainSuffix EntryType = "domain"
	// URLPrefix matches a canonical URL and the URLs under it, at a path,
	// query or fragment boundary.
	URLPrefix EntryType = "url"
	// Hash matches an MD5, SHA-1 or SHA-256 exactly.
	Hash EntryType = "hash"
	// Host matches one domain exactly, not the names under it, and URLs
	// on it; its value is written "=www.example.com" (MISP warninglists of
	// type string hold such names).
	Host EntryType = "host"
)

// Entry is one value of a list.
type Entry struct {
	List      string
	Value     string // canonical (see ParseEntry)
	Type      EntryType
	Reason    string
	Owner     string
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
}

// Expired reports whether e no longer applies at now.
func (e *Entry) Expired(now time.Time) bool { return !e.ExpiresAt.IsZero() && !now.Before(e.ExpiresAt) }

// Limits of names and values.
const (
	MaxNameLen   = 64
	MaxValueLen  = 1024
	MaxReasonLen = 512
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidName checks a list or playbook name: 1–64 of a-z 0-9 . _ -,
// starting with a letter or digit.
func ValidName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("name %q: use 1–64 characters a-z 0-9 . _ - starting with a letter or digit", cut(name, 70))
	}
	return nil
}

// ParseEntry turns a list value into its canonical form and type:
//
//   - "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" → CIDR (host bits
//     cleared; a single address is its /32 or /128);
//   - "example.com", ".example.com", "*.example.com" → DomainSuffix
//     (lower case, punycode, no leading dot);
//   - "https://example.com/login" → URLPrefix (the canonical URL, as a
//     lookup writes it);
//   - an MD5, SHA-1 or SHA-256 → Hash (lower case);
//   - "=www.example.com" → Host: that domain only, not the names under it.
//
// Defanged values ("hxxp", "[.]") are accepted as in lookups.
func ParseEntry(raw string) (value string, typ EntryType, err error) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", "", errors.New("empty value")
	}
	if len(v) > MaxValueLen {
		return "", "", fmt.Errorf("value longer than %d bytes", MaxValueLen)
	}
	if host, ok := strings.CutPrefix(v, "="); ok {
		ind, perr := indicator.ParseAs(strings.TrimSpace(host), indicator.Domain)
		if perr != nil {
			return "", "", fmt.Errorf("%q: \"=\" takes one domain name: %v", cut(v, 60), perr)
		}
		return "=" + ind.Value, Host, nil
	}
	if strings.Contains(v, "/") && !strings.Contains(v, "://") && !strings.Contains(v, "[:]//") {
		p, perr := netip.ParsePrefix(v)
		if perr != nil {
			return "", "", fmt.Errorf("%q is not a CIDR prefix: %v", cut(v, 60), perr)
		}
		return p.Masked().String(), CIDR, nil
	}
	d := strings.TrimPrefix(strings.TrimPrefix(v, "*"), ".")
	ind, perr := indicator.Parse(d)
	if perr != nil {
		return "", "", fmt.Errorf("%q is not an address, CIDR, domain, URL or hash: %v", cut(v, 60), perr)
	}
	switch ind.Kind {
	case indicator.IPv4, indicator.IPv6:
		a, _ := netip.ParseAddr(ind.Value)
		a = a.WithZone("")
		return netip.PrefixFrom(a, a.BitLen()).String(), CIDR, nil
	case indicator.Domain:
		return ind.Value, DomainSuffix, nil
	case indicator.URL:
		return ind.Value, URLPrefix, nil
	default:
		return ind.Value, Hash, nil
	}
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
