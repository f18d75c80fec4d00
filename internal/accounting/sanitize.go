package accounting

import (
	"slices"
	"strconv"
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

// ascii is s with every non-printable-ASCII character escaped as in a Go
// string literal, cut to max bytes.
func ascii(s string, max int) string {
	q := strconv.QuoteToASCII(s)
	return Clean(q[1:len(q)-1], max)
}

// safeForm is the item as a row any database accepts: text fields in
// escaped ASCII and short, parameters and sightings left out (noted in
// the parameters). The usage writer writes it in place of a row the
// database refused, so the request stays on record.
func (it item) safeForm() item {
	const note = `{"_note":"row refused by the database; stored in a safe form"}`
	switch {
	case it.rec != nil:
		r := *it.rec
		for _, f := range []*string{&r.ID, &r.Username, &r.API, &r.Endpoint, &r.UserAgent, &r.IP, &r.Status, &r.TLP} {
			*f = ascii(*f, 64)
		}
		r.Parameters, r.Sightings = note, nil
		r.Answers = slices.Clone(r.Answers)
		for i := range r.Answers {
			r.Answers[i].Provider = ascii(r.Answers[i].Provider, 64)
			r.Answers[i].Status = ascii(r.Answers[i].Status, 64)
		}
		return item{rec: &r}
	case it.call != nil:
		c := *it.call
		for _, f := range []*string{&c.Username, &c.Provider, &c.Endpoint, &c.Status} {
			*f = ascii(*f, 64)
		}
		c.Parameters = note
		return item{call: &c}
	default:
		c := *it.counter
		c.Username, c.API = ascii(c.Username, 64), ascii(c.API, 64)
		return item{counter: &c}
	}
}

// api names the item's api or provider, for a log line.
func (it item) api() string {
	switch {
	case it.rec != nil:
		return it.rec.API
	case it.call != nil:
		return it.call.Provider
	default:
		return it.counter.API
	}
}
