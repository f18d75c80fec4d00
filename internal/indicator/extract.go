package indicator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextLen is the longest text, in bytes, that Extract reads (1 MiB).
const MaxTextLen = 1 << 20

// Limits on what one Extraction reports, so that a megabyte of repetitive
// logs gives a readable answer.
const (
	maxSpans    = 100 // spans kept per indicator; Count has the total
	maxIgnored  = 500 // ignored tokens listed; IgnoredOmitted counts the rest
	maxContext  = 20  // e-mail addresses kept per domain
	maxURLDepth = 2   // levels of percent-encoded URLs inside URLs
	maxNested   = 8   // URLs taken inside one URL
)

// ErrTextTooLong is returned by Extract for text longer than MaxTextLen.
var ErrTextTooLong = fmt.Errorf("text longer than %d bytes (1 MiB)", MaxTextLen)

// Span is a byte range [Start, End) of the text given to Extract.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Found is an indicator found in text: its canonical kind and value, the
// raw form it had where it was first seen (defanged, with a port, ...),
// and where it was seen.
type Found struct {
	Indicator
	Raw     string   // as first written, e.g. "evil[.]example:8443"
	Spans   []Span   // the first 100 occurrences, in order
	Count   int      // all occurrences
	Context []string // e-mail addresses whose domain this is, if any
}

// Withheld is an indicator found in text that policy keeps inside the
// building (a private address, an internal domain): listed, never looked up.
type Withheld struct {
	Indicator
	Reason string // from Policy.Check, e.g. "private address (RFC 1918)"
	Spans  []Span
}

// Ignored is a token that looked like an indicator and was refused.
type Ignored struct {
	Text   string // as written
	Reason string // e.g. "file name: .exe is not a top-level domain"
	Span   Span   // the first occurrence
}

// Extraction is what Extract found in a text. Each list is in order of
// first appearance and holds each value once.
type Extraction struct {
	Indicators     []Found
	Internal       []Withheld
	Ignored        []Ignored
	IgnoredOmitted int // ignored tokens beyond the 500 listed
}

// Values returns the canonical values of the indicators, in order.
func (x Extraction) Values() []string {
	out := make([]string, len(x.Indicators))
	for i, f := range x.Indicators {
		out[i] = f.Value
	}
	return out
}

// Extractor finds indicators in free text: alert JSON, log lines, e-mails,
// reports. The zero Extractor applies the zero Policy and, lacking a public
// suffix list, takes a bare word such as "evil.example" as a domain only
// when it is written as a host (see Extract).
type Extractor struct {
	// Policy decides which values are internal.
	Policy Policy
	// PublicSuffix returns the public suffix of a domain and whether it is
	// an ICANN-managed one; golang.org/x/net/publicsuffix.PublicSuffix has
	// this signature. It decides whether a bare word is a domain: "inv.exe"
	// is not, because "exe" is not a top-level domain.
	PublicSuffix func(domain string) (suffix string, icann bool)
}

// Extract finds the indicators in text, which may be at most MaxTextLen
// bytes; its time is linear in the length of text.
//
// It finds http(s) URLs (and the hosts of other URLs such as ftp:// and
// ldap://), URLs without a scheme when a host is followed by a path
// ("www.evil.example/x.php"), IPv4 and IPv6 addresses (also with a port,
// "203.0.113.5:443", "[2001:db8::1]:443"), domains (also with a port, and
// the domain of an e-mail address, with the address kept as context),
// and MD5, SHA-1 and SHA-256 hashes, wherever they stand: after labels
// ("md5=", "src_ip:", `"url": "`), in JSON, CEF, LEEF, syslog and XML.
// Defanged forms are refanged (hxxp, hxxx, fxp, [.], (.), {.}, [dot],
// "\.", [:], [://], [@], [at], (at)), as are JSON's "\/" and CEF's "\=";
// percent-encoded URLs inside a URL's query are decoded and reported too.
//
// It refuses, and lists in Ignored with the reason: file names ("inv.exe",
// and "invoice.zip" unless written as a host: with a scheme, "www.", a
// port, a path after it, a defanged dot, an e-mail "@" or a label such as
// "domain="), version numbers ("version 1.2.3.4", "Chrome/1.2.3.4"),
// OIDs, IPv4 addresses with leading zeros, hex strings that are longer
// than a hash or labelled as something else (imphash, ja3, trace ids),
// CIDR prefixes (a network is not looked up), and URLs that Parse rejects
// or whose scheme no provider serves. Timestamps and hashes inside longer
// hex runs are never taken. Values that Policy blocks are in Internal.
//
// Every value in Indicators and Internal is what Parse returns for it.
// Spans are byte offsets into text.
func (x Extractor) Extract(text string) (Extraction, error) {
	if len(text) > MaxTextLen {
		return Extraction{}, ErrTextTooLong
	}
	e := newExtraction(x, text)
	e.scan(refangText(text), 0, nil)
	return e.out, nil
}

func newExtraction(x Extractor, text string) *extraction {
	return &extraction{x: x, orig: text, seen: map[Indicator]int{}, internal: map[Indicator]int{}, ignored: map[string]bool{}, hosts: map[string]hostResult{}, parsed: map[string]parsed{}}
}

