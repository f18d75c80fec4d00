package indicator

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseTests are inputs Parse accepts. FuzzParse seeds its corpus with them.
var parseTests = []struct {
	name string
	in   string
	want Indicator
}{
	// Defanging.
	{"defang [.]", "evil[.]com", Indicator{Domain, "evil.com"}},
	{"defang (.)", "evil(.)com", Indicator{Domain, "evil.com"}},
	{"defang {.}", "evil{.}com", Indicator{Domain, "evil.com"}},
	{"defang [dot]", "evil[dot]com", Indicator{Domain, "evil.com"}},
	{"defang (dot)", "evil(dot)com", Indicator{Domain, "evil.com"}},
	{"defang {dot}", "evil{dot}com", Indicator{Domain, "evil.com"}},
	{"defang [DOT] any case", "evil[DOT]example[Dot]com", Indicator{Domain, "evil.example.com"}},
	{"defang spaces around brackets", "evil [.] com", Indicator{Domain, "evil.com"}},
	{"defang dot word", "evil dot com", Indicator{Domain, "evil.com"}},
	{"defang dot word any case", "evil DOT example Dot com", Indicator{Domain, "evil.example.com"}},
	{"defang ip", "1[.]2[.]3[.]4", Indicator{IPv4, "1.2.3.4"}},
	{"defang hxxp", "hxxp://evil[.]com/x", Indicator{URL, "http://evil.com/x"}},
	{"defang hXXp", "hXXp://evil.com", Indicator{URL, "http://evil.com/"}},
	{"defang HXXPS", "HXXPS://evil.com", Indicator{URL, "https://evil.com/"}},
	{"defang [:]", "hxxp[:]//evil[.]com", Indicator{URL, "http://evil.com/"}},
	{"defang [://]", "hxxps[://]evil[.]com", Indicator{URL, "https://evil.com/"}},
	{"defang http[:]", "http[:]//1[.]2[.]3[.]4/", Indicator{URL, "http://1.2.3.4/"}},
	{"defang in url path", "hxxp://evil[.]com/payload[.]exe", Indicator{URL, "http://evil.com/payload.exe"}},
	{"defang dot word in url host", "hxxp://evil dot com/x", Indicator{URL, "http://evil.com/x"}},
	{"parens literal in url path", "http://evil.com/a(.)b", Indicator{URL, "http://evil.com/a(.)b"}},
	{"parens defang in url host", "http://evil(.)com/a", Indicator{URL, "http://evil.com/a"}},

	// Wrapping and whitespace.
	{"angle brackets", "<1.2.3.4>", Indicator{IPv4, "1.2.3.4"}},
	{"double quotes", `"evil.com"`, Indicator{Domain, "evil.com"}},
	{"single quotes", "'evil.com'", Indicator{Domain, "evil.com"}},
	{"backquotes", "`evil.com`", Indicator{Domain, "evil.com"}},
	{"curly quotes", "\u201cevil.com\u201d", Indicator{Domain, "evil.com"}},
	{"square brackets", "[evil.com]", Indicator{Domain, "evil.com"}},
	{"parentheses", "(evil.com)", Indicator{Domain, "evil.com"}},
	{"braces", "{evil.com}", Indicator{Domain, "evil.com"}},
	{"nested wrappers", `< "[evil.com]" >`, Indicator{Domain, "evil.com"}},
	{"wrapped defanged", "[evil[.]com]", Indicator{Domain, "evil.com"}},
	{"whitespace", " \t evil.com \r\n", Indicator{Domain, "evil.com"}},
	{"byte order mark", "\ufeffevil.com\u200b", Indicator{Domain, "evil.com"}},
	{"bracketed ipv6", "[2001:db8::1]", Indicator{IPv6, "2001:db8::1"}},
	{"wrapped url", "<http://evil.com/a>", Indicator{URL, "http://evil.com/a"}},

	// Hashes.
	{"md5", "d41d8cd98f00b204e9800998ecf8427e", Indicator{MD5, "d41d8cd98f00b204e9800998ecf8427e"}},
	{"md5 upper", "D41D8CD98F00B204E9800998ECF8427E", Indicator{MD5, "d41d8cd98f00b204e9800998ecf8427e"}},
	{"sha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", Indicator{SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"}},
	{"sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", Indicator{SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},
	{"md5 all digits", "12345678901234567890123456789012", Indicator{MD5, "12345678901234567890123456789012"}},

	// IPv4.
	{"ipv4", "8.8.8.8", Indicator{IPv4, "8.8.8.8"}},
	{"ipv4 documentation", "203.0.113.7", Indicator{IPv4, "203.0.113.7"}},
	{"ipv4 zeros", "0.0.0.0", Indicator{IPv4, "0.0.0.0"}},
	{"ipv4 broadcast", "255.255.255.255", Indicator{IPv4, "255.255.255.255"}},
	{"ipv4 trailing dot", "1.2.3.4.", Indicator{IPv4, "1.2.3.4"}},
	{"ipv4 full-width", "\uff11\uff0e\uff12\uff0e\uff13\uff0e\uff14", Indicator{IPv4, "1.2.3.4"}},

	// IPv6.
	{"ipv6 upper", "2001:DB8::1", Indicator{IPv6, "2001:db8::1"}},
	{"ipv6 long", "2001:0db8:0000:0000:0000:0000:0000:0001", Indicator{IPv6, "2001:db8::1"}},
	{"ipv6 rfc5952 leftmost run", "2001:db8:0:0:1:0:0:1", Indicator{IPv6, "2001:db8::1:0:0:1"}},
	{"ipv6 rfc5952 longest run", "2001:0:0:1:0:0:0:1", Indicator{IPv6, "2001:0:0:1::1"}},
	{"ipv6 rfc5952 single zero", "2001:db8:0:1:1:1:1:1", Indicator{IPv6, "2001:db8:0:1:1:1:1:1"}},
	{"ipv6 loopback", "::1", Indicator{IPv6, "::1"}},
	{"ipv6 ipv4-mapped is ipv4", "::ffff:1.2.3.4", Indicator{IPv4, "1.2.3.4"}},
	{"ipv6 ipv4-mapped hex is ipv4", "::FFFF:7f00:1", Indicator{IPv4, "127.0.0.1"}},
	{"ipv6 ipv4-compatible stays ipv6", "::1.2.3.4", Indicator{IPv6, "::102:304"}},

	// Domains.
	{"domain upper", "EVIL.COM", Indicator{Domain, "evil.com"}},
	{"domain trailing dot", "evil.com.", Indicator{Domain, "evil.com"}},
	{"domain digits and hyphens", "a-1.123.b-c.com", Indicator{Domain, "a-1.123.b-c.com"}},
	{"domain hyphens in middle", "ab--cd.com", Indicator{Domain, "ab--cd.com"}},
	{"idn", "bücher.example", Indicator{Domain, "xn--bcher-kva.example"}},
	{"idn upper", "BÜCHER.Example", Indicator{Domain, "xn--bcher-kva.example"}},
	{"idn japanese", "例え.jp", Indicator{Domain, "xn--r8jz45g.jp"}},
	{"idn tld", "例え.テスト", Indicator{Domain, "xn--r8jz45g.xn--zckzah"}},
	{"idn cyrillic upper", "ПРИМЕР.рф", Indicator{Domain, "xn--e1afmkfd.xn--p1ai"}},
	{"idn greek", "παράδειγμα.δοκιμή", Indicator{Domain, "xn--hxajbheg2az3al.xn--jxalpdlp"}},
	{"idn sharp s kept", "straße.de", Indicator{Domain, "xn--strae-oqa.de"}},
	{"idn emoji", "☃.com", Indicator{Domain, "xn--n3h.com"}},
	{"idn ideographic full stop", "evil。com", Indicator{Domain, "evil.com"}},
	{"idn full-width", "\uff45\uff56\uff49\uff4c\uff0ecom", Indicator{Domain, "evil.com"}},
	{"a-label", "xn--bcher-kva.example", Indicator{Domain, "xn--bcher-kva.example"}},
	{"a-label upper", "XN--R8JZ45G.JP", Indicator{Domain, "xn--r8jz45g.jp"}},
	{"label of 63", strings.Repeat("a", 63) + ".com", Indicator{Domain, strings.Repeat("a", 63) + ".com"}},
	{"domain of 253", longDomain(253), Indicator{Domain, longDomain(253)}},

	// URLs.
	{"url upper scheme and host", "HTTP://EVIL.COM", Indicator{URL, "http://evil.com/"}},
	{"url path case kept", "http://evil.com/Login.PHP", Indicator{URL, "http://evil.com/Login.PHP"}},
	{"url default http port", "http://evil.com:80/a", Indicator{URL, "http://evil.com/a"}},
	{"url default https port", "https://evil.com:443/a", Indicator{URL, "https://evil.com/a"}},
	{"url https on 80", "https://evil.com:80/", Indicator{URL, "https://evil.com:80/"}},
	{"url http on 443", "http://evil.com:443/", Indicator{URL, "http://evil.com:443/"}},
	{"url port leading zeros", "http://evil.com:0080/", Indicator{URL, "http://evil.com/"}},
	{"url other port", "http://evil.com:8080", Indicator{URL, "http://evil.com:8080/"}},
	{"url empty port", "http://evil.com:/", Indicator{URL, "http://evil.com/"}},
	{"url fragment removed", "http://evil.com/a#frag", Indicator{URL, "http://evil.com/a"}},
	{"url empty query removed", "http://evil.com/a?", Indicator{URL, "http://evil.com/a"}},
	{"url query kept in order", "http://evil.com/a?b=2&a=1&b=1", Indicator{URL, "http://evil.com/a?b=2&a=1&b=1"}},
	{"url query without path", "http://evil.com?q=1", Indicator{URL, "http://evil.com/?q=1"}},
	{"url unreserved escapes decoded", "http://evil.com/%7euser/%41?x=%7E", Indicator{URL, "http://evil.com/~user/A?x=~"}},
	{"url reserved escapes upper-cased", "http://evil.com/a%2fb%3f?x=%2f%26", Indicator{URL, "http://evil.com/a%2Fb%3F?x=%2F%26"}},
	{"url non-ascii escaped", "http://evil.com/ü?ä=ö", Indicator{URL, "http://evil.com/%C3%BC?%C3%A4=%C3%B6"}},
	{"url unsafe escaped", "http://evil.com/a[1]{2}|^`\\?q=[1]\"<>", Indicator{URL, "http://evil.com/a%5B1%5D%7B2%7D%7C%5E%60%5C?q=%5B1%5D%22%3C%3E"}},
	{"url sub-delims kept", "http://evil.com/a;b=c,d!$&'()*+:@?x=/?:@!$'()*+,;=", Indicator{URL, "http://evil.com/a;b=c,d!$&'()*+:@?x=/?:@!$'()*+,;="}},
	{"url dot segments kept", "http://evil.com/a/../b/./c", Indicator{URL, "http://evil.com/a/../b/./c"}},
	{"url idn host", "http://Bücher.example/x", Indicator{URL, "http://xn--bcher-kva.example/x"}},
	{"url trailing dot host", "http://evil.com./", Indicator{URL, "http://evil.com/"}},
	{"url ipv4 host", "http://192.0.2.1:8000/x", Indicator{URL, "http://192.0.2.1:8000/x"}},
	{"url ipv6 host", "http://[2001:DB8:0::1]:8080/x", Indicator{URL, "http://[2001:db8::1]:8080/x"}},
	{"url ipv6 host default port", "https://[2001:db8::1]:443", Indicator{URL, "https://[2001:db8::1]/"}},
	{"url ipv4-mapped host is ipv4", "http://[::ffff:192.0.2.1]/", Indicator{URL, "http://192.0.2.1/"}},
	{"url userinfo kept", "http://paypal.com@evil.com/", Indicator{URL, "http://paypal.com@evil.com/"}},
	{"url userinfo with password kept", "http://user:pass@evil.com/", Indicator{URL, "http://user:pass@evil.com/"}},
	{"url empty userinfo dropped", "http://@evil.com/", Indicator{URL, "http://evil.com/"}},
	{"url empty user and password dropped", "http://:@evil.com/", Indicator{URL, "http://evil.com/"}},
}

// longDomain returns a valid domain of exactly n characters, n >= 5.
func longDomain(n int) string {
	var b strings.Builder
	for b.Len()+4 < n {
		label := min(63, n-4-b.Len()-1)
		if label < 1 {
			break
		}
		b.WriteString(strings.Repeat("a", label) + ".")
	}
	b.WriteString(strings.Repeat("b", n-b.Len()))
	return b.String()
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			// Idempotent through Format, and ParseAs agrees.
			again, err := Parse(Format(got))
			if err != nil {
				t.Fatalf("Parse(Format(%v)): %v", got, err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("Parse(Format(%v)) mismatch (-want +got):\n%s", got, diff)
			}
			as, err := ParseAs(tt.in, got.Kind)
			if err != nil {
				t.Fatalf("ParseAs(%q, %s): %v", tt.in, got.Kind, err)
			}
			if diff := cmp.Diff(got, as); diff != "" {
				t.Errorf("ParseAs(%q, %s) mismatch (-want +got):\n%s", tt.in, got.Kind, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		reason string
	}{
		{"empty", "", "empty"},
		{"blank", " \t\n", "empty"},
		{"empty wrapper", "< >", "empty"},
		{"too long", "a." + strings.Repeat("b", MaxInputLen), "longer than 8192 bytes"},
		{"invalid utf-8", "evil\xff.com", "not valid utf-8"},
		{"control character", "evil\x00.com", "contains control or invisible character U+0000"},
		{"inner tab", "evil\t.com", "contains control or invisible character U+0009"},
		{"bidi override", "evil\u202e.com", "contains control or invisible character U+202E"},
		{"zero-width joiner", "ev\u200dil.com", "contains control or invisible character U+200D"},
		{"soft hyphen", "ev\u00adil.com", "contains control or invisible character U+00AD"},
		{"inner space", "evil .com", "contains whitespace"},
		{"prose with dot", "this is not dot a domain", "contains whitespace"},
		{"dot words uneven", "evil dot", "contains whitespace"},
		{"non-breaking space", "evil\u00a0dot\u00a0com", "contains whitespace"},

		{"single label", "localhost", "single-label name is not a domain"},
		{"bare internal name", "corp", "single-label name is not a domain"},
		{"empty label", "evil..com", "domain has an empty label"},
		{"leading dot", ".evil.com", "domain has an empty label"},
		{"two trailing dots", "evil.com..", "domain has an empty label"},
		{"leading hyphen", "-evil.com", `domain label "-evil" starts or ends with a hyphen`},
		{"trailing hyphen", "evil-.com", `domain label "evil-" starts or ends with a hyphen`},
		{"underscore", "evil_x.com", `invalid character '_' in domain label "evil_x"`},
		{"numeric tld", "evil.123", `top-level domain "123" is numeric`},
		{"alphanumeric tld", "evil.c0m", `top-level domain "c0m" is not alphabetic`},
		{"hex tld", "0x7f.0x1", `top-level domain "0x1" is not alphabetic`},
		{"label of 64", strings.Repeat("a", 64) + ".com", `label "` + strings.Repeat("a", 63) + `a" is longer than 63 characters`},
		{"domain of 254", longDomain(254), "domain longer than 253 characters"},
		{"idn label too long", strings.Repeat("ü", 60) + ".com", `label "` + strings.Repeat("ü", 60) + `" is longer than 63 characters as punycode`},
		{"idn punctuation", "evil!ü.com", `invalid character '!' in domain label "evil!ü"`},
		{"idn combining mark first", "\u0301abc.com", "domain label \"\u0301abc\" starts with a combining mark"},
		{"idn hyphens 3 and 4", "üb--cd.com", `domain label "üb--cd" has hyphens in the third and fourth positions`},
		{"idn disallowed character", "evil\u2028x.com", "contains whitespace"},
		{"idn private use", "evil\ue000.com", "character U+E000 is not allowed in a domain label"},
		{"a-label invalid punycode", "xn--zz.com", `label "xn--zz" is not valid punycode`},
		{"a-label overflow", "xn--99999999999.com", `label "xn--99999999999" is not valid punycode`},
		{"a-label plain ascii", "xn--abc-.com", `domain label "xn--abc-" starts or ends with a hyphen`},
		{"a-label encodes ascii", "xn--evil-ab.com", `punycode label "xn--evil-ab": character U+0080 is not allowed in a domain label`},
		{"a-label not canonical", "xn---tda.com", `punycode label "xn---tda" is not in canonical form`},
		{"a-label upper-case content", "xn--bcher-2pa.example", `punycode label "xn--bcher-2pa": character U+00DC is not lower-case`},
		{"a-label full-width content", "xn--mi7c.com", `punycode label "xn--mi7c": full-width character 'ａ' in domain label "ａ"`},
		{"a-label disallowed content", "xn--a-ecp.com", `punycode label "xn--a-ecp": character U+2488 is not allowed in a domain label`},
		{"a-label control content", "xn--abc.com", `punycode label "xn--abc": character U+0082 is not allowed in a domain label`},
		{"a-label empty", "xn--.com", `domain label "xn--" starts or ends with a hyphen`},

		{"ipv4 leading zero", "010.1.1.1", `ipv4 octet "010" has a leading zero, which is ambiguous (octal or decimal)`},
		{"ipv4 leading zeros later", "1.2.3.04", `ipv4 octet "04" has a leading zero, which is ambiguous (octal or decimal)`},
		{"ipv4 three parts", "127.0.1", "ipv4 address must have four decimal octets"},
		{"ipv4 shorthand", "127.1", "ipv4 address must have four decimal octets"},
		{"ipv4 integer", "2130706433", "ipv4 address must have four decimal octets"},
		{"ipv4 five parts", "1.2.3.4.5", "ipv4 address must have four decimal octets"},
		{"ipv4 empty octet", "1..3.4", "ipv4 address has an empty octet"},
		{"ipv4 octet too big", "256.1.1.1", "invalid ipv4 address: IPv4 field has value >255"},
		{"ipv4 octet too long", "1.2.3.1234", `ipv4 octet "1234" is out of range`},
		{"ipv4 with port", "1.2.3.4:80", "a host with a port is not an indicator; give the host alone or a url"},
		{"ipv6 with port", "[2001:db8::1]:443", "a host with a port is not an indicator; give the host alone or a url"},
		{"domain with port", "evil.com:8080", "a host with a port is not an indicator; give the host alone or a url"},
		{"defanged domain with port", "evil[.]com[:]8080", "a host with a port is not an indicator; give the host alone or a url"},
		{"ipv4 cidr", "10.0.0.0/8", "a cidr prefix is not a single address"},
		{"ipv6 cidr", "2001:db8::/32", "a cidr prefix is not a single address"},
		{"ipv6 zone", "fe80::1%eth0", "ipv6 zone is not allowed"},
		{"ipv6 bad hex", "2001:db8::g", `invalid ipv6 address: each colon-separated field must have at least one digit (at "g")`},
		{"ipv6 two gaps", "1::2::3", `invalid ipv6 address: multiple :: in address (at ":3")`},
		{"email", "user@example.com", `contains "@"; email addresses are not indicators`},
		{"url without scheme", "evil.com/login", `contains "/"; a url needs a scheme such as http://`},

		{"hash odd length", "d41d8cd98f00b204e9800998ecf8427", "31 hex digits is not an md5 (32), sha1 (40) or sha256 (64) hash"},
		{"hash sha512", strings.Repeat("ab", 64), "128 hex digits is not an md5 (32), sha1 (40) or sha256 (64) hash"},

		{"url ftp", "ftp://evil.com/x", `unsupported url scheme "ftp" (want http or https)`},
		{"url javascript", "javascript://evil.com/%0aalert(1)", `unsupported url scheme "javascript" (want http or https)`},
		{"url no scheme", "://evil.com", "url has no scheme"},
		{"url scheme-relative", "//evil.com/x", `contains "/"; a url needs a scheme such as http://`},
		{"url no host", "http://", "url has no host"},
		{"url empty host with path", "http:///etc/passwd", "url has no host"},
		{"url userinfo only", "http://user@/", "url has no host"},
		{"url port only", "http://:80/", "url has no host"},
		{"url port too big", "http://evil.com:65536/", `url port "65536" is out of range`},
		{"url port zero", "http://evil.com:0/", `url port "0" is out of range`},
		{"url port not numeric", "http://evil.com:http/", `malformed url: invalid port ":http" after host`},
		{"url two colons", "http://evil.com:80:80/", `malformed url: invalid port ":80:80" after host`},
		{"url bad escape in path", "http://evil.com/%zz", `malformed url: invalid URL escape "%zz"`},
		{"url bad escape in query", "http://evil.com/?q=%z1", `url query: invalid percent-encoding "%z1"`},
		{"url truncated escape in query", "http://evil.com/?q=%4", `url query: invalid percent-encoding "%4"`},
		{"url whitespace", "http://evil.com/a b", "contains whitespace"},
		{"url single-label host", "http://intranet/", "url host: single-label name is not a domain"},
		{"url integer host", "http://2130706433/", "url host: ipv4 address must have four decimal octets"},
		{"url shorthand host", "http://127.1/", "url host: ipv4 address must have four decimal octets"},
		{"url octal host", "http://0177.0.0.1/", `url host: ipv4 octet "0177" has a leading zero, which is ambiguous (octal or decimal)`},
		{"url hex host", "http://0x7f.0.0.1/", `url host: top-level domain "1" is numeric`},
		{"url underscore host", "http://a_b.evil.com/", `url host: invalid character '_' in domain label "a_b"`},
		{"url bracketed ipv4", "http://[1.2.3.4]/", "malformed url: invalid IP-literal"},
		{"url unbracketed ipv6", "http://2001:db8::1/", `malformed url: invalid port ":db8::1" after host`},
		{"url ipv6 zone", "http://[fe80::1%25en0]/", "url host: ipv6 zone is not allowed"},
		{"url backslash authority", "http://evil.com\\@good.com/", "malformed url: net/url: invalid userinfo"},
		{"url escaped host", "http://%65vil.com/", `malformed url: invalid URL escape "%65"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %q", tt.in, got, tt.reason)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T, want *ParseError", tt.in, err)
			}
			want := &ParseError{Input: tt.in, Reason: tt.reason}
			if diff := cmp.Diff(want, pe); diff != "" {
				t.Errorf("Parse(%q) error mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseAs(t *testing.T) {
	t.Parallel()
	sha1 := "da39a3ee5e6b4b0d3255bfef95601890afd80709"
	tests := []struct {
		name   string
		in     string
		kind   Kind
		want   Indicator
		reason string
	}{
		{"ipv4", "1.2.3.4", IPv4, Indicator{IPv4, "1.2.3.4"}, ""},
		{"ipv4 from mapped ipv6", "::ffff:1.2.3.4", IPv4, Indicator{IPv4, "1.2.3.4"}, ""},
		{"ipv6", "2001:DB8::1", IPv6, Indicator{IPv6, "2001:db8::1"}, ""},
		{"domain defanged", "evil[.]com", Domain, Indicator{Domain, "evil.com"}, ""},
		{"url defanged", "hxxp://evil[.]com", URL, Indicator{URL, "http://evil.com/"}, ""},
		{"sha1", strings.ToUpper(sha1), SHA1, Indicator{SHA1, sha1}, ""},
		{"kind name", "1.2.3.4", Kind("IPV4"), Indicator{}, `unknown indicator kind "IPV4"`},
		{"unknown kind", "1.2.3.4", Kind("sha512"), Indicator{}, `unknown indicator kind "sha512"`},
		{"ipv4 as domain", "1.2.3.4", Domain, Indicator{}, "an ipv4 address, not a domain"},
		{"ipv6 as domain", "2001:db8::1", Domain, Indicator{}, "an ipv6 address, not a domain"},
		{"domain as ipv4", "evil.com", IPv4, Indicator{}, "a domain, not an ipv4 address"},
		{"ipv6 as ipv4", "2001:db8::1", IPv4, Indicator{}, "an ipv6 address, not an ipv4 address"},
		{"ipv4 as ipv6", "1.2.3.4", IPv6, Indicator{}, "an ipv4 address, not an ipv6 address"},
		{"mapped as ipv6", "::ffff:1.2.3.4", IPv6, Indicator{}, "ipv4-mapped ipv6 address is the ipv4 address 1.2.3.4, not an ipv6 address"},
		{"bad ipv4 as domain", "010.1.1.1", Domain, Indicator{}, "not a domain"},
		{"bad domain as ipv4", "evil..com", IPv4, Indicator{}, "not an ipv4 address"},
		{"bad domain as domain", "evil..com", Domain, Indicator{}, "domain has an empty label"},
		{"domain as url", "evil.com", URL, Indicator{}, "not a url: a url starts with http:// or https://"},
		{"url as domain", "http://evil.com/", Domain, Indicator{}, `contains "/"; a url needs a scheme such as http://`},
		{"md5 as sha1", "d41d8cd98f00b204e9800998ecf8427e", SHA1, Indicator{}, "32 hex digits, but a sha1 hash has 40"},
		{"sha1 as sha256", sha1, SHA256, Indicator{}, "40 hex digits, but a sha256 hash has 64"},
		{"domain as md5", "evil.com", MD5, Indicator{}, "not an md5 hash: not hexadecimal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAs(tt.in, tt.kind)
			var reason string
			if err != nil {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("ParseAs(%q, %q) error %T, want *ParseError", tt.in, tt.kind, err)
				}
				reason = pe.Reason
			}
			if diff := cmp.Diff(tt.reason, reason); diff != "" {
				t.Errorf("ParseAs(%q, %q) reason mismatch (-want +got):\n%s", tt.in, tt.kind, diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseAs(%q, %q) mismatch (-want +got):\n%s", tt.in, tt.kind, diff)
			}
		})
	}
}

func TestParseErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *ParseError
		want string
	}{
		{"short", &ParseError{Input: "x", Reason: "single-label name is not a domain"}, `invalid indicator "x": single-label name is not a domain`},
		{"quoted", &ParseError{Input: "a\nb", Reason: "r"}, `invalid indicator "a\nb": r`},
		{"truncated", &ParseError{Input: strings.Repeat("é", 150), Reason: "r"}, `invalid indicator "` + strings.Repeat("é", 100) + `...": r`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("Error() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ind  Indicator
		want string
	}{
		{"domain", Indicator{Domain, "evil.com"}, "evil.com"},
		{"ipv4", Indicator{IPv4, "192.0.2.1"}, "192.0.2.1"},
		{"ipv6", Indicator{IPv6, "2001:db8::1"}, "2001:db8::1"},
		{"url", Indicator{URL, "http://user@evil.com:8080/a?b"}, "evil.com"},
		{"url ipv6", Indicator{URL, "http://[2001:db8::1]:8080/"}, "2001:db8::1"},
		{"url ipv4", Indicator{URL, "https://192.0.2.1/"}, "192.0.2.1"},
		{"hash", Indicator{MD5, "d41d8cd98f00b204e9800998ecf8427e"}, ""},
		{"bad url", Indicator{URL, "http://[::1/"}, ""},
		{"zero", Indicator{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.ind.Host()); diff != "" {
				t.Errorf("Host() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
