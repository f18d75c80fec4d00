package portal

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		text    string
		want    []string // kind:value
		invalid []string
	}{
		{"one per line", "203.0.113.7\nevil[.]example\n44d88612fea8a8f36de82e1278abb02f\n", []string{"ipv4:203.0.113.7", "domain:evil.example", "md5:44d88612fea8a8f36de82e1278abb02f"}, nil},
		{"defanged url in prose", "Blocked hxxps://bad(.)example/dl, see 198.51.100.4.", []string{"url:https://bad.example/dl", "ipv4:198.51.100.4"}, nil},
		{"duplicates folded", "203.0.113.7\n203.0.113.7 203[.]0.113.7", []string{"ipv4:203.0.113.7"}, nil},
		{"a bad line is reported", "203.0.113.7\n999.1.1.1\n", []string{"ipv4:203.0.113.7"}, []string{"999.1.1.1"}},
		{"blank", "\n  \n", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inds, bad := extract(tt.text)
			var got, gotBad []string
			for _, i := range inds {
				got = append(got, string(i.Kind)+":"+i.Value)
			}
			for _, b := range bad {
				gotBad = append(gotBad, b.Input)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("indicators (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.invalid, gotBad); diff != "" {
				t.Errorf("invalid (-want +got):\n%s", diff)
			}
		})
	}
}
