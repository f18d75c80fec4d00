package indicator

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPunycode uses samples from RFC 3492 §7.1 and well-known IDNs. The
// encoder has also been checked against golang.org/x/net/idna on random
// labels; that package is not a dependency of this one.
func TestPunycode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		unicode string
		puny    string
	}{
		{"rfc3492 arabic", "\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn"},
		{"rfc3492 chinese simplified", "\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye"},
		{"rfc3492 chinese traditional", "\u4ED6\u5011\u7232\u4EC0\u9EBD\u4E0D\u8AAA\u4E2D\u6587", "ihqwctvzc91f659drss3x8bo0yb"},
		{"rfc3492 mixed", "3\u5E74B\u7D44\u91D1\u516B\u5148\u751F", "3B-ww4c5e180e575a65lsy2b"},
		{"rfc3492 ascii only", "-> $1.00 <-", "-> $1.00 <--"},
		{"buecher", "bücher", "bcher-kva"},
		{"japanese", "例え", "r8jz45g"},
		{"katakana", "テスト", "zckzah"},
		{"astral", "\U0001F4A9", "ls8h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, err := punyEncode(tt.unicode)
			if err != nil {
				t.Fatalf("punyEncode(%q): %v", tt.unicode, err)
			}
			if diff := cmp.Diff(tt.puny, enc); diff != "" {
				t.Errorf("punyEncode(%q) mismatch (-want +got):\n%s", tt.unicode, diff)
			}
			dec, err := punyDecode(tt.puny)
			if err != nil {
				t.Fatalf("punyDecode(%q): %v", tt.puny, err)
			}
			if diff := cmp.Diff(tt.unicode, dec); diff != "" {
				t.Errorf("punyDecode(%q) mismatch (-want +got):\n%s", tt.puny, diff)
			}
		})
	}
}

func TestPunyDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"truncated number", "zz", errPunyBadInput},
		{"invalid digit", "a!", errPunyBadInput},
		{"non-ascii basic", "ü-tda", errPunyBadInput},
		{"overflow", "99999999999", errPunyOverflow},
		{"c1 control is valid punycode", "ca", nil},  // U+0082; checkULabel rejects it
		{"surrogate", "ib9b", errPunyBadInput},       // U+D800
		{"beyond unicode", "en32g", errPunyBadInput}, // U+110000
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := punyDecode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("punyDecode(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}
