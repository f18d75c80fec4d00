package provider_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestVirusTotal(t *testing.T) {
	t.Parallel()
	vtGet := func(path string) providertest.Request {
		return providertest.Request{Method: "GET", Path: path, Query: map[string][]string{}, Header: map[string]string{"x-apikey": "vt-test-key-0123"}}
	}
	const (
		md5    = "ea372104f1e9f069068e3752b543c7b0"
		sha1   = "9f057d94c9b77d6286073dc5b5c382bcba67a3b2"
		sha256 = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
	)
	file := func(t *testing.T, r *provider.Result) {
		s := summaryOf[provider.VirusTotalSummary](t, r)
		want := &provider.VirusTotalSummary{
			Type: "file", ID: sha256,
			Link:                "https://www.virustotal.com/gui/file/" + sha256,
			Stats:               provider.VirusTotalStats{Malicious: 58, Undetected: 10},
			Reputation:          -10,
			VotesMalicious:      2,
			Tags:                []string{"peexe", "assembly"},
			LastAnalysisDate:    time.Unix(1651764135, 0).UTC(),
			MD5:                 md5,
			SHA1:                sha1,
			SHA256:              sha256,
			MeaningfulName:      "Invoice.exe",
			Names:               []string{"Invoice.exe", "invoice_0522.exe"},
			TypeDescription:     "Win32 EXE",
			TypeTag:             "peexe",
			Size:                270017,
			ThreatLabel:         "trojan.agenttesla/msil",
			TimesSubmitted:      3,
			FirstSubmissionDate: time.Unix(1651763870, 0).UTC(),
		}
		if d := cmp.Diff(want, s); d != "" {
			t.Errorf("summary (-want +got):\n%s", d)
		}
		checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100, Reason: "58/68 VirusTotal engines flag it malicious"})
	}
	providertest.Run(t, providertest.Suite{
		Provider: "virustotal",
		APIKey:   "vt-test-key-0123",
		Probe:    indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"},
		Fixtures: []providertest.Fixture{
			{
				Name:      "ip_ok",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"},
				File:      "virustotal/ip_ok.json",
				Want:      vtGet("/ip_addresses/1.1.1.1"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.VirusTotalSummary](t, r)
					want := &provider.VirusTotalSummary{
						Type: "ip_address", ID: "1.1.1.1",
						Link:             "https://www.virustotal.com/gui/ip-address/1.1.1.1",
						Stats:            provider.VirusTotalStats{Malicious: 4, Harmless: 80, Undetected: 10},
						Reputation:       134,
						VotesHarmless:    64,
						VotesMalicious:   9,
						Tags:             []string{},
						LastAnalysisDate: time.Unix(1662187000, 0).UTC(),
						ASOwner:          "CLOUDFLARENET",
						ASN:              13335,
						Country:          "AU",
						Network:          "1.1.1.0/24",
					}
					if d := cmp.Diff(want, s); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					// 1.1.1.1: four blocklists, but reputation +134 and 64 : 9
					// votes; a public resolver is not SUSPICIOUS.
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 0,
						Reason: "4/94 VirusTotal engines flag it malicious; community reputation +134, votes 64 harmless : 9 malicious"})
				},
			},
			{
				Name:      "ipv6_ok",
				Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:4860:4860::8888"},
				File:      "virustotal/ipv6_ok.json",
				Want:      vtGet("/ip_addresses/2001:4860:4860::8888"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.VirusTotalSummary](t, r)
					if s.ASN != 15169 || s.ASOwner != "GOOGLE" || s.Country != "US" {
						t.Errorf("asn/owner/country = %d/%q/%q, want 15169/GOOGLE/US", s.ASN, s.ASOwner, s.Country)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Benign, Score: 0, Reason: "0/90 VirusTotal engines flag it malicious"})
				},
			},
			{
				Name:      "domain_ok",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "virustotal/domain_ok.json",
				Want:      vtGet("/domains/evil.example"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.VirusTotalSummary](t, r)
					if s.Registrar != "Example Registrar, LLC" {
						t.Errorf("registrar = %q", s.Registrar)
					}
					if d := cmp.Diff(map[string]string{"Forcepoint ThreatSeeker": "malicious web sites", "Sophos": "phishing and fraud", "BitDefender": "phishing"}, s.Categories); d != "" {
						t.Errorf("categories (-want +got):\n%s", d)
					}
					if want := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC); !s.CreationDate.Equal(want) {
						t.Errorf("creation date = %s, want %s", s.CreationDate, want)
					}
					if s.Reputation != -42 {
						t.Errorf("reputation = %d, want -42", s.Reputation)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100, Reason: "12/92 VirusTotal engines flag it malicious, 2 suspicious"})
				},
			},
			{
				Name:      "md5_ok",
				Indicator: indicator.Indicator{Kind: indicator.MD5, Value: md5},
				File:      "virustotal/file_ok.json",
				Want:      vtGet("/files/" + md5),
				Check:     file,
			},
			{
				Name:      "sha1_ok",
				Indicator: indicator.Indicator{Kind: indicator.SHA1, Value: sha1},
				File:      "virustotal/file_ok.json",
				Want:      vtGet("/files/" + sha1),
				Check:     file,
			},
			{
				Name:      "sha256_ok",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: sha256},
				File:      "virustotal/file_ok.json",
				Want:      vtGet("/files/" + sha256),
				Check:     file,
			},
			{
				Name:      "file_not_analysed",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"},
				File:      "virustotal/file_not_analysed.json",
				Want:      vtGet("/files/275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "no VirusTotal engine has analysed it"})
				},
			},
			{
				// The URL identifier is unpadded base64url: "_" and "-" appear, "=" does not.
				Name:      "url_ok",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "https://evil.example/dl?f=~payload.exe"},
				File:      "virustotal/url_ok.json",
				Want:      vtGet("/urls/aHR0cHM6Ly9ldmlsLmV4YW1wbGUvZGw_Zj1-cGF5bG9hZC5leGU"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.VirusTotalSummary](t, r)
					if s.URL != "https://evil.example/dl?f=~payload.exe" || s.LastHTTPResponseCode != 200 {
						t.Errorf("url/status = %q/%d", s.URL, s.LastHTTPResponseCode)
					}
					if want := "https://www.virustotal.com/gui/url/49c4b36cf89166f5b6ba07de01076a844b75d8f6970cae1d106e652540f48817"; s.Link != want {
						t.Errorf("link = %q, want %q", s.Link, want)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 42, Reason: "2/93 VirusTotal engines flag it malicious, 1 suspicious"})
				},
			},
			{
				Name:      "file_not_found",
				Indicator: indicator.Indicator{Kind: indicator.MD5, Value: "0123456789abcdef0123456789abcdef"},
				File:      "virustotal/file_not_found.json",
				Status:    http.StatusNotFound,
				Want:      vtGet("/files/0123456789abcdef0123456789abcdef"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "url_not_found",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://nowhere.example/"},
				File:      "virustotal/url_not_found.json",
				Status:    http.StatusNotFound,
				Want:      vtGet("/urls/aHR0cDovL25vd2hlcmUuZXhhbXBsZS8"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "rate_limited",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.7"},
				File:      "virustotal/rate_limited.json",
				Status:    http.StatusTooManyRequests,
				Want:      vtGet("/ip_addresses/198.51.100.7"),
				WantErr:   provider.ErrRateLimited,
			},
			{
				Name:      "auth",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.7"},
				File:      "virustotal/auth.json",
				Status:    http.StatusUnauthorized,
				Want:      vtGet("/ip_addresses/198.51.100.7"),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "bad_input",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "-bad-.example"},
				File:      "virustotal/bad_input.json",
				Status:    http.StatusBadRequest,
				Want:      vtGet("/domains/-bad-.example"),
				WantErr:   provider.ErrBadInput,
			},
		},
	})
}

