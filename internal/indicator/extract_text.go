package indicator

import "strings"

// refangedText is a copy of pasted text with defanging and a few escapes
// undone, and a map from each of its bytes back to the original text, so
// that what the scanner finds can be reported with the spans and the raw
// form the analyst pasted.
type refangedText struct {
	orig string
	s    string  // the refanged text that is scanned
	from []int32 // from[i]: start in orig of the token that produced s[i]; nil when s == orig
	to   []int32 // to[i]: end in orig of that token
}

// span maps the half-open range [i, j) of the refanged text to the
// original text.
func (t *refangedText) span(i, j int) Span {
	if t.from == nil || i >= j {
		return Span{Start: i, End: j}
	}
	return Span{Start: int(t.from[i]), End: int(t.to[j-1])}
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
	from := make([]int32, 0, len(text))
	to := make([]int32, 0, len(text))
	emit := func(b string, start, end int) {
		for k := 0; k < len(b); k++ {
			out = append(out, b[k])
			from = append(from, int32(start))
			to = append(to, int32(end))
		}
	}
	for k := 0; k < first; k++ {
		out = append(out, text[k])
		from = append(from, int32(k))
		to = append(to, int32(k+1))
	}
	for i := first; i < len(text); {
		real, n, eat := fangAt(text, i, qp)
		if n == 0 {
			out = append(out, text[i])
			from = append(from, int32(i))
			to = append(to, int32(i+1))
			i++
			continue
		}
		if eat {
			for k := 0; k < 3 && len(out) > 0 && out[len(out)-1] == ' '; k++ {
				out, from, to = out[:len(out)-1], from[:len(from)-1], to[:len(to)-1]
			}
		}
		emit(real, i, i+n)
		i += n
		if eat {
			for k := 0; k < 3 && i < len(text) && text[i] == ' '; k++ {
				i++
			}
		}
	}
	t.s, t.from, t.to = string(out), from, to
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
		scheme, ok := schemeFangs[lowerASCII(text[i:j])]
		if ok && schemeSeparatorAt(text, j) {
			return scheme, j - i, false
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
