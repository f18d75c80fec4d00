package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/store/storetest"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.SQLiteURL)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t testing.TB) string { return testenv.Postgres(t) })
}

// The job queue's pool commits asynchronously, plans River's statements
// once per connection without sequential scans, and never JIT-compiles;
// the main pool keeps PostgreSQL's defaults.
func TestQueuePoolSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	qp, err := st.QueuePool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	settings := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) string {
		var s string
		if err := q.QueryRow(ctx, `SELECT current_setting('synchronous_commit') || ' ' || current_setting('plan_cache_mode') || ' ' ||
			current_setting('enable_seqscan') || ' ' || current_setting('jit')`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got, want := settings(qp), "off force_generic_plan off off"; got != want {
		t.Errorf("queue pool: %q, want %q", got, want)
	}
	if got := settings(st.Pool()); strings.HasPrefix(got, "off") || strings.Contains(got, "force_generic_plan") {
		t.Errorf("main pool took the queue pool's settings: %q", got)
	}
	if again, _ := st.QueuePool(ctx); again != qp {
		t.Error("QueuePool built a second pool")
	}
}
