package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestURLhaus(t *testing.T) {
	t.Parallel()
	const key = "urlhaus-test-key-16180"
	post := func(path, field, value string) providertest.Request {
		return providertest.Request{
			Method: "POST",
			Path:   path,
			Query:  map[string][]string{},
			Header: map[string]string{"Auth-Key": key, "Accept": "application/json"},
			Form:   map[string][]string{field: {value}},
		}
	}
	const (
		sha256 = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
		md5    = "ea372104f1e9f069068e3752b543c7b0"
	)
	providertest.Run(t, providertest.Suite{
		Provider: "urlhaus",
		APIKey:   key,
		Probe:    indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
		Fixtures: []providertest.Fixture{
			{
				Name:      "host_ipv4_online",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"},
				File:      "urlhaus/host_ip_ok.json",
				Want:      post("/host/", "host", "1.1.1.1"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.URLhausSummary{
						Lookup:    "host",
						Reference: "https://urlhaus.abuse.ch/host/1.1.1.1/",
						Host: &provider.URLhausHost{
							Host:       "1.1.1.1",
							FirstSeen:  utc(2024, 2, 9, 13, 41, 5),
							URLCount:   10,
							OnlineURLs: 1,
							Blacklists: map[string]string{"spamhaus_dbl": "not listed", "surbl": "not listed"},
							Threats:    []string{"malware_download"},
							Tags:       []string{"elf", "arm", "mirai", "mips"},
							URLs: []provider.URLhausHostURL{
								{URL: "http://1.1.1.1/linux_arm7", Status: "online", Threat: "malware_download",
									DateAdded: utc(2024, 2, 9, 13, 43, 19), Tags: []string{"elf", "arm", "mirai"}},
								{URL: "http://1.1.1.1/linux_mips", Status: "offline", Threat: "malware_download",
									DateAdded: utc(2024, 2, 9, 13, 43, 18), Tags: []string{"elf", "mips", "mirai"}},
							},
						},
					}
					if d := cmp.Diff(want, summaryOf[provider.URLhausSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 85,
						Reason: "URLhaus: 1 of 10 malware URLs on this host are online"})
				},
			},
			{
				Name:      "host_domain_offline",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "urlhaus/host_domain_ok.json",
				Want:      post("/host/", "host", "evil.example"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.URLhausSummary](t, r)
					if s.Host == nil || s.URL != nil || s.Payload != nil {
						t.Fatalf("summary sections host/url/payload = %v/%v/%v, want only host", s.Host != nil, s.URL != nil, s.Payload != nil)
					}
					if d := cmp.Diff([]string{"zip", "qakbot", "exe"}, s.Host.Tags); d != "" {
						t.Errorf("tags (-want +got):\n%s", d)
					}
					// Spamhaus DBL: abused_legit_malware; the host is a
					// legitimate site others abuse.
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0,
						Reason: "URLhaus: 3 malware URLs on this host (0 online), but Spamhaus DBL calls it an abused legitimate site (abused_legit_malware): judge the URLs, not the host"})
				},
			},
			{
				Name:      "url_online",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://198.51.100.10/bins/sora.arm7"},
				File:      "urlhaus/url_ok.json",
				Want:      post("/url/", "url", "http://198.51.100.10/bins/sora.arm7"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.URLhausSummary{
						Lookup:    "url",
						Reference: "https://urlhaus.abuse.ch/url/2758917/",
						URL: &provider.URLhausURL{
							URL:        "http://198.51.100.10/bins/sora.arm7",
							Status:     "online",
							Host:       "198.51.100.10",
							Threat:     "malware_download",
							DateAdded:  utc(2024, 2, 9, 13, 43, 19),
							Tags:       []string{"elf", "mirai", "sora"},
							Blacklists: map[string]string{"spamhaus_dbl": "not listed", "surbl": "not listed"},
							Payloads: []provider.URLhausURLPayload{{
								Filename:  "sora.arm7",
								FileType:  "elf",
								SHA256:    "5a9d0cd2dcc2b1a41e3da4d1bcd0b4f1f11c1f2f3c3b0c2d5e1a4c6b7d8e9f00",
								Signature: "Mirai",
								FirstSeen: utc(2024, 2, 9, 0, 0, 0),
							}},
						},
					}
					if d := cmp.Diff(want, summaryOf[provider.URLhausSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 95,
						Reason: "URLhaus: online malware_download URL (elf, mirai, sora)"})
				},
			},
			{
				Name:      "url_offline",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "https://evil.example/wp-content/upd.zip"},
				File:      "urlhaus/url_offline.json",
				Want:      post("/url/", "url", "https://evil.example/wp-content/upd.zip"),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.URLhausSummary](t, r)
					if s.URL == nil || len(s.URL.Tags) != 0 || len(s.URL.Payloads) != 0 || !s.URL.LastOnline.Equal(utc(2023, 11, 2, 12, 12, 0)) {
						t.Errorf("url summary = %+v, want no tags, no payloads, lastOnline 2023-11-02 12:12", s.URL)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 60,
						Reason: "URLhaus: malware_download URL, offline since 2023-11-02"})
				},
			},
			{
				Name:      "payload_sha256",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: sha256},
				File:      "urlhaus/payload_ok.json",
				Want:      post("/payload/", "sha256_hash", sha256),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.URLhausSummary{
						Lookup: "payload",
						Payload: &provider.URLhausPayload{
							MD5:        md5,
							SHA256:     sha256,
							FileType:   "exe",
							FileSize:   270017,
							Signature:  "AgentTesla",
							FirstSeen:  utc(2022, 5, 5, 15, 17, 50),
							LastSeen:   utc(2022, 5, 6, 9, 2, 11),
							URLCount:   2,
							OnlineURLs: 1,
							URLs: []provider.URLhausPayloadURL{
								{URL: "http://203.0.113.77/inv/Invoice.exe", Status: "online", Filename: "Invoice.exe", FirstSeen: utc(2022, 5, 6, 0, 0, 0)},
								{URL: "http://evil.example/files/Invoice.exe", Status: "offline", Filename: "Invoice.exe",
									FirstSeen: utc(2022, 5, 5, 0, 0, 0), LastSeen: utc(2022, 5, 5, 0, 0, 0)},
							},
						},
					}
					if d := cmp.Diff(want, summaryOf[provider.URLhausSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 90,
						Reason: "URLhaus: AgentTesla payload served by 2 malware URLs"})
				},
			},
			{
				Name:      "payload_md5",
				Indicator: indicator.Indicator{Kind: indicator.MD5, Value: md5},
				File:      "urlhaus/payload_ok.json",
				Want:      post("/payload/", "md5_hash", md5),
				Check: func(t *testing.T, r *provider.Result) {
					if s := summaryOf[provider.URLhausSummary](t, r); s.Payload == nil || s.Payload.MD5 != md5 {
						t.Errorf("payload summary = %+v, want md5 %s", s.Payload, md5)
					}
				},
			},
			{
				Name:      "host_not_found",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "quiet.example"},
				File:      "urlhaus/not_found.json",
				Want:      post("/host/", "host", "quiet.example"),
				WantErr:   provider.ErrNotFound,
			},
			{
				// Payload fixtures in the wild say no_result as well as no_results.
				Name:      "payload_not_found",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: "0000000000000000000000000000000000000000000000000000000000000000"},
				File:      "urlhaus/payload_not_found.json",
				Want:      post("/payload/", "sha256_hash", "0000000000000000000000000000000000000000000000000000000000000000"),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "invalid_url",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://evil.example/"},
				File:      "urlhaus/invalid_url.json",
				Want:      post("/url/", "url", "http://evil.example/"),
				WantErr:   provider.ErrBadInput,
			},
			{
				Name:      "illegal_auth_key",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "urlhaus/illegal_auth_key.json",
				Want:      post("/host/", "host", "evil.example"),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "unknown_auth_key",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "urlhaus/unknown_auth_key.json",
				Status:    http.StatusForbidden,
				Want:      post("/host/", "host", "evil.example"),
				WantErr:   provider.ErrAuth,
			},
			{
				// A missing header is a 401 without any query_status.
				Name:      "unauthorized_no_body",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				Status:    http.StatusUnauthorized,
				Want:      post("/host/", "host", "evil.example"),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "rate_limited",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				Status:    http.StatusTooManyRequests,
				Header:    http.Header{"Retry-After": {"60"}},
				Want:      post("/host/", "host", "evil.example"),
				WantErr:   provider.ErrRateLimited,
			},
		},
	})
}
