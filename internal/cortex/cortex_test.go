package cortex

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseRange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in          string
		from, limit int
	}{
		{"", 0, 10}, {"all", 0, -1}, {"0-1", 0, 1}, {"10-30", 10, 20}, {"5", 5, 10}, {"5-5", 5, 10}, {"x-y", 0, 10}, {"-3", 0, 3},
	} {
		from, limit := parseRange(c.in)
		if from != c.from || limit != c.limit {
			t.Errorf("parseRange(%q) = %d, %d; want %d, %d", c.in, from, limit, c.from, c.limit)
		}
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "1 second", want: time.Second}, // TheHive's CortexActor: getReport(id, 1.second)
		{in: "1minute", want: time.Minute},  // Cortex's default
		{in: "30seconds", want: 30 * time.Second},
		{in: "500 millis", want: 500 * time.Millisecond},
		{in: "1.5s", want: 1500 * time.Millisecond},
		{in: "Inf", want: maxWait}, // cortex4py's default
		{in: "-Inf", want: 0},
		{in: "999 days", want: maxWait},
		{in: "soon", bad: true},
		{in: "3 fortnights", bad: true},
	} {
		got, err := parseDuration(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("parseDuration(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	type rec struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Types    []string `json:"dataTypeList"`
		Status   string   `json:"status"`
		Date     int64    `json:"date"`
		Optional *int     `json:"optional,omitempty"`
	}
	zero := 0
	recs := []rec{
		{"a", "A", []string{"ip", "domain"}, "Success", 300, nil},
		{"b", "B", []string{"hash"}, "Failure", 100, &zero},
		{"c", "C", []string{"ip"}, "Success", 200, nil},
	}
	q := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name  string
		query string
		sort  []string
		from  int
		limit int
		want  []string
		total int
		bad   bool
	}{
		{name: "everything", query: `{}`, limit: -1, want: []string{"a", "b", "c"}, total: 3},
		{name: "field", query: `{"_field":"name","_value":"B"}`, limit: -1, want: []string{"b"}, total: 1},
		{name: "list member", query: `{"_field":"dataTypeList","_value":"ip"}`, limit: -1, want: []string{"a", "c"}, total: 2},
		{name: "and", query: `{"_and":[{"_field":"status","_value":"Success"},{"_field":"dataTypeList","_value":"domain"}]}`, limit: -1, want: []string{"a"}, total: 1},
		{name: "or", query: `{"_or":[{"_id":"b"},{"_id":"c"}]}`, limit: -1, want: []string{"b", "c"}, total: 2},
		{name: "not", query: `{"_not":{"_field":"status","_value":"Success"}}`, limit: -1, want: []string{"b"}, total: 1},
		{name: "in", query: `{"_in":{"_field":"name","_values":["A","C"]}}`, limit: -1, want: []string{"a", "c"}, total: 2},
		{name: "gte", query: `{"_gte":{"date":200}}`, limit: -1, want: []string{"a", "c"}, total: 2},
		{name: "lt", query: `{"_lt":{"date":200}}`, limit: -1, want: []string{"b"}, total: 1},
		{name: "between", query: `{"_between":{"_field":"date","_from":100,"_to":300}}`, limit: -1, want: []string{"b", "c"}, total: 2},
		{name: "contains", query: `{"_contains":"optional"}`, limit: -1, want: []string{"b"}, total: 1},
		{name: "contains a field of every record", query: `{"_contains":"status"}`, limit: -1, want: []string{"a", "b", "c"}, total: 3},
		{name: "contains, not a name", query: `{"_contains":{"_field":"status"}}`, bad: true},
		{name: "absent field", query: `{"_gt":{"optional":1}}`, limit: -1, want: []string{}, total: 0},
		{name: "sort descending", query: `{}`, sort: []string{"-date"}, limit: -1, want: []string{"a", "c", "b"}, total: 3},
		{name: "page", query: `{}`, sort: []string{"+date"}, from: 1, limit: 1, want: []string{"c"}, total: 3},
		{name: "page past the end", query: `{}`, from: 5, limit: 10, want: []string{}, total: 3},
		{name: "unsupported operator", query: `{"_string":"status:Success"}`, bad: true},
		{name: "two operators", query: `{"_id":"a","_not":{}}`, bad: true},
		{name: "not an object", query: `["a"]`, bad: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, total, err := search(recs, searchQuery{Query: q(c.query), From: c.from, Limit: c.limit, Sort: c.sort}, nil)
			if c.bad {
				if err == nil {
					t.Fatalf("no error; got %v", page)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range page {
				got = append(got, r.ID)
			}
			if diff := cmp.Diff(c.want, got); diff != "" || total != c.total {
				t.Errorf("ids (-want +got):\n%s total %d, want %d", diff, total, c.total)
			}
		})
	}
}

func TestLevel03(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		raw  string
		want int
		bad  bool
	}{
		{"", 2, false}, {"null", 2, false}, {"0", 0, false}, {"3", 3, false}, {`"1"`, 1, false},
		{"4", 0, true}, {"-1", 0, true}, {`"red"`, 0, true}, {"1.5", 0, true},
	} {
		got, err := level03("tlp", json.RawMessage(c.raw))
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("level03(%s) = %d, %v; want %d (error %v)", c.raw, got, err, c.want, c.bad)
		}
	}
}
