package indicator

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	policy := NewPolicy([]string{".example.org", "ACME.test"})
	tests := []struct {
		name   string
		in     string // parsed with Parse
		reason string // "" means allowed
	}{
		// Allowed.
		{"public ipv4", "8.8.8.8", ""},
		{"public ipv4 near 10/8", "11.0.0.1", ""},
		{"public ipv4 near 172.16/12", "172.32.0.1", ""},
		{"public ipv4 below 172.16/12", "172.15.255.255", ""},
		{"public ipv4 near 192.168/16", "192.169.0.1", ""},
		{"public ipv4 below cgnat", "100.63.255.255", ""},
		{"public ipv4 above cgnat", "100.128.0.0", ""},
		{"public ipv4 near link-local", "169.253.255.255", ""},
		{"public ipv4 below multicast", "223.255.255.255", ""},
		{"documentation ipv4 test-net-1", "192.0.2.1", ""},
		{"documentation ipv4 test-net-2", "198.51.100.1", ""},
		{"documentation ipv4 test-net-3", "203.0.113.1", ""},
		{"public ipv6", "2606:4700::1111", ""},
		{"documentation ipv6", "2001:db8::1", ""},
		{"documentation ipv6 3fff", "3fff::1", ""},
		{"nat64 of public ipv4", "64:ff9b::8.8.8.8", ""},
		{"6to4 of public ipv4", "2002:808:808::1", ""},
		{"teredo", "2001:0:4136:e378::1", ""},
		{"public domain", "evil.com", ""},
		{"internal suffix not at end", "evil.local.com", ""},
		{"internal name as prefix", "corp.evil.com", ""},
		{"suffix without dot boundary", "notexample.org", ""},
		{"idn domain", "bücher.example", ""},
		{"url", "https://evil.com/login?x=1", ""},
		{"url with username", "http://paypal.com@evil.com/", ""},
		{"url documentation ip", "http://192.0.2.1:8080/", ""},
		{"url documentation ipv6", "http://[2001:db8::1]/", ""},
		{"md5", "d41d8cd98f00b204e9800998ecf8427e", ""},
		{"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", ""},
		{"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ""},

		// IPv4 ranges.
		{"unspecified", "0.0.0.0", "unspecified address"},
		{"this network", "0.1.2.3", `"this network" address (0.0.0.0/8)`},
		{"loopback", "127.0.0.1", "loopback address"},
		{"loopback end", "127.255.255.254", "loopback address"},
		{"rfc1918 10/8", "10.1.2.3", "private address (RFC 1918)"},
		{"rfc1918 172.16/12 start", "172.16.0.1", "private address (RFC 1918)"},
		{"rfc1918 172.16/12 end", "172.31.255.255", "private address (RFC 1918)"},
		{"rfc1918 192.168/16", "192.168.1.1", "private address (RFC 1918)"},
		{"cgnat start", "100.64.0.1", "shared address space (RFC 6598, carrier-grade NAT)"},
		{"cgnat end", "100.127.255.255", "shared address space (RFC 6598, carrier-grade NAT)"},
		{"link-local metadata", "169.254.169.254", "link-local address"},
		{"ietf protocol", "192.0.0.8", "IETF protocol assignment (192.0.0.0/24)"},
		{"benchmarking", "198.19.255.1", "benchmarking address (RFC 2544)"},
		{"multicast", "224.0.0.1", "multicast address"},
		{"multicast ssdp", "239.255.255.250", "multicast address"},
		{"reserved", "240.0.0.1", "reserved address (240.0.0.0/4)"},
		{"reserved end", "255.255.255.254", "reserved address (240.0.0.0/4)"},
		{"broadcast", "255.255.255.255", "broadcast address"},
		{"ipv4-mapped loopback parses as ipv4", "::ffff:127.0.0.1", "loopback address"},
		{"ipv4-mapped private parses as ipv4", "::ffff:a00:1", "private address (RFC 1918)"},

		// IPv6 ranges.
		{"ipv6 unspecified", "::", "unspecified address"},
		{"ipv6 loopback", "::1", "loopback address"},
		{"ipv6 unique local fc", "fc00::1", "unique local address (RFC 4193)"},
		{"ipv6 unique local fd", "fd12:3456::1", "unique local address (RFC 4193)"},
		{"ipv6 link-local", "fe80::1", "link-local address"},
		{"ipv6 link-local end", "febf::1", "link-local address"},
		{"ipv6 site-local", "fec0::1", "site-local address (deprecated)"},
		{"ipv6 multicast", "ff02::1", "multicast address"},
		{"ipv6 discard", "100::1", "discard-only address (RFC 6666)"},
		{"ipv6 local nat64", "64:ff9b:1::1", "local-use NAT64 address (RFC 8215)"},
		{"ipv6 nat64 of private", "64:ff9b::10.0.0.1", "private address (RFC 1918) (embedded in a NAT64 address)"},
		{"ipv6 nat64 of loopback", "64:ff9b::7f00:1", "loopback address (embedded in a NAT64 address)"},
		{"ipv6 6to4 of private", "2002:c0a8:101::1", "private address (RFC 1918) (embedded in a 6to4 address)"},
		{"ipv6 benchmarking", "2001:2::1", "benchmarking address (RFC 5180)"},
		{"ipv6 ipv4-compatible", "::10.0.0.1", "reserved address (outside 2000::/3)"},
		{"ipv6 unallocated", "4000::1", "reserved address (outside 2000::/3)"},

		// Domains.
		{"default .corp", "x.corp", "internal domain (.corp)"},
		{"default .corp deep", "a.b.corp", "internal domain (.corp)"},
		{"default .local", "printer.local", "internal domain (.local)"},
		{"default .internal", "app.internal", "internal domain (.internal)"},
		{"default .lan", "nas.lan", "internal domain (.lan)"},
		{"default .home.arpa", "router.home.arpa", "internal domain (.home.arpa)"},
		{"bare .home.arpa", "home.arpa", "internal domain (.home.arpa)"},
		{"localhost subdomain", "app.localhost", "loopback name (.localhost)"},
		{"configured suffix itself", "example.org", "internal domain (.example.org)"},
		{"configured suffix subdomain", "wiki.example.org", "internal domain (.example.org)"},
		{"configured without dot", "x.acme.test", "internal domain (.acme.test)"},
		{"internal idn", "bücher.corp", "internal domain (.corp)"},

		// URLs.
		{"url private ipv4", "http://10.0.0.1/admin", "url host is private address (RFC 1918)"},
		{"url loopback ipv6", "http://[::1]:8080/", "url host is loopback address"},
		{"url ipv4-mapped", "http://[::ffff:192.168.0.1]/", "url host is private address (RFC 1918)"},
		{"url link-local metadata", "http://169.254.169.254/latest/meta-data/", "url host is link-local address"},
		{"url internal domain", "https://wiki.corp/page", "url host is internal domain (.corp)"},
		{"url configured domain", "https://example.org/", "url host is internal domain (.example.org)"},
		{"url localhost", "http://app.localhost:3000/", "url host is loopback name (.localhost)"},
		{"url password", "http://user:secret@evil.com/", "url contains a password"},
		{"url password only", "http://:secret@evil.com/", "url contains a password"},
		{"url empty password", "http://user:@evil.com/", "url contains a password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ind, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			var got *PolicyError
			if err := policy.Check(ind); err != nil && !errors.As(err, &got) {
				t.Fatalf("Check(%v) error %T, want *PolicyError", ind, err)
			}
			var want *PolicyError
			if tt.reason != "" {
				want = &PolicyError{Indicator: ind, Reason: tt.reason}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check(%v) mismatch (-want +got):\n%s", ind, diff)
			}
		})
	}
}

