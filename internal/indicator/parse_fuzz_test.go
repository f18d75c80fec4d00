package indicator

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that it returns *ParseError on
// failure, and that what it returns is canonical: printable ASCII, parsed
// again unchanged by Parse and by ParseAs with its kind, and accepted by
// Policy.Check as valid (allowed or blocked for a real reason).
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.in)
	}
	for _, s := range []string{
		"", " ", "<>", "[.]", "hxxp://", "hxxps[://]", "://", "http://", "http://[", "http://[]/",
		"http://[::1", "http://[::1]:", "http://[::1]:99999/", "http://a.b:0/", "http://@/", "http://a@b@c.com/",
		"http://evil.com/%", "http://evil.com/?%", "http://evil.com/#%zz", "http://evil.com/%2e%2E/%41",
		"https://evil.com/?a[]=1&b={x}", "http://xn--bcher-kva.example/", "http://ex\u00e4mple.com:8080/p?q#f",
		"http://example.com\\@evil.com/", "http://evil.com:80:80/", "http://1.2.3.4:/", "http://0x7f000001/",
		"HTTP://[::FFFF:10.0.0.1]:0080/A/../B?C=%7e#D", "hxxp://evil dot com/a dot b", "h\u0078xp://a.com",
		"evil[.]com", "evil(.)com", "evil{dot}com", "evil [ . ] com", "a dot b dot c", "dot dot dot",
		"1.1.1.1", "01.1.1.1", "1.1.1", "1.1.1.1.1", "999.1.1.1", "0.0.0.0", "1.2.3.4.", "1.2.3.4..",
		"::", "::1", "::ffff:0:0", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8", "1::", "fe80::1%25eth0", "[::1]:80",
		"64:ff9b::10.0.0.1", "2002:c0a8:101::1", "2001:db8::/32",
		"xn--", "xn--a", "xn--zz.com", "xn---tda.com", "xn--mi7c.com", "XN--R8JZ45G.JP", "ab--cd.com",
		"üb--cd.com", "\u0301a.com", "a\u0301.com", "ǅ.com", "İstanbul.com", "ﬁ.com", "K.com",
		"例え。テスト", "ｅｘａｍｐｌｅ．ｃｏｍ", "\U0001F4A9.la", "a.b", "a." + strings.Repeat("b", 62),
		strings.Repeat("a.", 126) + "com", strings.Repeat("ü", 64) + ".com",
		strings.Repeat("0", 32), strings.Repeat("F", 40), strings.Repeat("a", 64), strings.Repeat("a", 65),
		"d41d8cd98f00b204e9800998ecf8427e\n", "“evil.com”", "«evil.com»", "'<evil.com>'", "(\"evil.com)\"",
		"user@evil.com", "evil.com:443", "evil.com/path", "//evil.com", "javascript:alert(1)",
		"\xff", "\x00", "a\u202eb.com", "\ufeff", "\u200b\u200b",
	} {
		f.Add(s)
	}
	policy := NewPolicy([]string{".example.org"})
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Input != s || pe.Reason == "" {
				t.Fatalf("Parse(%q) error %#v, want *ParseError with input and reason", s, err)
			}
			_ = pe.Error()
			return
		}
		if !got.Kind.Valid() {
			t.Fatalf("Parse(%q) kind %q is not valid", s, got.Kind)
		}
		for i := 0; i < len(got.Value); i++ {
			if c := got.Value[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("Parse(%q) = %v: byte %#x is not printable ascii", s, got, c)
			}
		}
		again, err := Parse(Format(got))
		if err != nil || again != got {
			t.Fatalf("Parse(%q) = %v, but Parse(%q) = %v, %v", s, got, got.Value, again, err)
		}
		as, err := ParseAs(got.Value, got.Kind)
		if err != nil || as != got {
			t.Fatalf("Parse(%q) = %v, but ParseAs(%q, %s) = %v, %v", s, got, got.Value, got.Kind, as, err)
		}
		as, err = ParseAs(s, got.Kind)
		if err != nil || as != got {
			t.Fatalf("Parse(%q) = %v, but ParseAs(%q, %s) = %v, %v", s, got, s, got.Kind, as, err)
		}

		checkErr := policy.Check(got)
		if checkErr != nil {
			var pe *PolicyError
			if !errors.As(checkErr, &pe) {
				t.Fatalf("Check(%v) error %T, want *PolicyError", got, checkErr)
			}
			if strings.HasPrefix(pe.Reason, "invalid") || strings.Contains(pe.Reason, "canonical") {
				t.Fatalf("Check(%v) rejects a parsed indicator: %v", got, checkErr)
			}
		}
		if got.Kind.IsHash() {
			if got.Host() != "" || checkErr != nil {
				t.Fatalf("hash %v: Host %q, Check %v", got, got.Host(), checkErr)
			}
			return
		}
		host := got.Host()
		if host == "" {
			t.Fatalf("Parse(%q) = %v with no host", s, got)
		}
		// A URL is blocked exactly when its host is (or it has a password).
		hostInd, err := Parse(host)
		if err != nil || hostInd.Value != host {
			t.Fatalf("host %q of %v does not parse to itself: %v, %v", host, got, hostInd, err)
		}
		if got.Kind == URL {
			u, err := url.Parse(got.Value)
			if err != nil {
				t.Fatalf("url.Parse(%q): %v", got.Value, err)
			}
			_, hasPassword := u.User.Password()
			hostBlocked := policy.Check(hostInd) != nil
			if (checkErr != nil) != (hostBlocked || hasPassword) {
				t.Fatalf("Check(%v) = %v, but host blocked %v, password %v", got, checkErr, hostBlocked, hasPassword)
			}
		}
	})
}
