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
