package indicator_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// found is the comparable part of an indicator.Found.
type found struct {
	Kind  indicator.Kind
	Value string
	Raw   string
}

func extractTest(t *testing.T, text string) indicator.Extraction {
	t.Helper()
	ex, err := newExtractor().Extract(text)
	if err != nil {
		t.Fatalf("Extract(%q): %v", text, err)
	}
	return ex
}

func TestExtract(t *testing.T) {
	t.Parallel()
	const md5 = "44d88612fea8a8f36de82e1278abb02f"
	const sha1 = "3395856ce81f2b7382dee72602f798b642f14140"
	const sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	tests := []struct {
		name string
		text string
		want []found
	}{
		{"ip with port", "C2 203.0.113.45:443 seen", []found{{indicator.IPv4, "203.0.113.45", "203.0.113.45:443"}}},
		{"ipv6 with port", "to [2001:db8::1]:443.", []found{{indicator.IPv6, "2001:db8::1", "[2001:db8::1]:443"}}},
		{"bare ipv6", "from 2001:db8:4::17 and ::ffff:203.0.113.9", []found{
			{indicator.IPv6, "2001:db8:4::17", "2001:db8:4::17"}, {indicator.IPv4, "203.0.113.9", "::ffff:203.0.113.9"}}},
		{"md5 label", "md5=" + strings.ToUpper(md5), []found{{indicator.MD5, md5, strings.ToUpper(md5)}}},
		{"hash colon label", "hash:" + sha256, []found{{indicator.SHA256, sha256, sha256}}},
		{"sha1 label with space", "SHA1: " + sha1, []found{{indicator.SHA1, sha1, sha1}}},
		{"src_ip", "src_ip=198.51.100.7 dst=192.0.2.8", []found{
			{indicator.IPv4, "198.51.100.7", "198.51.100.7"}, {indicator.IPv4, "192.0.2.8", "192.0.2.8"}}},
		{"json value", `{"src_ip": "198.51.100.7", "url": "https:\/\/evil.example\/a"}`, []found{
			{indicator.IPv4, "198.51.100.7", "198.51.100.7"}, {indicator.URL, "https://evil.example/a", `https:\/\/evil.example\/a`},
			{indicator.Domain, "evil.example", "evil.example"}}},
		{"key quoted", `url="hxxps://evil[.]example/x"`, []found{
			{indicator.URL, "https://evil.example/x", "hxxps://evil[.]example/x"}, {indicator.Domain, "evil.example", "evil[.]example"}}},
		{"defanged host with port", "evil[.]example:8443", []found{{indicator.Domain, "evil.example", "evil[.]example:8443"}}},
		{"email domain", "from attacker@evil[.]example", []found{{indicator.Domain, "evil.example", "evil[.]example"}}},
		{"email [at]", "attacker[at]evil[.]example attacker(at)evil2[.]example attacker[@]evil3.example", []found{
			{indicator.Domain, "evil.example", "evil[.]example"}, {indicator.Domain, "evil2.example", "evil2[.]example"},
			{indicator.Domain, "evil3.example", "evil3.example"}}},
		{"schemeless url", "www.evil.example/path/x.php", []found{
			{indicator.URL, "http://www.evil.example/path/x.php", "www.evil.example/path/x.php"},
			{indicator.Domain, "www.evil.example", "www.evil.example"}}},
		{"fxp", "fxp://files.evil.example/a", []found{{indicator.Domain, "files.evil.example", "files.evil.example"}}},
		{"hxxx", "hxxx://evil.example/a", []found{
			{indicator.URL, "http://evil.example/a", "hxxx://evil.example/a"}, {indicator.Domain, "evil.example", "evil.example"}}},
		{"[:]//", "http[:]//evil.example/a", []found{
			{indicator.URL, "http://evil.example/a", "http[:]//evil.example/a"}, {indicator.Domain, "evil.example", "evil.example"}}},
		{"regex dot", `evil\.example\.com`, []found{{indicator.Domain, "evil.example.com", `evil\.example\.com`}}},
		{"spaced dots", "evil [.] example and evil2 [dot] example", []found{
			{indicator.Domain, "evil.example", "evil [.] example"}, {indicator.Domain, "evil2.example", "evil2 [dot] example"}}},
		{"hXXps[:]//", "hXXps[:]//login[.]example[.]org/o365", []found{
			{indicator.URL, "https://login.example.org/o365", "hXXps[:]//login[.]example[.]org/o365"},
			{indicator.Domain, "login.example.org", "login[.]example[.]org"}}},
		{"[/] and [://]", "hxxp[://]evil[.]example[/]a", []found{
			{indicator.URL, "http://evil.example/a", "hxxp[://]evil[.]example[/]a"}, {indicator.Domain, "evil.example", "evil[.]example"}}},
		{"ldap in jndi", "${jndi:ldap://jndi.example.com:1389/a}", []found{{indicator.Domain, "jndi.example.com", "jndi.example.com:1389"}}},
		{"quoted-printable", "Content-Transfer-Encoding: quoted-printable\n\n<a href=3D\"https://evil.example/a?b=3Dc&amp;d=3De=\n\">", []found{
			{indicator.URL, "https://evil.example/a?b=c&d=e", "https://evil.example/a?b=3Dc&amp;d=3De"}, {indicator.Domain, "evil.example", "evil.example"}}},
		{"squid hierarchy", "HIER_DIRECT/203.0.113.45 DIRECT/198.51.100.7", []found{
			{indicator.IPv4, "203.0.113.45", "203.0.113.45"}, {indicator.IPv4, "198.51.100.7", "198.51.100.7"}}},
		{"defanged ip", "203.0.113[.]45 and 198[.]51[.]100[.]7", []found{
			{indicator.IPv4, "203.0.113.45", "203.0.113[.]45"}, {indicator.IPv4, "198.51.100.7", "198[.]51[.]100[.]7"}}},
		{"percent-encoded url", "https://r.example.com/?u=https%3A%2F%2Fevil.example%2Fx&t=1", []found{
			{indicator.URL, "https://r.example.com/?u=https%3A%2F%2Fevil.example%2Fx&t=1", "https://r.example.com/?u=https%3A%2F%2Fevil.example%2Fx&t=1"},
			{indicator.Domain, "r.example.com", "r.example.com"},
			{indicator.URL, "https://evil.example/x", "https%3A%2F%2Fevil.example%2Fx"},
			{indicator.Domain, "evil.example", "https%3A%2F%2Fevil.example%2Fx"}}},
		{"cef", `CEF:0|V|P|1.0|100|n|5|src=198.51.100.7 dst=203.0.113.5 request=http://evil.example/a?b\=c fileHash=` + md5, []found{
			{indicator.IPv4, "198.51.100.7", "198.51.100.7"}, {indicator.IPv4, "203.0.113.5", "203.0.113.5"},
			{indicator.URL, "http://evil.example/a?b=c", `http://evil.example/a?b\=c`}, {indicator.Domain, "evil.example", "evil.example"},
			{indicator.MD5, md5, md5}}},
		{"url in parentheses", "(see https://evil.example/a_(b)), then", []found{
			{indicator.URL, "https://evil.example/a_(b)", "https://evil.example/a_(b)"}, {indicator.Domain, "evil.example", "evil.example"}}},
		{"hash as file name", md5 + ".exe", []found{{indicator.MD5, md5, md5}}},
		{"zip as host", "domain=invoice.zip and https://files.zip/x", []found{
			{indicator.Domain, "invoice.zip", "invoice.zip"}, {indicator.URL, "https://files.zip/x", "https://files.zip/x"},
			{indicator.Domain, "files.zip", "files.zip"}}},
		{"reverse dns", "PTR 7.100.51.198.in-addr.arpa", []found{{indicator.IPv4, "198.51.100.7", "7.100.51.198.in-addr.arpa"}}},
		{"folded", "evil.example EVIL[.]example evil(.)example", []found{{indicator.Domain, "evil.example", "evil.example"}}},
		{"idn", "bücher.example", []found{{indicator.Domain, "xn--bcher-kva.example", "bücher.example"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := extractTest(t, tt.text)
			var got []found
			for _, f := range ex.Indicators {
				got = append(got, found{f.Kind, f.Value, f.Raw})
				for _, sp := range f.Spans {
					if sp.Start < 0 || sp.End > len(tt.text) || sp.Start >= sp.End {
						t.Errorf("%s: span %v outside the text", f.Value, sp)
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Extract(%q) (-want +got):\n%s\nignored: %v", tt.text, diff, ex.Ignored)
			}
		})
	}
}

// TestExtractRefuses checks the precision rules: what is not an indicator
// is not taken, and is listed with a reason where it looked like one.
func TestExtractRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		ignored    string // the token listed in Ignored; "" for none
		reason     string // a word its reason contains
	}{
		{"file name", "ran inv.exe", "inv.exe", "file name"},
		{"windows path", `C:\Users\bob\inv.exe`, "inv.exe", "file name"},
		{"report", "see report.pdf", "report.pdf", "file name"},
		{"zip file", "opened invoice.zip", "invoice.zip", "file name"},
		{"mov file", "clip.mov attached", "clip.mov", "file name"},
		{"version word", "version 1.2.3.4", "1.2.3.4", "version"},
		{"v prefix", "v1.2.3.4", "v1.2.3.4", "version"},
		{"version label", "FileVersion=10.0.1.2", "10.0.1.2", "version"},
		{"product version", "Chrome/120.0.1.2", "120.0.1.2", "version"},
		{"oid", "OID 1.3.6.1.4.1.311", "1.3.6.1.4.1.311", "OID"},
		{"timestamp", "2024.03.11.0915 12:30:45", "", ""},
		{"date", "11.03.2024", "", ""},
		{"longer hex run", strings.Repeat("ab", 36), strings.Repeat("ab", 36), "hex digits"},
		{"sha512", strings.Repeat("c1", 64), strings.Repeat("c1", 64), "hex digits"},
		{"all digits", strings.Repeat("1", 32), "", ""},
		{"hash inside word", "x" + strings.Repeat("ab", 16), "", ""},
		{"imphash", "IMPHASH=F34D5F2D4577ED6D9CEEC516C1F5A744", "F34D5F2D4577ED6D9CEEC516C1F5A744", "imphash"},
		{"ja3 object", `"ja3":{"hash":"72a589da586844d7f0818ce684948eea"}`, "72a589da586844d7f0818ce684948eea", "ja3"},
		{"trace id", "trace_id=4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736", "identifier"},
		{"camel-case id", `"customerIDString":"0123456789abcdef0123456789abcdef"`, "0123456789abcdef0123456789abcdef", "identifier"},
		{"id inside a value", `"DetectId":"ldt:0123456789abcdef0123456789abcdef:38001492174"`, "0123456789abcdef0123456789abcdef", "identifier"},
		{"arn", `"arn": "arn:aws:guardduty:us-east-1:123456789012:detector/12abc34d567e8fa901bc2d34e56789f0/finding/x"`, "12abc34d567e8fa901bc2d34e56789f0", "resource name"},
		{"cidr", "block 198.51.100.0/24", "198.51.100.0/24", "cidr"},
		{"cidr v6", "block 2001:db8::/32", "2001:db8::/32", "cidr"},
		{"leading zero", "010.1.1.1", "010.1.1.1", "leading zero"},
		{"code identifier", "System.Net.WebClient", "System.Net.WebClient", "top-level"},
		{"prose", "we were done.It was", "done.It", "mixed case"},
		{"json key", `{"process.name": "x"}`, "", ""},
		{"key=value key", "user.name=bob", "", ""},
		{"unknown tld", "host=server.weird", "server.weird", "not a top-level domain"},
		{"ftp url", "ftp://files.evil.example/x", "ftp://files.evil.example/x", "only http"},
		{"xmlns", `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">`, "http://schemas.microsoft.com/win/2004/08/events/event", "namespace"},
		{"url rejected by parse", "http://intranet/login", "http://intranet/login", "single-label"},
		{"email local part", "first.name@", "", ""},
		{"dataset", `"dataset":"endpoint.events.network"`, "endpoint.events.network", "not a host"},
		{"mac", "00:1a:2b:3c:4d:5e", "", ""},
		{"time", "at 10:15:30 UTC", "", ""},
		{"cpp", "std::string", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ex := extractTest(t, tt.text)
			for _, f := range ex.Indicators {
				if tt.name == "ftp url" && f.Value == "files.evil.example" {
					continue // its host is taken
				}
				t.Errorf("Extract(%q) took %v (raw %q)", tt.text, f.Indicator, f.Raw)
			}
			if tt.ignored == "" {
				if len(ex.Ignored) > 0 {
					t.Errorf("Extract(%q) ignored %v, want nothing listed", tt.text, ex.Ignored)
				}
				return
			}
			for _, ig := range ex.Ignored {
				if ig.Text == tt.ignored {
					if !strings.Contains(strings.ToLower(ig.Reason), strings.ToLower(tt.reason)) {
						t.Errorf("Extract(%q): %q ignored because %q, want a reason about %q", tt.text, ig.Text, ig.Reason, tt.reason)
					}
					if tt.text[ig.Span.Start:ig.Span.End] != ig.Text {
						t.Errorf("Extract(%q): span %v of %q is %q", tt.text, ig.Span, ig.Text, tt.text[ig.Span.Start:ig.Span.End])
					}
					return
				}
			}
			t.Errorf("Extract(%q) ignored %v, want %q listed", tt.text, ex.Ignored, tt.ignored)
		})
	}
}

