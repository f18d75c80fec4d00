package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExtract: POST /api/extract takes text/plain or {"text"}, answers the
// indicators, internal values and ignored tokens, and refuses bodies over
// 1 MiB with 413 BAD_REQUEST.
func TestExtract(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token := h.token("root", "")
	const text = "C2 203.0.113.45:443 md5=44d88612fea8a8f36de82e1278abb02f src=10.1.2.3 dropped inv.exe"
	type result struct {
		Indicators []struct {
			Value, Kind, Raw string
			Spans            []struct{ Start, End int }
		}
		Internal []struct{ Value, Kind, Reason string }
		Ignored  []struct{ Text, Reason string }
	}
	jsonBody, _ := json.Marshal(map[string]string{"text": text})
	for _, tc := range []struct{ ctype, body string }{{"text/plain; charset=utf-8", text}, {"application/json", string(jsonBody)}} {
		res := h.do(token, "POST", "/api/extract", tc.ctype, tc.body)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.ctype, res.status, res.body)
		}
		var got result
		if err := json.Unmarshal(res.body, &got); err != nil {
			t.Fatal(err)
		}
		var values []string
		for _, f := range got.Indicators {
			values = append(values, f.Kind+" "+f.Value+" "+f.Raw+" "+text[f.Spans[0].Start:f.Spans[0].End])
		}
		want := []string{"ipv4 203.0.113.45 203.0.113.45:443 203.0.113.45:443",
			"md5 44d88612fea8a8f36de82e1278abb02f 44d88612fea8a8f36de82e1278abb02f 44d88612fea8a8f36de82e1278abb02f"}
		if diff := cmp.Diff(want, values); diff != "" {
			t.Errorf("%s: indicators (-want +got):\n%s", tc.ctype, diff)
		}
		if len(got.Internal) != 1 || got.Internal[0].Value != "10.1.2.3" || got.Internal[0].Reason == "" {
			t.Errorf("%s: internal %+v, want 10.1.2.3 with a reason", tc.ctype, got.Internal)
		}
		if len(got.Ignored) != 1 || got.Ignored[0].Text != "inv.exe" || !strings.Contains(got.Ignored[0].Reason, "file name") {
			t.Errorf("%s: ignored %+v, want inv.exe as a file name", tc.ctype, got.Ignored)
		}
	}

	big := strings.Repeat("a", 1<<20+1)
	bigJSON, _ := json.Marshal(map[string]string{"text": big})
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		field             string
	}{
		{"text over 1 MiB", "text/plain", big, http.StatusRequestEntityTooLarge, "text"},
		{"json text over 1 MiB", "application/json", string(bigJSON), http.StatusRequestEntityTooLarge, "text"},
		{"body far over", "text/plain", strings.Repeat("a", 3<<20), http.StatusRequestEntityTooLarge, "text"},
		{"no text", "application/json", `{}`, http.StatusBadRequest, "text"},
		{"unknown member", "application/json", `{"text":"x","values":[]}`, http.StatusBadRequest, "body"},
		{"not json", "application/json", `text`, http.StatusBadRequest, "body"},
		{"form", "application/x-www-form-urlencoded", "text=x", http.StatusBadRequest, "Content-Type"},
	} {
		res := h.do(token, "POST", "/api/extract", tc.ctype, tc.body)
		var e struct{ Code, Field string }
		json.Unmarshal(res.body, &e)
		if res.status != tc.status || e.Code != "BAD_REQUEST" || e.Field != tc.field {
			t.Errorf("%s: %d %s, want %d BAD_REQUEST on %s", tc.name, res.status, res.body, tc.status, tc.field)
		}
	}
	if res := h.do(token, "POST", "/api/extract", "text/plain", strings.Repeat("a", 1<<20)); res.status != http.StatusOK {
		t.Errorf("exactly 1 MiB: %d", res.status)
	}
}
