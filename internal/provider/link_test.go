package provider_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Every provider link is an https page of the provider's own site for the
// value asked (two values give two links), never an API URL with a key.
func TestProviderLinks(t *testing.T) {
	t.Parallel()
	samples := map[indicator.Kind][2]string{
		indicator.IPv4:   {"198.51.100.7", "203.0.113.9"},
		indicator.IPv6:   {"2001:db8::1", "2001:db8::2"},
		indicator.Domain: {"evil.example", "login.evil.example"},
		indicator.URL:    {"http://evil.example/a?b=1", "https://other.example/c"},
		indicator.MD5:    {"ea372104f1e9f069068e3752b543c7b0", "d41d8cd98f00b204e9800998ecf8427e"},
		indicator.SHA1:   {"9f057d94c9b77d6286073dc5b5c382bcba67a3b2", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		indicator.SHA256: {"110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	linked := 0
	for _, d := range provider.Descriptors() {
		for _, k := range d.Kinds {
			vs, ok := samples[k]
			if !ok {
				continue
			}
			a := d.LinkOf(indicator.Indicator{Kind: k, Value: vs[0]})
			b := d.LinkOf(indicator.Indicator{Kind: k, Value: vs[1]})
			if a == "" {
				continue
			}
			linked++
			u, err := url.Parse(a)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				t.Errorf("%s %s: link %q is not an https page", d.Name, k, a)
				continue
			}
			if a == b {
				t.Errorf("%s %s: the same link %q for two values", d.Name, k, a)
			}
			if base, err := url.Parse(d.BaseURL); err == nil && strings.HasPrefix(a, d.BaseURL) && base.Path != "" {
				t.Errorf("%s %s: link %q is the API, not the provider's page", d.Name, k, a)
			}
			if strings.Contains(strings.ToLower(a), "key=") {
				t.Errorf("%s %s: link %q carries a key parameter", d.Name, k, a)
			}
		}
	}
	if linked == 0 {
		t.Fatal("no provider has a link")
	}
}
