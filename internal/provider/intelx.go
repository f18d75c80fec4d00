package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:        "intelx",
		Title:       "Intelligence X",
		Source:      "IntelligenceX",
		Kinds:       []indicator.Kind{indicator.IPv4, indicator.Domain, indicator.URL},
		Key:         KeyRequired,
		BaseURL:     "https://free.intelx.io",
		Rate:        Rate{Events: 1, Per: time.Minute},
		Budget:      Rate{Events: 50, Per: 24 * time.Hour},
		CacheTTL:    24 * time.Hour,
		NotFoundTTL: 12 * time.Hour,
		Timeout:     20 * time.Second,
		Calls:       1 + intelxReads,
		FreeTier:    "key of a free account on free.intelx.io (paid keys: GADGET_INTELX_BASE_URL=https://2.intelx.io); credits per the account's plan (https://help.intelx.io/api, Limits), so the defaults are a conservative 1 lookup a minute and 50 a day",
		Terms:       "integration into third-party products needs Intelligence X's \"API\" licence or higher (https://help.intelx.io/api).",
		Summary:     IntelXSummary{},
		Tags:        []string{"context"},
		Description: "Where Intelligence X's archive has seen a value (leaks, pastes, darknet, web, WHOIS …): how many results, in which buckets, the latest ones.",
		MaxTLP:      indicator.TLPAmber,
		TLPReason:   "queried under your account and its terms (API key); it sees the search term",
		VerdictRules: []string{
			"context only: UNKNOWN with the count of results and their buckets (being named in a leak or paste says nothing about the value itself)",
			"no record: not found; search status 1 (invalid term): rejected input; status 2 (too many concurrent searches): rate limited",
		},
		Link: func(ind indicator.Indicator) string {
			return "https://intelx.io/?s=" + url.QueryEscape(ind.Value)
		},
	}
	d.New = func(cfg Config) (Provider, error) { return &intelx{Base: NewBase(d, cfg), pause: time.Second}, nil }
	Register(d)
}

// intelxReads is how often a lookup reads the result of its search while
// Intelligence X answers "no results yet" (status 3).
const intelxReads = 3

// intelx runs an Intelligence X intelligent search: POST /intelligent/search
// {"term",…} with the x-key header gives a search id; GET
// /intelligent/search/result?id=…&limit=100 gives its records.
type intelx struct {
	Base
	pause time.Duration // between result reads while none is ready
}

// IntelXSummary is what the archive holds about a value.
type IntelXSummary struct {
	Total   int            `json:"total"`   // records read (at most 100)
	More    bool           `json:"more"`    // the search had more than were read
	Buckets []IntelXBucket `json:"buckets"` // records per bucket, most first
	First   time.Time      `json:"first"`   // the oldest record's date
	Last    time.Time      `json:"last"`    // the newest record's date
	Recent  []IntelXRecord `json:"recent"`  // the newest records, at most 10
}

// IntelXBucket counts the records of one bucket.
type IntelXBucket struct {
	Bucket string `json:"bucket"` // e.g. "leaks.public.general"
	Name   string `json:"name"`   // human name, e.g. "Leaks » Public » General"
	Count  int    `json:"count"`
}

// IntelXRecord is one archived item.
type IntelXRecord struct {
	Name   string    `json:"name"`
	Bucket string    `json:"bucket"`
	Media  string    `json:"media"` // human media type, e.g. "Text File"
	Date   time.Time `json:"date"`
}

// Context gives the span of the archive's records.
func (s IntelXSummary) Context() Context {
	return Context{FirstSeen: s.First, LastSeen: s.Last}
}

type intelxStart struct {
	ID     string `json:"id"`
	Status *int   `json:"status"`
}

type intelxRecord struct {
	Name    string    `json:"name"`
	Bucket  string    `json:"bucket"`
	BucketH string    `json:"bucketh"`
	MediaH  string    `json:"mediah"`
	Date    time.Time `json:"date"`
}

type intelxResult struct {
	Records []intelxRecord `json:"records"`
	Status  *int           `json:"status"`
}

