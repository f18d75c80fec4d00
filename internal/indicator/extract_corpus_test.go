package indicator_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/publicsuffix"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// corpusDir holds real alert formats, each file beside "<file>.expected":
// one "kind value" line per indicator an analyst expects, and "internal
// value" lines for what policy must keep in.
const corpusDir = "testdata/extract"

// minScore is the precision and recall the corpus must reach (issue 15).
const minScore = 0.98

func newExtractor() indicator.Extractor {
	return indicator.Extractor{Policy: indicator.NewPolicy(nil), PublicSuffix: publicsuffix.PublicSuffix}
}

type corpusFile struct {
	name     string
	text     string
	want     map[string]bool // "kind value"
	internal map[string]bool // value
}

func loadCorpus(t testing.TB) []corpusFile {
	t.Helper()
	exp, err := filepath.Glob(filepath.Join(corpusDir, "*.expected"))
	if err != nil || len(exp) == 0 {
		t.Fatalf("no expected sets in %s: %v", corpusDir, err)
	}
	var out []corpusFile
	for _, e := range exp {
		data := strings.TrimSuffix(e, ".expected")
		text, err := os.ReadFile(data)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := os.ReadFile(e)
		if err != nil {
			t.Fatal(err)
		}
		f := corpusFile{name: filepath.Base(data), text: string(text), want: map[string]bool{}, internal: map[string]bool{}}
		for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
			kind, value, ok := strings.Cut(strings.TrimSpace(l), " ")
			if !ok {
				t.Fatalf("%s: bad line %q", e, l)
			}
			if kind == "internal" {
				f.internal[value] = true
				continue
			}
			ind, err := indicator.Parse(value)
			if err != nil || string(ind.Kind) != kind || ind.Value != value {
				t.Fatalf("%s: %q is not a canonical %s (%v, %v)", e, l, kind, ind, err)
			}
			f.want[kind+" "+value] = true
		}
		out = append(out, f)
	}
	return out
}

// score counts true positives, false positives and false negatives.
type score struct{ tp, fp, fn int }

func (s *score) add(o score) { s.tp += o.tp; s.fp += o.fp; s.fn += o.fn }

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

func compare(want, got map[string]bool) (s score, missed, extra []string) {
	for k := range got {
		if want[k] {
			s.tp++
		} else {
			s.fp++
			extra = append(extra, k)
		}
	}
	for k := range want {
		if !got[k] {
			s.fn++
			missed = append(missed, k)
		}
	}
	slices.Sort(missed)
	slices.Sort(extra)
	return s, missed, extra
}

// TestExtractCorpus runs Extract on every corpus file and prints precision
// and recall per file and overall; it fails below minScore, or if a value
// policy must keep in is not listed as internal.
func TestExtractCorpus(t *testing.T) {
	x := newExtractor()
	var total score
	for _, f := range loadCorpus(t) {
		ex, err := x.Extract(f.text)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		got := map[string]bool{}
		for _, fd := range ex.Indicators {
			got[string(fd.Kind)+" "+fd.Value] = true
		}
		s, missed, extra := compare(f.want, got)
		total.add(s)
		t.Logf("%-28s precision %.3f recall %.3f (tp %d fp %d fn %d)", f.name, s.precision(), s.recall(), s.tp, s.fp, s.fn)
		for _, m := range missed {
			t.Logf("  missed %s", m)
		}
		for _, e := range extra {
			t.Logf("  extra  %s", e)
		}
		internal := map[string]bool{}
		for _, w := range ex.Internal {
			internal[w.Value] = true
		}
		for v := range f.internal {
			if !internal[v] {
				t.Errorf("%s: %s not listed as internal (internal: %v)", f.name, v, ex.Internal)
			}
		}
	}
	t.Logf("%-28s precision %.3f recall %.3f (tp %d fp %d fn %d)", "OVERALL", total.precision(), total.recall(), total.tp, total.fp, total.fn)
	if total.precision() < minScore || total.recall() < minScore {
		t.Errorf("overall precision %.3f recall %.3f, want both >= %.2f", total.precision(), total.recall(), minScore)
	}
}

// iocExtractorOutput is the output of the ioc-extractor npm package on the
// corpus, written by scripts/extract-compare/run.sh: per file, its JSON.
const iocExtractorOutput = "testdata/extract-compare/ioc-extractor.json"

// TestExtractCorpusComparison scores the ioc-extractor package's recorded
// output on the same expected sets (its values canonicalised with Parse,
// e-mail addresses counted as their domains, values policy keeps in left
// out) and requires Extract to do at least as well.
func TestExtractCorpusComparison(t *testing.T) {
	raw, err := os.ReadFile(iocExtractorOutput)
	if err != nil {
		t.Fatalf("%v (run scripts/extract-compare/run.sh)", err)
	}
	var theirs map[string]map[string][]string
	if err := json.Unmarshal(raw, &theirs); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]indicator.Kind{
		"ipv4s": indicator.IPv4, "ipv6s": indicator.IPv6, "domains": indicator.Domain, "urls": indicator.URL,
		"md5s": indicator.MD5, "sha1s": indicator.SHA1, "sha256s": indicator.SHA256, "emails": indicator.Domain,
	}
	x := newExtractor()
	var ours, other score
	t.Logf("%-28s %-24s %-24s", "file", "Extract (P / R)", "ioc-extractor (P / R)")
	for _, f := range loadCorpus(t) {
		out, ok := theirs[f.name]
		if !ok {
			t.Fatalf("%s: no ioc-extractor output recorded; run scripts/extract-compare/run.sh", f.name)
		}
		got := map[string]bool{}
		for field, values := range out {
			kind, ok := kinds[field]
			if !ok {
				continue
			}
			for _, v := range values {
				if field == "emails" {
					_, v, _ = strings.Cut(v, "@")
				}
				ind, err := indicator.ParseAs(v, kind)
				if err != nil {
					got[string(kind)+" "+v] = true // a value that is not one counts against it
					continue
				}
				if f.internal[ind.Value] || x.Policy.Check(ind) != nil {
					continue
				}
				got[string(ind.Kind)+" "+ind.Value] = true
			}
		}
		s2, _, _ := compare(f.want, got)
		ex, err := x.Extract(f.text)
		if err != nil {
			t.Fatal(err)
		}
		mine := map[string]bool{}
		for _, fd := range ex.Indicators {
			mine[string(fd.Kind)+" "+fd.Value] = true
		}
		s1, _, _ := compare(f.want, mine)
		ours.add(s1)
		other.add(s2)
		t.Logf("%-28s %.3f / %.3f            %.3f / %.3f", f.name, s1.precision(), s1.recall(), s2.precision(), s2.recall())
	}
	t.Logf("%-28s %.3f / %.3f            %.3f / %.3f", "OVERALL", ours.precision(), ours.recall(), other.precision(), other.recall())
	if ours.precision() < other.precision() || ours.recall() < other.recall() {
		t.Errorf("Extract (%.3f / %.3f) does worse than ioc-extractor (%.3f / %.3f)", ours.precision(), ours.recall(), other.precision(), other.recall())
	}
}
