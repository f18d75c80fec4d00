package indicator_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// FuzzExtract checks that Extract never panics, that every value it
// reports is what Parse returns for it, and that spans lie in the text.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil && len(b) < 8192 {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "[.]", "hxxp[:]//", "a[at]b[.]c", "::", "[::1]:", "1.2.3.4:99999", "1.2.3.4/33", "http://(((", "http://x.example/))))",
		"%3a%2f%2f", "https://a.example/?u=https%3A%2F%2Fb.example%2F%3Fu%3Dhttps%253A%252F%252Fc.example", "=3D", "&amp;",
		"evil\\.example", "\\", "v1.2.3.4", "ja3=" + strings.Repeat("a", 32), "x@", "@x.example", "fxp://", "www./x",
		"203.0.113.5\u00a0evil.example", "é.example/é", "\xff\xfe.example", "..", "-.-", "a_b.example", "[2001:db8::1]:443",
	} {
		f.Add(s)
	}
	x := newExtractor()
	f.Fuzz(func(t *testing.T, text string) {
		ex, err := x.Extract(text)
		if err != nil {
			if len(text) <= indicator.MaxTextLen {
				t.Fatalf("Extract(%q): %v", text, err)
			}
			return
		}
		check := func(ind indicator.Indicator, spans []indicator.Span) {
			got, err := indicator.Parse(ind.Value)
			if err != nil || got != ind {
				t.Fatalf("Extract(%q) gave %v, which Parse reads as %v, %v", text, ind, got, err)
			}
			for _, sp := range spans {
				if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End {
					t.Fatalf("Extract(%q): %v has span %v outside the text", text, ind, sp)
				}
			}
		}
		for _, fd := range ex.Indicators {
			check(fd.Indicator, fd.Spans)
			if fd.Count < len(fd.Spans) || fd.Raw == "" {
				t.Fatalf("Extract(%q): %+v", text, fd)
			}
			if x.Policy.Check(fd.Indicator) != nil {
				t.Fatalf("Extract(%q): %v is internal but listed as an indicator", text, fd.Indicator)
			}
		}
		for _, w := range ex.Internal {
			check(w.Indicator, w.Spans)
			if w.Reason == "" {
				t.Fatalf("Extract(%q): internal %v without a reason", text, w.Indicator)
			}
		}
		for _, ig := range ex.Ignored {
			if ig.Reason == "" || ig.Span.End > len(text) || ig.Span.Start > ig.Span.End {
				t.Fatalf("Extract(%q): ignored %+v", text, ig)
			}
		}
	})
}

// TestExtractLinear checks that the work Extract does (the bytes its
// scanner looks at, not the time it takes) grows linearly with the text,
// for ordinary logs and for shapes built to make a naive scanner backtrack.
func TestExtractLinear(t *testing.T) {
	t.Parallel()
	shapes := map[string]string{
		"log":          "src=198.51.100.7 dst=203.0.113.5 url=hxxps://evil[.]example/a?b=c md5=44d88612fea8a8f36de82e1278abb02f\n",
		"word":         "a",
		"dots":         "a.",
		"digits":       "1.",
		"hex":          "ab",
		"colons":       "a:",
		"brackets":     "[.]",
		"parens":       "http://x.example/)",
		"nested urls":  "http://a.example/",
		"encoded urls": "http%3A%2F%2Fa.example%2F",
		"at":           "a@",
		"labels":       "key=",
		"v6":           "1::",
	}
	x := newExtractor()
	for name, unit := range shapes {
		small := strings.Repeat(unit, 4096/len(unit)+1)
		large := strings.Repeat(unit, 16*(4096/len(unit)+1))
		s1, s2 := indicator.ExtractSteps(x, small), indicator.ExtractSteps(x, large)
		perByte := float64(s2) / float64(len(large))
		growth := float64(s2) / float64(s1)
		t.Logf("%-13s %7d bytes: %8d steps; %8d bytes: %9d steps (%.1f per byte, x%.1f for x16)", name, len(small), s1, len(large), s2, perByte, growth)
		if perByte > 64 || growth > 20 {
			t.Errorf("%s: %s", name, fmt.Sprintf("%.1f steps per byte, x%.1f for 16 times the text: not linear", perByte, growth))
		}
	}
}

// BenchmarkExtract extracts from 1 MiB of mixed log text (every corpus
// file, repeated) and reports MB/s; the target is 1 MiB in 100 ms.
func BenchmarkExtract(b *testing.B) {
	var parts []string
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*"))
	for _, name := range files {
		if strings.HasSuffix(name, ".expected") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, string(data))
	}
	var sb strings.Builder
	for i := 0; sb.Len() < indicator.MaxTextLen; i++ {
		sb.WriteString(parts[i%len(parts)])
	}
	text := sb.String()[:indicator.MaxTextLen]
	x := newExtractor()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Extract(text); err != nil {
			b.Fatal(err)
		}
	}
}
