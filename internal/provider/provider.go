// Package provider holds the contract every threat-intelligence provider
// implements, the registry of descriptors, typed errors, and one file per
// provider (virustotal.go, abuseipdb.go, ...).
//
// A provider file registers a stateless Descriptor in init(); main builds the
// live providers once with New and keeps them in a Registry.
//
// # Adding a provider
//
// A provider is one file plus its testdata; nothing else names it
// (TestProviderIsOneFile checks):
//
//   - internal/provider/<name>.go: the client, its typed <Type>Summary
//     struct and its verdict function, and an init() that registers the
//     Descriptor: name, kinds, key need, base URL, default rate and cache
//     lifetimes, Summary (a zero <Type>Summary{}), Tags (the portal's
//     presets, e.g. "reputation" or "context"), a one-sentence Description
//     and the VerdictRules as text (docs/providers.md is generated from
//     them by `gadget docs providers`); Link, the provider's own page about
//     a value, where it has one. When the summary says who holds the value
//     or when it was seen (ASN, country, registrar, first/last seen, tags,
//     malware families), the summary implements Contexter.
//   - internal/provider/testdata/<name>/*.json: real responses, scrubbed,
//     and fake.json, the fake intel server's routes and answers for it
//     (see internal/fakeintel): the documentation it follows, where the key
//     goes, and which recording answers a listed, an ordinary and a
//     not-found value of each kind.
//   - internal/provider/<name>_test.go: the conformance suite
//     (providertest) against the recordings.
//
// Then `make generate` writes the provider's GraphQL type, its field on
// each indicator type that serves its kinds, and the field's resolver
// (graph/gen). Configuration (GADGET_<NAME>_API_KEY, _BASE_URL, _RATE, …),
// status, REST, River queues and the portal pick it up from the registry.
package provider

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/ratelimit"
)

// KeyNeed says whether a provider needs an API key.
type KeyNeed int

// Key requirements.
const (
	KeyNone     KeyNeed = iota // keyless
	KeyOptional                // works without a key, with lower limits
	KeyRequired                // NOT_CONFIGURED without a key
)

// String names the key requirement for documentation and status output.
func (k KeyNeed) String() string {
	switch k {
	case KeyOptional:
		return "optional"
	case KeyRequired:
		return "required"
	default:
		return "none"
	}
}

// Descriptor describes a provider. It is stateless and registered in init().
type Descriptor struct {
	Name  string // lower-case, e.g. "virustotal"
	Title string // human name, e.g. "VirusTotal"
	// Source is the source name the original service used in its REST
	// envelope ("VirusTotal", "AlienVaultOTX", "URLHaus"); the REST layer
	// answers with it as "source", beside "provider": Name, so playbooks
	// written against the original keep matching. Providers the original
	// did not have use their brand name in the same style.
	Source string
	// Disabled makes the provider off unless GADGET_<P>_ENABLED=true: for
	// keyless services that often fail upstream (the original's Robtex,
	// ThreatMiner), so a default installation does not report their
	// outages on every lookup.
	Disabled bool
	// Local says the provider answers from data sets it keeps in this
	// process (see DatasetStore): a lookup makes no upstream call, so the
	// engine asks it directly, without cache, budget or job queue.
	Local       bool
	Kinds       []indicator.Kind // kinds it can look up
	Key         KeyNeed
	BaseURL     string        // the real service's base URL
	Rate        Rate          // default shared request budget (free tier)
	Budget      Rate          // default daily (or longer) budget beside Rate, e.g. 500/d; zero: none
	CacheTTL    time.Duration // default result cache lifetime
	NotFoundTTL time.Duration // default lifetime of a cached not-found
	Timeout     time.Duration // default per-call timeout
	FreeTier    string        // one line for the README: free-tier limits
	// Terms states, with its source, what the free tier's terms of use allow
	// (e.g. VirusTotal's public API is not for business workflows); empty
	// when no source here states them.
	Terms string
	New   func(Config) (Provider, error)

	// Redirects says which redirects the provider's client follows; the
	// zero value, RedirectNone, follows none.
	Redirects Redirects

	// Summary is a zero value of the provider's typed summary struct (the
	// Summary a successful Result carries, e.g. VirusTotalSummary{}).
	// graph/gen reads its fields to write the provider's GraphQL type.
	Summary any
	// Tags group providers for presets, e.g. "reputation" (says whether a
	// value is bad) or "context" (who owns it, what runs there).
	Tags []string
	// Description says in one sentence what the provider tells about a
	// value; it heads the provider's row in docs/providers.md.
	Description string
	// VerdictRules state, one line a rule and first match first, how the
	// provider's answer becomes its verdict; docs/providers.md lists them.
	VerdictRules []string
	// MaxTLP is the most restrictive TLP a lookup may carry and still be
	// sent to the provider (GADGET_<P>_MAX_TLP overrides it): what the
	// service may see of a case. Every registered descriptor names one.
	MaxTLP indicator.TLP
	// TLPReason says in one line why MaxTLP: who runs the service, under
	// which terms it is asked and who sees the value (docs/providers.md and
	// docs/policy.md show it).
	TLPReason string
	// Link, when set, returns the provider's own page about a value (e.g.
	// https://www.virustotal.com/gui/ip-address/8.8.8.8): the pivot every
	// result shows as its link. Read it with LinkOf.
	Link LinkFunc
	// CapsAtBenign marks a known-good source (CIRCL hashlookup): when it
	// answers BENIGN, the combined verdict is BENIGN at most, whatever the
	// other providers say; their reasons stay listed.
	CapsAtBenign bool
	// Parts, when set, names in order the parts a lookup of a kind answers
	// in (ThreatMiner's report types): the result's raw JSON is then an
	// object keyed by these names, and the REST envelope gives each part
	// its own entry with the part's name as source, as the original did.
	// GraphQL keeps one typed field with the parts inside.
	Parts func(indicator.Kind) []string
	// Calls is the most upstream requests one lookup makes (ThreatMiner asks
	// one per report type); 0 means 1. The first failing request ends the
	// lookup, so a failure costs one request.
	Calls int
	// NotHTTP marks a provider that does not speak HTTP (Team Cymru answers
	// over DNS): it has no BaseURL, its own test stands in for the HTTP
	// conformance suite, and the fake intel server has no routes for it.
	NotHTTP bool
	// Settings are the provider's own options beyond the common ones, read
	// from GADGET_<P>_<NAME> into Config.Settings (e.g. Team Cymru's
	// RESOLVER); docs/providers.md lists them.
	Settings []Setting
}

