package enrich

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func TestMemoServesOnlyTheSameBytes(t *testing.T) {
	m := newMemo(10)
	b := []byte(`{"s":"OK"}`)
	m.put("k", b, Result{Provider: "p", Status: StatusOK})
	if d := m.get("k", b); d == nil || d.res.Provider != "p" {
		t.Fatalf("same slice: %+v", d)
	}
	if d := m.get("k", bytes.Clone(b)); d != nil {
		t.Error("equal bytes in another slice were served from the memo (a refreshed entry must be decoded again)")
	}
	if d := m.get("k", b[:5]); d != nil {
		t.Error("a shorter slice of the same array was served")
	}
	if d := m.get("other", b); d != nil {
		t.Error("another key was served")
	}
	if d := m.get("k", nil); d != nil {
		t.Error("empty bytes were served")
	}
}

func TestDecodeSummaryOncePerEntry(t *testing.T) {
	type sum struct{ N int }
	shared := &summaryMemo{}
	a := &Result{SummaryJSON: []byte(`{"N":7}`), summary: shared}
	b := &Result{SummaryJSON: []byte(`{"N":7}`), summary: shared}
	sa, err := DecodeSummary[sum](a)
	if err != nil || sa == nil || sa.N != 7 {
		t.Fatalf("decode: %v %v", sa, err)
	}
	if sb, _ := DecodeSummary[sum](b); sb != sa {
		t.Error("a second result from the same entry decoded again")
	}
	if s, _ := DecodeSummary[sum](&Result{SummaryJSON: []byte(`{"N":8}`)}); s == nil || s.N != 8 {
		t.Errorf("a result without a memo: %v", s)
	}
}

func TestUsageParamsMatchesAMarshalledMap(t *testing.T) {
	for _, ind := range []indicator.Indicator{{Kind: indicator.IPv4, Value: "198.51.100.1"}, {Kind: indicator.URL, Value: `http://x.example/"a"<b>&c`}} {
		want, _ := json.Marshal(map[string]string{"kind": string(ind.Kind), "value": ind.Value})
		if got := usageParams(ind); got != string(want) {
			t.Errorf("usageParams = %s, want %s", got, want)
		}
	}
}
