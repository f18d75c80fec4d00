package lookup_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/inspector-gadget/gadget/internal/errcode"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

type summary struct {
	Hits int `json:"hits"`
}

// The codec carries every field another process needs; per-delivery
// fields stay behind, and the summary is decoded once for all copies.
func TestCodecRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	in := &lookup.Result{Provider: "virustotal", Status: lookup.StatusOK, Cached: true, FetchedAt: at, Latency: time.Second,
		Data: json.RawMessage(`{"x":1}`), Summary: &summary{Hits: 3}, Bytes: 7, JobID: 9,
		Verdict: provider.Assessment{Level: indicator.Malicious, Score: 90, Reason: "r"}}
	b, err := lookup.Codec{}.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lookup.Codec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := *in
	want.Cached, want.Latency, want.JobID, want.Summary = false, 0, 0, nil
	if diff := cmp.Diff(&want, out, cmpopts.IgnoreUnexported(lookup.Result{})); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	cp := *out // a cache reader's copy
	s1, err := lookup.SummaryOf[summary](out)
	if err != nil || s1 == nil || s1.Hits != 3 {
		t.Fatalf("summary = %+v, %v", s1, err)
	}
	if s2, _ := lookup.SummaryOf[summary](&cp); s2 != s1 {
		t.Error("a copy decoded the summary again")
	}
	again, err := lookup.Codec{}.Encode(out) // forwarded as it came
	if err != nil || string(again) != string(b) {
		t.Errorf("re-encoded = %s, %v; want %s", again, err, b)
	}
}

func TestCodecError(t *testing.T) {
	t.Parallel()
	in := lookup.Failed("abuseipdb", lookup.StatusRateLimited, errcode.RateLimited, "spent")
	in.RetryAfter, in.Transient = 90*time.Second, true
	b, err := lookup.Codec{}.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lookup.Codec{}.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Err == nil || out.Err.Code != errcode.RateLimited || out.Err.RetryAfter != 90*time.Second || !out.Transient || out.Provider != "abuseipdb" {
		t.Errorf("decoded = %+v (err %+v)", out, out.Err)
	}
	if s, err := lookup.SummaryOf[summary](out); s != nil || err != nil {
		t.Errorf("summary of an error = %+v, %v", s, err)
	}
	if _, err := (lookup.Codec{}).Decode([]byte("{")); err == nil {
		t.Error("a broken encoding decoded")
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]int64{0: 0, -time.Second: 0, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2} {
		if got := lookup.RetryAfterSeconds(d); got != want {
			t.Errorf("RetryAfterSeconds(%s) = %d, want %d", d, got, want)
		}
	}
}

