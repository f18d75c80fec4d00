package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Playbook is a named set of providers for one kind of case, with the TLP
// its lookups carry unless the request names one.
type Playbook struct {
	Name        string
	Description string
	// Members are provider names and selectors, united: "virustotal",
	// "tag:reputation" (the descriptor's Tags), "kind:url" (providers
	// serving the kind), "key:none" / "key:optional" / "key:required".
	Members     []string
	DefaultTLP  indicator.TLP // zero: the configured default
	MinCoverage int           // percent of the members that must answer for a complete verdict (0: no minimum)
	BuiltIn     bool
	Owner       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// BuiltIns are the playbooks every installation starts with. They name no
// provider: their members follow the descriptors (tags, kinds, key needs),
// so a provider added later joins the playbooks it fits. An administrator
// may change or delete them; a deleted built-in is not brought back.
var BuiltIns = []Playbook{
	{Name: "quick", Description: "Keyless providers only: no account, no quota, answers in seconds.",
		Members: []string{"key:none", "key:optional"}, DefaultTLP: indicator.TLPAmber, BuiltIn: true},
	{Name: "ip-triage", Description: "An address seen in an alert: reputation, exposure, owner and location.",
		Members: []string{"kind:ipv4", "kind:ipv6"}, DefaultTLP: indicator.TLPAmber, BuiltIn: true},
	{Name: "phishing-url", Description: "A reported link or sender domain: URL and domain reputation, scans and registration age.",
		Members: []string{"kind:url", "kind:domain"}, DefaultTLP: indicator.TLPAmber, BuiltIn: true},
	{Name: "malware-hash", Description: "A file hash from an endpoint alert: malware repositories and detections.",
		Members: []string{"kind:md5", "kind:sha1", "kind:sha256"}, DefaultTLP: indicator.TLPAmber, BuiltIn: true},
}

// ValidMember checks one member: a provider name known to the build, or
// a selector of a known tag, kind or key need.
func ValidMember(m string) error {
	sel, arg, ok := strings.Cut(m, ":")
	if !ok {
		if _, known := provider.Lookup(m); !known {
			return fmt.Errorf("unknown provider %q", cut(m, 40))
		}
		return nil
	}
	switch sel {
	case "tag":
		for _, d := range provider.Descriptors() {
			if slices.Contains(d.Tags, arg) {
				return nil
			}
		}
		return fmt.Errorf("no provider has the tag %q", cut(arg, 40))
	case "kind":
		for _, k := range indicator.Kinds {
			if string(k) == arg {
				return nil
			}
		}
		return fmt.Errorf("unknown kind %q", cut(arg, 40))
	case "key":
		if arg == "none" || arg == "optional" || arg == "required" {
			return nil
		}
		return fmt.Errorf("unknown key need %q: use none, optional or required", cut(arg, 40))
	}
	return fmt.Errorf("unknown selector %q: use tag:NAME, kind:KIND or key:NEED", cut(sel, 20))
}

// Selects reports whether the playbook's members include provider d.
func (p *Playbook) Selects(d provider.Descriptor) bool {
	for _, m := range p.Members {
		sel, arg, ok := strings.Cut(m, ":")
		switch {
		case !ok && m == d.Name:
			return true
		case sel == "tag" && slices.Contains(d.Tags, arg):
			return true
		case sel == "kind" && d.Serves(indicator.Kind(arg)):
			return true
		case sel == "key" && d.Key.String() == arg:
			return true
		}
	}
	return false
}

// Resolve is the names of the given providers the playbook selects, in
// their order.
func (p *Playbook) Resolve(ds []provider.Descriptor) []string {
	var out []string
	for _, d := range ds {
		if p.Selects(d) {
			out = append(out, d.Name)
		}
	}
	return out
}
