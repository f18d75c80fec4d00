package cortex

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// searchQuery is a _search request: elastic4play's query DSL (the
// operators cortex4py's query.py builds: _field/_value, _and, _or, _not,
// _in, _id, _contains, _gt, _gte, _lt, _lte, _between), a range and a sort, from the
// body (TheHive sends {"query", "range"}) or the query string (cortex4py
// sends range and sort there).
type searchQuery struct {
	Query any
	From  int
	Limit int // -1: all
	Sort  []string
}

// readSearch reads a search's query, range and sort.
func readSearch(r *http.Request) (searchQuery, error) {
	sq := searchQuery{Query: map[string]any{}}
	var body struct {
		Query json.RawMessage `json:"query"`
		Range *string         `json:"range"`
		Sort  json.RawMessage `json:"sort"`
	}
	if r.Method == http.MethodPost {
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return sq, errors.New("the body could not be read")
		}
		if len(raw) > maxBody {
			return sq, fmt.Errorf("the body is over %d bytes", maxBody)
		}
		if len(strings.TrimSpace(string(raw))) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				return sq, errNotJSON
			}
		}
	}
	if len(body.Query) > 0 && string(body.Query) != "null" {
		var q any
		if err := json.Unmarshal(body.Query, &q); err != nil {
			return sq, errors.New("query: not JSON")
		}
		sq.Query = q
	}
	rng := r.URL.Query().Get("range")
	if body.Range != nil {
		rng = *body.Range
	}
	sq.From, sq.Limit = parseRange(rng)
	sq.Sort = r.URL.Query()["sort"]
	if len(body.Sort) > 0 && string(body.Sort) != "null" {
		var one string
		var many []string
		switch {
		case json.Unmarshal(body.Sort, &one) == nil:
			sq.Sort = []string{one}
		case json.Unmarshal(body.Sort, &many) == nil:
			sq.Sort = many
		default:
			return sq, errors.New("sort: a field name or a list of them (-field for descending)")
		}
	}
	return sq, nil
}

// parseRange reads elastic4play's range: "all", or "from-to" (to
// exclusive); absent or malformed is the first ten (DBFind.scala).
func parseRange(s string) (from, limit int) {
	if s == "all" {
		return 0, -1
	}
	if s == "" {
		return 0, 10
	}
	a, b, _ := strings.Cut(s, "-")
	from, err := strconv.Atoi(a)
	if err != nil || from < 0 {
		from = 0
	}
	end, err := strconv.Atoi(b)
	if err != nil {
		end = from + 10
	}
	if end <= from {
		return from, 10
	}
	return from, end - from
}

// search filters, sorts and pages records by sq; defSort applies when sq
// has no sort. Records are matched as their JSON objects.
func search[T any](records []T, sq searchQuery, defSort []string) ([]T, int, error) {
	type item struct {
		rec T
		obj map[string]any
	}
	var hits []item
	for _, rec := range records {
		raw, err := json.Marshal(rec)
		if err != nil {
			return nil, 0, err
		}
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, 0, err
		}
		ok, err := match(sq.Query, obj)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			hits = append(hits, item{rec, obj})
		}
	}
	sorts := sq.Sort
	if len(sorts) == 0 {
		sorts = defSort
	}
	if len(sorts) > 0 {
		slices.SortStableFunc(hits, func(x, y item) int {
			for _, s := range sorts {
				field, desc := strings.TrimPrefix(s, "+"), false
				if f, ok := strings.CutPrefix(s, "-"); ok {
					field, desc = f, true
				}
				if c := compare(x.obj[field], y.obj[field]); c != 0 {
					if desc {
						return -c
					}
					return c
				}
			}
			return 0
		})
	}
	total := len(hits)
	from := min(sq.From, total)
	end := total
	if sq.Limit >= 0 {
		end = min(from+sq.Limit, total)
	}
	out := make([]T, 0, end-from)
	for _, h := range hits[from:end] {
		out = append(out, h.rec)
	}
	return out, total, nil
}

// match reports whether obj satisfies query q.
func match(q any, obj map[string]any) (bool, error) {
	m, ok := q.(map[string]any)
	if !ok {
		return false, fmt.Errorf("a query is a JSON object, not %s", kindOf(q))
	}
	if len(m) == 0 {
		return true, nil
	}
	if f, ok := m["_field"]; ok {
		field, ok := f.(string)
		if !ok {
			return false, errors.New("_field must be a string")
		}
		return equal(obj[field], m["_value"]), nil
	}
	if len(m) != 1 {
		return false, errors.New("a query has one operator; combine several with _and")
	}
	for op, arg := range m {
		switch op {
		case "_and", "_or":
			list, ok := arg.([]any)
			if !ok {
				return false, fmt.Errorf("%s takes a list of queries", op)
			}
			for _, sub := range list {
				ok, err := match(sub, obj)
				if err != nil {
					return false, err
				}
				if op == "_or" && ok {
					return true, nil
				}
				if op == "_and" && !ok {
					return false, nil
				}
			}
			return op == "_and", nil
		case "_not":
			ok, err := match(arg, obj)
			return !ok && err == nil, err
		case "_id":
			return equal(obj["id"], arg), nil
		case "_contains": // elastic4play: the field exists
			field, ok := arg.(string)
			if !ok {
				return false, errors.New("_contains takes a field name")
			}
			return obj[field] != nil, nil
		case "_in":
			in, ok := arg.(map[string]any)
			field, _ := in["_field"].(string)
			values, vok := in["_values"].([]any)
			if !ok || field == "" || !vok {
				return false, errors.New(`_in takes {"_field": name, "_values": [...]}`)
			}
			return slices.ContainsFunc(values, func(v any) bool { return equal(obj[field], v) }), nil
		case "_gt", "_gte", "_lt", "_lte":
			cmpArg, ok := arg.(map[string]any)
			if !ok || len(cmpArg) != 1 {
				return false, fmt.Errorf("%s takes {field: value}", op)
			}
			for field, v := range cmpArg {
				got, present := obj[field]
				if !present || got == nil {
					return false, nil
				}
				c := compare(got, v)
				switch op {
				case "_gt":
					return c > 0, nil
				case "_gte":
					return c >= 0, nil
				case "_lt":
					return c < 0, nil
				default:
					return c <= 0, nil
				}
			}
		case "_between":
			b, ok := arg.(map[string]any)
			field, _ := b["_field"].(string)
			if !ok || field == "" {
				return false, errors.New(`_between takes {"_field": name, "_from": value, "_to": value}`)
			}
			got, present := obj[field]
			if !present || got == nil {
				return false, nil
			}
			return compare(got, b["_from"]) >= 0 && compare(got, b["_to"]) < 0, nil
		}
		return false, fmt.Errorf("unsupported query operator %q: this Cortex API takes _field/_value, _and, _or, _not, _in, _id, _contains, _gt, _gte, _lt, _lte and _between", truncate(op, 32))
	}
	return false, nil
}

// equal compares a record's value with a query's: a list matches when one
// of its members does; numbers compare as numbers, the rest as strings.
func equal(got, want any) bool {
	if list, ok := got.([]any); ok {
		return slices.ContainsFunc(list, func(g any) bool { return equal(g, want) })
	}
	if got == nil || want == nil {
		return got == want
	}
	return compare(got, want) == 0
}

// compare orders two JSON values: numbers (and numeric strings against
// numbers) as numbers, everything else by its text.
func compare(x, y any) int {
	fx, okx := number(x)
	fy, oky := number(y)
	if okx && oky {
		return cmp.Compare(fx, fy)
	}
	return strings.Compare(text(x), text(y))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "that"
}
