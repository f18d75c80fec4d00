package store

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/inspector-gadget/gadget/internal/accounting"
)

var _ accounting.StatsStore = (*Store)(nil)

// UsageByDay groups usage in [from, to) by UTC day, username, api, status
// and cache hit; username "" means everyone.
func (s *Store) UsageByDay(ctx context.Context, from, to time.Time, username string) ([]accounting.DayRow, error) {
	// SQLite keeps UTC timestamps as "2006-01-02 15:04:05…" text.
	day, p := "substr(query_date, 1, 10)", func(int) string { return "?" }
	if s.dialect == dialect.Postgres {
		day, p = "to_char(query_date AT TIME ZONE 'UTC', 'YYYY-MM-DD')", func(i int) string { return fmt.Sprintf("$%d", i) }
	}
	q := "SELECT " + day + " AS day, username, api, status, cached, count(*), coalesce(sum(data_size), 0), coalesce(sum(latency_ms), 0)" +
		" FROM logging WHERE query_date >= " + p(1) + " AND query_date < " + p(2)
	args := []any{ts(from), ts(to)}
	if username != "" {
		q += " AND username = " + p(3)
		args = append(args, username)
	}
	q += " GROUP BY 1, username, api, status, cached ORDER BY 1, username, api, status, cached"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("usage by day: %w", err)
	}
	defer rows.Close()
	var out []accounting.DayRow
	for rows.Next() {
		var (
			r accounting.DayRow
			d string
		)
		if err := rows.Scan(&d, &r.Username, &r.API, &r.Status, &r.Cached, &r.Calls, &r.Bytes, &r.LatencyMs); err != nil {
			return nil, fmt.Errorf("usage by day: %w", err)
		}
		if r.Day, err = time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("usage by day: day %q: %w", d, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