// Setting is one provider-specific option.
type Setting struct {
	Name    string // upper case, e.g. "RESOLVER": GADGET_<P>_RESOLVER
	Default string // used when the variable is unset
	Secret  bool   // a credential: never logged, printed or put in errors
	Doc     string // one sentence for docs/providers.md
	// MaxTLP, when set, is the provider's default maximum TLP while the
	// setting has a value (ScreenShotAPI's token makes a browser visit the
	// URL, so the screenshot provider sees less when it is set).
	MaxTLP indicator.TLP
}

// MaxCalls is d.Calls, or 1 when d names none.
func (d Descriptor) MaxCalls() int { return max(1, d.Calls) }

// NotConfiguredReason says what a provider that is not configured lacks:
// its API key, or (a keyless one such as Team Cymru, which needs a
// resolver) its settings.
func (d Descriptor) NotConfiguredReason() string {
	if d.Key == KeyRequired {
		return "no API key configured"
	}
	return "not configured: set its GADGET_" + strings.ToUpper(d.Name) + "_* settings (docs/providers.md)"
}

// DefaultMaxTLP is the maximum TLP of a descriptor that names none (only
// an unregistered one: Register requires MaxTLP): TLP:AMBER, what a lookup
// service may see of an organisation's case when it is needed to answer
// (the default lookup TLP); AMBER+STRICT and RED stay local.
const DefaultMaxTLP = indicator.TLPAmber

// MaxTLPOrDefault is d.MaxTLP, or DefaultMaxTLP when d names none.
func (d Descriptor) MaxTLPOrDefault() indicator.TLP {
	if d.MaxTLP == 0 {
		return DefaultMaxTLP
	}
	return d.MaxTLP
}

// MaxTLPWith is the provider's default maximum TLP under its settings
// (setting returns a setting's value, "" when unset): MaxTLPOrDefault,
// lowered by each set Setting that names a MaxTLP.
func (d Descriptor) MaxTLPWith(setting func(name string) string) indicator.TLP {
	out := d.MaxTLPOrDefault()
	for _, st := range d.Settings {
		if st.MaxTLP != 0 && st.MaxTLP < out && setting(st.Name) != "" {
			out = st.MaxTLP
		}
	}
	return out
}

