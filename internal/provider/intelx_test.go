package provider_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestIntelX(t *testing.T) {
	t.Parallel()
	const key = "ix-test-key-5e1f"
	search := func(term string) providertest.Request {
		b, _ := json.Marshal(map[string]any{"term": term, "buckets": []string{}, "lookuplevel": 0, "maxresults": 100, "timeout": 5,
			"datefrom": "", "dateto": "", "sort": 4, "media": 0, "terminate": []string{}})
		return providertest.Request{Method: "POST", Path: "/intelligent/search", Query: map[string][]string{}, JSON: string(b),
			Header: map[string]string{"x-key": key, "Accept": "application/json"}}
	}
	result := func(file string) providertest.Exchange {
		return providertest.Exchange{File: "intelx/" + file, Want: providertest.Request{Method: "GET", Path: "/intelligent/search/result",
			Query:  map[string][]string{"id": {"2d4b7a6e-5b0e-4b8e-9a55-3c1f0e7d9b21"}, "limit": {"100"}},
			Header: map[string]string{"x-key": key}}}
	}
	domain := indicator.Indicator{Kind: indicator.Domain, Value: "example.com"}
	ip := indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.7"}
	u := indicator.Indicator{Kind: indicator.URL, Value: "http://example.com/login?a=1"}
	leaks := func(n int) []provider.IntelXBucket {
		return []provider.IntelXBucket{{Bucket: "leaks.public.general", Name: "Leaks » Public » General", Count: n}}
	}
	providertest.Run(t, providertest.Suite{
		Provider: "intelx",
		APIKey:   key,
		Probe:    domain,
		Fixtures: []providertest.Fixture{
			{
				Name: "domain_ok", Indicator: domain, File: "intelx/search_ok.json", Want: search(domain.Value), More: []providertest.Exchange{result("result_ok.json")},
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.IntelXSummary{Total: 3, Buckets: leaks(3),
						First: utc(2016, 2, 20, 6, 15, 34), Last: utc(2019, 12, 27, 18, 16, 50).Add(440124000),
						Recent: []provider.IntelXRecord{
							{Name: "Exploit.in/9.txt [Part 35 of 64]", Bucket: "leaks.public.general", Media: "Text File", Date: utc(2019, 12, 27, 18, 16, 50).Add(440124000)},
							{Name: "Adobe October 2013.txt [Part 502 of 1973]", Bucket: "leaks.public.general", Media: "Text File", Date: utc(2019, 12, 4, 18, 4, 21).Add(579610000)},
							{Name: "nuclearleaks/unverified/gmail.zip/gmail.txt [Part 32 of 38]", Bucket: "leaks.public.general", Media: "Text File", Date: utc(2016, 2, 20, 6, 15, 34)},
						}}
					s := summaryOf[provider.IntelXSummary](t, r)
					if d := cmp.Diff(want, s); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					if c := s.Context(); !c.FirstSeen.Equal(want.First) || !c.LastSeen.Equal(want.Last) {
						t.Errorf("Context() = %+v", c)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "Intelligence X: 3 results in leaks.public.general (3), context only"})
				},
			},
			{
				Name: "ip_more_results", Indicator: ip, File: "intelx/search_ok.json", Want: search(ip.Value), More: []providertest.Exchange{result("result_more.json")},
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "Intelligence X: 2+ results in leaks.public.general (2), context only"})
				},
			},
			{
				// Status 3 (no results yet): read again after a pause.
				Name: "url_after_waiting", Indicator: u, File: "intelx/search_ok.json", Want: search(u.Value),
				More: []providertest.Exchange{result("result_pending.json"), result("result_ok.json")},
				Check: func(t *testing.T, r *provider.Result) {
					if s := summaryOf[provider.IntelXSummary](t, r); s.Total != 3 {
						t.Errorf("Total = %d, want 3", s.Total)
					}
				},
			},
			{Name: "never_ready", Indicator: domain, File: "intelx/search_ok.json", Want: search(domain.Value),
				More:    []providertest.Exchange{result("result_pending.json"), result("result_pending.json"), result("result_pending.json")},
				WantErr: provider.ErrTimeout},
			{Name: "not_found", Indicator: domain, File: "intelx/search_ok.json", Want: search(domain.Value), More: []providertest.Exchange{result("result_none.json")},
				WantErr: provider.ErrNotFound},
			{Name: "search_id_lost", Indicator: domain, File: "intelx/search_ok.json", Want: search(domain.Value), More: []providertest.Exchange{result("result_lost.json")},
				WantErr: provider.ErrUpstream},
			{Name: "invalid_term", Indicator: domain, File: "intelx/search_invalid.json", Want: search(domain.Value), WantErr: provider.ErrBadInput},
			{Name: "too_many_searches", Indicator: domain, File: "intelx/search_busy.json", Want: search(domain.Value), WantErr: provider.ErrRateLimited},
		},
	})
}
