package provider_test

import (
	"testing"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// TestMaxTLPDecided: every registered provider names its maximum TLP and
// why; a local provider keeps everything (RED); every provider on by
// default is asked by a default lookup (AMBER), and one off by default
// without a key (no account, no terms) sees GREEN at most.
func TestMaxTLPDecided(t *testing.T) {
	t.Parallel()
	for _, d := range provider.Descriptors() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			if d.MaxTLP == 0 || d.TLPReason == "" {
				t.Fatalf("MaxTLP %v, TLPReason %q: name both", d.MaxTLP, d.TLPReason)
			}
			switch {
			case d.Local && d.MaxTLP != indicator.TLPRed:
				t.Errorf("local provider: maximum %s, want RED", d.MaxTLP)
			case !d.Local && d.MaxTLP > indicator.TLPAmber:
				t.Errorf("sends values upstream: maximum %s, want AMBER at most", d.MaxTLP)
			case !d.Disabled && d.MaxTLP < indicator.TLPAmber:
				t.Errorf("on by default with maximum %s: a default (AMBER) lookup would never ask it", d.MaxTLP)
			case d.Disabled && d.Key == provider.KeyNone && d.MaxTLP > indicator.TLPGreen:
				t.Errorf("keyless and off by default: maximum %s, want GREEN at most", d.MaxTLP)
			}
		})
	}
}

// TestMaxTLPWith: the screenshot provider's maximum is AMBER while it only
// searches urlscan, GREEN once ScreenShotAPI's browser may visit the URL.
func TestMaxTLPWith(t *testing.T) {
	t.Parallel()
	d, _ := provider.Lookup("screenshot")
	tests := []struct {
		name     string
		settings map[string]string
		want     indicator.TLP
	}{
		{"urlscan only", map[string]string{"SCREENSHOTAPI_URL": "https://shot.screenshotapi.net"}, indicator.TLPAmber},
		{"ScreenShotAPI token", map[string]string{"SCREENSHOTAPI_TOKEN": "t0ken"}, indicator.TLPGreen},
	}
	for _, tt := range tests {
		if got := d.MaxTLPWith(func(n string) string { return tt.settings[n] }); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if vt, _ := provider.Lookup("virustotal"); vt.MaxTLPWith(func(string) string { return "x" }) != indicator.TLPAmber {
		t.Error("a setting without a MaxTLP lowered virustotal's maximum")
	}
}