// extraction accumulates one Extract call's results.
type extraction struct {
	x        Extractor
	orig     string // the text given to Extract
	out      Extraction
	seen     map[Indicator]int // index in out.Indicators
	internal map[Indicator]int // index in out.Internal
	ignored  map[string]bool
	hosts    map[string]hostResult // parsed domain candidates, by text
	parsed   map[string]parsed     // Parse's answers, by input
	// steps counts the bytes the scanner looks at, for the test that
	// checks that extraction is linear in the size of the text.
	steps int
}

// mapper maps spans of a nested text (a decoded URL) to the outer text;
// nil for the text given to Extract.
type mapper func(Span) Span

func (e *extraction) add(ind Indicator, raw string, sp Span, email string) {
	if k, ok := e.internal[ind]; ok {
		if w := &e.out.Internal[k]; len(w.Spans) < maxSpans {
			w.Spans = append(w.Spans, sp)
		}
		return
	}
	k, ok := e.seen[ind]
	if !ok {
		if reason := e.internalReason(ind); reason != "" {
			e.internal[ind] = len(e.out.Internal)
			e.out.Internal = append(e.out.Internal, Withheld{Indicator: ind, Reason: reason, Spans: []Span{sp}})
			return
		}
		k = len(e.out.Indicators)
		e.seen[ind] = k
		e.out.Indicators = append(e.out.Indicators, Found{Indicator: ind, Raw: raw})
	}
	f := &e.out.Indicators[k]
	f.Count++
	if len(f.Spans) < maxSpans {
		f.Spans = append(f.Spans, sp)
	}
	if email != "" && len(f.Context) < maxContext && !contains(f.Context, email) {
		f.Context = append(f.Context, email)
	}
}

// internalReason says why policy keeps ind in, or "".
func (e *extraction) internalReason(ind Indicator) string {
	err := e.x.Policy.Check(ind)
	if err == nil {
		return ""
	}
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return err.Error()
}

// isInternal reports whether policy keeps ind in, remembering the answer.
func (e *extraction) isInternal(ind Indicator) bool {
	if _, ok := e.internal[ind]; ok {
		return true
	}
	if _, ok := e.seen[ind]; ok {
		return false
	}
	return e.internalReason(ind) != ""
}

// parse is Parse, remembering answers: logs repeat their URLs.
func (e *extraction) parse(s string) (Indicator, error) {
	e.steps += len(s)
	if r, ok := e.parsed[s]; ok {
		return r.ind, r.err
	}
	ind, err := Parse(s)
	if len(e.parsed) < 10000 {
		e.parsed[s] = parsed{ind, err}
	}
	return ind, err
}

type parsed struct {
	ind Indicator
	err error
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *extraction) ignore(text, reason string, sp Span) {
	if e.ignored[text] {
		return
	}
	e.ignored[text] = true
	if len(e.out.Ignored) >= maxIgnored {
		e.out.IgnoredOmitted++
		return
	}
	e.out.Ignored = append(e.out.Ignored, Ignored{Text: text, Reason: reason, Span: sp})
}

// scanner walks one refanged text.
type scanner struct {
	e     *extraction
	t     *refangedText
	s     string
	depth int
	outer mapper
	// inURL is the end of the URL being scanned: inside it only embedded
	// URLs are taken, not the words of its path and query.
	inURL int
	// nested counts the URLs taken inside the current one.
	nested int
}

func (e *extraction) scan(t *refangedText, depth int, outer mapper) {
	sc := &scanner{e: e, t: t, s: t.s, depth: depth, outer: outer}
	e.steps += len(t.orig)
	sc.run()
}

// span maps [i, j) of the scanned text to the text given to Extract.
func (sc *scanner) span(i, j int) Span {
	sp := sc.t.span(i, j)
	if sc.outer != nil {
		return sc.outer(sp)
	}
	return sp
}

func (sc *scanner) raw(i, j int) string {
	if sc.outer != nil {
		sp := sc.span(i, j)
		return sc.e.rawOf(sp)
	}
	return sc.t.raw(i, j)
}

func (sc *scanner) add(ind Indicator, i, j int, email string) {
	sc.e.add(ind, sc.raw(i, j), sc.span(i, j), email)
}

func (sc *scanner) ignore(i, j int, reason string) {
	sc.e.ignore(sc.raw(i, j), reason, sc.span(i, j))
}

func (sc *scanner) run() {
	s := sc.s
	for i := 0; i < len(s); {
		sc.e.steps++
		c := s[i]
		switch {
		case c == ':' && i+1 < len(s) && s[i+1] == ':' && (i == 0 || !isV6Byte(s[i-1])) && i >= sc.inURL:
			if j := sc.ipv6(i); j > i {
				i = j
				continue
			}
			i++
		case c < utf8.RuneSelf && !isWordByte(c):
			i++
		default:
			if c >= utf8.RuneSelf {
				if r, n := utf8.DecodeRuneInString(s[i:]); !isWordRune(r) {
					i += n
					continue
				}
			}
			if isHexDigit(c) && (i == 0 || !isV6Byte(s[i-1]) && s[i-1] != '.') && i >= sc.inURL {
				if j := sc.ipv6(i); j > i {
					i = j
					continue
				}
			}
			j := sc.wordEnd(i)
			sc.word(i, j)
			i = j
		}
	}
}

// isWordByte reports whether an ASCII byte can be part of a host, address
// or hash run.
func isWordByte(c byte) bool { return isAlnum(c) || c == '.' || c == '-' || c == '_' }

