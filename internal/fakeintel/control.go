package fakeintel

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Stats is what GET /_fakeintel/stats answers.
type Stats struct {
	Calls           map[string]int     `json:"calls"` // every provider, zero included
	Total           int                `json:"total"`
	Failures        map[string]Failure `json:"failures"`
	Latency         string             `json:"latency"` // the default latency
	Jitter          string             `json:"jitter"`
	ProviderLatency map[string]string  `json:"providerLatency"`
	ErrorRate       float64            `json:"errorRate"`
}

// Stats returns the counters and the current controls.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Calls: map[string]int{}, Failures: map[string]Failure{}, ProviderLatency: map[string]string{},
		Latency: s.latency.String(), Jitter: s.jitter.String(), ErrorRate: s.errorRate,
	}
	for name := range s.fakes {
		st.Calls[name] = s.calls[name]
		st.Total += s.calls[name]
	}
	for name, f := range s.failures {
		st.Failures[name] = f
	}
	for name, d := range s.perLat {
		st.ProviderLatency[name] = d.String()
	}
	return st
}

// control serves /_fakeintel/{stats,requests,reset,fail,latency}.
func (s *Server) control(w http.ResponseWriter, r *http.Request, what string) {
	q := r.URL.Query()
	bad := func(format string, args ...any) {
		writeReply(w, jsonReply(http.StatusBadRequest, map[string]string{"error": fmt.Sprintf(format, args...)}), 0)
	}
	allow := func(methods ...string) bool {
		for _, m := range methods {
			if r.Method == m {
				return true
			}
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeReply(w, jsonReply(http.StatusMethodNotAllowed, map[string]string{"error": "use " + strings.Join(methods, " or ")}), 0)
		return false
	}
	provider := q.Get("provider")
	known := func() bool {
		if _, ok := s.fakes[provider]; ok {
			return true
		}
		bad("provider %q: want one of %s", provider, strings.Join(Providers(), ", "))
		return false
	}

	switch what {
	case "stats":
		if allow(http.MethodGet) {
			writeReply(w, jsonReply(http.StatusOK, s.Stats()), 0)
		}
	case "requests":
		if !allow(http.MethodGet) {
			return
		}
		if provider == "" {
			all := map[string][]RecordedRequest{}
			for _, name := range Providers() {
				all[name] = s.Requests(name)
			}
			writeReply(w, jsonReply(http.StatusOK, all), 0)
			return
		}
		if known() {
			writeReply(w, jsonReply(http.StatusOK, map[string]any{"provider": provider, "requests": s.Requests(provider)}), 0)
		}
	case "reset":
		if allow(http.MethodPost) {
			s.Reset()
			s.log.Info("fakeintel counters reset")
			writeReply(w, jsonReply(http.StatusOK, map[string]bool{"reset": true}), 0)
		}
	case "fail":
		if !allow(http.MethodPost, http.MethodDelete) || !known() {
			return
		}
		status, retryAfter := 0, time.Duration(0)
		if r.Method == http.MethodPost {
			var err error
			if status, err = strconv.Atoi(q.Get("status")); err != nil || (status != 0 && (status < 400 || status > 599)) {
				bad("status %q: want 400–599, or 0 to clear", q.Get("status"))
				return
			}
			if v := q.Get("retry_after"); v != "" {
				if retryAfter, err = ParseRetryAfter(v); err != nil {
					bad("retry_after: %v", err)
					return
				}
			}
		}
		s.SetFailure(provider, status, retryAfter)
		if status == 0 {
			s.log.Info("fakeintel failure cleared", "provider", provider)
		} else {
			s.log.Info("fakeintel failure set", "provider", provider, "status", status, "retry_after", retryAfter.String())
		}
		writeReply(w, jsonReply(http.StatusOK, map[string]any{"provider": provider, "status": status, "retryAfter": retryAfter.String()}), 0)
	case "latency":
		if !allow(http.MethodPost, http.MethodDelete) {
			return
		}
		if provider != "" && !known() {
			return
		}
		v := q.Get("d")
		if r.Method == http.MethodDelete || v == "" {
			if provider == "" {
				bad("d: want a duration such as 200ms")
				return
			}
			s.ClearLatency(provider)
			s.log.Info("fakeintel latency back to the default", "provider", provider)
			writeReply(w, jsonReply(http.StatusOK, map[string]string{"provider": provider, "latency": "default"}), 0)
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			bad("d %q: want a duration such as 200ms", v)
			return
		}
		if provider == "" {
			s.SetDefaultLatency(d)
		} else {
			s.SetLatency(provider, d)
		}
		s.log.Info("fakeintel latency set", "provider", provider, "latency", d.String())
		writeReply(w, jsonReply(http.StatusOK, map[string]string{"provider": provider, "latency": d.String()}), 0)
	default:
		writeReply(w, jsonReply(http.StatusNotFound, map[string]string{"error": "fakeintel: no control " + strconv.Quote(what) + "; see GET /"}), 0)
	}
}

// ParseRetryAfter reads a Retry-After as whole seconds ("30") or a Go
// duration ("30s", "1m").
func ParseRetryAfter(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want seconds or a duration such as 30s", v)
	}
	return d, nil
}
