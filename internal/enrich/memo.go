package enrich

import (
	"github.com/maypok86/otter/v2"
)

// memo keeps cache entries decoded, so a hot entry is not parsed again on
// every hit. An in-process cache returns the very same byte slice for each
// hit of an entry, so a memo entry is valid exactly while the cache hands
// out the slice it was decoded from: a replaced, refreshed or Redis-served
// entry has other bytes and is decoded afresh. No TTL of its own is needed,
// and it can never serve what the cache would not.
type memo struct {
	c *otter.Cache[string, *decoded]
}

type decoded struct {
	raw *byte // the first byte of the slice it was decoded from
	n   int
	res Result
}

func newMemo(size int) *memo {
	if size <= 0 {
		size = 10_000
	}
	return &memo{c: otter.Must(&otter.Options[string, *decoded]{MaximumSize: size})}
}

// get returns the decoded entry for key if it was decoded from b itself.
func (m *memo) get(key string, b []byte) *decoded {
	if len(b) == 0 {
		return nil
	}
	d, ok := m.c.GetIfPresent(key)
	if !ok || d.raw != &b[0] || d.n != len(b) {
		return nil
	}
	return d
}

func (m *memo) put(key string, b []byte, r Result) {
	if len(b) > 0 {
		m.c.Set(key, &decoded{raw: &b[0], n: len(b), res: r})
	}
}
