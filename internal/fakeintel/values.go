package fakeintel

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"
)

// kind is what a value looks like, as far as the fake needs to know.
type kind string

const (
	kindNone   kind = ""
	kindIPv4   kind = "ipv4"
	kindIPv6   kind = "ipv6"
	kindDomain kind = "domain"
	kindURL    kind = "url"
	kindMD5    kind = "md5"
	kindSHA1   kind = "sha1"
	kindSHA256 kind = "sha256"
)

func (k kind) isHash() bool { return k == kindMD5 || k == kindSHA1 || k == kindSHA256 }

// class is the demo convention a value falls under.
type class int

const (
	ordinary class = iota
	notFound
	malicious
)

var (
	notFoundV4  = netip.MustParsePrefix("192.0.2.0/24") // TEST-NET-1
	notFoundV6  = netip.MustParsePrefix("3fff::/20")    // RFC 9637 documentation
	maliciousV4 = netip.MustParsePrefix("203.0.113.0/24")
)

// hashPrefixNotFound starts every hash that is reported as unknown.
const hashPrefixNotFound = "00000000"

// maliciousHashes are listed: the malware sample the file recordings
// describe and the EICAR anti-virus test file, which every scanner flags.
// Any hash starting with hashPrefixMalicious is listed too; other hashes
// are ordinary.
var maliciousHashes = map[string]bool{
	"ea372104f1e9f069068e3752b543c7b0":                                 true, // the sample's MD5
	"9f057d94c9b77d6286073dc5b5c382bcba67a3b2":                         true, // SHA-1
	"110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f": true, // SHA-256
	"44d88612fea8a8f36de82e1278abb02f":                                 true, // EICAR MD5
	"3395856ce81f2b7382dee72602f798b642f14140":                         true, // EICAR SHA-1
	"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f": true, // EICAR SHA-256
}

const hashPrefixMalicious = "badc0de"

// classify applies the conventions in the package documentation.
func classify(k kind, v string) class {
	switch {
	case k == kindIPv4 || k == kindIPv6:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return ordinary
		}
		a = a.Unmap()
		switch {
		case notFoundV4.Contains(a) || notFoundV6.Contains(a):
			return notFound
		case maliciousV4.Contains(a):
			return malicious
		}
	case k.isHash():
		switch h := strings.ToLower(v); {
		case strings.HasPrefix(h, hashPrefixNotFound):
			return notFound
		case maliciousHashes[h] || strings.HasPrefix(h, hashPrefixMalicious):
			return malicious
		}
	case k == kindDomain:
		return classifyText(v, v)
	case k == kindURL:
		return classifyText(urlHost(v), v)
	}
	return ordinary
}

func classifyText(host, whole string) class {
	if strings.Contains(strings.ToLower(host), "notfound") {
		return notFound
	}
	w := strings.ToLower(whole)
	if strings.Contains(w, "malicious") || strings.Contains(w, "evil") {
		return malicious
	}
	return ordinary
}

// urlHost returns the host of a URL, or the whole value when it has none.
func urlHost(v string) string {
	if u, err := url.Parse(v); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return v
}

// hashKind tells an MD5, SHA-1 or SHA-256 by its hex length.
func hashKind(v string) kind {
	if !isHex(v) {
		return kindNone
	}
	switch len(v) {
	case 32:
		return kindMD5
	case 40:
		return kindSHA1
	case 64:
		return kindSHA256
	}
	return kindNone
}