// Serves reports whether the provider can look up kind k.
func (d Descriptor) Serves(k indicator.Kind) bool {
	for _, x := range d.Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Config is what New receives: the descriptor's defaults overridden by
// configuration. New does no I/O.
type Config struct {
	BaseURL      string        // no trailing slash needed; paths are appended as documented
	APIKey       string        // secret; never logged or put in errors
	Timeout      time.Duration // per call; 0 means the descriptor's default
	MaxBodyBytes int64         // response size cap; 0 means DefaultMaxBodyBytes
	UserAgent    string        // identifying User-Agent; empty means DefaultUserAgent
	Transport    http.RoundTripper
	Logger       *slog.Logger
	// Settings holds the descriptor's Settings by Name, as configured or
	// defaulted; a missing name reads as its default (see Base.Setting).
	Settings map[string]string
	// Store keeps a local provider's data sets (nil: in memory only).
	Store DatasetStore
	// Setting reads the provider's own settings, GADGET_<P>_<NAME> for
	// Setting("NAME"); nil reads nothing. New reports what it cannot use.
	Setting func(name string) string
	// Now is the clock of a provider with a schedule; nil means time.Now.
	Now func() time.Time
}

// DefaultMaxBodyBytes caps upstream response bodies unless configured.
const DefaultMaxBodyBytes = 4 << 20

// DefaultUserAgent identifies us to providers.
const DefaultUserAgent = "InspectorGadget/2 (+https://github.com/inspector-gadget/gadget)"

// Provider looks up one indicator at one service.
//
// Lookup returns a Result on success. Every failure is a *Error whose Kind is
// one of the sentinel errors (ErrNotFound, ErrRateLimited, ErrAuth,
// ErrUpstream, ErrTimeout, ErrNotConfigured, ErrBadInput), except that a
// cancelled context returns an error matching context.Canceled. A not-found
// *Error still carries the upstream body and byte count, so it can be cached
// and accounted.
type Provider interface {
	Descriptor() Descriptor
	Configured() bool // false when a required key is missing
	Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error)
}

// Result is a successful lookup.
type Result struct {
	Provider   string
	Raw        json.RawMessage // the provider's JSON, as received
	Summary    any             // the provider's typed summary (e.g. *VirusTotalSummary)
	Verdict    Assessment      // this provider's opinion
	Bytes      int64           // upstream body bytes, for accounting
	StatusCode int
	Quota      *Quota // quota hints from headers, when the provider sends them
}

// Assessment is one provider's verdict with a one-line reason.
type Assessment struct {
	Level  indicator.Level
	Score  int    // 0–100
	Reason string // e.g. "23/84 VirusTotal engines flag it"
}

// Quota is what a provider's headers say about the remaining budget.
type Quota struct {
	Limit     int
	Remaining int
	Reset     time.Time // zero when unknown
}

// Rate is a request budget: Events per Per. It is the rate limiter's type,
// so the limiter need not know about providers.
type Rate = ratelimit.Rate

// ParseRate reads "N/s", "N/m", "N/h", "N/d", "N/<duration>" or "unlimited".
func ParseRate(s string) (Rate, error) { return ratelimit.ParseRate(s) }

var (
	regMu       sync.RWMutex
	descriptors = map[string]Descriptor{}
)

// Register adds a descriptor. It is called from init() and panics on a
// duplicate or incomplete descriptor, which is a programming error.
func Register(d Descriptor) {
	regMu.Lock()
	defer regMu.Unlock()
	if d.Name == "" || d.New == nil || len(d.Kinds) == 0 || d.Title == "" || d.Source == "" || d.Description == "" || len(d.Tags) == 0 || len(d.VerdictRules) == 0 {
		panic("provider: incomplete descriptor " + d.Name)
	}
	if d.MaxTLP == 0 || strings.TrimSpace(d.TLPReason) == "" { // a decision per provider, with its reason
		panic("provider: descriptor " + d.Name + ": name its MaxTLP and TLPReason")
	}
	for i, c := range d.Name { // it names GADGET_<NAME>_*, a GraphQL field and a River queue
		if !('a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			panic("provider: descriptor name " + strconv.Quote(d.Name) + ": want lower-case letters and digits")
		}
	}
	if t := reflect.TypeOf(d.Summary); t == nil || t.Kind() != reflect.Struct || !strings.HasSuffix(t.Name(), "Summary") {
		panic("provider: descriptor " + d.Name + ": Summary must be a struct value named <Type>Summary")
	}
	if _, dup := descriptors[d.Name]; dup {
		panic("provider: duplicate descriptor " + d.Name)
	}
	descriptors[d.Name] = d
}

// Descriptors returns every registered descriptor sorted by name.
func Descriptors() []Descriptor {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Descriptor, 0, len(descriptors))
	for _, d := range descriptors {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the registered descriptor called name.
func Lookup(name string) (Descriptor, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	d, ok := descriptors[name]
	return d, ok
}
