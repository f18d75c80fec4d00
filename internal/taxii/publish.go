package taxii

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
	"github.com/inspector-gadget/gadget/internal/store"
)

// Store keeps the collections' objects: one row per (collection, object),
// holding its latest version, read in pages by keyset.
type Store interface {
	LatestStixObject(ctx context.Context, collection, objectID string) (*store.StixRow, error)
	PutStixObject(ctx context.Context, row store.StixRow) error
	StixObjects(ctx context.Context, q store.StixQuery) ([]store.StixRow, error)
}

// The verdict collections.
const (
	Malicious  = "malicious"
	Suspicious = "suspicious"
)

// Publisher puts the verdicts of lookups into the TAXII collections, in
// the background: a lookup never waits for it. A value found MALICIOUS
// (SUSPICIOUS) gets its indicator in that collection, a new version when
// its score changes; a verdict that no longer qualifies, from a lookup of
// every provider, revokes it there.
type Publisher struct {
	store  Store
	export soc.Exporter
	tlp    string
	log    *slog.Logger
	now    func() time.Time
	queue  chan observation
	done   chan struct{}
	mu     sync.Mutex
	state  map[string]string // collection + object id → "level:score" last written (bounded)
	// published is, per indicator, the last observation published without
	// error: an identical one (the same cached lookup again) would change
	// nothing, so it is not queued (bounded like state)
	published map[indicator.Indicator]outcome
	closed    bool
}

type observation struct {
	ind     indicator.Indicator
	results []*lookup.Result
	outcome
}

// outcome is what publishing an observation depends on.
type outcome struct {
	level    indicator.Level
	score    int
	complete bool // every provider serving the kind was asked and none is pending
}

// queueSize bounds the observations waiting to be written; past it they are
// dropped (and logged): a burst of lookups never blocks on the database.
const queueSize = 4096

// NewPublisher starts the publisher's writer; Close stops it.
func NewPublisher(s Store, export soc.Exporter, tlp string, log *slog.Logger) *Publisher {
	p := &Publisher{store: s, export: export, tlp: tlp, log: soc.Logger(log), now: time.Now,
		queue: make(chan observation, queueSize), done: make(chan struct{}), state: map[string]string{},
		published: map[indicator.Indicator]outcome{}}
	go p.run()
	return p
}

// Observe notes a lookup's answers.
func (p *Publisher) Observe(ind indicator.Indicator, results []*lookup.Result, complete bool) {
	v := lookup.CombineLevel(results) // level and score: the reasons are not published
	o := outcome{level: v.Level, score: v.Score, complete: complete}
	p.mu.Lock()
	defer p.mu.Unlock()
	if last, ok := p.published[ind]; p.closed || (ok && last == o) {
		return
	}
	select {
	// the caller may still replace entries of its slice (a PENDING copy for a
	// timed-out provider): the writer reads its own copy
	case p.queue <- observation{ind: ind, results: append([]*lookup.Result(nil), results...), outcome: o}:
	default:
		p.log.Warn("taxii publisher queue full; a verdict was not published")
	}
}

// Close writes what is queued and stops.
func (p *Publisher) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	<-p.done
}

func (p *Publisher) run() {
	defer close(p.done)
	for o := range p.queue {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := p.publish(ctx, o); err != nil {
			p.log.Error("taxii publish", "err", err)
		} else {
			p.mu.Lock()
			keep(p.published, o.ind, o.outcome)
			p.mu.Unlock()
		}
		cancel()
	}
}

// collectionOf is the verdict collection of a level ("" none).
func collectionOf(l indicator.Level) string {
	switch l {
	case indicator.Malicious:
		return Malicious
	case indicator.Suspicious:
		return Suspicious
	}
	return ""
}