func isHex(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ipKind parses an IP address; the zero kind means it is none.
func ipKind(v string) (netip.Addr, kind) {
	a, err := netip.ParseAddr(v)
	switch {
	case err != nil || a.Zone() != "":
		return netip.Addr{}, kindNone
	case a.Is4():
		return a, kindIPv4
	default:
		return a, kindIPv6
	}
}

// isDomain is a loose host-name check: dot-separated labels of letters,
// digits, hyphens and underscores, not starting or ending with a hyphen.
func isDomain(v string) bool {
	v = strings.TrimSuffix(v, ".")
	if len(v) == 0 || len(v) > 253 || !strings.Contains(v, ".") {
		return false
	}
	if _, k := ipKind(v); k != kindNone {
		return false
	}
	for _, l := range strings.Split(v, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(isAlnum(c) || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isURL accepts an absolute http(s) URL with a host.
func isURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// vtURLID decodes VirusTotal's URL identifier: the unpadded base64url of the
// URL, or the SHA-256 of the canonical URL (then the URL is unknown).
func vtURLID(id string) (u string, ok bool) {
	if len(id) == 64 && isHex(id) {
		return "", true
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(id); err == nil && len(b) > 0 && utf8.Valid(b) {
			return string(b), true
		}
	}
	return "", false
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ipNumber is the address as the integer Shodan puts in "ip".
func ipNumber(a netip.Addr) string {
	b := a.AsSlice()
	return new(big.Int).SetBytes(b).String()
}

// prefixString is the network of a with the given length, e.g. "8.8.8.0/24".
func prefixString(a netip.Addr, bits int) string {
	p, err := a.Prefix(bits)
	if err != nil {
		return a.String()
	}
	return p.String()
}

// lastAddr is the highest address in the /bits network of an IPv4 address.
func lastAddr(a netip.Addr, bits int) netip.Addr {
	p, err := a.Prefix(bits)
	if err != nil || !a.Is4() {
		return a
	}
	b := p.Addr().As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= 1<<(32-bits) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// subMode says how a substitution recognises the recorded value.
type subMode int

const (
	// token matches the value on its own: not as part of a longer name,
	// address or hash ("1.1.1.1" matches in "/ip/1.1.1.1" and
	// "1.1.1.1:443", not in "1.1.1.10" or "11.1.1.1").
	token subMode = iota
	// subdomain is token that also matches as the tail of a longer host
	// name, so "www.example.com" follows "example.com".
	subdomain
	// exact matches the bytes anywhere and inserts new as raw JSON.
	exact
)

// sub replaces a recorded value with the one asked for.
type sub struct {
	old, new string
	mode     subMode
}

func tok(old, new string) sub { return sub{old: old, new: new, mode: token} }
func dom(old, new string) sub { return sub{old: old, new: new, mode: subdomain} }
func raw(old, new string) sub { return sub{old: old, new: new, mode: exact} }

// rewrite applies subs in one pass over body, so a replacement is never
// replaced again; at each position the first sub that matches wins. The
// new values of token and subdomain subs are JSON-string escaped.
func rewrite(body []byte, subs []sub) []byte {
	if len(subs) == 0 {
		return body
	}
	news := make([][]byte, len(subs))
	for i, s := range subs {
		if s.mode == exact {
			news[i] = []byte(s.new)
		} else {
			news[i] = []byte(jsonEscape(s.new))
		}
	}
	var out bytes.Buffer
	out.Grow(len(body) + 64)
	for i := 0; i < len(body); {
		matched := false
		for j, s := range subs {
			if s.old == "" || !bytes.HasPrefix(body[i:], []byte(s.old)) || !bounded(body, i, len(s.old), s) {
				continue
			}
			out.Write(news[j])
			i += len(s.old)
			matched = true
			break
		}
		if !matched {
			out.WriteByte(body[i])
			i++
		}
	}
	return out.Bytes()
}

// bounded reports whether the match of s at body[i:i+n] stands on its own.
func bounded(body []byte, i, n int, s sub) bool {
	if s.mode == exact {
		return true
	}
	colon := strings.Contains(s.old, ":") && !strings.Contains(s.old, "/") // an IPv6 address
	if i > 0 {
		c := body[i-1]
		if isNameByte(c) || (c == '.' && s.mode != subdomain) || (colon && c == ':') {
			return false
		}
	}
	if j := i + n; j < len(body) {
		c := body[j]
		if isNameByte(c) {
			return false
		}
		if (c == '.' || (colon && c == ':')) && j+1 < len(body) && isAlnum(body[j+1]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// jsonEscape returns s as the inside of a JSON string.
func jsonEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSpace(b.String())
	return out[1 : len(out)-1]
}