func (p *intelx) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if !slices.Contains(p.desc.Kinds, ind.Kind) {
		return nil, p.Fail(ErrBadInput, nil, fmt.Sprintf("%s lookups are not served", ind.Kind))
	}
	if p.APIKey() == "" {
		return nil, p.NotConfigured()
	}
	body, _ := json.Marshal(map[string]any{ // the fields of the SDK's IntelligentSearchRequest
		"term": ind.Value, "buckets": []string{}, "lookuplevel": 0, "maxresults": 100, "timeout": 5,
		"datefrom": "", "dateto": "", "sort": 4, "media": 0, "terminate": []string{},
	})
	req, err := p.NewRequest(ctx, http.MethodPost, p.URL("/intelligent/search"), bytes.NewReader(body), "")
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	p.setKeyHeader(req, "x-key")
	resp, err := p.Do(req)
	if err != nil {
		return nil, err
	}
	total := int64(len(resp.Body))
	fail := func(e *Error) (*Result, error) {
		e.Bytes = total
		return nil, e
	}
	if e := p.Classify(resp); e != nil {
		return fail(e)
	}
	var start intelxStart
	if e := p.decode(resp, &start, "malformed search answer"); e != nil {
		return fail(e)
	}
	switch {
	case start.Status == nil:
		return fail(p.Fail(ErrUpstream, resp, "search answer without a status"))
	case *start.Status == 1:
		return fail(p.Fail(ErrBadInput, resp, "Intelligence X rejected the search term"))
	case *start.Status == 2:
		return fail(p.Fail(ErrRateLimited, resp, "too many concurrent searches"))
	case *start.Status != 0 || start.ID == "":
		return fail(p.Fail(ErrUpstream, resp, fmt.Sprintf("search status %d", *start.Status)))
	}
	q := url.Values{"id": {start.ID}, "limit": {"100"}}
	var res intelxResult
	for read := 1; ; read++ {
		req, err := p.NewRequest(ctx, http.MethodGet, p.URL("/intelligent/search/result?"+q.Encode()), nil, "")
		if err != nil {
			return nil, err
		}
		p.setKeyHeader(req, "x-key")
		if resp, err = p.Do(req); err != nil {
			return nil, err
		}
		total += int64(len(resp.Body))
		if e := p.Classify(resp); e != nil {
			return fail(e)
		}
		res = intelxResult{}
		if e := p.decode(resp, &res, "malformed result answer"); e != nil {
			return fail(e)
		}
		if res.Status == nil {
			return fail(p.Fail(ErrUpstream, resp, "result answer without a status"))
		}
		if *res.Status != 3 { // 3: no results yet, keep trying
			break
		}
		if read == intelxReads {
			return fail(p.Fail(ErrTimeout, resp, "Intelligence X had no results ready"))
		}
		select {
		case <-ctx.Done():
			return nil, p.transportError(ctx, ctx.Err())
		case <-time.After(p.pause):
		}
	}
	switch *res.Status {
	case 0, 1: // 0: more results available; 1: no more results (this page may hold some)
	case 2:
		return fail(p.Fail(ErrUpstream, resp, "Intelligence X lost the search id"))
	default:
		return fail(p.Fail(ErrUpstream, resp, fmt.Sprintf("result status %d", *res.Status)))
	}
	if len(res.Records) == 0 {
		e := p.Fail(ErrNotFound, resp, "")
		e.Bytes = total
		return nil, e
	}
	s := intelxSummary(res)
	r := p.OK(resp, s, intelxVerdict(s))
	r.Bytes = total
	return r, nil
}

// intelxSummary counts the records by bucket and keeps the newest.
func intelxSummary(res intelxResult) *IntelXSummary {
	s := &IntelXSummary{Total: len(res.Records), More: *res.Status == 0, Buckets: []IntelXBucket{}, Recent: []IntelXRecord{}}
	index := map[string]int{}
	recs := slices.Clone(res.Records)
	slices.SortStableFunc(recs, func(a, b intelxRecord) int { return b.Date.Compare(a.Date) })
	for _, r := range recs {
		i, ok := index[r.Bucket]
		if !ok {
			i = len(s.Buckets)
			index[r.Bucket] = i
			s.Buckets = append(s.Buckets, IntelXBucket{Bucket: r.Bucket, Name: r.BucketH})
		}
		s.Buckets[i].Count++
		if d := r.Date.UTC(); !d.IsZero() {
			if s.Last.IsZero() {
				s.Last = d
			}
			s.First = d
		}
		if len(s.Recent) < 10 {
			s.Recent = append(s.Recent, IntelXRecord{Name: r.Name, Bucket: r.Bucket, Media: r.MediaH, Date: r.Date.UTC()})
		}
	}
	slices.SortStableFunc(s.Buckets, func(a, b IntelXBucket) int { return b.Count - a.Count })
	return s
}

// intelxVerdict: an archive hit is context, never a verdict.
func intelxVerdict(s *IntelXSummary) Assessment {
	var bs []string
	for _, b := range s.Buckets[:min(len(s.Buckets), 3)] {
		bs = append(bs, fmt.Sprintf("%s (%d)", b.Bucket, b.Count))
	}
	more := ""
	if s.More {
		more = "+"
	}
	return Assessment{Level: indicator.Unknown, Score: 0,
		Reason: fmt.Sprintf("Intelligence X: %d%s results in %s, context only", s.Total, more, strings.Join(bs, ", "))}
}
