package provider_test

import (
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

func TestLinkOf(t *testing.T) {
	t.Parallel()
	d := provider.Descriptor{Kinds: []indicator.Kind{indicator.IPv4},
		Link: func(ind indicator.Indicator) string { return "https://example.test/ip/" + ind.Value }}
	tests := []struct {
		name string
		d    provider.Descriptor
		ind  indicator.Indicator
		want string
	}{
		{"served kind", d, indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.1"}, "https://example.test/ip/192.0.2.1"},
		{"kind not served", d, indicator.Indicator{Kind: indicator.Domain, Value: "example.com"}, ""},
		{"no link", provider.Descriptor{Kinds: d.Kinds}, indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.1"}, ""},
	}
	for _, tt := range tests {
		if got := tt.d.LinkOf(tt.ind); got != tt.want {
			t.Errorf("%s: LinkOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestContextIsZero(t *testing.T) {
	t.Parallel()
	if !(provider.Context{}).IsZero() {
		t.Error("zero Context: IsZero = false")
	}
	for _, c := range []provider.Context{{ASN: 1}, {Country: "US"}, {LastSeen: time.Unix(1, 0)}, {Tags: []string{"cdn"}}, {MalwareFamilies: []string{"Emotet"}}} {
		if c.IsZero() {
			t.Errorf("%+v: IsZero = true", c)
		}
	}
}
