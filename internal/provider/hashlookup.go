package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:         "hashlookup",
		Title:        "CIRCL hashlookup",
		Source:       "CIRCLHashlookup",
		Kinds:        []indicator.Kind{indicator.MD5, indicator.SHA1, indicator.SHA256},
		Key:          KeyNone,
		BaseURL:      "https://hashlookup.circl.lu",
		Rate:         Rate{Events: 60, Per: time.Minute},
		CacheTTL:     7 * 24 * time.Hour, // a known file stays known
		NotFoundTTL:  24 * time.Hour,
		Timeout:      10 * time.Second,
		FreeTier:     "keyless public service of CIRCL (NSRL and other known-file sets); no published limit, be gentle",
		Summary:      HashlookupSummary{},
		Tags:         []string{"reputation", "known-good"},
		CapsAtBenign: true, // the rule: a known-good file caps the verdict at BENIGN
		Description:  "Whether a file hash belongs to a known file (NIST NSRL, OS packages and other known-file sets), and so is most likely not malware.",
		MaxTLP:       indicator.TLPAmber,
		TLPReason:    "an established keyless service run by CIRCL, Luxembourg's CERT; it sees the hash asked about",
		VerdictRules: []string{
			"KnownMalicious set (the file is also in a malware source): MALICIOUS 75",
			"a known file (hashlookup:trust 50 or more): BENIGN 5, a known-good file; it caps the combined verdict at BENIGN",
			"a known file with trust under 50: UNKNOWN (context only)",
			"not in any set (404): not found, no verdict",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &hashlookup{Base: NewBase(d, cfg)}, nil }
	Register(d)
}

// hashlookup asks CIRCL hashlookup: GET /lookup/{md5|sha1|sha256}/{hash},
// keyless; 200 when the hash is in one of its sets, 404 when in none.
type hashlookup struct{ Base }

// HashlookupSummary is what CIRCL hashlookup knows about a file.
type HashlookupSummary struct {
	FileName       string `json:"fileName,omitempty"`
	FileSize       int64  `json:"fileSize,omitempty"`
	ProductName    string `json:"productName,omitempty"`    // the NSRL product that ships it
	ProductVersion string `json:"productVersion,omitempty"` // its version
	Source         string `json:"source,omitempty"`         // the set that knows it, e.g. "NSRL"
	Trust          int    `json:"trust"`                    // hashlookup:trust, 0–100; 50 is neutral, more sources raise it
	KnownMalicious string `json:"knownMalicious,omitempty"` // the malware source that also lists it
	Parents        int    `json:"parents"`                  // hashlookup:parent-total: packages or archives containing it
}

// hashlookupBody is a lookup answer; ProductCode is an object on the public
// service and a plain code on older servers, so it is read loosely.
type hashlookupBody struct {
	FileName       string `json:"FileName"`
	FileSize       string `json:"FileSize"`
	ProductCode    any    `json:"ProductCode"`
	Source         string `json:"source"`
	Trust          *int   `json:"hashlookup:trust"`
	ParentTotal    int    `json:"hashlookup:parent-total"`
	KnownMalicious string `json:"KnownMalicious"`
	Message        string `json:"message"`
}

func (h *hashlookup) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	var algo string
	switch ind.Kind {
	case indicator.MD5, indicator.SHA1, indicator.SHA256:
		algo = string(ind.Kind)
	default:
		return nil, h.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	req, err := h.NewRequest(ctx, http.MethodGet, h.URL("/lookup/"+algo+"/"+url.PathEscape(ind.Value)), nil, "")
	if err != nil {
		return nil, err
	}
	resp, err := h.Do(req)
	if err != nil {
		return nil, err
	}
	var body hashlookupBody
	jsonErr := h.decode(resp, &body, "malformed JSON answer")
	if resp.Status == http.StatusBadRequest && body.Message != "" {
		return nil, h.Fail(ErrBadInput, resp, clipDetail(body.Message)) // "MD5 value incorrect, expected length: 32 bytes"
	}
	if e := h.Classify(resp); e != nil {
		return nil, e // 404 "Non existing MD5": in no set
	}
	if jsonErr != nil {
		return nil, jsonErr
	}
	s := &HashlookupSummary{FileName: body.FileName, Source: body.Source, KnownMalicious: body.KnownMalicious, Parents: body.ParentTotal, Trust: 50}
	s.FileSize, _ = strconv.ParseInt(strings.TrimSpace(body.FileSize), 10, 64)
	if body.Trust != nil {
		s.Trust = max(0, min(100, *body.Trust))
	}
	if pc, ok := body.ProductCode.(map[string]any); ok {
		s.ProductName, _ = pc["ProductName"].(string)
		s.ProductVersion, _ = pc["ProductVersion"].(string)
	}
	return h.OK(resp, s, hashlookupVerdict(s)), nil
}

// hashlookupVerdict: hashlookup is a known-file service. A file it knows
// from software distributions is known-good (BENIGN, which caps the
// combined verdict: Descriptor.CapsAtBenign); a file it also lists from a
// malware source is MALICIOUS.
func hashlookupVerdict(s *HashlookupSummary) Assessment {
	what := "a known file"
	if s.FileName != "" {
		what += " (" + s.FileName
		if s.ProductName != "" {
			what += " in " + s.ProductName
		}
		what += ")"
	}
	switch {
	case s.KnownMalicious != "":
		return Assessment{Level: indicator.Malicious, Score: 75, Reason: "CIRCL hashlookup: known malicious, listed by " + s.KnownMalicious}
	case s.Trust >= 50:
		src := ""
		if s.Source != "" {
			src = " from " + s.Source
		}
		return Assessment{Level: indicator.Benign, Score: 5, Reason: fmt.Sprintf("CIRCL hashlookup: %s%s, trust %d", what, src, s.Trust)}
	default:
		return Assessment{Level: indicator.Unknown, Score: 0, Reason: fmt.Sprintf("CIRCL hashlookup: %s with low trust %d", what, s.Trust)}
	}
}