func isWordRune(r rune) bool {
	return r < utf8.RuneSelf && isWordByte(byte(r)) ||
		r >= utf8.RuneSelf && r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r))
}

func isV6Byte(c byte) bool { return isHexDigit(c) || c == ':' }

// wordEnd returns the end of the run of word characters at i.
func (sc *scanner) wordEnd(i int) int {
	s := sc.s
	start := i
	defer func() { sc.e.steps += i - start }()
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !isWordByte(c) {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			return i
		}
		i += n
	}
	return i
}

// ipv6 takes an IPv6 address at i and returns its end, or i if there is none.
func (sc *scanner) ipv6(i int) int {
	s := sc.s
	j, colons := i, 0
	defer func() { sc.e.steps += j - i }()
	for j < len(s) && j-i <= 45 && (isV6Byte(s[j]) || s[j] == '.') {
		if s[j] == ':' {
			colons++
		}
		j++
	}
	for j > i && (s[j-1] == '.' || s[j-1] == ':' && !(j-2 >= i && s[j-2] == ':')) {
		j--
	}
	if colons < 2 || j-i > 45 || j < len(s) && (isWordByte(s[j]) || s[j] == ':') {
		return i
	}
	cand := s[i:j]
	if !strings.Contains(cand, "::") && strings.Count(cand, ":") < 7 && !(strings.Count(cand, ":") == 6 && strings.Contains(cand, ".")) {
		return i
	}
	ind, err := parseIPv6(cand)
	if err != nil {
		return i
	}
	if j+1 < len(s) && s[j] == '/' && isDigit(s[j+1]) {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		sc.ignore(i, k, "cidr prefix: a network, not a single address; not looked up")
		return k
	}
	// "[2001:db8::1]:443" keeps its brackets and port in the raw form.
	start, end := i, j
	if i > 0 && s[i-1] == '[' && j < len(s) && s[j] == ']' {
		start, end = i-1, j+1
		if p := portEnd(s, end); p > end {
			end = p
		}
	}
	sc.add(ind, start, end, "")
	return j
}

// portEnd returns the end of ":port" at s[i], or i if there is none.
func portEnd(s string, i int) int {
	if i >= len(s) || s[i] != ':' {
		return i
	}
	j := i + 1
	n := 0
	for j < len(s) && isDigit(s[j]) && j-i <= 5 {
		n = n*10 + int(s[j]-'0')
		j++
		if n > 65535 {
			return i
		}
	}
	if j == i+1 || j < len(s) && (isAlnum(s[j]) || s[j] == ':' || s[j] == '.' && j+1 < len(s) && isDigit(s[j+1])) {
		return i
	}
	if n == 0 {
		return i
	}
	return j
}

// word classifies the run of word characters s[i:j].
func (sc *scanner) word(i, j int) {
	s := sc.s
	if strings.HasPrefix(s[j:], "://") {
		sc.url(i, j)
		return
	}
	if i < sc.inURL {
		return
	}
	// Trim punctuation that ends sentences or wraps words.
	for i < j && (s[i] == '.' || s[i] == '-' || s[i] == '_') {
		i++
	}
	for j > i && (s[j-1] == '.' || s[j-1] == '-' || s[j-1] == '_') {
		j--
	}
	if i >= j {
		return
	}
	w := s[i:j]
	switch {
	case j < len(s) && s[j] == '@':
		return // the local part of an e-mail address
	case sc.isKey(i, j):
		return
	case allDigitsDots(w):
		sc.dotted(i, j, true)
	case strings.IndexByte(w, '.') >= 0:
		if !sc.host(i, j) {
			sc.parts(i, j)
		}
	default:
		sc.parts(i, j)
	}
}

// parts looks for hashes and IPv4 addresses between the dots, hyphens and
// underscores of a word that is not a host: "<md5>.exe",
// "sample_<sha256>", "203.0.113.1-203.0.113.9".
func (sc *scanner) parts(i, j int) {
	s := sc.s
	for a := i; a < j; {
		b := a
		for b < j && s[b] != '-' && s[b] != '_' {
			b++
		}
		if allDigitsDots(s[a:b]) {
			sc.dotted(a, b, b == j)
		} else {
			for c := a; c < b; {
				d := c
				for d < b && s[d] != '.' {
					d++
				}
				sc.hash(c, d)
				c = d + 1
			}
		}
		a = b + 1
	}
}

func allDigitsDots(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && s[i] != '.' {
			return false
		}
	}
	return s != ""
}

// hash takes s[i:j] as a hash if it is exactly 32, 40 or 64 hex digits.
func (sc *scanner) hash(i, j int) {
	w := sc.s[i:j]
	if len(w) < 32 || !isHex(w) || allDigits(w) {
		return
	}
	switch len(w) {
	case 32, 40, 64:
	default:
		sc.ignore(i, j, fmt.Sprintf("%d hex digits is not an md5 (32), sha1 (40) or sha256 (64) hash", len(w)))
		return
	}
	if why := sc.notFileHash(i); why != "" {
		sc.ignore(i, j, why)
		return
	}
	ind, err := parseHash(w, "")
	if err != nil {
		return
	}
	sc.add(ind, i, j, "")
}

