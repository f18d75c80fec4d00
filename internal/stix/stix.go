// Package stix turns a lookup into STIX 2.1: the observed object
// (ipv4-addr, ipv6-addr, domain-name, url, file with hashes), an indicator
// with a STIX pattern (valid_from/valid_until from the answers' cache
// lifetime, confidence from the score, the providers' pages as
// external_references), a based-on relationship, a sighting of the local
// sightings when there are any, this service's identity, and the TLP 2.0
// marking-definition (by its official id) on every object.
//
// Ids are deterministic: SCOs by the STIX 2.1 rule (UUIDv5 in the SCO
// namespace over their id-contributing properties), the indicator and the
// relationship by the value, so exporting the same value twice updates the
// consumer's objects instead of duplicating them.
package stix

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/lookup"
)

// MediaType is the STIX 2.1 media type.
const MediaType = "application/stix+json;version=2.1"

// scoNamespace is the namespace STIX 2.1 (§2.9) sets for SCO ids.
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// gadgetNamespace derives this service's deterministic ids.
var gadgetNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/inspector-gadget/gadget/stix"))

// identityCreated is when this service's identity was first defined.
var identityCreated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// IdentityID is this service's identity (created_by_ref of what it makes).
var IdentityID = "identity--" + uuid.NewSHA1(gadgetNamespace, []byte("identity:inspector-gadget")).String()

// TLP levels (TLP 2.0).
const (
	Clear       = "clear"
	Green       = "green"
	Amber       = "amber"
	AmberStrict = "amber+strict"
	Red         = "red"
)

// tlpIDs are the official TLP 2.0 marking-definition ids (OASIS
// cti-stix-common-objects, extension-definition--60a3c5c5-…).
var tlpIDs = map[string]string{
	Clear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	Green:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	Amber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	AmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	Red:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// tlp2Extension is the TLP 2.0 property extension's definition.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// ParseTLP reads a TLP level ("AMBER_STRICT", "TLP:AMBER+STRICT", "white"
// for clear); ok false when it is none.
func ParseTLP(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "TLP:")))
	s = strings.ReplaceAll(s, "_", "+")
	if s == "white" {
		s = Clear
	}
	_, ok := tlpIDs[s]
	return s, ok
}

// MarkingID is the official marking-definition id of TLP level tlp.
func MarkingID(tlp string) string { return tlpIDs[tlp] }

// Object is one STIX object, as it is serialised.
type Object = map[string]any

// Marking is the TLP 2.0 marking-definition of level tlp.
func Marking(tlp string) Object {
	return Object{"type": "marking-definition", "spec_version": "2.1", "id": tlpIDs[tlp],
		"created": "2022-10-01T00:00:00.000Z", "name": "TLP:" + strings.ToUpper(tlp),
		"extensions": map[string]any{tlp2Extension: map[string]any{"extension_type": "property-extension", "tlp_2_0": tlp}}}
}

// Identity is this service's identity, marked tlp.
func Identity(tlp string) Object {
	return Object{"type": "identity", "spec_version": "2.1", "id": IdentityID, "created": ts(identityCreated), "modified": ts(identityCreated),
		"name": "Inspector Gadget", "identity_class": "system",
		"description":         "Threat-intelligence enrichment service: cached, policy-checked lookups combined into one verdict",
		"object_marking_refs": []string{tlpIDs[tlp]}}
}

// ts is a STIX timestamp: UTC, millisecond precision.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Sightings are the local sightings of a value (who looked it up here).
type Sightings struct {
	Count     int
	FirstSeen time.Time
	LastSeen  time.Time
}

// Input is what one lookup's bundle is made of.
type Input struct {
	Indicator indicator.Indicator
	Results   []*lookup.Result
	Verdict   indicator.Verdict
	TLP       string // default Amber
	Sightings *Sightings
	Now       time.Time
	// TTL is a provider's cache lifetime: an answer is valid until it was
	// fetched plus this.
	TTL func(provider string) time.Duration
	// Link is a provider's page about the value ("" none).
	Link func(ind indicator.Indicator, r *lookup.Result) string
	// Title is a provider's human name.
	Title func(provider string) string
}

// scoType is the SCO type of a kind.
func scoType(k indicator.Kind) string {
	switch k {
	case indicator.IPv4:
		return "ipv4-addr"
	case indicator.IPv6:
		return "ipv6-addr"
	case indicator.Domain:
		return "domain-name"
	case indicator.URL:
		return "url"
	}
	return "file"
}

// hashName is the STIX hash algorithm name of a hash kind.
func hashName(k indicator.Kind) string {
	switch k {
	case indicator.MD5:
		return "MD5"
	case indicator.SHA1:
		return "SHA-1"
	}
	return "SHA-256"
}

// Observable is ind's SCO, with its deterministic id.
func Observable(ind indicator.Indicator, tlp string) Object {
	typ := scoType(ind.Kind)
	o := Object{"type": typ, "spec_version": "2.1", "object_marking_refs": []string{tlpIDs[tlp]}}
	var contributing any
	if typ == "file" {
		hashes := map[string]string{hashName(ind.Kind): ind.Value}
		o["hashes"] = hashes
		contributing = map[string]any{"hashes": hashes}
	} else {
		o["value"] = ind.Value
		contributing = map[string]any{"value": ind.Value}
	}
	b, _ := json.Marshal(contributing) // keys sorted, no spaces: RFC 8785 for these simple values
	o["id"] = typ + "--" + uuid.NewSHA1(scoNamespace, b).String()
	return o
}

// Pattern is ind's STIX pattern.
func Pattern(ind indicator.Indicator) string {
	v := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(ind.Value)
	typ := scoType(ind.Kind)
	if typ == "file" {
		return fmt.Sprintf("[file:hashes.'%s' = '%s']", hashName(ind.Kind), v)
	}
	return fmt.Sprintf("[%s:value = '%s']", typ, v)
}

