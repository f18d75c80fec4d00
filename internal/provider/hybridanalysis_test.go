package provider_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestHybridAnalysis(t *testing.T) {
	t.Parallel()
	const key = "hybridanalysis-test-key-8128"
	search := func(h string) providertest.Request {
		return providertest.Request{Method: "POST", Path: "/search/hash", Query: map[string][]string{}, Form: url.Values{"hash": {h}},
			Header: map[string]string{"api-key": key, "User-Agent": "Falcon Sandbox", "Accept": "application/json"}}
	}
	sample := indicator.Indicator{Kind: indicator.SHA256, Value: "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"}
	md5 := indicator.Indicator{Kind: indicator.MD5, Value: "5d41402abc4b2a76b9719d911017c592"}
	providertest.Run(t, providertest.Suite{
		Provider: "hybridanalysis",
		APIKey:   key,
		Probe:    md5,
		Fixtures: []providertest.Fixture{
			{
				Name: "sha256_malicious", Indicator: sample, File: "hybridanalysis/file_malicious.json", Want: search(sample.Value),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.HybridAnalysisSummary{Reports: 1, Verdict: "malicious", ThreatScore: 100, Family: "AgentTesla", FileName: "Invoice.exe",
						FileType: "PE32 executable (GUI) Intel 80386 Mono/.Net assembly, for MS Windows", AVDetect: 78,
						Tags: []string{"agenttesla", "spyware", "stealer"}, Hosts: []string{"149.154.167.220"}, Domains: []string{"api.telegram.org"},
						LastRun: utc(2022, 5, 5, 15, 30, 12)}
					if d := cmp.Diff(want, summaryOf[provider.HybridAnalysisSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100,
						Reason: "Hybrid Analysis: malicious (threat score 100, AgentTesla, 1 reports)"})
				},
			},
			{
				Name: "md5_no_threat", Indicator: md5, File: "hybridanalysis/file_no_threat.json", Want: search(md5.Value),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "Hybrid Analysis: no specific threat (threat score 0, 1 reports)"})
				},
			},
			{Name: "sha1", Indicator: indicator.Indicator{Kind: indicator.SHA1, Value: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"},
				File: "hybridanalysis/file_no_threat.json", Want: search("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")},
			{Name: "not_found", Indicator: md5, File: "hybridanalysis/not_found.json", Want: search(md5.Value), WantErr: provider.ErrNotFound},
			{Name: "bad_hash", Indicator: md5, File: "hybridanalysis/bad_input.json", Status: http.StatusBadRequest, Want: search(md5.Value), WantErr: provider.ErrBadInput},
			{Name: "rate_limited", Indicator: md5, File: "hybridanalysis/rate_limited.json", Status: http.StatusTooManyRequests, Want: search(md5.Value), WantErr: provider.ErrRateLimited},
		},
	})
}
