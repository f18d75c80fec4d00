package policy

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, for tests and for tools that have no
// database: lists and playbooks only (it keeps no sightings).
type MemoryStore struct {
	mu        sync.Mutex
	lists     map[string]List
	entries   map[string]map[string]*Entry
	playbooks map[string]Playbook
	deleted   map[string]bool
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{lists: map[string]List{}, entries: map[string]map[string]*Entry{},
		playbooks: map[string]Playbook{}, deleted: map[string]bool{}}
}

var _ Store = (*MemoryStore)(nil)

// Lists implements Store.
func (m *MemoryStore) Lists(context.Context) ([]List, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]List, 0, len(m.lists))
	for _, l := range m.lists {
		l.Entries = len(m.entries[l.Name])
		out = append(out, l)
	}
	slices.SortFunc(out, func(a, b List) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ListEntries implements Store.
func (m *MemoryStore) ListEntries(ctx context.Context, list string) ([]*Entry, error) {
	return m.EntriesPage(ctx, list, "", 0)
}

// EntriesPage implements Store.
func (m *MemoryStore) EntriesPage(_ context.Context, list, after string, limit int) ([]*Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Entry
	for _, e := range m.entries[list] {
		if e.Value > after {
			c := *e
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *Entry) int { return strings.Compare(a.Value, b.Value) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CreateList implements Store.
func (m *MemoryStore) CreateList(_ context.Context, l List) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.lists[l.Name]; ok {
		return ErrExists
	}
	m.lists[l.Name] = l
	m.entries[l.Name] = map[string]*Entry{}
	return nil
}

// DeleteList implements Store.
func (m *MemoryStore) DeleteList(_ context.Context, name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.lists[name]
	delete(m.lists, name)
	delete(m.entries, name)
	return ok, nil
}

// PutEntries implements Store.
func (m *MemoryStore) PutEntries(_ context.Context, list string, es []*Entry, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lists[list]
	if !ok {
		return ErrNotFound
	}
	for _, e := range es {
		c := *e
		m.entries[list][e.Value] = &c
	}
	l.UpdatedAt = at
	m.lists[list] = l
	return nil
}

// RemoveEntries implements Store.
func (m *MemoryStore) RemoveEntries(_ context.Context, list string, values []string, at time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.lists[list]
	if !ok {
		return 0, ErrNotFound
	}
	n := 0
	for _, v := range values {
		if _, ok := m.entries[list][v]; ok {
			delete(m.entries[list], v)
			n++
		}
	}
	l.UpdatedAt = at
	m.lists[list] = l
	return n, nil
}

// Playbooks implements Store.
func (m *MemoryStore) Playbooks(context.Context) ([]Playbook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Playbook, 0, len(m.playbooks))
	for _, p := range m.playbooks {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Playbook) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// PutPlaybook implements Store.
func (m *MemoryStore) PutPlaybook(_ context.Context, p Playbook) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.playbooks[p.Name] = p
	delete(m.deleted, p.Name)
	return nil
}

// DeletePlaybook implements Store.
func (m *MemoryStore) DeletePlaybook(_ context.Context, name string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.playbooks[name]
	delete(m.playbooks, name)
	m.deleted[name] = true
	return ok, nil
}

// SeedPlaybooks implements Store.
func (m *MemoryStore) SeedPlaybooks(_ context.Context, ps []Playbook) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range ps {
		if _, ok := m.playbooks[p.Name]; !ok && !m.deleted[p.Name] {
			m.playbooks[p.Name] = p
		}
	}
	return nil
}

// SightingSummary implements Store: nothing is kept.
func (m *MemoryStore) SightingSummary(context.Context, string, string) (Summary, error) {
	return Summary{}, nil
}

// Sightings implements Store: nothing is kept.
func (m *MemoryStore) Sightings(context.Context, string, string, string, int) ([]Sighting, error) {
	return []Sighting{}, nil
}

// Annotate implements Store: there is no sighting to annotate.
func (m *MemoryStore) Annotate(context.Context, Annotation, string) (Sighting, error) {
	return Sighting{}, ErrNotFound
}
