package lookup

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Combine turns the per-provider verdicts into one:
//
//   - the score is the highest provider score among providers that found
//     something SUSPICIOUS or MALICIOUS, plus 5 for every other provider that
//     agrees (found it SUSPICIOUS or MALICIOUS), at most 100;
//   - the level is MALICIOUS from score 70, SUSPICIOUS from 30; below that,
//     BENIGN when at least one provider called it benign, else UNKNOWN (no
//     provider knows anything, or only context such as RDAP or IPinfo);
//   - the reasons are the concerned providers' reasons, worst first, then
//     the benign ones, each prefixed with the provider's name;
//   - a BENIGN answer from a known-good source (Descriptor.CapsAtBenign,
//     e.g. CIRCL hashlookup) caps the level at BENIGN, score 0, with a
//     leading reason saying so.
//
// Results that are not OK (not found, errors, skipped) do not count. When no
// provider answered at all (none was OK or NOT_FOUND), the level is UNKNOWN
// and the only reason says so and why, e.g. "no provider answered: 5 not
// configured, 6 errors" (see NobodyAnswered).
func Combine(results []*Result) indicator.Verdict { return combine(results, true) }

// CombineLevel is Combine without reasons: the level and score only, for
// callers that show no reasons (a sighting's verdict).
func CombineLevel(results []*Result) indicator.Verdict { return combine(results, false) }

func combine(results []*Result, reasons bool) indicator.Verdict {
	if reason, none := NobodyAnswered(results); none {
		return indicator.Verdict{Level: indicator.Unknown, Reasons: []string{reason}}
	}
	var bad, good []*Result
	for _, r := range results {
		if r == nil || r.Status != StatusOK {
			continue
		}
		switch {
		case r.Verdict.Level >= indicator.Suspicious:
			bad = append(bad, r)
		case r.Verdict.Level == indicator.Benign:
			good = append(good, r)
		}
	}
	byScore := func(a, b *Result) int {
		return cmp.Or(cmp.Compare(b.Verdict.Level, a.Verdict.Level), cmp.Compare(b.Verdict.Score, a.Verdict.Score), cmp.Compare(a.Provider, b.Provider))
	}
	slices.SortFunc(bad, byScore)
	slices.SortFunc(good, byScore)
	v := indicator.Verdict{Level: indicator.Unknown, Reasons: []string{}}
	if len(bad) > 0 {
		v.Score = min(100, max(bad[0].Verdict.Score, 30)+5*(len(bad)-1))
	}
	switch {
	case v.Score >= 70:
		v.Level = indicator.Malicious
	case v.Score >= 30:
		v.Level = indicator.Suspicious
	case len(good) > 0:
		v.Level = indicator.Benign
	}
	for _, r := range append(bad, good...) {
		if reasons && r.Verdict.Reason != "" {
			v.Reasons = append(v.Reasons, r.Provider+": "+unstutter(r.Provider, r.Verdict.Reason))
		}
	}
	if v.Level > indicator.Benign {
		if capper := knownGood(good); capper != "" {
			v.Level, v.Score = indicator.Benign, 0
			if reasons {
				v.Reasons = append([]string{"capped at BENIGN: " + capper + " knows it as known-good"}, v.Reasons...)
			}
		}
	}
	return v
}

// knownGood names the first of the benign results whose provider is a
// known-good source (Descriptor.CapsAtBenign), "" when none is.
func knownGood(good []*Result) string {
	for _, r := range good {
		if d, ok := provider.Lookup(r.Provider); ok && d.CapsAtBenign {
			return r.Provider
		}
	}
	return ""
}

// unanswered names the statuses that are not an answer, in the order a
// reason lists them, with their singular and plural wording.
var unanswered = []struct {
	status         Status
	single, plural string
}{
	{StatusNotConfigured, "not configured", "not configured"},
	{StatusError, "error", "errors"},
	{StatusTimeout, "timed out", "timed out"},
	{StatusRateLimited, "rate limited", "rate limited"},
	{StatusPending, "pending", "pending"},
	{StatusSkipped, "skipped", "skipped"},
}

// NobodyAnswered reports whether no provider answered (no result is OK or
// NOT_FOUND) and, if so, a reason counting why: "no provider answered: 5 not
// configured, 6 errors", or "no provider answered: none was asked".
func NobodyAnswered(results []*Result) (reason string, none bool) {
	count := map[Status]int{}
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.Status == StatusOK || r.Status == StatusNotFound {
			return "", false
		}
		count[r.Status]++
	}
	var parts []string
	for _, u := range unanswered {
		switch n := count[u.status]; {
		case n == 1:
			parts = append(parts, "1 "+u.single)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+u.plural)
		}
		delete(count, u.status)
	}
	for _, st := range slices.Sorted(maps.Keys(count)) { // a status added later still shows
		parts = append(parts, strconv.Itoa(count[st])+" "+strings.ToLower(string(st)))
	}
	if len(parts) == 0 {
		return "no provider answered: none was asked", true
	}
	return "no provider answered: " + strings.Join(parts, ", "), true
}

// ProviderReason is r's own reason without a leading repeat of its
// provider's name or title, for a row that already names the provider.
func ProviderReason(r *Result) string { return unstutter(r.Provider, r.Verdict.Reason) }

// unstutter drops a leading "<name>: ", "<Title>: " or "<Source>: " from a
// provider's reason, which Combine prefixes with the name already:
// "threatfox: ThreatFox: botnet C2" reads "threatfox: botnet C2", and
// "crtsh: crt.sh: first certificate…" reads "crtsh: first certificate…".
func unstutter(name, reason string) string {
	prefixes := []string{name}
	if d, ok := provider.Lookup(name); ok {
		prefixes = append(prefixes, d.Title, d.Source)
	}
	for _, p := range prefixes {
		if p != "" && len(reason) > len(p)+2 && strings.EqualFold(reason[:len(p)], p) && reason[len(p)] == ':' {
			return strings.TrimSpace(reason[len(p)+1:])
		}
	}
	return reason
}
