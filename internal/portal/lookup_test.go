package portal

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/publicsuffix"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	p := &Portal{cfg: Config{Extractor: indicator.Extractor{Policy: indicator.NewPolicy(nil), PublicSuffix: publicsuffix.PublicSuffix}}}
	tests := []struct {
		name    string
		text    string
		want    []string // kind:value
		invalid []string // kind input
	}{
		{"one per line", "203.0.113.7\nevil[.]example\n44d88612fea8a8f36de82e1278abb02f\n", []string{"ipv4:203.0.113.7", "domain:evil.example", "md5:44d88612fea8a8f36de82e1278abb02f"}, nil},
		{"defanged url in prose", "Blocked hxxps://bad(.)example/dl, see 198.51.100.4.", []string{"url:https://bad.example/dl", "domain:bad.example", "ipv4:198.51.100.4"}, nil},
		{"duplicates folded", "203.0.113.7\n203.0.113.7 203[.]0.113.7", []string{"ipv4:203.0.113.7"}, nil},
		{"a bad line is reported", "203.0.113.7\n999.1.1.1\n", []string{"ipv4:203.0.113.7"}, []string{"ignored 999.1.1.1"}},
		{"edr alert", "C2 203.0.113.45:443\nmd5=44d88612fea8a8f36de82e1278abb02f dropped C:\\Users\\bob\\inv.exe\nsrc_ip=10.1.2.3",
			[]string{"ipv4:203.0.113.45", "md5:44d88612fea8a8f36de82e1278abb02f"}, []string{"internal 10.1.2.3", "ignored inv.exe"}},
		{"blank", "\n  \n", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inds, bad, err := p.extract(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var got, gotBad []string
			for _, i := range inds {
				got = append(got, string(i.Kind)+":"+i.Value)
			}
			for _, b := range bad {
				if b.Error == "" {
					t.Errorf("%s: no reason", b.Input)
				}
				gotBad = append(gotBad, b.Kind+" "+b.Input)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("indicators (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.invalid, gotBad); diff != "" {
				t.Errorf("left out (-want +got):\n%s", diff)
			}
		})
	}
}
