package provider

// What URLhaus, ThreatFox and MalwareBazaar (abuse.ch) share: the POST with
// the Auth-Key header, the query_status outcome and their number and time
// formats.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// abuseCHPost sends an abuse.ch API call: a POST of body (of contentType) to
// path with the Auth-Key header. The answer comes back only when
// abuseCHOutcome finds query_status "ok" with a 2xx status.
func abuseCHPost(ctx context.Context, b *Base, path, contentType string, body io.Reader) (*Response, error) {
	req, err := b.NewRequest(ctx, http.MethodPost, b.URL(path), body, "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	b.setKeyHeader(req, "Auth-Key")
	resp, err := b.Do(req)
	if err != nil {
		return nil, err
	}
	if e := abuseCHOutcome(b, resp); e != nil {
		return nil, e
	}
	return resp, nil
}

// abuseCHOutcome judges an answer from URLhaus, ThreatFox or MalwareBazaar.
// abuse.ch reports most outcomes in the body's query_status, so that is read
// before the HTTP status:
//
//	query_status                                   error
//	illegal_auth_key, unknown_auth_key (any HTTP)  ErrAuth
//	no_results, no_result, hash_not_found          ErrNotFound (body kept)
//	invalid_*, illegal_*, missing_*,
//	no_hash_provided                               ErrBadInput
//	none, with a non-2xx status                    Classify (401 without body → ErrAuth, 429 → ErrRateLimited, …)
//	ok, with a 2xx status                          nil: decode the answer
//	anything else                                  ErrUpstream
func abuseCHOutcome(b *Base, resp *Response) *Error {
	var s struct {
		QueryStatus string `json:"query_status"`
	}
	_ = json.Unmarshal(resp.Body, &s) // a body without query_status is judged by its HTTP status
	q := s.QueryStatus
	switch {
	case q == "illegal_auth_key" || q == "unknown_auth_key":
		return b.Fail(ErrAuth, resp, "the provider refused the Auth-Key ("+q+")")
	case q == "no_results" || q == "no_result" || q == "hash_not_found":
		return b.Fail(ErrNotFound, resp, "")
	case strings.HasPrefix(q, "invalid_") || strings.HasPrefix(q, "illegal_") || strings.HasPrefix(q, "missing_") || q == "no_hash_provided":
		return b.Fail(ErrBadInput, resp, "query_status "+clipDetail(q))
	}
	if e := b.Classify(resp); e != nil {
		return e
	}
	switch q {
	case "ok":
		return nil
	case "":
		return b.Fail(ErrUpstream, resp, "malformed answer without query_status")
	default:
		return b.Fail(ErrUpstream, resp, "unexpected query_status "+strconv.Quote(clipDetail(q)))
	}
}

// abuseCHInt reads the numbers abuse.ch sends either as JSON numbers or as
// strings ("10"). null, "" and anything unreadable read as 0: a count is not
// worth failing the whole answer for.
type abuseCHInt int64

func (n *abuseCHInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	*n = 0
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = abuseCHInt(v)
	} else if f, err := strconv.ParseFloat(s, 64); err == nil {
		*n = abuseCHInt(f)
	}
	return nil
}

// abuseCHTime reads abuse.ch timestamps, all UTC: "2006-01-02 15:04:05 UTC"
// (the suffix is sometimes missing) or a bare day, "2006-01-02", as URLhaus
// sends for payloads, or RFC 3339. Empty or unreadable values give the
// zero time.
func abuseCHTime(s string) time.Time {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "UTC"))
	return parseTime(s, time.DateTime, time.DateOnly, time.RFC3339)
}