func TestExtractInternal(t *testing.T) {
	t.Parallel()
	x := newExtractor()
	x.Policy = indicator.NewPolicy([]string{".example.org"})
	ex, err := x.Extract("src=10.1.2.3 host=wiki.example.org dc01.corp.internal http://192.168.1.1/admin 203.0.113.9")
	if err != nil {
		t.Fatal(err)
	}
	var internal []string
	for _, w := range ex.Internal {
		if w.Reason == "" {
			t.Errorf("%s: no reason", w.Value)
		}
		internal = append(internal, w.Value)
	}
	want := []string{"10.1.2.3", "wiki.example.org", "dc01.corp.internal", "http://192.168.1.1/admin", "192.168.1.1"}
	if diff := cmp.Diff(want, internal); diff != "" {
		t.Errorf("internal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"203.0.113.9"}, ex.Values()); diff != "" {
		t.Errorf("indicators (-want +got):\n%s", diff)
	}
}

func TestExtractSpansAndCount(t *testing.T) {
	t.Parallel()
	text := "a evil[.]example b evil.example c"
	ex := extractTest(t, text)
	if len(ex.Indicators) != 1 {
		t.Fatalf("got %v, want one indicator", ex.Indicators)
	}
	f := ex.Indicators[0]
	if f.Count != 2 || len(f.Spans) != 2 {
		t.Fatalf("count %d spans %v, want 2 of each", f.Count, f.Spans)
	}
	for i, want := range []string{"evil[.]example", "evil.example"} {
		if got := text[f.Spans[i].Start:f.Spans[i].End]; got != want {
			t.Errorf("span %d is %q, want %q", i, got, want)
		}
	}
	many := strings.Repeat("203.0.113.5 ", 1000)
	f = extractTest(t, many).Indicators[0]
	if f.Count != 1000 || len(f.Spans) != 100 {
		t.Errorf("count %d, %d spans; want 1000 and the first 100", f.Count, len(f.Spans))
	}
}

func TestExtractContext(t *testing.T) {
	t.Parallel()
	ex := extractTest(t, "From: a.b@evil.example, c@evil.example")
	if diff := cmp.Diff([]string{"a.b@evil.example", "c@evil.example"}, ex.Indicators[0].Context); diff != "" {
		t.Errorf("context (-want +got):\n%s", diff)
	}
}

func TestExtractBounds(t *testing.T) {
	t.Parallel()
	if _, err := newExtractor().Extract(strings.Repeat("a", indicator.MaxTextLen+1)); !errors.Is(err, indicator.ErrTextTooLong) {
		t.Errorf("over 1 MiB: err %v, want ErrTextTooLong", err)
	}
	if _, err := newExtractor().Extract(strings.Repeat("a", indicator.MaxTextLen)); err != nil {
		t.Errorf("exactly 1 MiB: %v", err)
	}
	var b strings.Builder
	for i := 0; b.Len() < 100_000; i++ {
		fmt.Fprintf(&b, "file%d.exe ", i)
	}
	ex := extractTest(t, b.String())
	if len(ex.Ignored) != 500 || ex.IgnoredOmitted == 0 {
		t.Errorf("%d ignored listed, %d omitted; want 500 listed and the rest counted", len(ex.Ignored), ex.IgnoredOmitted)
	}
}

// TestExtractWithoutSuffixList checks the zero Extractor: bare words are
// not domains without a public suffix list, hosts written as hosts are.
func TestExtractWithoutSuffixList(t *testing.T) {
	t.Parallel()
	ex, err := indicator.Extractor{}.Extract("evil.com and https://evil.net/x and host=evil.org")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://evil.net/x", "evil.net", "evil.org"}, ex.Values()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