// notFileHash says why the hash-shaped value at i is labelled as something
// other than a file hash, or "".
func (sc *scanner) notFileHash(i int) string {
	if sc.inARN(i) {
		return "part of an AWS resource name (arn:): an identifier, not a file hash"
	}
	raw := sc.rawKeyBefore(i)
	if raw == "" {
		raw = sc.rawKeyBefore(sc.valueStart(i))
	}
	key := strings.ToLower(raw)
	for _, k := range []string{"md5", "sha1", "sha256", "sha-1", "sha-256", "filehash"} {
		if strings.Contains(key, k) {
			return ""
		}
	}
	if why := hashLabelReason(key); why != "" {
		return why
	}
	if isIDLabel(raw) {
		return "labelled " + raw + ": an identifier, not a file hash"
	}
	if outer := sc.quotedKey(i); outer != "" && outer != raw && (isIDLabel(outer) || hashLabelReason(strings.ToLower(outer)) != "") {
		return "inside " + outer + ": an identifier, not a file hash"
	}
	// A generic label ("hash", "value") may sit inside an object named for
	// what it is: "ja3": {"hash": "…"}.
	switch key {
	case "hash", "value":
		return hashLabelReason(strings.ToLower(sc.s[max(0, i-48):i]))
	case "":
		// Prose: "a JA3 of e7d705a3…".
		return hashLabelReason(strings.ToLower(sc.s[max(0, i-16):i]))
	}
	return ""
}

// hashLabelReason says why a label marks a hex value as not a file hash.
func hashLabelReason(label string) string {
	for _, k := range []string{"imphash", "ja3", "ja4", "jarm", "hassh", "ssdeep", "tlsh", "pehash", "authentihash", "telfhash", "vhash", "impfuzzy", "thumbprint", "fingerprint", "serial"} {
		if strings.Contains(label, k) {
			return "labelled " + k + ": not a file hash"
		}
	}
	for _, k := range []string{"trace", "span", "session", "request", "correlation", "uuid", "guid", "token", "nonce", "cookie", "secret", "signature"} {
		if strings.Contains(label, k) {
			return "labelled " + k + ": an identifier, not a file hash"
		}
	}
	if strings.HasSuffix(label, "id") {
		return "labelled " + label + ": an identifier, not a file hash"
	}
	return ""
}

// inARN reports whether s[i] is inside an Amazon Resource Name
// ("arn:aws:guardduty:…:detector/<id>/finding/<id>"), whose hex parts are
// resource ids.
func (sc *scanner) inARN(i int) bool {
	s := sc.s
	k := i
	for k > 0 && i-k < 256 && !strings.ContainsRune("\"' \t\n,=", rune(s[k-1])) {
		k--
	}
	sc.e.steps += i - k
	return hasPrefixFold(s[k:i], "arn:")
}

// valueStart returns where the value holding s[i] starts: after the
// quote, "=" or ":" before it, looking back at most 128 bytes.
func (sc *scanner) valueStart(i int) int {
	s := sc.s
	k := i
	defer func() { sc.e.steps += i - k }()
	for k > 0 && i-k < 128 {
		switch c := s[k-1]; c {
		case '"', '\'', '=', ' ', '\t', '\n', ',', '>':
			return k
		case ':':
			if k < 2 || s[k-2] != ':' && (k >= len(s) || s[k] != ':') {
				return k
			}
		}
		k--
	}
	return k
}

// keyBefore returns the lower-cased label written just before s[i] as
// "key=", "key: ", `"key": "`, `key="` or "key=>", or "".
func (sc *scanner) keyBefore(i int) string { return strings.ToLower(sc.rawKeyBefore(i)) }

// rawKeyBefore is keyBefore without lower-casing.
func (sc *scanner) rawKeyBefore(i int) string {
	s := sc.s
	k := i
	defer func() { sc.e.steps += i - k }()
	for n := 0; n < 3 && k > 0 && (s[k-1] == '"' || s[k-1] == '\'' || s[k-1] == ' '); n++ {
		k--
	}
	if k > 0 && s[k-1] == '>' && k > 1 && s[k-2] == '=' {
		k--
	}
	if k == 0 || s[k-1] != '=' && s[k-1] != ':' {
		return ""
	}
	k--
	for n := 0; n < 2 && k > 0 && (s[k-1] == '"' || s[k-1] == '\'' || s[k-1] == ' '); n++ {
		k--
	}
	end := k
	for k > 0 && end-k < 48 && (isWordByte(s[k-1])) {
		k--
	}
	return s[k:end]
}

// isIDLabel reports whether a label has "id" as one of its words:
// "sensor_id", "SensorId", "customerIDString", "detect.id".
func isIDLabel(label string) bool {
	start := 0
	for k := 1; k <= len(label); k++ {
		boundary := k == len(label) || !isAlnum(label[k]) ||
			isLowerOrDigit(label[k-1]) && isUpper(label[k]) ||
			k+1 < len(label) && isUpper(label[k-1]) && isUpper(label[k]) && isLower(label[k+1])
		if !boundary {
			continue
		}
		if strings.EqualFold(label[start:k], "id") {
			return true
		}
		start = k
		if k < len(label) && !isAlnum(label[k]) {
			start = k + 1
		}
	}
	return false
}

