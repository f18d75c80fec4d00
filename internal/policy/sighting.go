package policy

import (
	"fmt"
	"strings"
	"time"
)

// Summary is what the house knows of a value's past lookups: rolled-up
// counters, read in one row whatever the number of sightings.
type Summary struct {
	Count         int64
	DistinctUsers int64
	FirstSeen     time.Time // zero when never seen
	LastSeen      time.Time
	LastVerdict   string // the combined verdict level of the last lookup
	LastUser      string
	// Manual is the latest analyst verdict on a sighting of the value, if
	// any: shown on every later lookup.
	Manual *Annotation
}

// Sighting is one lookup of a value.
type Sighting struct {
	ID       string
	At       time.Time
	Username string
	Kind     string
	Value    string
	Verdict  string // UNKNOWN BENIGN SUSPICIOUS MALICIOUS
	Source   string // graphql, rest, portal, cli, misp, cortex, taxii, other
	TLP      string // CLEAR … RED
	Note     *Annotation
}

// ManualVerdict is an analyst's judgement of a sighting.
type ManualVerdict string

// The manual verdicts.
const (
	TruePositive  ManualVerdict = "TRUE_POSITIVE"
	FalsePositive ManualVerdict = "FALSE_POSITIVE"
)

// ParseManualVerdict reads TRUE_POSITIVE or FALSE_POSITIVE in any case
// ("tp" and "fp" too); "" is no verdict.
func ParseManualVerdict(s string) (ManualVerdict, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_")) {
	case "":
		return "", nil
	case "TRUE_POSITIVE", "TP":
		return TruePositive, nil
	case "FALSE_POSITIVE", "FP":
		return FalsePositive, nil
	}
	return "", fmt.Errorf("unknown verdict %q: use TRUE_POSITIVE or FALSE_POSITIVE", cut(s, 40))
}

// Annotation is an analyst's note and/or verdict on a sighting, with who
// and when.
type Annotation struct {
	SightingID string
	Verdict    ManualVerdict // may be empty: a note only
	Note       string
	Username   string
	At         time.Time
}

// MaxNoteLen bounds a sighting's note.
const MaxNoteLen = 2000

// Card is the one-line summary the REST envelope and the portal show:
// "seen 4 times by 3 analysts; last verdict BENIGN 12 days ago".
func (s Summary) Card(now time.Time) string {
	if s.Count == 0 {
		return "never seen before"
	}
	times := "once"
	if s.Count > 1 {
		times = fmt.Sprintf("%d times", s.Count)
	}
	who := "1 analyst"
	if s.DistinctUsers != 1 {
		who = fmt.Sprintf("%d analysts", s.DistinctUsers)
	}
	out := fmt.Sprintf("seen %s by %s; last verdict %s %s", times, who, orUnknown(s.LastVerdict), Ago(now, s.LastSeen))
	if s.Manual != nil && s.Manual.Verdict != "" {
		out += fmt.Sprintf("; marked %s by %s %s", strings.ReplaceAll(strings.ToLower(string(s.Manual.Verdict)), "_", " "),
			s.Manual.Username, Ago(now, s.Manual.At))
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "UNKNOWN"
	}
	return s
}

// Ago says how long before now t was: "just now", "5 minutes ago",
// "3 hours ago", "12 days ago".
func Ago(now, t time.Time) string {
	d := now.Sub(t)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, unit)
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}

// SourceOf names the transport of a request from its endpoint: "POST
// /graphql indicator" → graphql, "GET /api/…" → rest, "/portal…" →
// portal, "/misp/…" → misp, "/cortex/…" → cortex, "/taxii2/…" → taxii,
// "" → cli.
func SourceOf(endpoint string) string {
	if endpoint == "" {
		return "cli"
	}
	_, path, ok := strings.Cut(endpoint, " ")
	if !ok {
		path = endpoint
	}
	for _, s := range []struct{ prefix, name string }{
		{"/graphql", "graphql"}, {"/api/", "rest"}, {"/portal", "portal"},
		{"/misp/", "misp"}, {"/cortex/", "cortex"}, {"/taxii2/", "taxii"}, {"cli", "cli"},
	} {
		if strings.HasPrefix(path, s.prefix) {
			return s.name
		}
	}
	return "other"
}
