// Package storetest is the storage suite that runs, unchanged, against
// PostgreSQL and SQLite.
package storetest

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/store"
)

// SQLiteURL returns the URL of a fresh SQLite file in a temp dir.
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "gadget.db")
}

// Open opens and migrates a store at url, closed when the test ends.
func Open(t testing.TB, url string) *store.Store {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// Run runs the suite; newURL returns a fresh, empty database URL.
func Run(t *testing.T, newURL func(t testing.TB) string) {
	t.Run("MigrateIsIdempotentAndConcurrent", func(t *testing.T) { testMigrate(t, newURL(t)) })
	t.Run("Users", func(t *testing.T) { testUsers(t, Open(t, newURL(t))) })
	t.Run("DisableEndsTokensAndKeepsAnAdmin", func(t *testing.T) { testDisable(t, Open(t, newURL(t))) })
	t.Run("Usage", func(t *testing.T) { testUsage(t, Open(t, newURL(t))) })
	t.Run("UsageStats", func(t *testing.T) { testUsageStats(t, Open(t, newURL(t))) })
	t.Run("UsageRetried", func(t *testing.T) { testUsageRetried(t, Open(t, newURL(t))) })
	t.Run("AuditLogPaging", func(t *testing.T) { testAudit(t, Open(t, newURL(t))) })
	t.Run("Datasets", func(t *testing.T) { testDatasets(t, newURL(t)) })
}

// testDatasets: of replicas claiming a due data set at once exactly one
// wins, a save bumps the version the others poll, a failure keeps the data.
func testDatasets(t *testing.T, url string) {
	ctx := context.Background()
	stores := []*store.Store{Open(t, url), Open(t, url), Open(t, url)}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, s := range stores {
		for range 3 {
			wg.Go(func() {
				ok, err := s.ClaimDataset(ctx, "lists", "tor", now, now.Add(10*time.Minute))
				if err != nil {
					t.Errorf("claim: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d of 9 concurrent claims won, want 1", wins.Load())
	}
	s := stores[0]
	if ok, _ := s.ClaimDataset(ctx, "lists", "tor", now.Add(5*time.Minute), now.Add(time.Hour)); ok {
		t.Error("a held lease was claimed again before it ran out")
	}
	v, err := s.SaveDataset(ctx, provider.Dataset{Provider: "lists", Name: "tor", Data: []byte("\x1f\x8bdata"), Entries: 3,
		FetchedAt: now.Add(time.Minute), DueAt: now.Add(time.Hour)})
	if err != nil || v != 1 {
		t.Fatalf("save = %d, %v; want version 1", v, err)
	}
	if err := s.FailDataset(ctx, "lists", "tor", "upstream error: 503", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, err := stores[1].Datasets(ctx, "lists")
	if err != nil {
		t.Fatal(err)
	}
	want := []provider.Dataset{{Provider: "lists", Name: "tor", Entries: 3, FetchedAt: now.Add(time.Minute), Version: 1,
		DueAt: now.Add(2 * time.Hour), LastError: "upstream error: 503"}}
	if d := cmp.Diff(want, list); d != "" {
		t.Errorf("Datasets (-want +got):\n%s", d)
	}
	got, err := stores[2].LoadDataset(ctx, "lists", "tor")
	if err != nil || string(got.Data) != "\x1f\x8bdata" {
		t.Errorf("LoadDataset = %+v, %v", got, err)
	}
	if ok, _ := s.ClaimDataset(ctx, "lists", "tor", now.Add(2*time.Hour), now.Add(3*time.Hour)); !ok {
		t.Error("the data set was not claimable at its retry time")
	}
	if v, err := s.SaveDataset(ctx, provider.Dataset{Provider: "lists", Name: "tor", Data: []byte("x"), FetchedAt: now, DueAt: now}); err != nil || v != 2 {
		t.Errorf("second save = %d, %v; want version 2", v, err)
	}
	if got, _ := s.Datasets(ctx, "other"); len(got) != 0 {
		t.Errorf("another provider's data sets: %+v", got)
	}
}

func testMigrate(t *testing.T, url string) {
	ctx := context.Background()
	stores := make([]*store.Store, 3)
	for i := range stores {
		s, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	var wg sync.WaitGroup
	applied := make([][]string, len(stores))
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			applied[i], errs[i] = s.Migrate(ctx)
		}()
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent migrate %d: %v", i, err)
		}
		total += len(applied[i])
	}
	if total == 0 {
		t.Fatal("no migration was applied by any process")
	}
	again, err := stores[0].Migrate(ctx)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v, err %v; want nothing", again, err)
	}
	if n, err := stores[0].CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers = %d, %v", n, err)
	}
}

func testUsers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	u, err := s.CreateUser(ctx, auth.NewUser{Username: "alice", PasswordHash: "$2b$12$x", Active: true, CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	if !u.CreatedAt.Equal(created.Truncate(time.Microsecond)) || !u.PasswordChangedAt.Equal(u.CreatedAt) {
		t.Errorf("times: created %v changed %v", u.CreatedAt, u.PasswordChangedAt)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "alice", PasswordHash: "h"}); !errors.Is(err, auth.ErrUserExists) {
		t.Fatalf("duplicate: err = %v, want ErrUserExists", err)
	}
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "bob", PasswordHash: "h", Admin: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByUsername(ctx, "carol"); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatalf("missing user: err = %v", err)
	}
	changed := created.Add(time.Hour)
	u2, err := s.SetPassword(ctx, "alice", "$2b$12$y", changed)
	if err != nil {
		t.Fatal(err)
	}
	if u2.PasswordHash != "$2b$12$y" || !u2.PasswordChangedAt.Equal(changed.Truncate(time.Microsecond)) {
		t.Errorf("after SetPassword: %+v", u2)
	}
	if _, err := s.SetPassword(ctx, "nobody", "h", changed); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("SetPassword nobody: %v", err)
	}
	u3, err := s.SetActive(ctx, "alice", false)
	if err != nil || u3.Active {
		t.Fatalf("SetActive: %+v %v", u3, err)
	}
	at := created.Add(2 * time.Hour).Truncate(time.Microsecond)
	if err := s.RecordLogin(ctx, "bob", auth.Login{At: at, IP: "203.0.113.9", UserAgent: "curl/8"}); err != nil {
		t.Fatal(err)
	}
	b, err := s.UserByUsername(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if b.LastLoginAt == nil || !b.LastLoginAt.Equal(at) || b.LastLoginIP != "203.0.113.9" || b.LastLoginUserAgent != "curl/8" || !b.Admin {
		t.Errorf("bob = %+v", b)
	}
	list, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range list {
		names = append(names, u.Username)
	}
	if diff := cmp.Diff([]string{"alice", "bob"}, names); diff != "" {
		t.Errorf("ListUsers (-want +got):\n%s", diff)
	}
	if n, _ := s.CountUsers(ctx); n != 2 {
		t.Errorf("CountUsers = %d", n)
	}
}

func testUsage(t *testing.T, s *store.Store) {
	ctx := context.Background()
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	recs := []accounting.Record{
		{Username: "alice", API: "virustotal", DataSize: 100, At: day.Add(time.Hour), Status: "ok", Cached: true, Latency: 12 * time.Millisecond},
		{Username: "alice", API: "virustotal", DataSize: 50, At: day.Add(23*time.Hour + 59*time.Minute + 59*time.Second)},
		{Username: "alice", API: "authenticate", At: day.Add(-time.Second)},           // the day before
		{Username: "bob", API: "abuseipdb", DataSize: 7, At: day.Add(24 * time.Hour)}, // the day after
		{Username: "bob", API: "abuseipdb", DataSize: 3, At: day.Add(2 * time.Hour)},
	}
	if err := s.WriteUsage(ctx, accounting.NewBatch(recs, nil)); err != nil {
		t.Fatal(err)
	}
	// a retried batch (same ids) writes nothing twice
	dup := accounting.Record{ID: "6b1f0c1e-0000-4000-8000-000000000001", Username: "carol", API: "x", At: day.Add(-48 * time.Hour)}
	for range 2 {
		if err := s.WriteUsage(ctx, accounting.Batch{Audit: []accounting.Record{dup}}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.AuditLog(ctx, accounting.AuditFilter{Username: "carol"}, 10, nil); len(got) != 1 {
		t.Errorf("retried record written %d times", len(got))
	}
	rows, err := s.UsageRows(ctx, day, day.Add(24*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []accounting.Row{
		{Username: "alice", API: "virustotal", Calls: 2, Bytes: 150},
		{Username: "bob", API: "abuseipdb", Calls: 1, Bytes: 3},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("UsageRows (-want +got):\n%s", diff)
	}
	rows, err = s.UsageRows(ctx, day.Add(-24*time.Hour), day.Add(48*time.Hour), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]accounting.Row{{Username: "bob", API: "abuseipdb", Calls: 2, Bytes: 10}}, rows); diff != "" {
		t.Errorf("UsageRows bob (-want +got):\n%s", diff)
	}
	// an account's rows are found whatever the case it is asked in
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "bob", PasswordHash: "h", Active: true}); err != nil {
		t.Fatal(err)
	}
	rows, err = s.UsageRows(ctx, day.Add(-24*time.Hour), day.Add(48*time.Hour), "BoB")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]accounting.Row{{Username: "bob", API: "abuseipdb", Calls: 2, Bytes: 10}}, rows); diff != "" {
		t.Errorf("UsageRows BoB (-want +got):\n%s", diff)
	}
	if got, _ := s.AuditLog(ctx, accounting.AuditFilter{Username: "BOB"}, 10, nil); len(got) != 2 {
		t.Errorf("audit BOB: %d rows, want bob's 2", len(got))
	}
	got, err := s.AuditLog(ctx, accounting.AuditFilter{Username: "alice", API: "virustotal"}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].DataSize != 100 || !got[1].Cached || got[1].Latency != 12*time.Millisecond || got[1].Status != "ok" {
		t.Errorf("audit alice = %+v", got)
	}
}