func isUpper(c byte) bool        { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool        { return 'a' <= c && c <= 'z' }
func isLowerOrDigit(c byte) bool { return isLower(c) || isDigit(c) }

// quotedKey returns the label of the quoted value holding s[i]
// (`"DetectId": "ldt:<hex>:…"`), or "".
func (sc *scanner) quotedKey(i int) string {
	s := sc.s
	k := i
	for k > 0 && i-k < 128 && s[k-1] != '"' && s[k-1] != '\n' {
		k--
	}
	sc.e.steps += i - k
	if k == 0 || s[k-1] != '"' {
		return ""
	}
	return sc.rawKeyBefore(k)
}

// wordBefore returns the lower-cased word before s[i], skipping spaces.
func (sc *scanner) wordBefore(i int) string {
	s := sc.s
	k := i
	for n := 0; n < 2 && k > 0 && s[k-1] == ' '; n++ {
		k--
	}
	end := k
	for k > 0 && end-k < 16 && isAlpha(s[k-1]) {
		k--
	}
	return strings.ToLower(s[k:end])
}

// isKey reports whether the word s[i:j] is a label rather than a value:
// a JSON key, the key of key=value, or "key:" at the start of a line.
func (sc *scanner) isKey(i, j int) bool {
	s := sc.s
	k := j
	for k < len(s) && (s[k] == '"' || s[k] == '\'') && k-j < 1 {
		k++
	}
	for k < len(s) && s[k] == ' ' && k-j < 3 {
		k++
	}
	if k >= len(s) {
		return false
	}
	switch s[k] {
	case '=':
		return k+1 >= len(s) || s[k+1] != '='
	case ':':
		if k > j && s[j] == '"' {
			return true // "key":
		}
		if k+1 < len(s) && isDigit(s[k+1]) {
			return false // host:port
		}
		if k+1 < len(s) && s[k+1] != ' ' && s[k+1] != '\t' {
			return false
		}
		// key: value at the start of a line (YAML, e-mail headers)
		b := i
		for b > 0 && (s[b-1] == ' ' || s[b-1] == '\t' || s[b-1] == '-') {
			b--
		}
		return b == 0 || s[b-1] == '\n' || s[b-1] == '\r'
	}
	return false
}

// versionWords precede version numbers in prose and logs.
var versionWords = map[string]bool{
	"version": true, "ver": true, "v": true, "build": true, "release": true, "firmware": true,
	"fw": true, "rev": true, "revision": true, "patch": true, "update": true, "kb": true,
}

// dotted handles a run of digits and dots: an IPv4 address, a CIDR prefix,
// a version number, an OID or nothing. tail says whether the run ends the
// word, so that a port or prefix length may follow.
func (sc *scanner) dotted(i, j int, tail bool) {
	s := sc.s
	w := s[i:j]
	parts := strings.Count(w, ".") + 1
	if parts > 4 {
		if parts >= 5 && !strings.Contains(w, "..") {
			sc.ignore(i, j, fmt.Sprintf("%d dotted numbers: an OID or version, not an ipv4 address", parts))
		}
		return
	}
	if parts != 4 {
		return
	}
	short := true
	for _, p := range strings.Split(w, ".") {
		if p == "" || len(p) > 3 {
			short = false
		}
	}
	if !short {
		return // timestamps, counters
	}
	key := sc.keyBefore(i)
	switch {
	case strings.Contains(key, "version") || strings.Contains(key, "build"):
		sc.ignore(i, j, "version number (labelled "+key+"), not an ipv4 address")
		return
	case versionWords[sc.wordBefore(i)]:
		sc.ignore(i, j, "version number (after \""+sc.wordBefore(i)+"\"), not an ipv4 address")
		return
	case i >= 2 && s[i-1] == '/' && isProductName(s[max(0, i-33):i-1]):
		sc.ignore(i, j, "version number of a product (name/version), not an ipv4 address")
		return
	}
	ind, err := parseIPv4(w)
	if err != nil {
		sc.ignore(i, j, err.Error())
		return
	}
	end := j
	if tail {
		if j+1 < len(s) && s[j] == '/' && isDigit(s[j+1]) {
			k := j + 1
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			if k == len(s) || !isWordByte(s[k]) && s[k] != '/' {
				sc.ignore(i, k, "cidr prefix: a network, not a single address; not looked up")
				return
			}
		}
		if j+1 < len(s) && s[j] == '/' && isPathStart(s[j+1]) {
			if sc.schemeless(i, j, ind) {
				return
			}
		}
		end = portEnd(s, j)
	}
	sc.add(ind, i, end, "")
}

// isProductName reports whether the end of s is a product token of a
// User-Agent or Server header ("Chrome", "Edg", "OPR", "curl"), so that
// "Chrome/120.0.1.2" is a version; "HIER_DIRECT/203.0.113.5" (squid) and
// "DIRECT/…" are not products.
func isProductName(s string) bool {
	k := len(s)
	for k > 0 && isAlnum(s[k-1]) {
		k--
	}
	name := s[k:]
	if name == "" || !isAlpha(name[0]) || k > 0 && (s[k-1] == '_' || s[k-1] == '-') {
		return false
	}
	return !(len(name) > 3 && strings.ToUpper(name) == name)
}

// fileExtTLDs are top-level domains that are also common file extensions:
// a bare "invoice.zip" is a file, and is a host only when written as one.
var fileExtTLDs = map[string]bool{
	"zip": true, "mov": true, "one": true, "cab": true, "py": true, "sh": true, "so": true,
	"ps": true, "md": true, "rs": true, "cc": true, "pl": true, "pm": true, "ai": true,
	"bz": true, "cs": true, "js": true, "ts": true, "rb": true, "mp": true, "tar": true,
}

// fileExts are common file extensions that are not top-level domains; a
// bare name ending in one is reported as a file name.
var fileExts = map[string]bool{
	"exe": true, "dll": true, "sys": true, "pdf": true, "doc": true, "docx": true, "docm": true,
	"xls": true, "xlsx": true, "xlsm": true, "ppt": true, "pptx": true, "rar": true, "7z": true,
	"gz": true, "vbs": true, "ps1": true, "bat": true, "cmd": true, "scr": true, "lnk": true,
	"hta": true, "iso": true, "img": true, "msi": true, "jar": true, "txt": true, "log": true,
	"csv": true, "json": true, "xml": true, "html": true, "htm": true, "php": true, "aspx": true,
	"asp": true, "dat": true, "bin": true, "tmp": true, "ini": true, "cfg": true, "eml": true,
	"msg": true, "vhd": true, "vhdx": true, "js_": true, "wsf": true, "jse": true, "cpl": true,
	"ocx": true, "db": true, "yaml": true, "yml": true, "conf": true, "png": true, "jpg": true,
	"gif": true, "evtx": true, "pcap": true, "elf": true, "apk": true, "dmg": true, "pkg": true,
}

// hostKeys are labels whose value is a host.
var hostKeys = []string{"host", "domain", "fqdn", "query", "qname", "rrname", "sni", "servername", "server_name", "dns", "hostname", "dhost", "shost", "url", "uri", "referer", "referrer", "origin", "mx", "ns", "cname", "ptr", "helo", "ehlo", "sender", "from", "to", "reply"}

// notHostKeys are labels whose dotted values are names of things other
// than hosts: "dataset": "endpoint.events.network", "process.name".
var notHostKeys = []string{"dataset", "module", "action", "category", "type", "kind", "provider", "channel", "rule", "signature", "file", "image", "executable", "process", "path", "class", "method", "function", "package", "namespace", "product", "description", "company"}

// hostResult is a parsed domain candidate, cached by its text.
type hostResult struct {
	ind        Indicator
	err        error
	internal   bool   // policy keeps it in
	reason     string // why a valid domain is not a host at all; "" if it may be
	bareReason string // why it is taken only when written as a host; "" if not
}

// host handles a word with a dot that is not all digits: a domain (maybe
// with a port, a path or an e-mail's "@" before it). It reports whether the
// word was taken or refused as a host; false lets the caller look inside.
func (sc *scanner) host(i, j int) bool {
	s := sc.s
	w := s[i:j]
	if (w[0] == 'v' || w[0] == 'V') && allDigitsDots(w[1:]) && strings.Count(w, ".") == 3 {
		sc.ignore(i, j, "version number, not an ipv4 address")
		return true
	}
	last := w[strings.LastIndexByte(w, '.')+1:]
	lastLower := lowerASCII(last)
	if ind, ok := reverseDNS(w); ok {
		sc.add(ind, i, j, "")
		return true
	}
	if i > 0 && (s[i-1] == '\\' || s[i-1] == '/') {
		// A component of a file path: C:\Users\bob\inv.exe, /tmp/x.sh.
		if fileExts[lastLower] || fileExtTLDs[lastLower] {
			sc.ignore(i, j, "file name in a path, not a host")
		}
		return false
	}
	r := sc.e.parseHostWord(w)
	if r.err != nil {
		if fileExts[lastLower] {
			sc.ignore(i, j, "file name: ."+lastLower+" is not a top-level domain")
		}
		return false
	}
	if r.internal {
		sc.add(r.ind, i, portEnd(s, j), "") // internal, whatever its suffix
		return true
	}
	email := ""
	written := false // written as a host rather than a bare word
	if i > 0 && s[i-1] == '@' {
		written = true
		k := i - 1
		for k > 0 && i-k < 65 && (isWordByte(s[k-1]) || s[k-1] == '+' || s[k-1] == '%') {
			k--
		}
		if k < i-1 {
			email = strings.ToLower(s[k:i-1]) + "@" + r.ind.Value
		}
	}
	pathAfter := j+1 < len(s) && s[j] == '/' && isPathStart(s[j+1])
	port := portEnd(s, j)
	if !written {
		written = hasPrefixFold(w, "www.") || pathAfter || port > j || sc.t.defanged(i, j) || sc.outer != nil
	}
	key := sc.keyBefore(i)
	if !written && key != "" {
		for _, k := range hostKeys {
			if strings.Contains(key, k) {
				written = true
				break
			}
		}
		if !written {
			for _, k := range notHostKeys {
				if strings.Contains(key, k) {
					sc.ignore(i, j, "labelled "+key+": a name, not a host")
					return true
				}
			}
		}
	}
	if reason := r.reason; reason != "" || !written && r.bareReason != "" {
		if reason == "" {
			reason = r.bareReason
		}
		if fileExts[lastLower] {
			sc.ignore(i, j, "file name: ."+lastLower+" is not a top-level domain")
			return false
		}
		if r.bareReason != "" || written || hasLowerUpper(w) {
			sc.ignore(i, j, reason)
		}
		return false
	}
	if !written && hasLowerUpper(w) {
		sc.ignore(i, j, "mixed case: looks like a name in code or prose, not a host")
		return true
	}
	if pathAfter && sc.schemeless(i, j, r.ind) {
		return true
	}
	sc.add(r.ind, i, port, email)
	return true
}

// hasLowerUpper reports whether s mixes cases the way code and prose do
// ("System.Net", "done.It") and host names in logs do not.
func hasLowerUpper(s string) bool {
	var lower, upper bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		}
	}
	return lower && upper
}

