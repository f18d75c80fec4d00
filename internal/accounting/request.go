package accounting

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Request gathers, during one request, how each provider answered: the
// engine notes answers on it (Note), and the transport writes them into
// the request's audit Record.
type Request struct {
	mu        sync.Mutex
	answers   []Answer
	sightings []sighting
	seen      map[[2]string]int
}

type sighting struct {
	Sighting
	tlp     indicator.TLP
	verdict func() string
}

type requestKey struct{}

// NewRequest returns ctx carrying a new Request.
func NewRequest(ctx context.Context) (context.Context, *Request) {
	r := &Request{}
	return context.WithValue(ctx, requestKey{}, r), r
}

// Note adds how a provider answered to ctx's Request, if it has one.
func Note(ctx context.Context, a Answer) {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		r.mu.Lock()
		if r.answers == nil { // room for a verdict's answers at once
			r.answers = make([]Answer, 0, 16)
		}
		r.answers = append(r.answers, a)
		r.mu.Unlock()
	}
}

// Sight notes that the request looked up s's value under tlp (once per
// kind and value: a second note keeps the more restrictive TLP and the
// later verdict). verdict, when not nil, is asked for the combined verdict
// when the record is filled.
func Sight(ctx context.Context, s Sighting, tlp indicator.TLP, verdict func() string) {
	r, ok := ctx.Value(requestKey{}).(*Request)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := [2]string{s.Kind, s.Value}
	if i, dup := r.seen[k]; dup {
		if tlp > r.sightings[i].tlp {
			r.sightings[i].tlp = tlp
		}
		if verdict != nil {
			r.sightings[i].verdict = verdict
		}
		return
	}
	if r.seen == nil {
		r.seen = map[[2]string]int{}
	}
	r.seen[k] = len(r.sightings)
	r.sightings = append(r.sightings, sighting{Sighting: s, tlp: tlp, verdict: verdict})
}

// Fill sets rec's answers from the request, with the bytes they delivered
// (when rec has none of its own) and whether all came from the cache.
func (r *Request) Fill(rec *Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var most indicator.TLP
	rec.Sightings = rec.Sightings[:0]
	for _, s := range r.sightings {
		if s.verdict != nil {
			s.Verdict = s.verdict()
		}
		s.TLP = s.tlp.String()
		most = max(most, s.tlp)
		rec.Sightings = append(rec.Sightings, s.Sighting)
	}
	if most != 0 {
		rec.TLP = most.String()
	}
	if len(r.answers) == 0 {
		return
	}
	rec.Answers = append(rec.Answers[:0], r.answers...)
	rec.Cached = true
	var n int64
	for _, a := range r.answers {
		n += a.Bytes
		rec.Cached = rec.Cached && a.Cached
	}
	if rec.DataSize == 0 {
		rec.DataSize = n
	}
}

// Providers is the compact form of the record's answers:
// "virustotal:ok abuseipdb:cached" (a cached answer says "cached" whatever
// its status); "" when it asked no provider.
func (rec *Record) Providers() string {
	var b strings.Builder
	n := 0
	for _, a := range rec.Answers {
		n += len(a.Provider) + len(a.Status) + len(" :cached")
	}
	b.Grow(n)
	for i, a := range rec.Answers {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.Provider)
		b.WriteByte(':')
		if a.Cached {
			b.WriteString("cached")
		} else {
			b.WriteString(a.Status)
		}
	}
	return b.String()
}

// ParseProviders reads back what Record.Providers wrote.
func ParseProviders(s string) []Answer {
	var out []Answer
	for _, f := range strings.Fields(s) {
		name, status, _ := strings.Cut(f, ":")
		a := Answer{Provider: name, Status: status}
		if status == "cached" {
			a.Status, a.Cached = "", true
		}
		out = append(out, a)
	}
	return out
}

// sensitive argument names are never written to the usage log.
var sensitive = map[string]bool{"password": true, "current": true, "new": true, "key": true, "token": true}

// Redact is the audit-log form of a request's parameters: JSON with keys
// sorted, passwords and keys written as [REDACTED].
func Redact(params map[string]any) string {
	if len(params) == 0 {
		return "{}"
	}
	var clean map[string]any // a copy, made when a value is hidden
	for k := range params {
		if sensitive[strings.ToLower(k)] {
			if clean == nil {
				clean = maps.Clone(params)
			}
			clean[k] = "[REDACTED]"
		}
	}
	if clean != nil {
		params = clean
	}
	b, err := json.Marshal(params)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// day is t's UTC midnight.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// counters passes add each counter delta of an audit record: one per
// provider answer, or one for the operation when it asked no provider.
func (rec *Record) counters(add func(Counter)) {
	d := utcDay(rec.At)
	if len(rec.Answers) == 0 {
		c := Counter{Username: rec.Username, API: rec.API, Day: d, Answers: 1, Bytes: rec.DataSize}
		countStatus(&c, rec.Status)
		add(c)
		return
	}
	for _, a := range rec.Answers {
		c := Counter{Username: rec.Username, API: a.Provider, Day: d, Answers: 1, Bytes: a.Bytes}
		if a.Cached {
			c.Cached = 1
		}
		countStatus(&c, a.Status)
		add(c)
	}
}

// Counter is the counter delta of an upstream call.
func (c *Call) Counter() Counter {
	return Counter{Username: c.Username, API: c.Provider, Day: utcDay(c.At), Calls: 1, LatencyMs: c.Latency.Milliseconds()}
}

func countStatus(c *Counter, status string) {
	switch status {
	case "error", "timeout", "interrupted", "INTERNAL", "UPSTREAM_ERROR", "TIMEOUT":
		c.Errors++
	case "rate_limited", "RATE_LIMITED":
		c.RateLimited++
	}
}
