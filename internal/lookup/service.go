package lookup

import (
	"context"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Service starts lookups; the enrichment engine implements it.
type Service interface {
	// Begin starts the lookup of ind; nothing is asked until Get or All.
	Begin(ind indicator.Indicator, opts Options) Session
	// Deadline bounds each lookup.
	Deadline() time.Duration
}

// Session is one indicator's lookup within one request: each provider is
// asked at most once, however many fields select it.
type Session interface {
	Indicator() indicator.Indicator
	// Providers are the live providers that serve the indicator's kind.
	Providers() []string
	// Get returns provider name's answer, asking it the first time.
	Get(ctx context.Context, name string) *Result
	// All asks the given providers (all that serve the kind when names is
	// empty) concurrently and returns their answers in that order.
	All(ctx context.Context, names []string) []*Result
	// AllWithin is All where a cached answer older than maxAge does not
	// count: that provider is asked again (or, under CachedOnly, is
	// PENDING). maxAge ≤ 0 is All.
	AllWithin(ctx context.Context, names []string, maxAge time.Duration) []*Result
	// Start asks the given providers without waiting: an answer that needs
	// no waiting is delivered at once, the others are asked in the
	// background, and Get waits for them. Callers that read answers one
	// after another (GraphQL's typed provider fields) start them first, so
	// that cold providers are asked together.
	Start(ctx context.Context, names []string)
	// Local is what the house's lists say of the indicator (Judge applies
	// it to the combined verdict); a wrapper keeps it by embedding.
	Local() Local
}

// Options tune one lookup.
type Options struct {
	Fresh bool // bypass the cache read (the answer still refreshes it)
	// CachedOnly answers from the cache alone: no upstream call, no job;
	// what is not cached is PENDING ("not cached").
	CachedOnly bool
	Caller     Caller
	// TLP is the lookup's TLP (zero: the configured default); a provider
	// whose maximum is lower answers from the cache only.
	TLP indicator.TLP
	// Playbook, when set, limits the providers to the playbook's members
	// (the transport checks the name first).
	Playbook string
	// Batch, when set, is shared by the lookups of one batch request and
	// bounds how many of them work at once, so a thousand indicators do not
	// hold a thousand fan-outs (goroutines, buffers) at the same time.
	Batch *Batch
}

// Batch bounds the lookups of one batch request that work at once.
type Batch struct{ slots chan struct{} }

// NewBatch allows n lookups of a batch to work at once.
func NewBatch(n int) *Batch { return &Batch{slots: make(chan struct{}, max(n, 1))} }

// Enter takes a slot; false when ctx ended first. A nil Batch always
// has one.
func (b *Batch) Enter(ctx context.Context) bool {
	if b == nil {
		return true
	}
	select {
	case b.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// Leave gives back the slot Enter took.
func (b *Batch) Leave() {
	if b != nil {
		<-b.slots
	}
}

// ProviderStatus is one provider's state, as /api/status, the GraphQL
// status and the portal's overview show it.
type ProviderStatus struct {
	Name       string   `json:"name"`
	Enabled    bool     `json:"enabled"`
	Configured bool     `json:"configured"`
	Kinds      []string `json:"kinds"`
	Keyless    bool     `json:"-"` // needs no API key
	Rate       string   `json:"-"` // the shared budget, e.g. "4/m"
	Budget     string   `json:"-"` // the daily budget beside it, e.g. "500/d"; "" when none
	// Remaining is what is left of the daily budget when one is set, else
	// of the rate's bucket; nil when unlimited or unknown.
	Remaining *int `json:"remaining,omitempty"`
	// ResetsAt is when that budget is whole again; nil when it is whole.
	ResetsAt *time.Time `json:"resets_at,omitempty"`
	// Datasets are the data sets a local provider answers from, with their
	// age and size; empty for providers that call a service.
	Datasets []provider.DatasetStatus `json:"datasets,omitempty"`
}
