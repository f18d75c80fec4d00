package store_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/inspector-gadget/gadget/internal/accounting"
	"github.com/inspector-gadget/gadget/internal/auth"
	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// Rows carrying what a client can send (a 0xFF byte in the user agent, a
// long UTF-8 user agent cut at byte 512, a NUL in the username) are stored,
// and do not take the good rows of their batch down with them: PostgreSQL
// used to reject the whole batch, which the writer then retried forever.
func TestWriterStoresClientControlledText(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": testenv.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testWriterStoresClientControlledText(t, storetest.Open(t, url(t)))
		})
	}
}

func testWriterStoresClientControlledText(t *testing.T, s *store.Store) {
	ctx := context.Background()
	w := accounting.NewWriter(s, accounting.WriterConfig{})
	long := strings.Repeat("é", 300) // 600 bytes: byte 512 is inside a rune
	recs := []accounting.Record{
		{Username: "alice", API: "authenticate", Status: "denied", UserAgent: "curl/8\xff"},
		{Username: "alice", API: "authenticate", Status: "denied", UserAgent: long},
		{Username: "ali\x00ce", API: "authenticate", Status: "denied", UserAgent: "curl/8"},
		{Username: "alice", API: "authenticate", Status: "ok", UserAgent: "curl/8"},
	}
	for _, r := range recs {
		w.Record(ctx, r)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := s.AuditLog(ctx, accounting.AuditFilter{API: "authenticate"}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(recs) {
		t.Fatalf("%d rows stored, want %d: %+v", len(got), len(recs), got)
	}
	for _, r := range got {
		if !utf8.ValidString(r.UserAgent) || !utf8.ValidString(r.Username) || strings.ContainsRune(r.Username, 0) || len(r.UserAgent) > accounting.MaxField {
			t.Errorf("stored row not clean: username %q, user agent %q (%d bytes)", r.Username, r.UserAgent, len(r.UserAgent))
		}
	}
}

// A sign-in's user agent reaches the account's last-login columns through
// the same cleaning: a 0xFF byte no longer fails the update on PostgreSQL.
func TestRecordLoginStoresClientControlledText(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, testenv.Postgres(t))
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, auth.NewUser{Username: "alice", PasswordHash: "h", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordLogin(ctx, "alice", auth.Login{At: time.Now(), IP: "192.0.2.1", UserAgent: "curl/8\xff\x00"}); err != nil {
		t.Fatalf("RecordLogin with a 0xFF and a NUL in the user agent: %v", err)
	}
}

// Failed sign-ins with long usernames that share their first 64 bytes (the
// username column's width) are two counter keys before the store cuts them
// and one after: they must be summed, not sent as two rows of one upsert,
// which PostgreSQL refuses ("cannot affect row a second time").
func TestWriteUsageCountersOfNamesCutAlike(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": testenv.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, url(t))
			prefix := strings.Repeat("a", 64)
			at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			recs := []accounting.Record{
				{Username: prefix + "x", API: "authenticate", Status: "denied", At: at},
				{Username: prefix + "y", API: "authenticate", Status: "denied", At: at},
			}
			if err := s.WriteUsage(context.Background(), accounting.NewBatch(recs, nil)); err != nil {
				t.Fatalf("WriteUsage: %v", err)
			}
			day := at.Truncate(24 * time.Hour)
			rows, err := s.UsageRows(context.Background(), day, day.Add(24*time.Hour), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 || rows[0].Calls != 2 {
				t.Errorf("usage rows = %+v, want one row of 2 calls for the cut name", rows)
			}
		})
	}
}
