package clientinfo

import (
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted, err := ParseTrusted("10.0.0.0/8, 192.168.1.5")
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver(trusted)
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct client ignores XFF", "203.0.113.7:5555", "198.51.100.1", "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", "198.51.100.1", "198.51.100.1"},
		{"spoofed left-most entry ignored", "10.1.2.3:80", "1.1.1.1, 198.51.100.1", "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:80", "198.51.100.1, 192.168.1.5", "198.51.100.1"},
		{"trusted proxy without XFF", "10.1.2.3:80", "", "10.1.2.3"},
		{"garbage XFF falls back to last trusted hop", "10.1.2.3:80", "not-an-ip", "10.1.2.3"},
		{"ipv4-mapped ipv6 peer", "[::ffff:203.0.113.9]:1", "", "203.0.113.9"},
		{"ipv6 peer", "[2001:db8::1]:443", "", "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tt.remote
			if tt.xff != "" {
				req.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := r.ClientIP(req); got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := ParseTrusted("10.0.0.0/8,bogus"); err == nil {
		t.Error("bogus trusted proxy accepted")
	}
}
