package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestHashlookup(t *testing.T) {
	t.Parallel()
	get := func(algo, h string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/lookup/" + algo + "/" + h, Query: map[string][]string{},
			Header: map[string]string{"Accept": "application/json"}}
	}
	md5 := indicator.Indicator{Kind: indicator.MD5, Value: "8ed4b4ed952526d89899e723f3488de4"}
	sha1 := indicator.Indicator{Kind: indicator.SHA1, Value: "fffffdac1b1b4c513896c805c2c698d9688be69f"}
	sha256 := indicator.Indicator{Kind: indicator.SHA256, Value: "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"}
	unknown := indicator.Indicator{Kind: indicator.MD5, Value: "00000000000000000000000000000042"}
	providertest.Run(t, providertest.Suite{
		Provider: "hashlookup",
		Probe:    md5,
		Fixtures: []providertest.Fixture{
			{
				Name: "md5_known_good", Indicator: md5, File: "hashlookup/md5_ok.json", Want: get("md5", md5.Value),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.HashlookupSummary{
						FileName: "wow64_microsoft-windows-i..timezones.resources_31bf3856ad364e35_10.0.16299.579_de-de_f24979c73226184d.manifest",
						FileSize: 2520, ProductName: "Cumulative Update for Windows Server 2016 for x64 (KB4338817)", ProductVersion: "1709",
						Source: "NSRL", Trust: 55, Parents: 1,
					}
					if d := cmp.Diff(want, summaryOf[provider.HashlookupSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 5,
						Reason: "CIRCL hashlookup: a known file (wow64_microsoft-windows-i..timezones.resources_31bf3856ad364e35_10.0.16299.579_de-de_f24979c73226184d.manifest in Cumulative Update for Windows Server 2016 for x64 (KB4338817)) from NSRL, trust 55"})
				},
			},
			{
				Name: "sha1_known_good", Indicator: sha1, File: "hashlookup/sha1_ok.json", Want: get("sha1", sha1.Value),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.HashlookupSummary](t, r)
					if s.ProductName != "BlackArch Linux" || s.FileSize != 240 || s.Trust != 50 {
						t.Errorf("summary = %+v", s)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 5,
						Reason: "CIRCL hashlookup: a known file (.rela.dyn in BlackArch Linux) from NSRL, trust 50"})
				},
			},
			{
				Name: "sha256_known_malicious", Indicator: sha256, File: "hashlookup/sha256_known_malicious.json", Want: get("sha256", sha256.Value),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 75,
						Reason: "CIRCL hashlookup: known malicious, listed by malware-bazaar"})
				},
			},
			{Name: "not_found", Indicator: unknown, File: "hashlookup/not_found.json", Status: http.StatusNotFound,
				Want: get("md5", unknown.Value), WantErr: provider.ErrNotFound},
			{Name: "bad_input", Indicator: unknown, File: "hashlookup/bad_input.json", Status: http.StatusBadRequest,
				Want: get("md5", unknown.Value), WantErr: provider.ErrBadInput},
		},
	})
}
