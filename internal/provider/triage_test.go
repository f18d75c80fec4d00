package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestTriage(t *testing.T) {
	t.Parallel()
	const key = "triage-test-key-3141"
	search := func(q string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/search", Query: map[string][]string{"query": {q}},
			Header: map[string]string{"Authorization": "Bearer " + key, "Accept": "application/json"}}
	}
	const sha = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
	md5 := indicator.Indicator{Kind: indicator.MD5, Value: "5d41402abc4b2a76b9719d911017c592"}
	providertest.Run(t, providertest.Suite{
		Provider: "triage",
		APIKey:   key,
		Probe:    md5,
		Fixtures: []providertest.Fixture{
			{
				Name: "sha256_malware", Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: sha}, File: "triage/file_ok.json", Want: search("sha256:" + sha),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.TriageSummary{Samples: 2, MaxScore: 10, Families: []string{"agenttesla"},
						Tags: []string{"spyware", "stealer", "keylogger", "trojan"}, FileNames: []string{"Invoice.exe", sha + ".exe"},
						Analyses: []string{"220505-sxq4fsgdb5", "220505-t1b2c3d4e5"}, LastRun: utc(2022, 5, 5, 16, 7, 31)}
					if d := cmp.Diff(want, summaryOf[provider.TriageSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100, Reason: "Triage: 2 public analyses, highest score 10/10 (agenttesla)"})
				},
			},
			{
				Name: "md5_benign", Indicator: md5, File: "triage/file_benign.json", Want: search("md5:" + md5.Value),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "Triage: 1 public analyses, highest score 1/10, likely benign"})
				},
			},
			{Name: "sha1", Indicator: indicator.Indicator{Kind: indicator.SHA1, Value: "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"},
				File: "triage/file_benign.json", Want: search("sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")},
			{Name: "not_found", Indicator: md5, File: "triage/not_found.json", Want: search("md5:" + md5.Value), WantErr: provider.ErrNotFound},
			{Name: "bad_query", Indicator: md5, File: "triage/bad_query.json", Status: http.StatusBadRequest, Want: search("md5:" + md5.Value), WantErr: provider.ErrBadInput},
		},
	})
}
