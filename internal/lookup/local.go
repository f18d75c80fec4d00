package lookup

import "github.com/inspector-gadget/gadget/internal/indicator"

// Local is what the house's own knowledge says of an indicator, applied to
// the providers' combined verdict (the last step of a lookup): a
// block-list raises it to MALICIOUS, a known-good list caps it at BENIGN
// (a block-list wins over both), and a never-send list notes why nothing
// was asked.
type Local struct {
	Block string // "block-listed by <list>: <reason>"
	Good  string // "allow-listed by <list>: <reason>"
	Note  string // "not sent: listed in <list>: <reason>"
	// MinCoverage is the percent of the asked providers that must answer
	// for a complete verdict: the playbook's minimum (0: none).
	MinCoverage int
	Playbook    string // whose minimum it is
}

// Apply sets l's effect on v, the providers' combined verdict. Its reason
// comes first; the providers' reasons stay after it.
func (l Local) Apply(v indicator.Verdict) indicator.Verdict {
	lead := func(r string) {
		v.Reasons = append([]string{r}, v.Reasons...)
	}
	switch {
	case l.Block != "":
		v.Level, v.Score = indicator.Malicious, 100
		lead(l.Block)
	case l.Good != "":
		v.Level, v.Score = indicator.Benign, 0
		lead(l.Good)
	case l.Note != "":
		lead(l.Note)
	}
	return v
}

// Judge is the verdict of a session: the providers' results combined
// (Combine), then the session's local knowledge applied; a nil session
// (results read outside a lookup) has no local knowledge.
func Judge(s Session, results []*Result) indicator.Verdict {
	if s == nil {
		return Combine(results)
	}
	return s.Local().Apply(Combine(results))
}

// JudgeLevel is Judge's level and score without building the providers'
// reasons.
func JudgeLevel(s Session, results []*Result) indicator.Verdict {
	if s == nil {
		return CombineLevel(results)
	}
	return s.Local().Apply(CombineLevel(results))
}
