// Package policy is what the house knows and decides before any provider
// is asked: allow-lists and block-lists (compiled into a Matcher), TLP 2.0
// (each provider's maximum), playbooks (named provider sets) and the
// sightings of earlier lookups.
//
// The engine asks the Service for a Decision when a lookup begins; the
// Decision says, per provider, whether it is skipped (a never-send list,
// outside the playbook), limited to the cache (a block-list, a TLP above
// the provider's maximum) or asked; and what the lists do to the combined
// verdict (raised to MALICIOUS, capped at BENIGN). docs/policy.md gives
// the order.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// ErrNotFound is returned by a Store for a list, playbook or sighting
// that does not exist; ErrExists for a list created twice.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// Store keeps lists, playbooks and sightings (package store).
type Store interface {
	// Lists are every list with its entry count, by name.
	Lists(ctx context.Context) ([]List, error)
	// ListEntries are every entry of a list, expired ones included.
	ListEntries(ctx context.Context, list string) ([]*Entry, error)
	// EntriesPage is up to limit entries of a list after the value after,
	// by value.
	EntriesPage(ctx context.Context, list, after string, limit int) ([]*Entry, error)
	CreateList(ctx context.Context, l List) error
	DeleteList(ctx context.Context, name string) (bool, error)
	// PutEntries adds entries to a list, replacing those of the same value
	// (ErrNotFound when the list does not exist).
	PutEntries(ctx context.Context, list string, entries []*Entry, at time.Time) error
	RemoveEntries(ctx context.Context, list string, values []string, at time.Time) (int, error)

	// Playbooks are the live playbooks, by name.
	Playbooks(ctx context.Context) ([]Playbook, error)
	PutPlaybook(ctx context.Context, p Playbook) error
	DeletePlaybook(ctx context.Context, name string, at time.Time) (bool, error)
	// SeedPlaybooks inserts playbooks whose name was never stored (a
	// deleted one is not brought back).
	SeedPlaybooks(ctx context.Context, ps []Playbook) error

	SightingSummary(ctx context.Context, kind, value string) (Summary, error)
	// Sightings are the latest sightings of a value, newest first, only
	// username's when username is not empty.
	Sightings(ctx context.Context, kind, value, username string, limit int) ([]Sighting, error)
	// Annotate sets the note and/or verdict of a sighting and makes the
	// verdict the value's latest manual verdict; with author set, only a
	// sighting of that user's (else ErrNotFound).
	Annotate(ctx context.Context, a Annotation, author string) (Sighting, error)
}

// Events tells every process of a change to a list ("list:<name>") or a
// playbook ("playbook:<name>"): PostgreSQL LISTEN/NOTIFY, or a poll of
// the change times on SQLite.
type Events interface {
	Publish(ctx context.Context, what string) error
	Listen(ctx context.Context, changed func(what string), synced func(ok bool)) error
}

// Config wires a Service.
type Config struct {
	Store      Store              // required
	Events     Events             // optional: changes made by other processes
	Registry   *provider.Registry // the live providers (playbook members, maximum TLPs)
	DefaultTLP indicator.TLP      // GADGET_DEFAULT_TLP (default AMBER)
	// MaxTLP overrides providers' maximum TLP (GADGET_<P>_MAX_TLP).
	MaxTLP map[string]indicator.TLP
	Logger *slog.Logger
	Now    func() time.Time
}

// Service applies and manages lists, TLP, playbooks and sightings.
type Service struct {
	cfg       Config
	matcher   atomic.Pointer[Matcher]
	playbooks atomic.Pointer[map[string]*Playbook]
	// mu serialises rebuilds, each from its read of the store to its swap:
	// a reload that read before a change cannot replace one that read after
	mu sync.Mutex
}

