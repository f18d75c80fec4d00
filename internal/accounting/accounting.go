// Package accounting records usage and reports on it. The one rule:
//
//   - the transport writes one audit Record per request (a login, a GraphQL
//     operation, a REST call, a portal lookup), with the providers asked and
//     how each answered (noted on the request's Request as they answer);
//   - whoever makes an upstream call writes its ledger Call, exactly once
//     (the inline executor through the Writer, a River worker when it
//     records the attempt, before it answers);
//   - per user × api × day Counters are added up from both and upserted in
//     batches; reports and charts read them.
//
// Parameters are redacted here (Redact), never by the transports.
package accounting

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Record is one audit-log row: one request.
type Record struct {
	ID         string // assigned when queued (Writer), else by the store
	Username   string
	API        string // "authenticate", an operation name ("indicator", "usageReport"), or a provider (rows before the audit model)
	Endpoint   string // "POST /api/authenticate", "POST /graphql usageReport"
	Parameters string // JSON, redacted (Redact)
	UserAgent  string
	IP         string
	Status     string // "ok", "denied", "not_found", "error", ...
	DataSize   int64  // bytes delivered: the providers' answers, or the response body
	Cached     bool   // every provider answer came from the cache
	Latency    time.Duration
	At         time.Time
	// Answers are the providers asked and how each answered (stored
	// compactly as "virustotal:ok abuseipdb:cached").
	Answers []Answer
	// TLP is the most restrictive TLP the request's lookups carried ("" for
	// other operations).
	TLP string
	// Sightings are the indicators the request looked up, one each,
	// written with the record in the same transaction.
	Sightings []Sighting
}

// Sighting is one indicator looked up within a request: who (the
// record's user), when (the record's time), the combined verdict when the
// request ended, from where and under which TLP.
type Sighting struct {
	Kind    string
	Value   string
	Verdict string // UNKNOWN BENIGN SUSPICIOUS MALICIOUS
	Source  string // graphql rest portal cli misp cortex taxii other
	TLP     string
}

// Answer is how one provider answered within a request.
type Answer struct {
	Provider string
	Status   string // "ok", "not_found", "rate_limited", "timeout", "error", "pending", ...
	Cached   bool
	Bytes    int64
}

// Call is one ledger row: one upstream call to a provider.
type Call struct {
	Username   string
	Provider   string
	Endpoint   string // of the request the call was made for
	Parameters string // {"kind":…,"value":…}
	Status     string // "ok", "not_found", "rate_limited", "interrupted", ...
	Bytes      int64
	Latency    time.Duration
	At         time.Time
	JobID      int64 // the River job that made it (0: inline)
	// ID, when set, makes writing the row again a no-op (a write retried
	// after a lost connection may have committed); zero: the store picks one.
	ID uuid.UUID
}

// Identify gives c an id when it has none, before its first write, so
// that every retry of the write carries the same one.
func (c *Call) Identify() {
	if c.ID == uuid.Nil {
		c.ID = uuid.Must(uuid.NewV7())
	}
}

// Counter is a user's usage of one api (a provider, or an operation) on one
// UTC day; written as deltas, summed by the store.
type Counter struct {
	Username    string
	API         string
	Day         time.Time // midnight UTC
	Answers     int64     // provider answers delivered, or operations run
	Cached      int64
	Calls       int64 // upstream calls made
	Bytes       int64 // bytes delivered
	Errors      int64 // errors and timeouts
	RateLimited int64
	LatencyMs   int64 // summed over the upstream calls
}

// Batch is what the Writer writes in one transaction.
type Batch struct {
	Audit    []Record
	Calls    []Call
	Counters []Counter
}

// Row is one line of a usage report.
type Row struct {
	Username string
	API      string
	Calls    int64
	Bytes    int64
}

// Report is usage grouped by user and api over [From, To).
type Report struct {
	From       time.Time
	To         time.Time // exclusive
	Rows       []Row
	TotalCalls int64
	TotalBytes int64
	Username   string // the user the report is about; "" for everyone
}

// AuditFilter narrows an audit-log listing. Zero values do not filter.
type AuditFilter struct {
	Username string
	API      string
	Status   string
	From, To time.Time
}

// Cursor is a position in the audit log (newest first).
type Cursor struct {
	At time.Time
	ID string
}

// Store is the storage accounting needs.
type Store interface {
	// WriteUsage writes b in one transaction: audit rows and calls are
	// inserted (an id already present is skipped), counters added.
	WriteUsage(ctx context.Context, b Batch) error
	UsageRows(ctx context.Context, from, to time.Time, username string) ([]Row, error)
	AuditLog(ctx context.Context, f AuditFilter, limit int, after *Cursor) ([]Record, error)
}
