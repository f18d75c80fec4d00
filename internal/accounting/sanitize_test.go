package accounting

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{name: "plain", in: "curl/8.5", max: 512, want: "curl/8.5"},
		{name: "invalid byte", in: "a\xffb", max: 512, want: "a\uFFFDb"},
		{name: "NUL", in: "ali\x00ce", max: 512, want: "alice"},
		{name: "cut inside a rune", in: strings.Repeat("é", 3), max: 5, want: "éé"},
		{name: "cut on a boundary", in: strings.Repeat("é", 3), max: 4, want: "éé"},
		{name: "nothing fits", in: "é", max: 1, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in, tc.max); got != tc.want {
				t.Errorf("Clean(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

// Redact hides secrets in any case of their argument name, keeps the rest,
// and leaves the caller's map as it was.
func TestRedact(t *testing.T) {
	t.Parallel()
	params := map[string]any{"value": "198.51.100.7", "Password": "hunter2", "input": map[string]any{"key": "k"}}
	if got, want := Redact(params), `{"Password":"[REDACTED]","input":{"key":"k"},"value":"198.51.100.7"}`; got != want {
		t.Errorf("Redact = %s, want %s", got, want)
	}
	if params["Password"] != "hunter2" {
		t.Errorf("Redact changed its argument: %v", params)
	}
	if got := Redact(map[string]any{"value": "x"}); got != `{"value":"x"}` {
		t.Errorf("Redact without secrets = %s", got)
	}
	if got := Redact(nil); got != "{}" {
		t.Errorf("Redact(nil) = %s", got)
	}
}
