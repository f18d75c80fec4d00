package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/policy"
	"github.com/inspector-gadget/gadget/internal/soc"
	"github.com/inspector-gadget/gadget/internal/stix"
	"github.com/inspector-gadget/gadget/internal/store"
)

// BlockLists are the house's lists (the policy service): every BLOCK list
// is a TAXII collection of one indicator per entry.
type BlockLists interface {
	Lists(ctx context.Context) ([]policy.List, error)
	Entries(ctx context.Context, list, after string, limit int) ([]*policy.Entry, error)
}

// ListStore is what the list sync needs of storage beyond Store.
type ListStore interface {
	Store
	StixObjectStates(ctx context.Context, collection string) (map[string]bool, error)
	PutStixObjects(ctx context.Context, rows []store.StixRow) error
}

// listPrefix names a block-list's collection: "list:" + the list's name.
const listPrefix = "list:"

// ListCollection is the collection name of block-list name.
func ListCollection(name string) string { return listPrefix + name }

// blockCollections are the collections of the BLOCK lists in ls.
func blockCollections(ls []policy.List) []collection {
	var out []collection
	for _, l := range ls {
		if l.Effect != policy.Block {
			continue
		}
		desc := "Indicators of the entries of this organisation's block-list " + l.Name
		if l.Description != "" {
			desc += ": " + l.Description
		}
		out = append(out, collection{name: ListCollection(l.Name), title: "Inspector Gadget block-list: " + l.Name,
			description: desc + ". An entry removed from the list is published again revoked."})
	}
	return out
}

// ListSync keeps the block-list collections in step with the lists: each
// entry an indicator, a removed entry its revoked version. It compares a
// list only when the list's last change differs from what it last synced,
// so other processes' changes arrive within one interval.
type ListSync struct {
	store  ListStore
	lists  BlockLists
	tlp    string
	log    *slog.Logger
	now    func() time.Time
	mu     sync.Mutex           // one sync at a time
	synced map[string]time.Time // list → UpdatedAt last synced
}

// NewListSync returns a sync of lists into s, marking objects tlp.
func NewListSync(s ListStore, lists BlockLists, tlp string, log *slog.Logger) *ListSync {
	return &ListSync{store: s, lists: lists, tlp: tlp, log: soc.Logger(log), now: time.Now, synced: map[string]time.Time{}}
}

// Run syncs now and then every interval until ctx ends.
func (s *ListSync) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "taxii: block-list sync failed; retrying at the next interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync brings every changed BLOCK list's collection up to date.
func (s *ListSync) Sync(ctx context.Context) error {
	ls, err := s.lists.Lists(ctx)
	if err != nil {
		return err
	}
	return s.sync(ctx, ls, "")
}

// sync brings the changed BLOCK lists of ls (only the one named only,
// when set) up to date.
func (s *ListSync) sync(ctx context.Context, ls []policy.List, only string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range ls {
		if l.Effect != policy.Block || (only != "" && l.Name != only) || s.synced[l.Name].Equal(l.UpdatedAt) && !l.UpdatedAt.IsZero() {
			continue
		}
		if err := s.syncList(ctx, l); err != nil {
			return fmt.Errorf("list %s: %w", l.Name, err)
		}
		s.synced[l.Name] = l.UpdatedAt
	}
	return nil
}

// syncPage is how many entries are read and written at a time.
const syncPage = 1000

func (s *ListSync) syncList(ctx context.Context, l policy.List) error {
	c := ListCollection(l.Name)
	stored, err := s.store.StixObjectStates(ctx, c)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var base []store.StixRow
	for _, obj := range []stix.Object{stix.Marking(s.tlp), stix.Identity(s.tlp)} {
		id := obj["id"].(string)
		if _, ok := stored[id]; !ok {
			base = append(base, row(c, obj, now, false))
		}
		delete(stored, id) // not an entry: never revoked here
	}
	if len(base) > 0 {
		if err := s.store.PutStixObjects(ctx, base); err != nil {
			return err
		}
	}
	after := ""
	for {
		es, err := s.lists.Entries(ctx, l.Name, after, syncPage)
		if err != nil {
			return err
		}
		var add []store.StixRow
		for _, e := range es {
			id := EntryIndicatorID(l.Name, e.Value)
			revoked, known := stored[id]
			delete(stored, id)
			if known && !revoked {
				continue
			}
			obj := EntryIndicator(l, e, s.tlp, now)
			if known { // re-added after a removal: a new version of the revoked object
				if err := s.store.PutStixObject(ctx, row(c, obj, now, false)); err != nil {
					return err
				}
				continue
			}
			add = append(add, row(c, obj, now, false))
		}
		if len(add) > 0 {
			if err := s.store.PutStixObjects(ctx, add); err != nil {
				return err
			}
		}
		if len(es) < syncPage {
			break
		}
		after = es[len(es)-1].Value
	}
	// what is stored and no longer listed: its revoked version
	for id, revoked := range stored {
		if revoked {
			continue
		}
		last, err := s.store.LatestStixObject(ctx, c, id)
		if err != nil || last == nil {
			return err
		}
		var obj stix.Object
		if err := json.Unmarshal(last.Object, &obj); err != nil {
			return err
		}
		obj["revoked"] = true
		obj["modified"] = stamp(now, last.Version)
		if err := s.store.PutStixObject(ctx, row(c, obj, now, true)); err != nil {
			return err
		}
	}
	return nil
}

