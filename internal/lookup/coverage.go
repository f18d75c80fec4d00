package lookup

import (
	"fmt"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Coverage counts how the providers a verdict considered answered. Every
// asked provider is in exactly one bucket besides Asked: Answered (which
// includes NotFound: "no record" is a final answer), NotConfigured,
// Skipped (not sent: policy, an internal value, a kind it does not serve,
// a playbook or TLP rule), RateLimited, Failed (errors and timeouts) or
// Pending (a River job still working, or not cached under cachedOnly).
type Coverage struct {
	Asked         int
	Answered      int
	NotFound      int
	NotConfigured int
	Skipped       int
	RateLimited   int
	Failed        int
	Pending       int
	// RetryAfter is the soonest a rate-limited or pending provider may
	// answer (0 when none says).
	RetryAfter time.Duration
	// Gaps are the providers without a final answer, each with its status
	// and why: what a reader must know before trusting the verdict.
	Gaps []Gap
	// Required is how many answers a playbook's minimum coverage asks for
	// (0: none), and Playbook names it.
	Required int
	Playbook string
}

// Gap is one asked provider that gave no final answer.
type Gap struct {
	Provider   string
	Status     Status
	Reason     string
	RetryAfter time.Duration
}

// Complete reports whether every asked provider that could answer gave a
// final answer: nothing rate-limited, failed or pending. Providers not
// configured or skipped will not answer however long one waits, so they do
// not make a verdict incomplete (they are counted) unless a playbook's
// minimum coverage asks for more answers than came.
func (c Coverage) Complete() bool {
	return c.RateLimited+c.Failed+c.Pending == 0 && c.Answered >= c.Required
}

// Require sets the minimum of a playbook: percent of the asked providers
// (rounded up) must answer for the verdict to be complete.
func (c *Coverage) Require(percent int, playbook string) {
	if percent <= 0 {
		return
	}
	c.Required = (min(percent, 100)*c.Asked + 99) / 100
	c.Playbook = playbook
}

// CoverageOf counts results.
func CoverageOf(results []*Result) Coverage {
	var c Coverage
	for _, r := range results {
		if r == nil {
			continue
		}
		c.Asked++
		switch r.Status {
		case StatusOK:
			c.Answered++
			continue
		case StatusNotFound:
			c.Answered++
			c.NotFound++
			continue
		case StatusNotConfigured:
			c.NotConfigured++
		case StatusSkipped:
			c.Skipped++
		case StatusRateLimited:
			c.RateLimited++
		case StatusPending:
			c.Pending++
		default:
			c.Failed++
		}
		g := Gap{Provider: r.Provider, Status: r.Status, RetryAfter: r.RetryAfter}
		if r.Err != nil {
			g.Reason = r.Err.Message
		}
		if r.RetryAfter > 0 && (c.RetryAfter == 0 || r.RetryAfter < c.RetryAfter) {
			c.RetryAfter = r.RetryAfter
		}
		c.Gaps = append(c.Gaps, g)
	}
	return c
}

// String is the coverage in a line, as the portal and the CLI show it
// beside the badge: "6 of 11 answered; 4 rate-limited, retry in 40 s; 1 not
// configured".
func (c Coverage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d answered", c.Answered, c.Asked)
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(c.RateLimited, "rate-limited")
	add(c.Pending, "pending")
	add(c.Failed, "failed")
	if len(parts) > 0 && c.RetryAfter > 0 {
		parts[len(parts)-1] += fmt.Sprintf(", retry in %d s", RetryAfterSeconds(c.RetryAfter))
	}
	add(c.NotConfigured, "not configured")
	add(c.Skipped, "skipped")
	if c.Answered < c.Required {
		parts = append(parts, fmt.Sprintf("below playbook %s's minimum of %d answered", c.Playbook, c.Required))
	}
	if len(parts) > 0 {
		b.WriteString("; " + strings.Join(parts, "; "))
	}
	return b.String()
}

// Verdict is a combined verdict with the coverage behind it.
type Verdict struct {
	indicator.Verdict
	Coverage Coverage
}

// Assess is s's verdict on results (Judge: combined, then the session's
// local knowledge applied) and their coverage. The work is a pass over the
// results: cheap on cached answers. s may be nil.
func Assess(s Session, results []*Result) Verdict {
	return Verdict{Verdict: Judge(s, results), Coverage: coverage(s, results)}
}

// AssessLevel is Assess without the reasons (JudgeLevel), for callers that
// build them only when asked.
func AssessLevel(s Session, results []*Result) Verdict {
	return Verdict{Verdict: JudgeLevel(s, results), Coverage: coverage(s, results)}
}

func coverage(s Session, results []*Result) Coverage {
	c := CoverageOf(results)
	if s != nil {
		l := s.Local()
		c.Require(l.MinCoverage, l.Playbook)
	}
	return c
}
