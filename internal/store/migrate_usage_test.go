package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// preAudit is the last migration before the audit/ledger/counters model:
// until then every provider answer and every operation was one "logging"
// row.
const preAudit = 20261128085716

// Usage rows written before the audit/ledger/counters migration keep
// showing in reports, statistics and the audit log after it, and new rows
// add up on top of them.
func TestMigrationKeepsOldUsageRowsSQLite(t *testing.T) {
	t.Parallel()
	testMigrationKeepsOldUsageRows(t, "sqlite://"+filepath.Join(t.TempDir(), "gadget.db"))
}

func TestMigrationKeepsOldUsageRowsPostgres(t *testing.T) {
	t.Parallel()
	testMigrationKeepsOldUsageRows(t, testenv.Postgres(t))
}

func testMigrationKeepsOldUsageRows(t *testing.T, url string) {
	ctx := context.Background()
	s := openMigratedTo(t, url, preAudit)

	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	type old struct {
		user, api, status string
		cached            bool
		bytes, latencyMs  int64
		at                time.Time
	}
	// what the pre-audit code wrote: one row per provider answer (cached or
	// not, with the upstream call's latency) and one per operation
	olds := []old{
		{"alice", "virustotal", "ok", false, 100, 40, day.Add(time.Hour)},
		{"alice", "virustotal", "ok", true, 100, 0, day.Add(2 * time.Hour)},
		{"alice", "authenticate", "ok", false, 0, 0, day.Add(3 * time.Hour)},
		{"bob", "virustotal", "rate_limited", false, 0, 0, day.Add(25 * time.Hour)},
		{"bob", "abuseipdb", "error", false, 7, 20, day.Add(26 * time.Hour)},
	}
	for _, o := range olds {
		query, args := entsql.Dialect(s.dialect).Insert("logging").
			Columns("id", "username", "api", "data_size", "endpoint", "parameters", "user_agent", "ip_address",
				"query_date", "status", "cached", "latency_ms").
			Values(uuid.New(), o.user, o.api, o.bytes, "POST /graphql indicator", `{"kind":"ipv4","value":"198.51.100.7"}`,
				"curl/8", "192.0.2.9", o.at, o.status, o.cached, o.latencyMs).Query()
		if _, err := s.db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("old row: %v", err)
		}
	}

	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	// reports (/api/admin/report) read the counters the migration built
	rows, err := s.UsageRows(ctx, day, day.Add(48*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []accounting.Row{
		{Username: "alice", API: "authenticate", Calls: 1},
		{Username: "alice", API: "virustotal", Calls: 2, Bytes: 200},
		{Username: "bob", API: "abuseipdb", Calls: 1, Bytes: 7},
		{Username: "bob", API: "virustotal", Calls: 1},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("report after migration (-want +got):\n%s", diff)
	}

	// the portal's statistics: cache hits, failures, rate limits, latency
	stats := accounting.NewStatsService(s, nil)
	from, to := day, day.Add(48*time.Hour)
	st, err := stats.Stats(ctx, &from, &to, "", []string{"virustotal", "abuseipdb"})
	if err != nil {
		t.Fatal(err)
	}
	wantAPIs := []accounting.APIStats{
		{API: "abuseipdb", Calls: 1, Bytes: 7, Failed: 1, Upstream: 1, AvgLatencyMs: 20},
		{API: "virustotal", Calls: 3, Bytes: 200, CacheHits: 1, RateLimited: 1, Upstream: 1, AvgLatencyMs: 40},
	}
	if diff := cmp.Diff(wantAPIs, st.APIs); diff != "" {
		t.Errorf("statistics after migration (-want +got):\n%s", diff)
	}

	// the audit log still lists the old rows, as they were
	audit, err := s.AuditLog(ctx, accounting.AuditFilter{Username: "alice"}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 3 || audit[2].API != "virustotal" || audit[2].DataSize != 100 || audit[2].Latency != 40*time.Millisecond ||
		!audit[2].At.Equal(day.Add(time.Hour)) || audit[2].IP != "192.0.2.9" {
		t.Errorf("audit log after migration = %+v", audit)
	}

	// new usage adds up on top of the migrated counters
	rec := accounting.Record{Username: "alice", API: "indicator", At: day.Add(4 * time.Hour), Status: "ok",
		Answers: []accounting.Answer{{Provider: "virustotal", Status: "ok", Cached: true, Bytes: 100}}}
	if err := s.WriteUsage(ctx, accounting.NewBatch([]accounting.Record{rec}, nil)); err != nil {
		t.Fatal(err)
	}
	rows, err = s.UsageRows(ctx, day, day.Add(24*time.Hour), "alice")
	if err != nil {
		t.Fatal(err)
	}
	var vt accounting.Row
	for _, r := range rows {
		if r.API == "virustotal" {
			vt = r
		}
	}
	if vt.Calls != 3 || vt.Bytes != 300 {
		t.Errorf("alice's virustotal after a new cached answer = %+v, want 3 answers, 300 bytes", vt)
	}
}

// openMigratedTo opens url with the migrations up to and including
// version applied.
func openMigratedTo(t *testing.T, url string, version int64) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	migrateTo(t, s, version)
	return s
}

// migrateTo applies the migrations up to and including version.
func migrateTo(t *testing.T, s *Store, version int64) {
	t.Helper()
	gd, sub := goose.DialectSQLite3, "migrations/sqlite"
	if s.dialect == dialect.Postgres {
		gd, sub = goose.DialectPostgres, "migrations/postgres"
	}
	fsys, err := fs.Sub(migrations, sub)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(gd, s.db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
}