func (p *Publisher) publish(ctx context.Context, o observation) error {
	want := collectionOf(o.level)
	if want == "" && !o.complete {
		return nil // a partial lookup that found nothing proves nothing
	}
	id := stix.IndicatorID(o.ind)
	for _, c := range []string{Malicious, Suspicious} {
		key := c + "|" + id
		state := ""
		if c == want {
			state = o.level.String() + ":" + strconv.Itoa(o.score)
		}
		p.mu.Lock()
		last, known := p.state[key]
		p.mu.Unlock()
		if !known {
			row, err := p.store.LatestStixObject(ctx, c, id)
			if err != nil {
				return err
			}
			if row != nil && !row.Revoked {
				last = row.Level + ":" + strconv.Itoa(row.Score)
			}
		}
		if last == state {
			p.remember(key, state)
			continue
		}
		now := p.now().UTC().Truncate(time.Millisecond)
		var obj stix.Object
		if state == "" { // no longer qualifies here: a revoked version
			if last == "" {
				p.remember(key, state)
				continue
			}
			row, err := p.store.LatestStixObject(ctx, c, id)
			if err != nil || row == nil {
				return err
			}
			if err := json.Unmarshal(row.Object, &obj); err != nil {
				return err
			}
			obj["revoked"] = true
			obj["modified"] = stamp(now, row.Version)
		} else {
			if err := p.ensureBase(ctx, c, now); err != nil {
				return err
			}
			for _, x := range p.export.Objects(ctx, o.ind, o.results, p.tlp) {
				if x["type"] == "indicator" {
					obj = x
				}
			}
			obj["created"], obj["modified"] = stamp(now, time.Time{}), stamp(now, time.Time{})
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		mod, _ := time.Parse(time.RFC3339Nano, obj["modified"].(string))
		row := store.StixRow{Collection: c, ObjectID: id, ObjectType: "indicator", Version: mod, DateAdded: now,
			Revoked: state == "", Level: strings.SplitN(state, ":", 2)[0], Score: o.score, Object: b}
		if err := p.store.PutStixObject(ctx, row); err != nil {
			return err
		}
		p.remember(key, state)
	}
	return nil
}

// stamp is a STIX timestamp at now, later than prev when prev is set
// (a new version's modified must exceed the last).
func stamp(now, prev time.Time) string {
	if !prev.IsZero() && !now.After(prev) {
		now = prev.Add(time.Millisecond)
	}
	return now.UTC().Format("2006-01-02T15:04:05.000Z")
}

// ensureBase puts this service's identity and the marking into collection
// c once, so every reference of its indicators resolves.
func (p *Publisher) ensureBase(ctx context.Context, c string, now time.Time) error {
	for _, obj := range []stix.Object{stix.Marking(p.tlp), stix.Identity(p.tlp)} {
		id := obj["id"].(string)
		key := c + "|" + id
		p.mu.Lock()
		_, known := p.state[key]
		p.mu.Unlock()
		if known {
			continue
		}
		row, err := p.store.LatestStixObject(ctx, c, id)
		if err != nil {
			return err
		}
		if row == nil {
			b, _ := json.Marshal(obj)
			created, _ := time.Parse(time.RFC3339Nano, obj["created"].(string))
			if err := p.store.PutStixObject(ctx, store.StixRow{Collection: c, ObjectID: id, ObjectType: obj["type"].(string),
				Version: created, DateAdded: now, Object: b}); err != nil {
				return err
			}
		}
		p.remember(key, "base")
	}
	return nil
}

// maxState bounds the remembered states; past it they are forgotten (and
// read again from storage when next needed).
const maxState = 100_000

func (p *Publisher) remember(key, state string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep(p.state, key, state)
}

// keep sets m[k] = v, emptying m first when it holds maxState entries, so
// the publisher's memory stays bounded (a forgotten state is read again
// from storage, a forgotten publication is published again).
func keep[K comparable, V any](m map[K]V, k K, v V) {
	if len(m) >= maxState {
		clear(m)
	}
	m[k] = v
}

// Observed wraps svc so that every lookup's full answer (All) is noted
// by pub.
func Observed(svc lookup.Service, pub *Publisher) lookup.Service {
	if pub == nil {
		return svc
	}
	return observedService{Service: svc, pub: pub}
}

type observedService struct {
	lookup.Service
	pub *Publisher
}

func (s observedService) Begin(ind indicator.Indicator, opts lookup.Options) lookup.Session {
	return observedSession{Session: s.Service.Begin(ind, opts), pub: s.pub}
}

type observedSession struct {
	lookup.Session
	pub *Publisher
}

func (s observedSession) All(ctx context.Context, names []string) []*lookup.Result {
	return s.observe(names, s.Session.All(ctx, names))
}

func (s observedSession) AllWithin(ctx context.Context, names []string, maxAge time.Duration) []*lookup.Result {
	return s.observe(names, s.Session.AllWithin(ctx, names, maxAge))
}

// observe hands a full answer to the publisher; complete when every
// provider of the kind was asked and none is still pending.
func (s observedSession) observe(names []string, rs []*lookup.Result) []*lookup.Result {
	complete := len(names) == 0
	for _, r := range rs {
		if r.Status == lookup.StatusPending || r.Status == lookup.StatusTimeout {
			complete = false
		}
	}
	s.pub.Observe(s.Session.Indicator(), rs, complete)
	return rs
}

// CollectionID is the deterministic id of a collection name.
func CollectionID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/inspector-gadget/gadget/taxii/collection/"+name)).String()
}