// parseHostWord parses a word as a domain and decides whether it may be
// taken bare, caching the answer.
func (e *extraction) parseHostWord(w string) hostResult {
	e.steps += len(w)
	if r, ok := e.hosts[w]; ok {
		return r
	}
	var r hostResult
	r.ind, r.err = parseHost(w, Domain)
	if r.err == nil {
		r.internal = e.isInternal(r.ind)
		tld := r.ind.Value[strings.LastIndexByte(r.ind.Value, '.')+1:]
		switch {
		case fileExtTLDs[tld]:
			r.bareReason = "file name: ." + tld + " is also a top-level domain, taken only when written as a host (scheme, www., port, path or label)"
		case tld == "example":
			// RFC 2606's documentation names: real hosts in examples.
		case e.x.PublicSuffix == nil:
			r.bareReason = "no public suffix list to tell a domain from a file name; write it as a host"
		default:
			suffix, icann := e.x.PublicSuffix(r.ind.Value)
			switch {
			case !icann && !strings.Contains(suffix, "."):
				r.reason = "." + tld + " is not a top-level domain"
			case icann && suffix == r.ind.Value:
				r.reason = "a public suffix, not a domain anyone registers"
			}
		}
	}
	if len(e.hosts) < 10000 {
		e.hosts[w] = r
	}
	return r
}

