package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// Warninglist is one list of github.com/MISP/misp-warninglists (its
// list.json, as schema.json there describes it): known-good
// infrastructure such as public DNS resolvers, cloud and CDN ranges or
// top domains.
type Warninglist struct {
	Name               string   `json:"name"`
	Description        string   `json:"description"`
	Type               string   `json:"type"` // cidr, hostname, string, substring or regex
	Version            int64    `json:"version"`
	MatchingAttributes []string `json:"matching_attributes"`
	List               []string `json:"list"`
}

// MaxWarninglistBytes bounds a warninglist read by ParseWarninglist (the
// largest published lists, top-domain lists of 500k names, are ~12 MB).
const MaxWarninglistBytes = 32 << 20

// ParseWarninglist reads a MISP warninglist's JSON and checks the fields
// the format requires (name, type, list).
func ParseWarninglist(r io.Reader) (Warninglist, error) {
	var w Warninglist
	b, err := io.ReadAll(io.LimitReader(r, MaxWarninglistBytes+1))
	if err != nil {
		return w, err
	}
	if len(b) > MaxWarninglistBytes {
		return w, fmt.Errorf("a warninglist is at most %d MiB", MaxWarninglistBytes>>20)
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("not a MISP warninglist (JSON with name, type and list): %v", err)
	}
	switch {
	case strings.TrimSpace(w.Name) == "":
		return w, errors.New("a MISP warninglist needs a name")
	case w.List == nil:
		return w, errors.New("a MISP warninglist needs a list")
	}
	switch w.Type {
	case "cidr", "hostname", "string", "substring", "regex":
	default:
		return w, fmt.Errorf("unknown warninglist type %q: MISP uses cidr, hostname, string, substring or regex", cut(w.Type, 20))
	}
	return w, nil
}

// Skipped is a warninglist entry that was not imported, and why.
type Skipped struct {
	Value  string
	Reason string
}

// Entries turns the warninglist into list entries: cidr values are
// prefixes or addresses; hostname values are domain suffixes (MISP
// matches their subdomains too); string values are matched exactly
// (an address, a hash, a URL prefix, or one domain as "=name"; a name
// written with a leading dot, ".google.com", is a suffix). Regex and
// substring lists cannot be matched exactly, so every entry of theirs is
// skipped, as is any value that is none of the above, each with its reason.
func (w Warninglist) Entries(reason string) ([]EntryInput, []Skipped) {
	var out []EntryInput
	var skipped []Skipped
	skip := func(v, why string) { skipped = append(skipped, Skipped{Value: cut(v, 200), Reason: why}) }
	for _, raw := range w.List {
		v := strings.TrimSpace(raw)
		if v == "" {
			continue
		}
		switch w.Type {
		case "regex", "substring":
			skip(v, fmt.Sprintf("%s entries cannot be matched exactly", w.Type))
			continue
		case "cidr":
			if _, typ, err := ParseEntry(v); err != nil || typ != CIDR {
				skip(v, "not an address or CIDR prefix")
				continue
			}
		case "hostname":
			v = strings.TrimPrefix(v, ".")
			if _, typ, err := ParseEntry(v); err != nil || typ != DomainSuffix {
				skip(v, "not a host name")
				continue
			}
		case "string":
			c, typ, err := ParseEntry(v)
			switch {
			case err != nil:
				skip(v, "not an address, domain, URL or hash")
				continue
			case typ == DomainSuffix && strings.HasPrefix(v, "."):
				v = c // ".example.com": the name and those under it
			case typ == DomainSuffix:
				v = "=" + c // a string is that name only
			case typ == CIDR && strings.Contains(v, "/"):
				skip(v, "a string entry is one value, not a prefix")
				continue
			}
		}
		out = append(out, EntryInput{Value: v, Reason: reason})
	}
	return out, skipped
}

// ImportReport is what ImportWarninglist did.
type ImportReport struct {
	List     List
	Created  bool // the list did not exist before
	Imported int
	Skipped  []Skipped
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// WarninglistName is the list name an import uses when none is given:
// "misp-" and the warninglist's name in lower case, 64 bytes at most.
func WarninglistName(w Warninglist) string {
	s := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(w.Name), "-"), "-")
	s = "misp-" + s
	if len(s) > MaxNameLen {
		s = strings.TrimRight(s[:MaxNameLen], "-")
	}
	return s
}

// ImportWarninglist adds a MISP warninglist's entries to the KNOWN_GOOD
// list name (WarninglistName when empty), creating it if needed, owned by
// owner; each entry's reason is the warninglist's name. An existing list
// of another effect is a CONFLICT: a warninglist is known-good
// infrastructure, never a block-list. Entries it cannot match exactly are
// in the report's Skipped, with why.
func (s *Service) ImportWarninglist(ctx context.Context, owner, name string, w Warninglist) (ImportReport, error) {
	if name == "" {
		name = WarninglistName(w)
	}
	var rep ImportReport
	l, err := s.List(ctx, name)
	switch {
	case errcode.CodeOf(err) == errcode.NotFound:
		desc := fmt.Sprintf("MISP warninglist %q version %d: %s", w.Name, w.Version, w.Description)
		if l, err = s.CreateList(ctx, owner, name, KnownGood, cut(desc, MaxReasonLen-4)); err != nil {
			return rep, err
		}
		rep.Created = true
	case err != nil:
		return rep, err
	case l.Effect != KnownGood:
		return rep, errcode.New(errcode.Conflict, fmt.Sprintf("list %q is %s; a warninglist goes into a KNOWN_GOOD list", name, l.Effect))
	}
	entries, skipped := w.Entries(cut("MISP warninglist: "+w.Name, MaxReasonLen-4))
	rep.Skipped = skipped
	for len(entries) > 0 {
		n := min(len(entries), MaxEntriesPerCall)
		if l, err = s.AddEntries(ctx, owner, name, entries[:n]); err != nil {
			return rep, err
		}
		rep.Imported += n
		entries = entries[n:]
	}
	rep.List = l
	return rep, nil
}
