package indicator

import "strings"

// refangedText is a copy of pasted text with defanging and a few escapes
// undone, and a map from it back to the original text, so that what the
// scanner finds can be reported with the spans and the raw form the
// analyst pasted.
type refangedText struct {
	orig  string
	s     string // the refanged text that is scanned
	edits []edit // in order; none when s == orig
}

// edit records that s[out:out+outLen] stands for orig[in:in+inLen].
type edit struct{ out, outLen, in, inLen int }

// origStart and origEnd map a position of s to orig: the start of the
// token that produced s[p], and the end of the one that produced s[p-1].
func (t *refangedText) origStart(p int) int {
	k := t.lastEdit(p)
	if k < 0 {
		return p
	}
	e := t.edits[k]
	if p < e.out+e.outLen {
		return e.in
	}
	return e.in + e.inLen + p - (e.out + e.outLen)
}

func (t *refangedText) origEnd(p int) int {
	k := t.lastEdit(p - 1)
	if k < 0 {
		return p
	}
	e := t.edits[k]
	if p-1 < e.out+e.outLen {
		return e.in + e.inLen
	}
	return e.in + e.inLen + p - (e.out + e.outLen)
}

// lastEdit returns the index of the last edit that starts at or before
// p in s, or -1.
func (t *refangedText) lastEdit(p int) int {
	lo, hi := 0, len(t.edits)
	for lo < hi {
		m := (lo + hi) / 2
		if t.edits[m].out <= p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// span maps the half-open range [i, j) of the refanged text to the
// original text.
func (t *refangedText) span(i, j int) Span {
	if len(t.edits) == 0 || i >= j {
		return Span{Start: i, End: j}
	}
	return Span{Start: t.origStart(i), End: t.origEnd(j)}
}

// raw returns the original text behind [i, j) of the refanged text.
func (t *refangedText) raw(i, j int) string {
	sp := t.span(i, j)
	return t.orig[sp.Start:sp.End]
}

// defanged reports whether [i, j) of the refanged text was written
// differently in the original, which is a sign that the analyst or tool
// that wrote it meant a host.
func (t *refangedText) defanged(i, j int) bool {
	sp := t.span(i, j)
	return sp.End-sp.Start != j-i
}

// schemeFangs maps defanged URL schemes to the real ones. They count only
// right before "://" or one of its defanged forms.
var schemeFangs = map[string]string{
	"hxxp": "http", "hxxps": "https", "hxxx": "http", "hxxxs": "https",
	"hxtp": "http", "hxtps": "https", "htxp": "http", "htxps": "https",
	"h**p": "http", "h**ps": "https", "hxp": "http", "hxps": "https",
	"fxp": "ftp", "fxps": "ftps",
}

// bracketFangs maps the bracketed defang forms (matched without regard to
// case) to what they stand for. Spaces around the dot and "at" forms are
// dropped, as Parse does: "evil [.] example" is "evil.example".
var bracketFangs = []struct {
	fang, real string
	eatSpaces  bool
}{
	{"[.]", ".", true}, {"(.)", ".", true}, {"{.}", ".", true},
	{"[dot]", ".", true}, {"(dot)", ".", true}, {"{dot}", ".", true},
	{"[://]", "://", false}, {"[:]", ":", false}, {"[/]", "/", false},
	{"[@]", "@", true}, {"[at]", "@", true}, {"(at)", "@", true}, {"{at}", "@", true},
}

// refangText undoes defanging in text: hxxp://, fxp:// and their kin, the
// bracketed dots, colons and at-signs, "\." (regular-expression style), and
// the escapes that JSON ("\/") and CEF ("\=") put inside values. It runs in
// one pass and allocates the offset map only if something changed.
func refangText(text string) *refangedText {
	t := &refangedText{orig: text, s: text}
	qp := strings.Contains(text, "uoted-printable") || strings.Contains(text, "UOTED-PRINTABLE")
	first := firstFang(text, qp)
	if first < 0 {
		return t
	}
	out := make([]byte, 0, len(text))
	out = append(out, text[:first]...)
	copied := first // text[copied:i] is still to be copied to out
	for i := first; i < len(text); {
		real, n, eat := fangAt(text, i, qp)
		if n == 0 {
			i++
			continue
		}
		out = append(out, text[copied:i]...)
		start := i
		if eat {
			// Drop up to three spaces before the token ("evil [.] example").
			for k := 0; k < 3 && len(out) > 0 && out[len(out)-1] == ' ' && start > 0 && text[start-1] == ' '; k++ {
				out = out[:len(out)-1]
				start--
			}
		}
		i += n
		if eat {
			for k := 0; k < 3 && i < len(text) && text[i] == ' '; k++ {
				i++
			}
		}
		t.edits = append(t.edits, edit{out: len(out), outLen: len(real), in: start, inLen: i - start})
		out = append(out, real...)
		copied = i
	}
	out = append(out, text[copied:]...)
	t.s = string(out)
	return t
}

// firstFang returns the offset of the first defanged form in text, or -1.
func firstFang(text string, qp bool) int {
	for i := 0; i < len(text); i++ {
		if _, n, _ := fangAt(text, i, qp); n > 0 {
			return i
		}
	}
	return -1
}

// fangAt reports the defanged form starting at text[i]: what it stands
// for, its length, and whether spaces around it are dropped. n is 0 if
// there is none. qp says the text is a quoted-printable e-mail, whose
// "=3D" is "=" and whose "=" at the end of a line joins it to the next.
func fangAt(text string, i int, qp bool) (real string, n int, eatSpaces bool) {
	switch c := text[i]; c {
	case '=':
		switch rest := text[i+1:]; {
		case !qp:
		case hasPrefixFold(rest, "3d"):
			return "=", 3, false
		case strings.HasPrefix(rest, "\r\n"):
			return "", 3, false
		case strings.HasPrefix(rest, "\n"):
			return "", 2, false
		}
	case '&':
		if strings.HasPrefix(text[i:], "&amp;") {
			return "&", 5, false
		}
	case '[', '(', '{':
		for _, f := range bracketFangs {
			if hasPrefixFold(text[i:], f.fang) {
				return f.real, len(f.fang), f.eatSpaces
			}
		}
	case '\\':
		if i+1 < len(text) {
			switch text[i+1] {
			case '.', '/', '=':
				return text[i+1 : i+2], 2, false
			}
		}
	case 'h', 'H', 'f', 'F':
		if i > 0 && isAlnum(text[i-1]) {
			return "", 0, false
		}
		j := i
		for j < len(text) && j-i < 6 && (isAlpha(text[j]) || text[j] == '*') {
			j++
		}
		if j < len(text) && (text[j] == ':' || text[j] == '[') && schemeSeparatorAt(text, j) {
			if scheme, ok := schemeFangs[lowerASCII(text[i:j])]; ok {
				return scheme, j - i, false
			}
		}
	}
	return "", 0, false
}

// schemeSeparatorAt reports whether "://" or a defanged form of it
// ("[://]", "[:]//", ":\/\/") starts at text[i].
func schemeSeparatorAt(text string, i int) bool {
	rest := text[i:]
	for _, sep := range []string{"://", "[://]", "[:]//", `:\/\/`, `[:]\/\/`} {
		if len(rest) >= len(sep) && rest[:len(sep)] == sep {
			return true
		}
	}
	return false
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if 'A' <= b[k] && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

func isHexDigit(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
