package accounting

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// StatsStore is the storage the usage statistics need.
type StatsStore interface {
	// UsageByDay returns the counters of the days in [from, to); username
	// "" means everyone.
	UsageByDay(ctx context.Context, from, to time.Time, username string) ([]Counter, error)
}

// Series is one api's per-day figures over a Stats range.
type Series struct {
	API      string
	Calls    []int64 // one per Stats.Days
	Bytes    []int64
	Upstream []int64 // upstream calls made
}

// APIStats totals one api over a Stats range.
type APIStats struct {
	API          string
	Calls        int64
	Bytes        int64
	CacheHits    int64
	RateLimited  int64
	Failed       int64 // error and timeout
	Upstream     int64 // upstream calls made
	AvgLatencyMs int64 // of the upstream calls
}

// UserCalls is one user's number of calls.
type UserCalls struct {
	Username string
	Calls    int64
}

// Stats is usage over [From, To) by day and api, with totals.
type Stats struct {
	From, To    time.Time
	Days        []time.Time
	Series      []Series // by api name
	APIs        []APIStats
	TopUsers    []UserCalls // most calls first
	Calls       int64
	CacheHits   int64
	RateLimited int64
	Failed      int64
}

// CacheHitRatio is the share of calls answered from the cache (0 when none).
func (s *Stats) CacheHitRatio() float64 {
	if s.Calls == 0 {
		return 0
	}
	return float64(s.CacheHits) / float64(s.Calls)
}

// StatsService answers usage statistics for charts and overviews.
type StatsService struct {
	store StatsStore
	svc   *Service
}

// NewStatsService returns a StatsService; now may be nil.
func NewStatsService(store StatsStore, now func() time.Time) *StatsService {
	return &StatsService{store: store, svc: NewService(nil, now)}
}

// MaxStatsDays bounds a statistics range, so a chart stays readable.
const MaxStatsDays = 366

// Stats returns usage over the days from..to (defaults as Service.Range);
// username "" means everyone; apis, when given, keeps only those apis.
func (s *StatsService) Stats(ctx context.Context, from, to *time.Time, username string, apis []string) (*Stats, error) {
	start, end, err := s.svc.Range(from, to)
	if err != nil {
		return nil, err
	}
	if end.Sub(start) > MaxStatsDays*24*time.Hour {
		return nil, errcode.Field("from", "a chart covers at most 366 days")
	}
	rows, err := s.store.UsageByDay(ctx, start, end, username)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return buildStats(start, end, rows, apis), nil
}

func buildStats(start, end time.Time, rows []Counter, apis []string) *Stats {
	st := &Stats{From: start, To: end}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		st.Days = append(st.Days, d)
	}
	series := map[string]*Series{}
	totals := map[string]*APIStats{}
	latency := map[string]int64{}
	users := map[string]int64{}
	for _, r := range rows {
		if len(apis) > 0 && !slices.Contains(apis, r.API) {
			continue
		}
		i := int(r.Day.Sub(start) / (24 * time.Hour))
		if i < 0 || i >= len(st.Days) {
			continue
		}
		se := series[r.API]
		if se == nil {
			n := len(st.Days)
			se = &Series{API: r.API, Calls: make([]int64, n), Bytes: make([]int64, n), Upstream: make([]int64, n)}
			series[r.API] = se
			totals[r.API] = &APIStats{API: r.API}
		}
		t := totals[r.API]
		se.Calls[i] += r.Answers
		se.Bytes[i] += r.Bytes
		se.Upstream[i] += r.Calls
		t.Calls += r.Answers
		t.Bytes += r.Bytes
		t.CacheHits += r.Cached
		t.Upstream += r.Calls
		t.RateLimited += r.RateLimited
		t.Failed += r.Errors
		latency[r.API] += r.LatencyMs
		users[r.Username] += r.Answers
	}
	for name, t := range totals {
		if t.Upstream > 0 {
			t.AvgLatencyMs = latency[name] / t.Upstream
		}
		st.Series = append(st.Series, *series[name])
		st.APIs = append(st.APIs, *t)
		st.Calls += t.Calls
		st.CacheHits += t.CacheHits
		st.RateLimited += t.RateLimited
		st.Failed += t.Failed
	}
	slices.SortFunc(st.Series, func(a, b Series) int { return cmp.Compare(a.API, b.API) })
	slices.SortFunc(st.APIs, func(a, b APIStats) int { return cmp.Compare(a.API, b.API) })
	for u, n := range users {
		st.TopUsers = append(st.TopUsers, UserCalls{Username: u, Calls: n})
	}
	slices.SortFunc(st.TopUsers, func(a, b UserCalls) int {
		return cmp.Or(cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Username, b.Username))
	})
	if len(st.TopUsers) > 10 {
		st.TopUsers = st.TopUsers[:10]
	}
	return st
}