// isPathStart reports whether c can start a URL path segment after "/".
func isPathStart(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '.' || c == '~' || c == '%' || c == '?' || c == '='
}

// urlEnd returns the end of a URL starting at i: the first byte that cannot
// be in a URL written in text, with trailing punctuation and unbalanced
// closing brackets left out.
func (sc *scanner) urlEnd(i int) int {
	s := sc.s
	j := i
	for j < len(s) {
		c := s[j]
		if c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\' || c == '^' || c == '{' || c == '}' || c == '|' {
			break
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) || r == utf8.RuneError || unicode.Is(unicode.Pi, r) || unicode.Is(unicode.Pf, r) || unicode.Is(unicode.Cf, r) {
				break
			}
			j += n
			continue
		}
		j++
	}
	sc.e.steps += 2 * (j - i) // this scan and the bracket count
	// Brackets are balanced over the whole URL once, then kept balanced
	// while trimming, so that trimming stays linear.
	paren, bracket := 0, 0
	for k := i; k < j; k++ {
		switch s[k] {
		case '(':
			paren++
		case ')':
			paren--
		case '[':
			bracket++
		case ']':
			bracket--
		}
	}
	for j > i {
		c := s[j-1]
		switch {
		case c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '*':
		case c == ')' && paren < 0:
			paren++
		case c == ']' && bracket < 0:
			bracket++
		case c == '(' && paren > 0:
			paren--
		default:
			return j
		}
		j--
	}
	return j
}

// hostSchemes are URL schemes whose host is worth looking up although the
// URL itself is not (no provider looks up ftp:// or ldap:// URLs).
var hostSchemes = map[string]bool{
	"ftp": true, "ftps": true, "sftp": true, "ldap": true, "ldaps": true, "rmi": true, "dns": true,
	"smb": true, "tcp": true, "udp": true, "ws": true, "wss": true, "ssh": true, "telnet": true,
	"rdp": true, "irc": true, "git": true, "svn": true, "iiop": true, "nis": true, "corba": true,
}

// url handles "scheme://…" where s[i:j] is the scheme.
func (sc *scanner) url(i, j int) {
	s := sc.s
	// The scheme is the letters and digits just before "://".
	for k := j - 1; k >= i; k-- {
		if !isAlnum(s[k]) {
			i = k + 1
			break
		}
	}
	for i < j && !isAlpha(s[i]) {
		i++
	}
	scheme := lowerASCII(s[i:j])
	if i < sc.inURL {
		// A URL inside a URL: a few are worth taking; thousands are an
		// attack on the scanner's time.
		if sc.nested >= maxNested {
			return
		}
		sc.nested++
	} else {
		sc.nested = 0
	}
	end := sc.urlEnd(j + 3)
	if end > sc.inURL {
		sc.inURL = end
	}
	web := scheme == "http" || scheme == "https"
	if !web && !hostSchemes[scheme] {
		return
	}
	if key := sc.keyBefore(i); strings.HasPrefix(key, "xmlns") || strings.Contains(key, "schemalocation") {
		sc.ignore(i, end, "xml namespace name, not a resource")
		return
	}
	// Authority: [userinfo@]host[:port]
	a := j + 3
	authEnd := a
	for authEnd < end && s[authEnd] != '/' && s[authEnd] != '?' && s[authEnd] != '#' {
		authEnd++
	}
	h := a
	if at := strings.LastIndexByte(s[a:authEnd], '@'); at >= 0 {
		h = a + at + 1
	}
	hostEnd := authEnd
	var hostInd Indicator
	var hostErr error
	if h < authEnd && s[h] == '[' {
		if k := strings.IndexByte(s[h:authEnd], ']'); k > 0 {
			hostEnd = h + k + 1
			hostInd, hostErr = parseIPv6(s[h+1 : h+k])
		} else {
			hostErr = errors.New("unclosed [")
		}
	} else {
		if k := strings.IndexByte(s[h:authEnd], ':'); k >= 0 {
			hostEnd = h + k
		}
		hostInd, hostErr = parseHost(s[h:hostEnd], "")
	}
	// The URL first, then its host (also when the URL is refused).
	addHost := func() {
		if hostErr == nil && hostEnd > h {
			sc.add(hostInd, h, authEnd, "")
		}
	}
	switch ind, err := sc.e.parse(s[i:min(end, i+MaxInputLen+1)]); {
	case !web:
		addHost()
		sc.ignore(i, end, scheme+" url: only http and https urls are looked up (its host is taken)")
	case end-i > MaxInputLen:
		addHost()
		sc.ignore(i, i+64, fmt.Sprintf("url longer than %d bytes", MaxInputLen))
	case err != nil:
		addHost()
		var pe *ParseError
		reason := err.Error()
		if errors.As(err, &pe) {
			reason = pe.Reason
		}
		sc.ignore(i, end, reason)
	default:
		sc.add(ind, i, end, "")
		addHost()
		sc.encodedURLs(authEnd, end)
	}
}

