package accounting

import (
	"strings"
	"unicode/utf8"
)

// MaxField is the longest text, in bytes, kept in one usage-row field
// (parameters excepted, which get MaxParameters).
const (
	MaxField      = 512
	MaxParameters = 8 << 10
)

// Clean makes s safe to store in any text column: valid UTF-8 (invalid
// bytes become U+FFFD), no NUL, at most max bytes, cut on a rune boundary.
// A client controls several fields (user agent, username), and PostgreSQL
// rejects a whole batch over one bad byte.
func Clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// clean applies Clean to every text field of r.
func (r *Record) clean() {
	for _, f := range []*string{&r.ID, &r.Username, &r.API, &r.Endpoint, &r.UserAgent, &r.IP, &r.Status} {
		*f = Clean(*f, MaxField)
	}
	r.Parameters = Clean(r.Parameters, MaxParameters)
	for i := range r.Answers {
		r.Answers[i].Provider = Clean(r.Answers[i].Provider, MaxField)
		r.Answers[i].Status = Clean(r.Answers[i].Status, MaxField)
	}
	r.TLP = Clean(r.TLP, MaxField)
	for i := range r.Sightings {
		s := &r.Sightings[i]
		for _, f := range []*string{&s.Kind, &s.Verdict, &s.Source, &s.TLP} {
			*f = Clean(*f, MaxField)
		}
		s.Value = Clean(s.Value, MaxParameters)
	}
}

// clean applies Clean to every text field of c.
func (c *Call) clean() {
	for _, f := range []*string{&c.Username, &c.Provider, &c.Endpoint, &c.Status} {
		*f = Clean(*f, MaxField)
	}
	c.Parameters = Clean(c.Parameters, MaxParameters)
}
