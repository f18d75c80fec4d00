package fakeintel

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRewrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		subs []sub
		want string
	}{
		{"ip only on its own", `"1.1.1.1","1.1.1.10","http://1.1.1.1/x","11.1.1.1","1.1.1.1.5"`,
			[]sub{tok("1.1.1.1", "9.9.9.9")}, `"9.9.9.9","1.1.1.10","http://9.9.9.9/x","11.1.1.1","1.1.1.1.5"`},
		{"ip with a port", `"198.51.100.23:443","198.51.100.230:8080"`,
			[]sub{tok("198.51.100.23", "9.9.9.9")}, `"9.9.9.9:443","198.51.100.230:8080"`},
		{"token leaves subdomains", `"evil.example","login.evil.example","evil.example.com","notevil.example"`,
			[]sub{tok("evil.example", "a.test")}, `"a.test","login.evil.example","evil.example.com","notevil.example"`},
		{"subdomain follows", `"example.com","www.example.com","example.com.au","myexample.com","siteinfo/example.com"`,
			[]sub{dom("example.com", "a.test")}, `"a.test","www.a.test","example.com.au","myexample.com","siteinfo/a.test"`},
		{"ipv6", `"2001:db8::1","2001:db8::1:5","whois/2001:db8::1","2001:db8::/32"`,
			[]sub{tok("2001:db8::1", "3fff::9")}, `"3fff::9","2001:db8::1:5","whois/3fff::9","2001:db8::/32"`},
		{"hash not inside a longer one", `"ea37","ea37ff"`, []sub{tok("ea37", "0000")}, `"0000","ea37ff"`},
		{"json escaping", `{"u":"http://x/"}`, []sub{tok("http://x/", `http://y/"a\b<&>`)}, `{"u":"http://y/\"a\\b<&>"}`},
		{"one pass", `"a.test b.test"`, []sub{tok("a.test", "b.test"), tok("b.test", "c.test")}, `"b.test c.test"`},
		{"exact is raw", `{"ip":16843009}`, []sub{raw(`"ip":16843009`, `"ip":134744072`)}, `{"ip":134744072}`},
		{"no subs", `{"a":1}`, nil, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, string(rewrite([]byte(tt.in), tt.subs))); diff != "" {
				t.Errorf("rewrite (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind  kind
		value string
		want  class
	}{
		{kindIPv4, "192.0.2.1", notFound},
		{kindIPv4, "192.0.3.1", ordinary},
		{kindIPv4, "203.0.113.45", malicious},
		{kindIPv4, "8.8.8.8", ordinary},
		{kindIPv6, "3fff::1", notFound},
		{kindIPv6, "::ffff:192.0.2.1", notFound},
		{kindIPv6, "2001:db8::1", ordinary},
		{kindDomain, "notfound.example", notFound},
		{kindDomain, "www.NotFound-shop.example", notFound},
		{kindDomain, "evil.example", malicious},
		{kindDomain, "malicious-cdn.example", malicious},
		{kindDomain, "example.org", ordinary},
		{kindURL, "http://notfound.example/evil", notFound},
		{kindURL, "http://example.org/notfound", ordinary}, // only the host decides not-found
		{kindURL, "http://example.org/evil.exe", malicious},
		{kindMD5, "00000000aaaaaaaaaaaaaaaaaaaaaaaa", notFound},
		{kindSHA256, "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f", malicious}, // the recorded sample
		{kindMD5, "BADC0DE0000000000000000000000001", malicious},
		{kindSHA256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", ordinary},
	}
	for _, tt := range tests {
		if got := classify(tt.kind, tt.value); got != tt.want {
			t.Errorf("classify(%s, %q) = %d, want %d", tt.kind, tt.value, got, tt.want)
		}
	}
}

func TestParseURLScanQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q, field, value string
		ok              bool
	}{
		{"domain:example.com", "domain", "example.com", true},
		{`ip:"198.51.100.7"`, "ip", "198.51.100.7", true},
		{`page.url:"http://evil.example/a\"b\\c"`, "page.url", `http://evil.example/a"b\c`, true},
		{`page.domain:"example.com" OR page.domain:"www.example.com"`, "page.domain", "example.com", true},
		{`page.url:"http://e.example/a\" OR b" OR task.url:"http://e.example/a\" OR b"`, "page.url", `http://e.example/a" OR b`, true},
		{`page.url:"http://x/`, "", "", false},
		{`page.url:"a"b"`, "", "", false},
		{"example.com", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		field, value, ok := parseURLScanQuery(tt.q)
		if field != tt.field || value != tt.value || ok != tt.ok {
			t.Errorf("parseURLScanQuery(%q) = %q, %q, %v; want %q, %q, %v", tt.q, field, value, ok, tt.field, tt.value, tt.ok)
		}
	}
}

func TestVTURLID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, url string
		ok      bool
	}{
		{"aHR0cHM6Ly9ldmlsLmV4YW1wbGUvZGw_Zj1-cGF5bG9hZC5leGU", "https://evil.example/dl?f=~payload.exe", true},
		{"aHR0cDovL25vd2hlcmUuZXhhbXBsZS8=", "http://nowhere.example/", true},
		{"49c4b36cf89166f5b6ba07de01076a844b75d8f6970cae1d106e652540f48817", "", true},
		{"!!!", "", false},
	}
	for _, tt := range tests {
		u, ok := vtURLID(tt.id)
		if u != tt.url || ok != tt.ok {
			t.Errorf("vtURLID(%q) = %q, %v; want %q, %v", tt.id, u, ok, tt.url, tt.ok)
		}
	}
}