func testAudit(t *testing.T, s *store.Store) {
	ctx := context.Background()
	base := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var recs []accounting.Record
	for i := range 25 {
		// pairs share a timestamp, so paging must break ties by id
		recs = append(recs, accounting.Record{Username: "u", API: "x", At: base.Add(time.Duration(i/2) * time.Second), DataSize: int64(i)})
	}
	if err := s.WriteUsage(ctx, accounting.Batch{Audit: recs}); err != nil {
		t.Fatal(err)
	}
	svc := accounting.NewService(s, nil)
	seen := map[string]bool{}
	var last time.Time
	after := ""
	for pages := 0; ; pages++ {
		p, err := svc.Audit(ctx, accounting.AuditFilter{Username: "u"}, 7, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("record %s seen twice", r.ID)
			}
			if !last.IsZero() && r.At.After(last) {
				t.Fatalf("not newest first: %v after %v", r.At, last)
			}
			seen[r.ID], last = true, r.At
		}
		if !p.HasNext {
			break
		}
		after = p.EndCursor
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 25 {
		t.Fatalf("paged through %d records, want 25", len(seen))
	}
}

// testDisable: a disable stamps the credentials (tokens issued before stay
// dead after a re-enable), and two administrators disabling each other at
// once leave one of them active.
func testDisable(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for _, u := range []auth.NewUser{{Username: "adma", Admin: true, Active: true}, {Username: "admb", Admin: true, Active: true}, {Username: "carol", Active: true}} {
		u.PasswordHash, u.CreatedAt = "h", time.Now().Add(-time.Hour)
		if _, err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := s.UserByUsername(ctx, "carol")
	off, err := s.SetActive(ctx, "carol", false)
	if err != nil || off.Active || !off.PasswordChangedAt.After(before.PasswordChangedAt) {
		t.Fatalf("disable: %+v %v, want inactive with the credentials stamped after %v", off, err, before.PasswordChangedAt)
	}
	on, err := s.SetActive(ctx, "carol", true)
	if err != nil || !on.Active || !on.PasswordChangedAt.Equal(off.PasswordChangedAt) {
		t.Fatalf("re-enable: %+v %v, want active with the disable's stamp", on, err)
	}
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, name := range []string{"adma", "admb"} {
			wg.Go(func() { _, errs[i] = s.SetActive(ctx, name, false) })
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, auth.ErrLastAdmin):
				refused++
			case err != nil:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		active := 0
		for _, name := range []string{"adma", "admb"} {
			if u, _ := s.UserByUsername(ctx, name); u.Active {
				active++
			}
		}
		if refused != 1 || active != 1 {
			t.Fatalf("round %d: %d refused, %d admins active; want 1 and 1 (%v)", round, refused, active, errs)
		}
		for _, name := range []string{"adma", "admb"} {
			if _, err := s.SetActive(ctx, name, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.SetActive(ctx, "admb", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetActive(ctx, "adma", false); !errors.Is(err, auth.ErrLastAdmin) {
		t.Errorf("disabling the last active admin: %v, want ErrLastAdmin", err)
	}
}