// New returns a Service with nothing loaded (Load).
func New(c Config) (*Service, error) {
	if c.Store == nil {
		return nil, errors.New("policy: a store is required")
	}
	if c.DefaultTLP == 0 {
		c.DefaultTLP = indicator.TLPAmber
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	s := &Service{cfg: c}
	s.matcher.Store(NewMatcher())
	empty := map[string]*Playbook{}
	s.playbooks.Store(&empty)
	return s, nil
}

// Load seeds the built-in playbooks and compiles every list and playbook.
func (s *Service) Load(ctx context.Context) error {
	if err := s.cfg.Store.SeedPlaybooks(ctx, BuiltIns); err != nil {
		return fmt.Errorf("policy: seed playbooks: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadPlaybooks(ctx); err != nil {
		return err
	}
	lists, err := s.cfg.Store.Lists(ctx)
	if err != nil {
		return fmt.Errorf("policy: lists: %w", err)
	}
	var idx []*Index
	for _, l := range lists {
		es, err := s.cfg.Store.ListEntries(ctx, l.Name)
		if err != nil {
			return fmt.Errorf("policy: list %s: %w", l.Name, err)
		}
		idx = append(idx, Compile(l, es))
	}
	s.matcher.Store(NewMatcher(idx...))
	return nil
}

// Run follows changes made by other processes until ctx ends, recompiling
// what changed; after a lost connection it reloads everything.
func (s *Service) Run(ctx context.Context) {
	if s.cfg.Events == nil {
		return
	}
	for ctx.Err() == nil {
		err := s.cfg.Events.Listen(ctx, func(what string) {
			if err := s.reload(ctx, what); err != nil && ctx.Err() == nil {
				s.cfg.Logger.WarnContext(ctx, "policy: reload failed", "what", what, "err", err)
			}
		}, func(ok bool) {
			if ok {
				if err := s.Load(ctx); err != nil && ctx.Err() == nil {
					s.cfg.Logger.WarnContext(ctx, "policy: reload failed", "err", err)
				}
			}
		})
		if ctx.Err() != nil {
			return
		}
		s.cfg.Logger.WarnContext(ctx, "policy: change events lost; listening again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Service) reload(ctx context.Context, what string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind, name, _ := strings.Cut(what, ":")
	if kind == "playbook" {
		return s.reloadPlaybooks(ctx)
	}
	return s.reloadList(ctx, name)
}

// reloadList compiles one list again from the store (or drops it).
func (s *Service) reloadList(ctx context.Context, name string) error {
	lists, err := s.cfg.Store.Lists(ctx)
	if err != nil {
		return err
	}
	var x *Index
	for _, l := range lists {
		if l.Name == name {
			es, err := s.cfg.Store.ListEntries(ctx, name)
			if err != nil {
				return err
			}
			x = Compile(l, es)
		}
	}
	s.matcher.Store(s.matcher.Load().Replace(name, x))
	return nil
}

func (s *Service) reloadPlaybooks(ctx context.Context) error {
	ps, err := s.cfg.Store.Playbooks(ctx)
	if err != nil {
		return fmt.Errorf("policy: playbooks: %w", err)
	}
	m := make(map[string]*Playbook, len(ps))
	for i := range ps {
		m[ps[i].Name] = &ps[i]
	}
	s.playbooks.Store(&m)
	return nil
}

// changed recompiles what this process changed and tells the others.
func (s *Service) changed(ctx context.Context, what string) error {
	if err := s.reload(ctx, what); err != nil {
		return errcode.Wrap(err)
	}
	if s.cfg.Events != nil {
		if err := s.cfg.Events.Publish(ctx, what); err != nil {
			s.cfg.Logger.WarnContext(ctx, "policy: change not announced; other processes see it at their next reload", "what", what, "err", err)
		}
	}
	return nil
}

// Matcher is the compiled lists in force.
func (s *Service) Matcher() *Matcher { return s.matcher.Load() }

// DefaultTLP is the TLP of a lookup that names none and uses no playbook
// with its own.
func (s *Service) DefaultTLP() indicator.TLP { return s.cfg.DefaultTLP }

// MaxTLP is provider d's maximum TLP: configured, or its descriptor's.
func (s *Service) MaxTLP(d provider.Descriptor) indicator.TLP {
	if t, ok := s.cfg.MaxTLP[d.Name]; ok && t != 0 {
		return t
	}
	return d.MaxTLPOrDefault()
}

// Playbook returns a live playbook by name.
func (s *Service) Playbook(name string) (*Playbook, bool) {
	p, ok := (*s.playbooks.Load())[name]
	return p, ok
}

// Options checks a request's TLP and playbook (either may be empty) and
// returns the TLP its lookups carry: the given one, else the playbook's
// default, else the configured default. An unknown TLP or playbook is a
// BAD_REQUEST on the field.
func (s *Service) Options(tlp, playbook string) (indicator.TLP, string, error) {
	var t indicator.TLP
	if tlp != "" {
		var err error
		if t, err = indicator.ParseTLP(tlp); err != nil {
			return 0, "", errcode.Field("tlp", err.Error())
		}
	}
	if playbook != "" {
		p, ok := s.Playbook(playbook)
		if !ok {
			return 0, "", errcode.Field("playbook", fmt.Sprintf("unknown playbook %q: see playbooks", cut(playbook, 64)))
		}
		if t == 0 {
			t = p.DefaultTLP
		}
	}
	if t == 0 {
		t = s.cfg.DefaultTLP
	}
	return t, playbook, nil
}

// Decision is what policy decided for one indicator's lookup.
type Decision struct {
	TLP      indicator.TLP
	Playbook *Playbook // nil: every provider
	Matches
	s *Service
}

// Decide matches ind against the lists and fixes the lookup's TLP
// (default when zero) and playbook (by name; "" or unknown: none).
func (s *Service) Decide(ind indicator.Indicator, tlp indicator.TLP, playbook string) *Decision {
	if tlp == 0 {
		tlp = s.cfg.DefaultTLP
	}
	d := &Decision{TLP: tlp, s: s, Matches: s.matcher.Load().Match(ind, s.cfg.Now())}
	if playbook != "" {
		d.Playbook, _ = s.Playbook(playbook)
	}
	return d
}

// Provider says what the lookup may do with provider d: skip it (a
// reason; nothing is read or sent), answer from the cache only (a
// reason; no upstream call), or both empty: ask it.
func (d *Decision) Provider(desc provider.Descriptor) (skip, cacheOnly string) {
	if d == nil {
		return "", ""
	}
	if m := d.NeverSend; m != nil {
		return "not sent: " + m.describe("listed in"), ""
	}
	if d.Playbook != nil && !d.Playbook.Selects(desc) {
		return fmt.Sprintf("not in playbook %s", d.Playbook.Name), ""
	}
	if m := d.Block; m != nil {
		return "", m.describe("block-listed by") + "; not sent upstream"
	}
	if max := d.s.MaxTLP(desc); d.TLP > max {
		return "", fmt.Sprintf("%s is not shared with %s", d.TLP.Label(), desc.Name)
	}
	return "", ""
}

// Providers filters names (providers serving the kind) to the playbook's
// members; all of them without a playbook.
func (d *Decision) Providers(names []string) []string {
	if d == nil || d.Playbook == nil {
		return names
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if desc, ok := provider.Lookup(n); ok && d.Playbook.Selects(desc) {
			out = append(out, n)
		}
	}
	return out
}

// Block and Good are the verdict's local reasons: a block-list raises it
// to MALICIOUS, an allow-list caps it at BENIGN; Note is a never-send
// list's reason (the value was not looked up).
func (d *Decision) Verdict() (block, good, note string) {
	if d == nil {
		return "", "", ""
	}
	if m := d.Block; m != nil {
		block = m.describe("block-listed by")
	}
	if m := d.KnownGood; m != nil {
		good = m.describe("allow-listed by")
	}
	if m := d.NeverSend; m != nil {
		note = "not sent: " + m.describe("listed in")
	}
	return block, good, note
}

func (m *Match) describe(verb string) string {
	if m.Reason == "" {
		return verb + " " + m.List
	}
	return verb + " " + m.List + ": " + m.Reason
}

// Lists are every list with its entry count.
func (s *Service) Lists(ctx context.Context) ([]List, error) {
	ls, err := s.cfg.Store.Lists(ctx)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return ls, nil
}

// List returns one list.
func (s *Service) List(ctx context.Context, name string) (List, error) {
	ls, err := s.Lists(ctx)
	if err != nil {
		return List{}, err
	}
	for _, l := range ls {
		if l.Name == name {
			return l, nil
		}
	}
	return List{}, errcode.New(errcode.NotFound, fmt.Sprintf("no list %q", cut(name, 64)))
}

// Entries is up to limit entries of a list after the value after.
func (s *Service) Entries(ctx context.Context, list, after string, limit int) ([]*Entry, error) {
	if _, err := s.List(ctx, list); err != nil {
		return nil, err
	}
	es, err := s.cfg.Store.EntriesPage(ctx, list, after, min(max(limit, 1), 10_000))
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return es, nil
}

// CreateList creates an empty list owned by owner.
func (s *Service) CreateList(ctx context.Context, owner, name string, effect Effect, description string) (List, error) {
	if err := ValidName(name); err != nil {
		return List{}, errcode.Field("name", err.Error())
	}
	if _, err := ParseEffect(string(effect)); err != nil {
		return List{}, errcode.Field("effect", err.Error())
	}
	if len(description) > MaxReasonLen {
		return List{}, errcode.Field("description", fmt.Sprintf("at most %d bytes", MaxReasonLen))
	}
	now := s.cfg.Now().UTC()
	l := List{Name: name, Effect: effect, Description: description, Owner: owner, CreatedAt: now, UpdatedAt: now}
	if err := s.cfg.Store.CreateList(ctx, l); err != nil {
		if errors.Is(err, ErrExists) {
			return List{}, errcode.New(errcode.Conflict, fmt.Sprintf("list %q exists", name))
		}
		return List{}, errcode.Wrap(err)
	}
	return l, s.changed(ctx, "list:"+name)
}

// DeleteList deletes a list and its entries.
func (s *Service) DeleteList(ctx context.Context, name string) (bool, error) {
	ok, err := s.cfg.Store.DeleteList(ctx, name)
	if err != nil {
		return false, errcode.Wrap(err)
	}
	if !ok {
		return false, errcode.New(errcode.NotFound, fmt.Sprintf("no list %q", cut(name, 64)))
	}
	return true, s.changed(ctx, "list:"+name)
}

// EntryInput is an entry as given by an administrator.
type EntryInput struct {
	Value     string
	Reason    string
	ExpiresAt time.Time // zero: never
}

// MaxEntriesPerCall bounds one AddEntries call; imports go in chunks.
const MaxEntriesPerCall = 100_000

// AddEntries validates every input (all problems at once, by index) and
// adds them to the list, owned by owner; an existing value is replaced.
func (s *Service) AddEntries(ctx context.Context, owner, list string, in []EntryInput) (List, error) {
	if len(in) > MaxEntriesPerCall {
		return List{}, errcode.Field("entries", fmt.Sprintf("at most %d entries per call", MaxEntriesPerCall))
	}
	if _, err := s.List(ctx, list); err != nil {
		return List{}, err
	}
	now := s.cfg.Now().UTC()
	es := make([]*Entry, 0, len(in))
	var problems []string
	seen := make(map[string]int, len(in))
	for i, e := range in {
		v, typ, err := ParseEntry(e.Value)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("entries[%d]: %v", i, err))
			continue
		case len(e.Reason) > MaxReasonLen:
			problems = append(problems, fmt.Sprintf("entries[%d]: reason longer than %d bytes", i, MaxReasonLen))
			continue
		case !e.ExpiresAt.IsZero() && !e.ExpiresAt.After(now):
			problems = append(problems, fmt.Sprintf("entries[%d]: expiresAt is in the past", i))
			continue
		}
		ent := &Entry{List: list, Value: v, Type: typ, Reason: strings.TrimSpace(e.Reason), Owner: owner, CreatedAt: now, ExpiresAt: e.ExpiresAt.UTC()}
		if j, dup := seen[v]; dup {
			es[j] = ent // the last one given wins
			continue
		}
		seen[v] = len(es)
		es = append(es, ent)
	}
	if len(problems) > 0 {
		if len(problems) > 20 {
			problems = append(problems[:20], fmt.Sprintf("and %d more", len(problems)-20))
		}
		return List{}, errcode.Field("entries", strings.Join(problems, "; "))
	}
	if err := s.cfg.Store.PutEntries(ctx, list, es, now); err != nil {
		return List{}, errcode.Wrap(err)
	}
	if err := s.changed(ctx, "list:"+list); err != nil {
		return List{}, err
	}
	return s.List(ctx, list)
}

// RemoveEntries removes values (in any form ParseEntry reads) from a list.
func (s *Service) RemoveEntries(ctx context.Context, list string, values []string) (List, error) {
	if _, err := s.List(ctx, list); err != nil {
		return List{}, err
	}
	canon := make([]string, 0, len(values))
	for i, v := range values {
		c, _, err := ParseEntry(v)
		if err != nil {
			return List{}, errcode.Field("values", fmt.Sprintf("values[%d]: %v", i, err))
		}
		canon = append(canon, c)
	}
	if _, err := s.cfg.Store.RemoveEntries(ctx, list, canon, s.cfg.Now().UTC()); err != nil {
		return List{}, errcode.Wrap(err)
	}
	if err := s.changed(ctx, "list:"+list); err != nil {
		return List{}, err
	}
	return s.List(ctx, list)
}

// Playbooks are the live playbooks by name.
func (s *Service) Playbooks() []*Playbook {
	m := *s.playbooks.Load()
	return slices.Collect(func(yield func(*Playbook) bool) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !yield(m[k]) {
				return
			}
		}
	})
}