// row is obj stored in collection c, added at now.
func row(c string, obj stix.Object, now time.Time, revoked bool) store.StixRow {
	b, _ := json.Marshal(obj)
	mod, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(obj["modified"]))
	if mod.IsZero() {
		mod, _ = time.Parse(time.RFC3339Nano, fmt.Sprint(obj["created"]))
	}
	r := store.StixRow{Collection: c, ObjectID: obj["id"].(string), ObjectType: obj["type"].(string),
		Version: mod, DateAdded: now, Revoked: revoked, Object: b}
	if obj["type"] == "indicator" && !revoked {
		r.Level, r.Score = "MALICIOUS", 100
	}
	return r
}

// EntryIndicatorID is the deterministic indicator id of a list entry.
func EntryIndicatorID(list, value string) string {
	return "indicator--" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/inspector-gadget/gadget/taxii/list/"+list+"/"+value)).String()
}

// EntryIndicator is the STIX indicator of a block-list entry: its value as
// a pattern (a CIDR as ISSUBSET, a domain suffix as the name and its
// subdomains, a URL prefix as LIKE), valid from the entry's creation until
// its expiry.
func EntryIndicator(l policy.List, e *policy.Entry, tlp string, now time.Time) stix.Object {
	created := e.CreatedAt
	if created.IsZero() {
		created = now
	}
	at := created.UTC().Format("2006-01-02T15:04:05.000Z")
	desc := "On the block-list " + l.Name
	if e.Reason != "" {
		desc += ": " + e.Reason
	}
	if e.Owner != "" {
		desc += " (added by " + e.Owner + ")"
	}
	o := stix.Object{"type": "indicator", "spec_version": "2.1", "id": EntryIndicatorID(l.Name, e.Value),
		"created": at, "modified": at, "created_by_ref": stix.IdentityID,
		"name": "Block-list " + l.Name + ": " + strings.TrimSuffix(strings.TrimSuffix(e.Value, "/32"), "/128"), "description": desc,
		"indicator_types": []string{"malicious-activity"},
		"pattern":         EntryPattern(e), "pattern_type": "stix", "pattern_version": "2.1",
		"valid_from": at, "confidence": 100,
		"labels":              []string{"inspector-gadget", "block-list", l.Name},
		"object_marking_refs": []string{stix.MarkingID(tlp)},
	}
	if !e.ExpiresAt.IsZero() {
		o["valid_until"] = e.ExpiresAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return o
}

// EntryPattern is the STIX pattern of a list entry.
func EntryPattern(e *policy.Entry) string {
	v := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(e.Value)
	switch e.Type {
	case policy.CIDR:
		typ := "ipv4-addr"
		if strings.Contains(v, ":") {
			typ = "ipv6-addr"
		}
		if strings.HasSuffix(v, "/32") || strings.HasSuffix(v, "/128") {
			return fmt.Sprintf("[%s:value = '%s']", typ, v[:strings.LastIndex(v, "/")])
		}
		return fmt.Sprintf("[%s:value ISSUBSET '%s']", typ, v)
	case policy.DomainSuffix:
		return fmt.Sprintf("[domain-name:value = '%s' OR domain-name:value LIKE '%%.%s']", v, v)
	case policy.URLPrefix:
		return fmt.Sprintf("[url:value = '%s' OR url:value LIKE '%s%%']", v, v)
	}
	alg := "SHA-256"
	switch len(e.Value) {
	case 32:
		alg = "MD5"
	case 40:
		alg = "SHA-1"
	}
	return fmt.Sprintf("[file:hashes.'%s' = '%s']", alg, v)
}
