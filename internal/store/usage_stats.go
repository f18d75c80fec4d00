package store

import (
	"context"
	"fmt"
	"time"

	"github.com/inspector-gadget/gadget/ent/usagecounter"
	"github.com/inspector-gadget/gadget/internal/accounting"
)

var _ accounting.StatsStore = (*Store)(nil)

// UsageByDay returns the counters of the UTC days in [from, to); username
// "" means everyone.
func (s *Store) UsageByDay(ctx context.Context, from, to time.Time, username string) ([]accounting.Counter, error) {
	q := s.client.UsageCounter.Query().Where(usagecounter.DayGTE(from.UTC().Format(time.DateOnly)),
		usagecounter.DayLT(to.UTC().Format(time.DateOnly)))
	if username != "" {
		q = q.Where(usagecounter.Username(username))
	}
	rows, err := q.Order(usagecounter.ByDay(), usagecounter.ByUsername(), usagecounter.ByAPI()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("usage by day: %w", err)
	}
	out := make([]accounting.Counter, len(rows))
	for i, r := range rows {
		day, err := time.Parse(time.DateOnly, r.Day)
		if err != nil {
			return nil, fmt.Errorf("usage by day: day %q: %w", r.Day, err)
		}
		out[i] = accounting.Counter{Username: r.Username, API: r.API, Day: day, Answers: r.Answers, Cached: r.Cached,
			Calls: r.Calls, Bytes: r.Bytes, Errors: r.Errors, RateLimited: r.RateLimited, LatencyMs: r.LatencyMs}
	}
	return out, nil
}