// Members are the live providers a playbook selects.
func (s *Service) Members(p *Playbook) []string {
	if s.cfg.Registry == nil {
		return p.Resolve(provider.Descriptors())
	}
	var ds []provider.Descriptor
	for _, n := range s.cfg.Registry.Names() {
		if pr, ok := s.cfg.Registry.Get(n); ok {
			ds = append(ds, pr.Descriptor())
		}
	}
	return p.Resolve(ds)
}

// PutPlaybook creates or replaces a playbook, owned by owner.
func (s *Service) PutPlaybook(ctx context.Context, owner string, p Playbook) (*Playbook, error) {
	if err := ValidName(p.Name); err != nil {
		return nil, errcode.Field("name", err.Error())
	}
	if len(p.Members) == 0 {
		return nil, errcode.Field("providers", "name at least one provider or selector (tag:…, kind:…, key:…)")
	}
	for _, m := range p.Members {
		if err := ValidMember(m); err != nil {
			return nil, errcode.Field("providers", err.Error())
		}
	}
	if p.MinCoverage < 0 || p.MinCoverage > 100 {
		return nil, errcode.Field("minCoverage", "a percentage, 0–100")
	}
	if len(p.Description) > MaxReasonLen {
		return nil, errcode.Field("description", fmt.Sprintf("at most %d bytes", MaxReasonLen))
	}
	now := s.cfg.Now().UTC()
	p.Owner, p.UpdatedAt, p.BuiltIn = owner, now, false
	if old, ok := s.Playbook(p.Name); ok {
		p.CreatedAt, p.BuiltIn = old.CreatedAt, old.BuiltIn
	} else {
		p.CreatedAt = now
	}
	if err := s.cfg.Store.PutPlaybook(ctx, p); err != nil {
		return nil, errcode.Wrap(err)
	}
	if err := s.changed(ctx, "playbook:"+p.Name); err != nil {
		return nil, err
	}
	out, _ := s.Playbook(p.Name)
	return out, nil
}