// The rules on community reputation and votes, on the real cases
// and the edges of each rule. The first row is the real 8.8.8.8 record.
func TestVirusTotalCommunityRules(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/virustotal/ip_google_dns.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := fixtureServer(t, http.StatusOK, nil, string(body), nil)
	res, err := newProvider(t, "virustotal", provider.Config{BaseURL: srv.URL, APIKey: "k"}).Lookup(context.Background(), indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"})
	if err != nil {
		t.Fatal(err)
	}
	checkVerdict(t, res, provider.Assessment{Level: indicator.Benign, Score: 0,
		Reason: "2/89 VirusTotal engines flag it malicious; community reputation +520, votes 184 harmless : 28 malicious"})
	ctx := summaryOf[provider.VirusTotalSummary](t, res).Context()
	if ctx.ASN != 15169 || ctx.ASOwner != "GOOGLE" || ctx.Country != "US" || ctx.Network != "8.8.8.0/24" {
		t.Errorf("context = %+v, want AS15169 GOOGLE US 8.8.8.0/24", ctx)
	}
	d, _ := provider.Lookup("virustotal")
	if got, want := d.LinkOf(indicator.Indicator{Kind: indicator.IPv4, Value: "8.8.8.8"}), "https://www.virustotal.com/gui/ip-address/8.8.8.8"; got != want {
		t.Errorf("link = %q, want %q", got, want)
	}
	// A URL's GUI page is keyed by the SHA-256 of the URL.
	sum := sha256.Sum256([]byte("http://example.com/"))
	if got, want := d.LinkOf(indicator.Indicator{Kind: indicator.URL, Value: "http://example.com/"}), "https://www.virustotal.com/gui/url/"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("url link = %q, want %q", got, want)
	}

	obj := func(typ string, mal, susp, harmless, rep, vh, vm int) string {
		return fmt.Sprintf(`{"data":{"type":%q,"id":"x","attributes":{"last_analysis_stats":{"malicious":%d,"suspicious":%d,"harmless":%d,"undetected":0},"reputation":%d,"total_votes":{"harmless":%d,"malicious":%d}}}}`,
			typ, mal, susp, harmless, rep, vh, vm)
	}
	tests := []struct {
		name string
		body string
		want indicator.Level
	}{
		{"one engine on a cloud address, no community opinion", obj("ip_address", 1, 0, 90, 0, 0, 0), indicator.Unknown},
		{"one engine on a domain, one malicious vote", obj("domain", 1, 0, 90, -1, 0, 1), indicator.Unknown},
		{"one engine, the community condemns it", obj("domain", 1, 0, 90, -12, 1, 7), indicator.Suspicious},
		{"two engines on a URL", obj("url", 2, 0, 90, 0, 0, 0), indicator.Suspicious},
		{"three engines, no community opinion", obj("ip_address", 3, 0, 90, 0, 0, 0), indicator.Suspicious},
		{"six engines, the community vouches", obj("ip_address", 6, 0, 84, 300, 100, 4), indicator.Suspicious},
		{"twelve engines, the community vouches", obj("ip_address", 12, 0, 78, 300, 100, 4), indicator.Malicious},
		{"six engines, no community opinion", obj("file", 6, 0, 60, 0, 0, 0), indicator.Malicious},
		{"no engine, the community condemns it", obj("domain", 0, 0, 90, -40, 0, 9), indicator.Suspicious},
		{"no engine, no opinion", obj("domain", 0, 0, 90, 0, 0, 0), indicator.Benign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fixtureServer(t, http.StatusOK, nil, tt.body, nil)
			res, err := newProvider(t, "virustotal", provider.Config{BaseURL: srv.URL, APIKey: "k"}).Lookup(context.Background(), indicator.Indicator{Kind: indicator.Domain, Value: "example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict.Level != tt.want {
				t.Errorf("verdict = %+v, want %s", res.Verdict, tt.want)
			}
		})
	}
}
