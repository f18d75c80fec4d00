package lookup

import (
	"cmp"
	"slices"

	"github.com/inspector-gadget/gadget/internal/indicator"
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
//     the benign ones, each prefixed with the provider's name.
//
// Results that are not OK (not found, errors, skipped) do not count.
func Combine(results []*Result) indicator.Verdict {
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
		if r.Verdict.Reason != "" {
			v.Reasons = append(v.Reasons, r.Provider+": "+r.Verdict.Reason)
		}
	}
	return v
}
