package stix

import (
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/stix/stixtest"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
	"github.com/inspector-gadget/gadget/internal/provider"
)

const schemaDir = "testdata/cti-stix2-json-schemas"

func NewValidator(t testing.TB, dir string) *stixtest.Validator { return stixtest.NewValidator(t, dir) }

func results(now time.Time) []*lookup.Result {
	return []*lookup.Result{
		{Provider: "virustotal", Status: lookup.StatusOK, FetchedAt: now.Add(-time.Hour),
			Verdict: provider.Assessment{Level: indicator.Malicious, Score: 80, Reason: "23/90 engines flag it"}},
		{Provider: "abuseipdb", Status: lookup.StatusOK, FetchedAt: now.Add(-10 * time.Minute),
			Verdict: provider.Assessment{Level: indicator.Malicious, Score: 100, Reason: "confidence 100"}},
		{Provider: "shodan", Status: lookup.StatusNotConfigured},
	}
}

// TestObjectsValidate: every object made for every kind and TLP level, the
// bundle, and a sighting validate against the official schemas.
func TestObjectsValidate(t *testing.T) {
	t.Parallel()
	v := NewValidator(t, schemaDir)
	now := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC)
	values := []string{"203.0.113.45", "2001:db8::1", "evil.example", "http://evil.example/a'b\\c?x=1",
		strings.Repeat("a", 32), strings.Repeat("b", 40), strings.Repeat("c", 64)}
	for _, val := range values {
		ind, err := indicator.Parse(val)
		if err != nil {
			t.Fatal(err)
		}
		for _, tlp := range []string{Clear, Green, Amber, AmberStrict, Red} {
			in := Input{Indicator: ind, Results: results(now), TLP: tlp, Now: now,
				Verdict:   lookup.Combine(results(now)),
				Sightings: &Sightings{Count: 4, FirstSeen: now.Add(-48 * time.Hour), LastSeen: now},
				TTL:       func(string) time.Duration { return 24 * time.Hour },
				Link: func(ind indicator.Indicator, r *lookup.Result) string {
					if r.Status != lookup.StatusOK {
						return ""
					}
					return "https://example.test/" + r.Provider + "/" + ind.Value
				}}
			objs := Objects(in)
			types := map[string]bool{}
			for _, o := range objs {
				v.Check(t, o)
				types[o["type"].(string)] = true
				if o["type"] != "marking-definition" {
					if refs, _ := o["object_marking_refs"].([]string); len(refs) != 1 || refs[0] != MarkingID(tlp) {
						t.Errorf("%s: object_marking_refs = %v", o["type"], o["object_marking_refs"])
					}
				}
			}
			for _, want := range []string{"marking-definition", "identity", scoType(ind.Kind), "indicator", "relationship", "sighting"} {
				if !types[want] {
					t.Errorf("%s: no %s object", val, want)
				}
			}
			v.Check(t, Bundle(objs))
		}
	}
	// the validator refuses what the schemas refuse
	ind := Indicator(Input{Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.45"}, Now: now})
	delete(ind, "valid_from")
	bad := Observable(indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.45"}, Amber)
	bad["id"] = "ipv4-addr--not-a-uuid"
	for _, o := range []Object{ind, bad, {"type": "bundle", "id": "bundle--x", "objects": []any{}}} {
		if v.Validate(o) == nil {
			t.Errorf("an invalid %s validates", o["type"])
		}
	}
}

func TestIndicatorMapping(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	ind := indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.45"}
	in := Input{Indicator: ind, Results: results(now), Verdict: lookup.Combine(results(now)), Now: now,
		TTL: func(p string) time.Duration {
			if p == "abuseipdb" {
				return 12 * time.Hour
			}
			return 24 * time.Hour
		},
		Link: func(ind indicator.Indicator, r *lookup.Result) string {
			return map[string]string{"virustotal": "https://vt.example/x"}[r.Provider]
		},
		Title: func(p string) string { return strings.ToUpper(p) }}
	o := Indicator(in)
	want := map[string]any{
		"pattern": "[ipv4-addr:value = '203.0.113.45']", "valid_from": "2026-12-02T10:00:00.000Z",
		// the earliest expiry of the answers: abuseipdb fetched 10 minutes ago, cached 12 h
		"valid_until": "2026-12-02T21:50:00.000Z", "confidence": 100,
	}
	for k, w := range want {
		if o[k] != w {
			t.Errorf("%s = %v, want %v", k, o[k], w)
		}
	}
	if ts := o["indicator_types"].([]string); ts[0] != "malicious-activity" {
		t.Errorf("indicator_types = %v", ts)
	}
	refs := o["external_references"].([]map[string]string)
	if len(refs) != 1 || refs[0]["source_name"] != "VIRUSTOTAL" || refs[0]["url"] != "https://vt.example/x" {
		t.Errorf("external_references = %v", refs)
	}
	if Indicator(in)["id"] != IndicatorID(ind) || Observable(ind, Amber)["id"] != Observable(ind, Red)["id"] {
		t.Error("ids are not deterministic")
	}
	// the SCO id by the STIX 2.1 rule (§2.9): UUIDv5 in the SCO namespace of
	// {"value":"198.51.100.3"}, as Python's uuid.uuid5 computes it
	if got := Observable(indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.3"}, Amber)["id"]; got != "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4" {
		t.Errorf("ipv4-addr id = %v", got)
	}
	for _, tt := range []struct{ in, want string }{{"AMBER_STRICT", AmberStrict}, {"TLP:GREEN", Green}, {"white", Clear}, {"red", Red}} {
		if got, ok := ParseTLP(tt.in); !ok || got != tt.want {
			t.Errorf("ParseTLP(%q) = %q, %t", tt.in, got, ok)
		}
	}
	if _, ok := ParseTLP("purple"); ok {
		t.Error("ParseTLP(purple) ok")
	}
}