// DeletePlaybook deletes a playbook (a built-in stays deleted).
func (s *Service) DeletePlaybook(ctx context.Context, name string) (bool, error) {
	ok, err := s.cfg.Store.DeletePlaybook(ctx, name, s.cfg.Now().UTC())
	if err != nil {
		return false, errcode.Wrap(err)
	}
	if !ok {
		return false, errcode.New(errcode.NotFound, fmt.Sprintf("no playbook %q", cut(name, 64)))
	}
	return true, s.changed(ctx, "playbook:"+name)
}

// Sightings is the summary of a value's sightings.
func (s *Service) Sightings(ctx context.Context, ind indicator.Indicator) (Summary, error) {
	sum, err := s.cfg.Store.SightingSummary(ctx, string(ind.Kind), ind.Value)
	if err != nil {
		return Summary{}, errcode.Wrap(err)
	}
	return sum, nil
}

// Recent are the latest sightings of a value, newest first: everyone's
// when all is set (MON), else only username's.
func (s *Service) Recent(ctx context.Context, ind indicator.Indicator, username string, all bool, limit int) ([]Sighting, error) {
	if !all && username == "" {
		return []Sighting{}, nil
	}
	if all {
		username = ""
	}
	out, err := s.cfg.Store.Sightings(ctx, string(ind.Kind), ind.Value, username, min(max(limit, 1), 100))
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return out, nil
}

// Annotate sets an analyst's note and/or verdict on a sighting; the
// analyst must be its author unless all is set (MON).
func (s *Service) Annotate(ctx context.Context, username string, all bool, id, note string, verdict ManualVerdict) (Sighting, error) {
	if len(note) > MaxNoteLen {
		return Sighting{}, errcode.Field("note", fmt.Sprintf("at most %d bytes", MaxNoteLen))
	}
	if note == "" && verdict == "" {
		return Sighting{}, errcode.Field("note", "give a note, a verdict or both")
	}
	author := username
	if all {
		author = ""
	}
	sg, err := s.cfg.Store.Annotate(ctx, Annotation{SightingID: id, Verdict: verdict, Note: strings.TrimSpace(note),
		Username: username, At: s.cfg.Now().UTC()}, author)
	if errors.Is(err, ErrNotFound) {
		return Sighting{}, errcode.New(errcode.NotFound, "no such sighting of yours")
	}
	if err != nil {
		return Sighting{}, errcode.Wrap(err)
	}
	return sg, nil
}
