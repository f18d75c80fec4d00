package provider

// What provider files share when they read an upstream answer: the JSON
// body, timestamps, numbers in headers, and the lists a summary shows:
// never null, distinct names capped.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// decode unmarshals the answer's JSON body into v. A body that does not
// decode is ErrUpstream with msg, the provider's wording for it.
func (b *Base) decode(resp *Response, v any, msg string) *Error {
	if err := json.Unmarshal(resp.Body, v); err != nil {
		return b.Fail(ErrUpstream, resp, msg)
	}
	return nil
}

// parseTime reads s with the first layout that fits and returns it in UTC;
// layouts without a zone read as UTC. Empty or unreadable values give the
// zero time.
func parseTime(s string, layouts ...string) time.Time {
	for _, layout := range layouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// unixTime converts Unix seconds to UTC; 0 and below give the zero time.
func unixTime(sec int64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// headerInt reads an integer header, ignoring surrounding space.
func headerInt(h http.Header, key string) (int, error) {
	return strconv.Atoi(strings.TrimSpace(h.Get(key)))
}

// orEmpty returns s, or an empty slice for nil, so that a summary lists []
// rather than null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nameSet collects distinct non-empty names, case-insensitively, in order of
// first appearance, up to a limit.
type nameSet struct {
	seen  map[string]bool
	list  []string
	limit int
}

func newNameSet(limit int) *nameSet {
	return &nameSet{seen: map[string]bool{}, list: []string{}, limit: limit}
}

func (n *nameSet) add(names ...string) {
	for _, v := range names {
		v = strings.TrimSpace(v)
		k := strings.ToLower(v)
		if v == "" || n.seen[k] || len(n.list) >= n.limit {
			continue
		}
		n.seen[k] = true
		n.list = append(n.list, v)
	}
}

// sameURL compares URLs as providers and we write them: a bare host
// gets a trailing slash, and the scheme and host are case-insensitive.
func sameURL(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		if u.Path == "" {
			u.Path = "/"
		}
		u.Fragment = ""
		return u.String()
	}
	return a != "" && norm(a) == norm(b)
}

// asNumber reads an AS number written "AS13335", "as13335" or "13335"; 0
// when it is none.
func asNumber(s string) int {
	s = strings.TrimSpace(s)
	if len(s) > 2 && strings.EqualFold(s[:2], "AS") {
		s = s[2:]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
