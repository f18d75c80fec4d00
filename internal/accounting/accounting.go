// Package accounting records usage (every login, operation and provider
// result delivered to a user) and reports on it.
package accounting

import (
	"context"
	"time"
)

// Record is one accounted call.
type Record struct {
	ID         string // assigned by the store when empty
	Username   string
	API        string // "authenticate", a provider name, or an operation name
	Endpoint   string // "POST /api/authenticate", "POST /graphql usageReport"
	Parameters string // JSON; never holds a password
	UserAgent  string
	IP         string
	Status     string // "ok", "denied", "not_found", "error", ...
	DataSize   int64  // bytes delivered (upstream body bytes for provider results)
	Cached     bool
	Latency    time.Duration
	At         time.Time
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
	InsertUsage(ctx context.Context, recs []Record) error
	UsageRows(ctx context.Context, from, to time.Time, username string) ([]Row, error)
	AuditLog(ctx context.Context, f AuditFilter, limit int, after *Cursor) ([]Record, error)
}
