package policy

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gaissmai/bart"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

// Match is a list entry that applies to a value.
type Match struct {
	List   string
	Effect Effect
	Entry  string // the entry's value, e.g. "10.0.0.0/8"
	Reason string
	Owner  string
}

// Matches are the lists that apply to one value: at most one match per
// effect, the first list (by name) that holds the value.
type Matches struct {
	Block, NeverSend, KnownGood *Match
}

// Any reports whether any list applies.
func (m Matches) Any() bool { return m.Block != nil || m.NeverSend != nil || m.KnownGood != nil }

// Matcher is the compiled form of every list: one index per list, each a
// CIDR trie (gaissmai/bart) for addresses, a hash of domain suffixes
// walked label by label, a hash of URL prefixes probed at path
// boundaries, and a hash of exact values. It is immutable: a change
// compiles the changed list again (Replace) and swaps the Matcher.
type Matcher struct {
	lists []*Index // sorted by effect, then name
}

// Index is one list compiled for matching (Compile).
type Index struct {
	list     List
	cidr     *bart.Table[*Entry]
	suffixes map[string]*Entry // "example.com"
	prefixes map[string]*Entry // canonical URL prefixes
	exact    map[string]*Entry // hashes
	hosts    map[string]*Entry // exact domains ("www.example.com", stored "=www.example.com")
	n        int
}

// Compile builds one list's index from its entries (any order).
func Compile(l List, entries []*Entry) *Index {
	x := &Index{list: l, cidr: new(bart.Table[*Entry]), suffixes: map[string]*Entry{},
		prefixes: map[string]*Entry{}, exact: map[string]*Entry{}, hosts: map[string]*Entry{}}
	for _, e := range entries {
		x.add(e)
	}
	return x
}

func (x *Index) add(e *Entry) {
	switch e.Type {
	case CIDR:
		p, err := netip.ParsePrefix(e.Value)
		if err != nil {
			return
		}
		x.cidr.Insert(p, e)
	case DomainSuffix:
		x.suffixes[e.Value] = e
	case URLPrefix:
		x.prefixes[e.Value] = e
	case Hash:
		x.exact[e.Value] = e
	case Host:
		x.hosts[strings.TrimPrefix(e.Value, "=")] = e
	default:
		return
	}
	x.n++
}

// NewMatcher combines compiled lists.
func NewMatcher(lists ...*Index) *Matcher {
	m := &Matcher{lists: slices.Clone(lists)}
	m.sort()
	return m
}

func (m *Matcher) sort() {
	slices.SortFunc(m.lists, func(a, b *Index) int {
		if d := a.list.Effect.rank() - b.list.Effect.rank(); d != 0 {
			return d
		}
		return strings.Compare(a.list.Name, b.list.Name)
	})
}

// Replace returns a Matcher with list name's index replaced by x (x nil:
// removed). m is unchanged.
func (m *Matcher) Replace(name string, x *Index) *Matcher {
	out := &Matcher{lists: make([]*Index, 0, len(m.lists)+1)}
	for _, l := range m.lists {
		if l.list.Name != name {
			out.lists = append(out.lists, l)
		}
	}
	if x != nil {
		out.lists = append(out.lists, x)
	}
	out.sort()
	return out
}

// Size is the number of entries compiled.
func (m *Matcher) Size() int {
	n := 0
	for _, l := range m.lists {
		n += l.n
	}
	return n
}

// Match returns the lists that apply to ind (a parsed indicator) at now;
// expired entries do not apply.
func (m *Matcher) Match(ind indicator.Indicator, now time.Time) Matches {
	var out Matches
	if m == nil {
		return out
	}
	var q query
	q.prepare(ind)
	for _, l := range m.lists {
		slot := out.slot(l.list.Effect)
		if slot == nil || *slot != nil {
			continue
		}
		if e := l.match(&q, now); e != nil {
			*slot = &Match{List: l.list.Name, Effect: l.list.Effect, Entry: e.Value, Reason: e.Reason, Owner: e.Owner}
		}
	}
	return out
}

func (m *Matches) slot(e Effect) **Match {
	switch e {
	case Block:
		return &m.Block
	case NeverSend:
		return &m.NeverSend
	case KnownGood:
		return &m.KnownGood
	}
	return nil
}

// query is a value prepared once for matching against every list.
type query struct {
	addr   netip.Addr // an address, or a URL's address host
	domain string     // a domain, or a URL's domain host
	url    string
	hash   string
}

func (q *query) prepare(ind indicator.Indicator) {
	switch ind.Kind {
	case indicator.IPv4, indicator.IPv6:
		if a, err := netip.ParseAddr(ind.Value); err == nil {
			q.addr = a.WithZone("")
		}
	case indicator.Domain:
		q.domain = ind.Value
	case indicator.URL:
		q.url = ind.Value
		if u, err := url.Parse(ind.Value); err == nil {
			h := u.Hostname()
			if a, err := netip.ParseAddr(h); err == nil {
				q.addr = a.WithZone("")
			} else {
				q.domain = strings.ToLower(h)
			}
		}
	case indicator.MD5, indicator.SHA1, indicator.SHA256:
		q.hash = ind.Value
	}
}

func (x *Index) match(q *query, now time.Time) *Entry {
	live := func(e *Entry, ok bool) *Entry {
		if !ok || e == nil || e.Expired(now) {
			return nil
		}
		return e
	}
	if q.hash != "" {
		e, ok := x.exact[q.hash]
		return live(e, ok)
	}
	if q.url != "" && len(x.prefixes) > 0 {
		if e := x.matchURL(q.url, now); e != nil {
			return e
		}
	}
	if q.addr.IsValid() && x.cidr.Size() > 0 {
		if e := live(x.cidr.Lookup(q.addr)); e != nil {
			return e
		}
		if q.addr.Is4In6() {
			if e := live(x.cidr.Lookup(q.addr.Unmap())); e != nil {
				return e
			}
		}
	}
	if q.domain != "" && len(x.hosts) > 0 {
		if e := live(x.hosts[q.domain], true); e != nil {
			return e
		}
	}
	if q.domain != "" && len(x.suffixes) > 0 {
		d := q.domain
		for {
			if e := live(x.suffixes[d], true); e != nil {
				return e
			}
			i := strings.IndexByte(d, '.')
			if i < 0 {
				break
			}
			d = d[i+1:]
		}
	}
	return nil
}

// matchURL probes the URL's prefixes that end at a boundary: before or
// after each '/', before '?' and '#', and the whole URL. The longest
// prefix wins.
func (x *Index) matchURL(u string, now time.Time) *Entry {
	probe := func(p string) *Entry {
		if e, ok := x.prefixes[p]; ok && !e.Expired(now) {
			return e
		}
		return nil
	}
	if e := probe(u); e != nil {
		return e
	}
	start := strings.Index(u, "://")
	if start < 0 {
		return nil
	}
	for i := len(u) - 1; i > start+2; i-- {
		switch u[i] {
		case '/':
			if e := probe(u[:i+1]); e != nil {
				return e
			}
			if e := probe(u[:i]); e != nil {
				return e
			}
		case '?', '#':
			if e := probe(u[:i]); e != nil {
				return e
			}
		}
	}
	return nil
}
