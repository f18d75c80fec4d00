package spreadsheet

import (
	"strings"
	"testing"
)

func TestWriteMakesFormulasInert(t *testing.T) {
	var b strings.Builder
	err := Write(&b, []string{"user", "calls"}, [][]string{{"=HYPERLINK(\"x\")", "3"}, {"+1", "-2"}, {"@a", "ok"}, {"plain", ""}})
	if err != nil {
		t.Fatal(err)
	}
	want := "user,calls\n\"'=HYPERLINK(\"\"x\"\")\",3\n'+1,'-2\n'@a,ok\nplain,\n"
	if b.String() != want {
		t.Errorf("csv =\n%q\nwant\n%q", b.String(), want)
	}
	if Cell("\tx") != "'\tx" || Cell("x=1") != "x=1" {
		t.Error("Cell: only a leading formula character counts")
	}
}
