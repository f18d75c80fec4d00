package indicator_test

import (
	"testing"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func TestParseTLP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		want  indicator.TLP
		label string
	}{
		{"CLEAR", indicator.TLPClear, "TLP:CLEAR"},
		{"white", indicator.TLPClear, "TLP:CLEAR"},
		{"tlp:green", indicator.TLPGreen, "TLP:GREEN"},
		{" Amber ", indicator.TLPAmber, "TLP:AMBER"},
		{"TLP:AMBER+STRICT", indicator.TLPAmberStrict, "TLP:AMBER+STRICT"},
		{"amber_strict", indicator.TLPAmberStrict, "TLP:AMBER+STRICT"},
		{"RED", indicator.TLPRed, "TLP:RED"},
	}
	for _, tt := range tests {
		got, err := indicator.ParseTLP(tt.in)
		if err != nil || got != tt.want || got.Label() != tt.label {
			t.Errorf("ParseTLP(%q) = %v (%s), %v; want %v (%s)", tt.in, got, got.Label(), err, tt.want, tt.label)
		}
	}
	for _, bad := range []string{"", "PURPLE", "AMBERSTRICT", "TLP:", "red!"} {
		if got, err := indicator.ParseTLP(bad); err == nil {
			t.Errorf("ParseTLP(%q) = %v, want an error", bad, got)
		}
	}
	if !(indicator.TLPClear < indicator.TLPGreen && indicator.TLPGreen < indicator.TLPAmber &&
		indicator.TLPAmber < indicator.TLPAmberStrict && indicator.TLPAmberStrict < indicator.TLPRed) {
		t.Error("TLP labels are not ordered from the most to the least shareable")
	}
}