// TestPolicyFailsClosed checks indicators built by hand rather than parsed.
func TestPolicyFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ind    Indicator
		reason string
	}{
		{"zero", Indicator{}, `invalid indicator: unknown indicator kind ""`},
		{"unknown kind", Indicator{"email", "a@b.example"}, `invalid indicator: unknown indicator kind "email"`},
		{"ipv4-mapped ipv6", Indicator{IPv6, "::ffff:127.0.0.1"}, "invalid indicator: ipv4-mapped ipv6 address is the ipv4 address 127.0.0.1, not an ipv6 address"},
		{"ipv6 with zone", Indicator{IPv6, "fe80::1%eth0"}, "invalid indicator: ipv6 zone is not allowed"},
		{"upper-case domain", Indicator{Domain, "X.CORP"}, "indicator is not in canonical form; parse it first"},
		{"defanged domain", Indicator{Domain, "evil[.]com"}, "indicator is not in canonical form; parse it first"},
		{"wrapped ipv4", Indicator{IPv4, "<8.8.8.8>"}, "indicator is not in canonical form; parse it first"},
		{"ip as domain", Indicator{Domain, "10.0.0.1"}, "invalid indicator: an ipv4 address, not a domain"},
		{"octal ipv4", Indicator{IPv4, "010.0.0.1"}, `invalid indicator: ipv4 octet "010" has a leading zero, which is ambiguous (octal or decimal)`},
		{"url non-canonical", Indicator{URL, "http://10.0.0.1"}, "indicator is not in canonical form; parse it first"},
		{"url header injection", Indicator{URL, "http://evil.com/\r\nHost: x.corp"}, "invalid indicator: contains control or invisible character U+000D"},
		{"hash not hex", Indicator{MD5, "10.0.0.1"}, "invalid indicator: not an md5 hash: not hexadecimal"},
		{"hash upper-case", Indicator{MD5, "D41D8CD98F00B204E9800998ECF8427E"}, "indicator is not in canonical form; parse it first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := &PolicyError{Indicator: tt.ind, Reason: tt.reason}
			var got *PolicyError
			if err := (Policy{}).Check(tt.ind); !errors.As(err, &got) {
				t.Fatalf("Check(%v) = %v, want *PolicyError", tt.ind, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check(%v) mismatch (-want +got):\n%s", tt.ind, diff)
			}
		})
	}
}

func TestPolicyZeroAndHandWritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy Policy
		ind    Indicator
		reason string
	}{
		{"zero policy blocks defaults", Policy{}, Indicator{Domain, "x.corp"}, "internal domain (.corp)"},
		{"zero policy allows public", Policy{}, Indicator{Domain, "evil.com"}, ""},
		{"entries tolerated without dot or case", Policy{InternalDomains: []string{"ACME.com"}}, Indicator{Domain, "x.acme.com"}, "internal domain (.acme.com)"},
		{"entry does not match across a label", Policy{InternalDomains: []string{".acme.com"}}, Indicator{Domain, "notacme.com"}, ""},
		{"defaults apply to hand-written", Policy{InternalDomains: []string{".acme.com"}}, Indicator{Domain, "nas.lan"}, "internal domain (.lan)"},
		{"unicode entry", Policy{InternalDomains: []string{"bücher.example"}}, Indicator{Domain, "xn--bcher-kva.example"}, "internal domain (.xn--bcher-kva.example)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got *PolicyError
			if err := tt.policy.Check(tt.ind); err != nil && !errors.As(err, &got) {
				t.Fatalf("Check(%v) error %T, want *PolicyError", tt.ind, err)
			}
			var want *PolicyError
			if tt.reason != "" {
				want = &PolicyError{Indicator: tt.ind, Reason: tt.reason}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Check(%v) mismatch (-want +got):\n%s", tt.ind, diff)
			}
		})
	}
}

func TestNewPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil is the defaults", nil, []string{".local", ".internal", ".lan", ".home.arpa", ".corp"}},
		{"normalised and added to the defaults",
			[]string{"CORP", "*.Example.ORG", " .acme.lan. ", "", ".", "bücher.example", ".example.org"},
			[]string{".local", ".internal", ".lan", ".home.arpa", ".corp", ".example.org", ".acme.lan", ".xn--bcher-kva.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := NewPolicy(tt.in)
			if diff := cmp.Diff(Policy{InternalDomains: tt.want}, got); diff != "" {
				t.Errorf("NewPolicy(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestAddrReasonEmbedded covers addresses Parse never returns but Check's
// classifier still handles, in case a value reaches it another way.
func TestAddrReasonEmbedded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ipv4-mapped private", "::ffff:10.0.0.1", "private address (RFC 1918) (ipv4-mapped)"},
		{"ipv4-mapped public", "::ffff:8.8.8.8", ""},
		{"zone ignored", "fe80::1%eth0", "link-local address"},
		{"not an address", "evil.com", "invalid address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, addrReason(tt.in)); diff != "" {
				t.Errorf("addrReason(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *PolicyError
		want string
	}{
		{"ip", &PolicyError{Indicator{IPv4, "10.0.0.1"}, "private address (RFC 1918)"}, `blocked by policy: ipv4 "10.0.0.1": private address (RFC 1918)`},
		{"zero", &PolicyError{Indicator{}, "r"}, `blocked by policy: indicator "": r`},
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