func TestCombine(t *testing.T) {
	t.Parallel()
	res := func(name string, st lookup.Status, level indicator.Level, score int) *lookup.Result {
		return &lookup.Result{Provider: name, Status: st, Verdict: provider.Assessment{Level: level, Score: score, Reason: "r"}}
	}
	many := func(n int, st lookup.Status) []*lookup.Result {
		var out []*lookup.Result
		for i := range n {
			out = append(out, res(fmt.Sprint(st, i), st, indicator.Unknown, 0))
		}
		return out
	}
	tests := []struct {
		name    string
		in      []*lookup.Result
		level   indicator.Level
		score   int
		reasons []string // checked when set
	}{
		{"nothing", nil, indicator.Unknown, 0, []string{"no provider answered: none was asked"}},
		{"nobody answered", append(many(5, "NOT_CONFIGURED"), many(6, "ERROR")...), indicator.Unknown, 0, []string{"no provider answered: 5 not configured, 6 errors"}},
		{"nobody answered, one of each", []*lookup.Result{res("a", "SKIPPED", 0, 0), res("b", "TIMEOUT", 0, 0), res("c", "RATE_LIMITED", 0, 0), res("d", "PENDING", 0, 0), res("e", "ERROR", 0, 0)}, indicator.Unknown, 0,
			[]string{"no provider answered: 1 error, 1 timed out, 1 rate limited, 1 pending, 1 skipped"}},
		{"a not-found is an answer", []*lookup.Result{res("a", "NOT_FOUND", 0, 0), res("b", "NOT_CONFIGURED", 0, 0)}, indicator.Unknown, 0, []string{}},
		{"only context", []*lookup.Result{res("rdap", "OK", indicator.Unknown, 0)}, indicator.Unknown, 0, []string{}}, // context is not a reason
		{"benign", []*lookup.Result{res("gn", "OK", indicator.Benign, 5), res("rdap", "OK", indicator.Unknown, 0)}, indicator.Benign, 0, []string{"gn: r"}},
		{"one malicious", []*lookup.Result{res("vt", "OK", indicator.Malicious, 90), res("gn", "OK", indicator.Benign, 5)}, indicator.Malicious, 90, []string{"vt: r", "gn: r"}},
		{"agreement raises", []*lookup.Result{res("a", "OK", indicator.Suspicious, 60), res("b", "OK", indicator.Suspicious, 40), res("c", "OK", indicator.Suspicious, 30)}, indicator.Malicious, 70, nil}, // 60 + 5 + 5
		{"weak suspicion", []*lookup.Result{res("a", "OK", indicator.Suspicious, 20)}, indicator.Suspicious, 30, nil},
		{"errors ignored", []*lookup.Result{res("a", "ERROR", indicator.Malicious, 99), res("b", "NOT_FOUND", indicator.Unknown, 0)}, indicator.Unknown, 0, []string{}},
		{"capped", []*lookup.Result{res("a", "OK", indicator.Malicious, 100), res("b", "OK", indicator.Malicious, 95)}, indicator.Malicious, 100, nil},
		// hashlookup is a known-good source (CapsAtBenign): its BENIGN caps
		// the verdict, its MALICIOUS (KnownMalicious) does not.
		{"known-good caps", []*lookup.Result{res("vt", "OK", indicator.Malicious, 90), res("hashlookup", "OK", indicator.Benign, 5)}, indicator.Benign, 0,
			[]string{"capped at BENIGN: hashlookup knows it as known-good", "vt: r", "hashlookup: r"}},
		{"known-good and benign stays", []*lookup.Result{res("hashlookup", "OK", indicator.Benign, 5)}, indicator.Benign, 0, []string{"hashlookup: r"}},
		{"known malicious does not cap", []*lookup.Result{res("vt", "OK", indicator.Malicious, 90), res("hashlookup", "OK", indicator.Malicious, 75)}, indicator.Malicious, 95, nil},
		{"not found does not cap", []*lookup.Result{res("vt", "OK", indicator.Malicious, 90), res("hashlookup", "NOT_FOUND", indicator.Benign, 5)}, indicator.Malicious, 90, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := lookup.Combine(tt.in)
			if v.Level != tt.level || v.Score != tt.score {
				t.Errorf("Combine = %s %d, want %s %d (reasons %v)", v.Level, v.Score, tt.level, tt.score, v.Reasons)
			}
			if tt.reasons != nil {
				if diff := cmp.Diff(tt.reasons, v.Reasons); diff != "" {
					t.Errorf("reasons (-want +got):\n%s", diff)
				}
			}
			// the level-only form agrees, and builds no provider reasons
			if l := lookup.CombineLevel(tt.in); l.Level != v.Level || l.Score != v.Score || (len(l.Reasons) > 0 && l.Level != indicator.Unknown) {
				t.Errorf("CombineLevel = %s %d %v, want %s %d without reasons", l.Level, l.Score, l.Reasons, v.Level, v.Score)
			}
		})
	}
}

// A provider row names the provider already, so its reason drops a
// leading repeat of the name, the title or the source name.
func TestProviderReason(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, provider, reason, want string }{
		{"title", "threatfox", "ThreatFox: botnet C2 (Emotet)", "botnet C2 (Emotet)"},
		{"name", "threatfox", "threatfox: botnet C2", "botnet C2"},
		{"source", "crtsh", "crt.sh: first certificate for a.example issued 3 days ago", "first certificate for a.example issued 3 days ago"},
		{"no repeat", "virustotal", "2/93 engines flag it malicious", "2/93 engines flag it malicious"},
		{"a colon later", "otx", "1 pulse: Qakbot", "1 pulse: Qakbot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &lookup.Result{Provider: tt.provider, Status: lookup.StatusOK, Verdict: provider.Assessment{Level: indicator.Suspicious, Reason: tt.reason}}
			if got := lookup.ProviderReason(r); got != tt.want {
				t.Errorf("ProviderReason = %q, want %q", got, tt.want)
			}
			if got := lookup.Combine([]*lookup.Result{r}).Reasons[0]; got != tt.provider+": "+tt.want {
				t.Errorf("Combine reason = %q", got)
			}
		})
	}
}

// The coverage line counts every bucket and says when to retry in whole
// seconds, as the portal and the CLI show it.
func TestCoverageString(t *testing.T) {
	t.Parallel()
	rs := []*lookup.Result{
		{Provider: "a", Status: lookup.StatusOK},
		{Provider: "b", Status: lookup.StatusNotFound},
		{Provider: "c", Status: lookup.StatusRateLimited, RetryAfter: 39200 * time.Millisecond},
		{Provider: "d", Status: lookup.StatusRateLimited, RetryAfter: 90 * time.Second},
		{Provider: "e", Status: lookup.StatusNotConfigured},
		{Provider: "f", Status: lookup.StatusSkipped},
	}
	c := lookup.CoverageOf(rs)
	if got, want := c.String(), "2 of 6 answered; 2 rate-limited, retry in 40 s; 1 not configured; 1 skipped"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if c.Complete() {
		t.Error("complete with two providers rate-limited")
	}
}
