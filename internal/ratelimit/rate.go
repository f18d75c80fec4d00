package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is a request budget: Events per Per.
type Rate struct {
	Events int
	Per    time.Duration
}

// IsZero reports whether the rate is unset (unlimited).
func (r Rate) IsZero() bool { return r.Events <= 0 || r.Per <= 0 }

// String formats the rate as ParseRate reads it, e.g. "4/m".
func (r Rate) String() string {
	if r.IsZero() {
		return "unlimited"
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h", 24 * time.Hour: "d"}[r.Per]
	if unit == "" {
		return fmt.Sprintf("%d/%s", r.Events, r.Per)
	}
	return fmt.Sprintf("%d/%s", r.Events, unit)
}

// ParseRate reads "N/s", "N/m", "N/h", "N/d", "N/<duration>" or "unlimited".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "unlimited" || s == "0" {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	if !ok {
		return Rate{}, fmt.Errorf("rate %q: want N/s, N/m, N/h or N/d", s)
	}
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || events <= 0 {
		return Rate{}, fmt.Errorf("rate %q: count must be a positive integer", s)
	}
	var d time.Duration
	switch p := strings.TrimSpace(per); p {
	case "s", "sec", "second":
		d = time.Second
	case "m", "min", "minute":
		d = time.Minute
	case "h", "hour":
		d = time.Hour
	case "d", "day":
		d = 24 * time.Hour
	default:
		d, err = time.ParseDuration(p)
		if err != nil || d <= 0 {
			return Rate{}, fmt.Errorf("rate %q: unknown period %q", s, p)
		}
	}
	return Rate{Events: events, Per: d}, nil
}

// Share is this process's part of r when n processes split it evenly: r
// itself for n ≤ 1 or an unlimited r; Events/n per Per when that is at
// least one event (rounded down, so the parts never add up to more than
// r); else one event per n/Events × Per.
func (r Rate) Share(n int) Rate {
	if r.IsZero() || n <= 1 {
		return r
	}
	if r.Events >= n {
		return Rate{Events: r.Events / n, Per: r.Per}
	}
	return Rate{Events: 1, Per: r.Per * time.Duration(n) / time.Duration(r.Events)}
}