// IndicatorID is the deterministic indicator id of a value.
func IndicatorID(ind indicator.Indicator) string {
	return "indicator--" + uuid.NewSHA1(gadgetNamespace, []byte("indicator:"+string(ind.Kind)+":"+ind.Value)).String()
}

// indicatorTypes maps a verdict level to indicator-type-ov.
var indicatorTypes = map[indicator.Level]string{
	indicator.Malicious: "malicious-activity", indicator.Suspicious: "anomalous-activity",
	indicator.Benign: "benign", indicator.Unknown: "unknown",
}

// Indicator is the indicator object of in: its verdict, as of in.Now.
func Indicator(in Input) Object {
	tlp := in.tlp()
	v := in.Verdict
	validFrom, validUntil := in.validity()
	name := fmt.Sprintf("%s %s: %s", strings.ToUpper(string(in.Indicator.Kind)), in.Indicator.Value, v.Level)
	desc := fmt.Sprintf("Inspector Gadget verdict %s, score %d/100.", v.Level, v.Score)
	if len(v.Reasons) > 0 {
		desc += " " + strings.Join(v.Reasons, "; ") + "."
	}
	o := Object{"type": "indicator", "spec_version": "2.1", "id": IndicatorID(in.Indicator),
		"created": ts(in.Now), "modified": ts(in.Now), "created_by_ref": IdentityID,
		"name": name, "description": desc,
		"indicator_types": []string{indicatorTypes[v.Level]},
		"pattern":         Pattern(in.Indicator), "pattern_type": "stix", "pattern_version": "2.1",
		"valid_from": ts(validFrom), "valid_until": ts(validUntil),
		"confidence":          max(0, min(100, v.Score)),
		"labels":              []string{"inspector-gadget", strings.ToLower(v.Level.String())},
		"object_marking_refs": []string{tlpIDs[tlp]},
	}
	var refs []map[string]string
	for _, r := range in.Results {
		if in.Link == nil {
			break
		}
		if l := in.Link(in.Indicator, r); l != "" {
			title := r.Provider
			if in.Title != nil {
				title = in.Title(r.Provider)
			}
			ref := map[string]string{"source_name": title, "url": l}
			if r.Status == lookup.StatusOK && r.Verdict.Reason != "" {
				ref["description"] = r.Verdict.Reason
			}
			refs = append(refs, ref)
		}
	}
	if len(refs) > 0 {
		o["external_references"] = refs
	}
	return o
}

// validity is when the verdict holds: from now until the earliest expiry
// of the answers it rests on (their fetch time plus the provider's cache
// lifetime), at least a minute, an hour when no answer backs it.
func (in Input) validity() (time.Time, time.Time) {
	from := in.Now.UTC().Truncate(time.Millisecond)
	var until time.Time
	for _, r := range in.Results {
		if r.Status != lookup.StatusOK && r.Status != lookup.StatusNotFound || r.FetchedAt.IsZero() || in.TTL == nil {
			continue
		}
		if ttl := in.TTL(r.Provider); ttl > 0 {
			if e := r.FetchedAt.Add(ttl); until.IsZero() || e.Before(until) {
				until = e
			}
		}
	}
	if until.IsZero() {
		until = from.Add(time.Hour)
	}
	if until.Before(from.Add(time.Minute)) {
		until = from.Add(time.Minute)
	}
	return from, until.UTC().Truncate(time.Millisecond)
}

func (in Input) tlp() string {
	if _, ok := tlpIDs[in.TLP]; ok {
		return in.TLP
	}
	return Amber
}

// Objects are the STIX objects of one lookup, identity and marking first.
func Objects(in Input) []Object {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	tlp := in.tlp()
	ind := Indicator(in)
	sco := Observable(in.Indicator, tlp)
	rel := Object{"type": "relationship", "spec_version": "2.1",
		"id":      "relationship--" + uuid.NewSHA1(gadgetNamespace, []byte("based-on:"+ind["id"].(string)+":"+sco["id"].(string))).String(),
		"created": ind["created"], "modified": ind["modified"], "created_by_ref": IdentityID,
		"relationship_type": "based-on", "source_ref": ind["id"], "target_ref": sco["id"],
		"object_marking_refs": []string{tlpIDs[tlp]}}
	out := []Object{Marking(tlp), Identity(tlp), sco, ind, rel}
	if s := in.Sightings; s != nil && s.Count > 0 {
		sg := Object{"type": "sighting", "spec_version": "2.1",
			"id":      "sighting--" + uuid.NewSHA1(gadgetNamespace, []byte("sighting:"+ind["id"].(string)+":"+ts(s.LastSeen))).String(),
			"created": ts(in.Now), "modified": ts(in.Now), "created_by_ref": IdentityID,
			"sighting_of_ref": ind["id"], "count": min(s.Count, 999999999),
			"first_seen": ts(s.FirstSeen), "last_seen": ts(s.LastSeen),
			"where_sighted_refs":  []string{IdentityID},
			"description":         "Looked up through Inspector Gadget by this organisation's analysts",
			"object_marking_refs": []string{tlpIDs[tlp]}}
		if !s.LastSeen.After(s.FirstSeen) {
			delete(sg, "last_seen")
		}
		out = append(out, sg)
	}
	return out
}

// Bundle wraps objects in a bundle with a fresh id.
func Bundle(objects []Object) Object {
	return Object{"type": "bundle", "id": "bundle--" + uuid.NewString(), "objects": objects}
}

// Verdict combines results as the rest of the service does; a convenience
// for callers that hold only the results.
func Verdict(results []*lookup.Result) indicator.Verdict { return lookup.Combine(results) }