// schemeless handles a host followed by a path, "www.evil.example/x.php",
// as the URL http://www.evil.example/x.php, and the host itself. It
// reports whether it took them.
func (sc *scanner) schemeless(i, j int, host Indicator) bool {
	end := sc.urlEnd(j)
	ind, err := sc.e.parse("http://" + sc.s[i:end])
	if err != nil {
		return false
	}
	sc.add(ind, i, end, "")
	sc.add(host, i, j, "")
	if end > sc.inURL {
		sc.inURL = end
	}
	sc.encodedURLs(j, end)
	return true
}

// encodedURLs finds percent-encoded URLs in the query of the URL whose
// path and query are s[i:j] ("?u=https%3A%2F%2Fevil.example%2Fx") and
// extracts what they hold.
func (sc *scanner) encodedURLs(i, j int) {
	if sc.depth >= maxURLDepth {
		return
	}
	s := sc.s
	const marker = "%3a%2f%2f"
	sc.e.steps += j - i
	for k := i; k+len(marker) <= j; k++ {
		if s[k] != '%' || !hasPrefixFold(s[k:], marker) {
			continue
		}
		start := k
		for start > i && isAlnum(s[start-1]) {
			start--
		}
		stop := k + len(marker)
		for stop < j && s[stop] != '&' && s[stop] != '#' && s[stop] != ';' {
			stop++
		}
		decoded, err := url.QueryUnescape(s[start:stop])
		if err == nil && start < k {
			sp := sc.span(start, stop)
			sc.e.scan(refangText(decoded), sc.depth+1, func(Span) Span { return sp })
		}
		k = stop - 1
	}
}

// rawOf returns the original text of a span of the text given to Extract.
// Nested scans (decoded URLs) report the encoded text as the raw form.
func (e *extraction) rawOf(sp Span) string { return e.orig[sp.Start:sp.End] }

// reverseDNS reads "d.c.b.a.in-addr.arpa", the name a PTR query asks
// about, as the IPv4 address a.b.c.d.
func reverseDNS(w string) (Indicator, bool) {
	const suffix = ".in-addr.arpa"
	if len(w) <= len(suffix) || !strings.EqualFold(w[len(w)-len(suffix):], suffix) {
		return Indicator{}, false
	}
	parts := strings.Split(w[:len(w)-len(suffix)], ".")
	if len(parts) != 4 {
		return Indicator{}, false
	}
	ind, err := parseIPv4(parts[3] + "." + parts[2] + "." + parts[1] + "." + parts[0])
	return ind, err == nil
}

// foundJSON is the JSON form of a Found, shared by the REST API and the CLI.
type foundJSON struct {
	Value   string   `json:"value"`
	Kind    Kind     `json:"kind"`
	Raw     string   `json:"raw"`
	Spans   []Span   `json:"spans"`
	Count   int      `json:"count"`
	Context []string `json:"context,omitempty"`
}

// MarshalJSON writes {"value","kind","raw","spans","count","context"}.
func (f Found) MarshalJSON() ([]byte, error) {
	return json.Marshal(foundJSON{Value: f.Value, Kind: f.Kind, Raw: f.Raw, Spans: f.Spans, Count: f.Count, Context: f.Context})
}

// MarshalJSON writes {"value","kind","reason","spans"}.
func (w Withheld) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value  string `json:"value"`
		Kind   Kind   `json:"kind"`
		Reason string `json:"reason"`
		Spans  []Span `json:"spans"`
	}{w.Value, w.Kind, w.Reason, w.Spans})
}

// MarshalJSON writes {"text","reason","span"}.
func (ig Ignored) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Text   string `json:"text"`
		Reason string `json:"reason"`
		Span   Span   `json:"span"`
	}{ig.Text, ig.Reason, ig.Span})
}

// MarshalJSON writes {"indicators","internal","ignored","ignoredOmitted"},
// with empty lists as [].
func (x Extraction) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Indicators     []Found    `json:"indicators"`
		Internal       []Withheld `json:"internal"`
		Ignored        []Ignored  `json:"ignored"`
		IgnoredOmitted int        `json:"ignoredOmitted"`
	}{nonNil(x.Indicators), nonNil(x.Internal), nonNil(x.Ignored), x.IgnoredOmitted})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
