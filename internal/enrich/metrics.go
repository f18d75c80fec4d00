package enrich

import (
	"errors"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// Metrics are the engine's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	results     counters
	calls       *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	cacheLookup counters
	coalesce    *prometheus.CounterVec
	rate        *prometheus.CounterVec
}

// NewMetrics registers the engine's metrics in reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		results:     newCounters(prometheus.CounterOpts{Name: "gadget_provider_results_total", Help: "Provider results delivered, by provider and status."}, []string{"provider", "status"}),
		calls:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gadget_provider_upstream_calls_total", Help: "Upstream calls made, by provider and answer class (2xx, 4xx, 5xx, not_found, rate_limited, timeout, error)."}, []string{"provider", "class"}),
		latency:     prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "gadget_provider_upstream_duration_seconds", Help: "Upstream call latency by provider.", Buckets: []float64{.01, .025, .05, .1, .2, .35, .5, .75, 1, 2, 5, 10, 30}}, []string{"provider"}),
		cacheLookup: newCounters(prometheus.CounterOpts{Name: "gadget_provider_cache_total", Help: "Cache lookups by provider and result (hit, miss)."}, []string{"provider", "result"}),
		coalesce:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gadget_provider_coalesced_total", Help: "Lookups that waited for another caller's identical upstream call."}, []string{"provider"}),
		rate:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gadget_provider_rate_limit_total", Help: "Rate-limit events by provider and outcome (waited, rejected, upstream_retry)."}, []string{"provider", "outcome"}),
	}
	reg.MustRegister(m.results.vec, m.calls, m.latency, m.cacheLookup.vec, m.coalesce, m.rate)
	return m
}

// counters is a counter vector with two labels whose children are kept
// once resolved: a cached lookup counts two per provider answered, and
// resolving a child hashes and validates its labels every time. Every
// request reads the children, so they are an immutable map replaced on
// the rare write: the label pairs are few (providers × statuses).
type counters struct {
	vec *prometheus.CounterVec
	mu  *sync.Mutex
	got *atomic.Pointer[map[[2]string]prometheus.Counter]
}

func newCounters(opts prometheus.CounterOpts, labels []string) counters {
	c := counters{vec: prometheus.NewCounterVec(opts, labels), mu: &sync.Mutex{}, got: &atomic.Pointer[map[[2]string]prometheus.Counter]{}}
	c.got.Store(&map[[2]string]prometheus.Counter{})
	return c
}

func (c counters) inc(a, b string) {
	k := [2]string{a, b}
	n, ok := (*c.got.Load())[k]
	if !ok {
		c.mu.Lock()
		if n, ok = (*c.got.Load())[k]; !ok {
			n = c.vec.WithLabelValues(a, b)
			m := maps.Clone(*c.got.Load())
			m[k] = n
			c.got.Store(&m)
		}
		c.mu.Unlock()
	}
	n.Inc()
}

func (m *Metrics) result(name string, r *lookup.Result) {
	if m != nil {
		m.results.inc(name, string(r.Status))
	}
}

func (m *Metrics) cache(name string, hit bool) {
	if m != nil {
		result := "miss"
		if hit {
			result = "hit"
		}
		m.cacheLookup.inc(name, result)
	}
}

func (m *Metrics) coalesced(name string) {
	if m != nil {
		m.coalesce.WithLabelValues(name).Inc()
	}
}

func (m *Metrics) rateLimited(name, outcome string) {
	if m != nil {
		m.rate.WithLabelValues(name, outcome).Inc()
	}
}

func (m *Metrics) upstream(name string, took time.Duration, res *provider.Result, err error) {
	if m == nil {
		return
	}
	m.latency.WithLabelValues(name).Observe(took.Seconds())
	class := "error"
	var pe *provider.Error
	switch {
	case err == nil:
		class = strconv.Itoa(res.StatusCode/100) + "xx"
	case errors.Is(err, provider.ErrNotFound):
		class = "not_found"
	case errors.Is(err, provider.ErrRateLimited):
		class = "rate_limited"
	case errors.Is(err, provider.ErrTimeout):
		class = "timeout"
	case errors.As(err, &pe) && pe.StatusCode > 0:
		class = strconv.Itoa(pe.StatusCode/100) + "xx"
	}
	m.calls.WithLabelValues(name, class).Inc()
}
