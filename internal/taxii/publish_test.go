package taxii

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
	"github.com/inspector-gadget/gadget/internal/store"
)

// memStore keeps the latest row per collection and object; failPuts makes
// the next puts fail.
type memStore struct {
	mu       sync.Mutex
	rows     map[string]store.StixRow
	puts     int
	failPuts int
}

func (m *memStore) LatestStixObject(_ context.Context, c, id string) (*store.StixRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rows[c+"|"+id]; ok {
		return &r, nil
	}
	return nil, nil
}

func (m *memStore) PutStixObject(_ context.Context, r store.StixRow) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPuts > 0 {
		m.failPuts--
		return errors.New("database unreachable")
	}
	m.puts++
	m.rows[r.Collection+"|"+r.ObjectID] = r
	return nil
}

func (m *memStore) StixObjects(context.Context, store.StixQuery) ([]store.StixRow, error) {
	return nil, nil
}

func (m *memStore) indicator(c string, ind indicator.Indicator) *store.StixRow {
	r, _ := m.LatestStixObject(context.Background(), c, stix.IndicatorID(ind))
	return r
}

func answer(level indicator.Level, score int) []*lookup.Result {
	return []*lookup.Result{{Provider: "abuseipdb", Status: lookup.StatusOK, FetchedAt: time.Now(),
		Verdict: provider.Assessment{Level: level, Score: score, Reason: "reported"}}}
}

// TestPublisherWritesChangesOnly observes one value's lookups as an API
// answering them from the cache would: the same verdict again and again,
// then a changed score, then a verdict that no longer qualifies. Each
// change is a new version, nothing else is written, and an observation
// whose write failed is written when the same verdict comes again.
func TestPublisherWritesChangesOnly(t *testing.T) {
	t.Parallel()
	st := &memStore{rows: map[string]store.StixRow{}, failPuts: 1}
	p := NewPublisher(st, soc.Exporter{}, stix.Amber, nil)
	ind := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"}
	settle := func() { // the writer works in the background; Close drains it
		t.Helper()
		p.Close()
		p.mu.Lock()
		p.closed = false
		p.queue, p.done = make(chan observation, queueSize), make(chan struct{})
		p.mu.Unlock()
		go p.run()
	}

	p.Observe(ind, answer(indicator.Malicious, 90), true) // the write fails
	settle()
	if st.puts != 0 || st.indicator(Malicious, ind) != nil {
		t.Fatalf("after a failed write: %d puts", st.puts)
	}
	for range 5 { // the same verdict: written once, the failure retried
		p.Observe(ind, answer(indicator.Malicious, 90), true)
	}
	settle()
	row := st.indicator(Malicious, ind)
	if row == nil || row.Score != 90 || row.Revoked {
		t.Fatalf("malicious indicator = %+v", row)
	}
	base := st.puts // the marking and identity, then the indicator
	for range 5 {
		p.Observe(ind, answer(indicator.Malicious, 90), true)
	}
	settle()
	if st.puts != base {
		t.Errorf("unchanged verdicts wrote %d rows", st.puts-base)
	}
	p.Observe(ind, answer(indicator.Malicious, 95), true) // a new score: a new version
	settle()
	if row := st.indicator(Malicious, ind); row == nil || row.Score != 95 || st.puts != base+1 {
		t.Fatalf("after a new score: %+v, %d puts", row, st.puts-base)
	}
	p.Observe(ind, answer(indicator.Benign, 0), false) // partial and benign: proves nothing
	settle()
	if row := st.indicator(Malicious, ind); row.Revoked || st.puts != base+1 {
		t.Fatalf("a partial benign lookup changed the collection: %+v", row)
	}
	p.Observe(ind, answer(indicator.Benign, 0), true) // complete and benign: revoked
	settle()
	if row := st.indicator(Malicious, ind); !row.Revoked || st.puts != base+2 {
		t.Fatalf("after a complete benign lookup: %+v, %d puts", row, st.puts-base)
	}
	p.Close()
}
