package ratelimit

import (
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		want    Rate
		str     string
		wantErr bool
	}{
		{in: "4/m", want: Rate{4, time.Minute}, str: "4/m"},
		{in: " 500 / day ", want: Rate{500, 24 * time.Hour}, str: "500/d"},
		{in: "10/sec", want: Rate{10, time.Second}, str: "10/s"},
		{in: "3/90s", want: Rate{3, 90 * time.Second}, str: "3/1m30s"},
		{in: "unlimited", want: Rate{}, str: "unlimited"},
		{in: "0", want: Rate{}, str: "unlimited"},
		{in: "4", wantErr: true},
		{in: "-1/m", wantErr: true},
		{in: "x/m", wantErr: true},
		{in: "4/fortnight", wantErr: true},
		{in: "4/-1s", wantErr: true},
	} {
		got, err := ParseRate(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseRate(%q) error = %v, want error %t", tc.in, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if got != tc.want || got.String() != tc.str {
			t.Errorf("ParseRate(%q) = %+v (%s), want %+v (%s)", tc.in, got, got, tc.want, tc.str)
		}
	}
}
