package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestThreatFox(t *testing.T) {
	t.Parallel()
	const key = "threatfox-test-key-14142"
	post := func(body string) providertest.Request {
		return providertest.Request{
			Method: "POST",
			Path:   "/",
			Query:  map[string][]string{},
			Header: map[string]string{"Auth-Key": key, "Accept": "application/json"},
			JSON:   body,
		}
	}
	const (
		sha256 = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
		md5    = "ea372104f1e9f069068e3752b543c7b0"
	)
	ipQuery := post(`{"query":"search_ioc","search_term":"198.51.100.23"}`)
	providertest.Run(t, providertest.Suite{
		Provider: "threatfox",
		APIKey:   key,
		Probe:    indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
		Fixtures: []providertest.Fixture{
			{
				Name:      "url",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://auto.lambolero.com/f1nygync/J18Keqh/"},
				File:      "threatfox/url_ok.json",
				Want:      post(`{"query":"search_ioc","search_term":"http://auto.lambolero.com/f1nygync/J18Keqh/","exact_match":true}`),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.ThreatFoxSummary{
						Matches:       1,
						MaxConfidence: 90,
						Malware:       []string{"Emotet"},
						IOCs: []provider.ThreatFoxIOC{{
							ID:              294783,
							IOC:             "http://auto.lambolero.com/f1nygync/J18Keqh/",
							IOCType:         "url",
							ThreatType:      "payload_delivery",
							Malware:         "Emotet",
							ConfidenceLevel: 90,
							FirstSeen:       utc(2022, 1, 13, 20, 16, 2),
							Tags:            []string{},
							Reporter:        "Cryptolaemus1",
						}},
					}
					if d := cmp.Diff(want, summaryOf[provider.ThreatFoxSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 90,
						Reason: "ThreatFox: Emotet payload_delivery IOC, confidence 90"})
				},
			},
			{
				Name:      "domain_low_confidence",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "threatfox/domain_ok.json",
				Want:      post(`{"query":"search_ioc","search_term":"evil.example","exact_match":true}`),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatFoxSummary](t, r)
					if len(s.IOCs) != 1 || !s.IOCs[0].LastSeen.Equal(utc(2024, 3, 5, 8, 0, 0)) || s.IOCs[0].Reference != "https://example.test/cs-beacons" {
						t.Errorf("iocs = %+v, want one with lastSeen 2024-03-05 08:00 and its reference", s.IOCs)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 50,
						Reason: "ThreatFox: Cobalt Strike botnet_cc IOC, confidence 50"})
				},
			},
			{
				// IPs are stored as ip:port: searched without exact_match, then
				// filtered to this address's ip:port records (not 198.51.100.230,
				// not URLs that contain the address).
				Name:      "ipv4",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
				File:      "threatfox/ip_ok.json",
				Want:      ipQuery,
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatFoxSummary](t, r)
					var iocs []string
					for _, x := range s.IOCs {
						iocs = append(iocs, x.IOC)
					}
					if d := cmp.Diff([]string{"198.51.100.23:8000", "198.51.100.23:443"}, iocs); d != "" {
						t.Errorf("iocs, most confident first (-want +got):\n%s", d)
					}
					if d := cmp.Diff([]string{"Cobalt Strike", "Sliver"}, s.Malware); d != "" {
						t.Errorf("malware (-want +got):\n%s", d)
					}
					if s.Matches != 2 || s.MaxConfidence != 100 {
						t.Errorf("matches/maxConfidence = %d/%d, want 2/100", s.Matches, s.MaxConfidence)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100,
						Reason: "ThreatFox: Sliver botnet_cc IOC, confidence 100 (2 records)"})
					ctx := s.Context()
					if d := cmp.Diff([]string{"Cobalt Strike", "Sliver"}, ctx.MalwareFamilies); d != "" || ctx.FirstSeen.IsZero() {
						t.Errorf("context families (-want +got):\n%s; first seen %s", d, ctx.FirstSeen)
					}
				},
			},
			{
				Name:      "ipv4_only_other_addresses",
				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "198.51.100.23"},
				File:      "threatfox/ip_no_match.json",
				Want:      ipQuery,
				WantErr:   provider.ErrNotFound,
			},
			{
				// A sample listed as an IOC itself is found with search_ioc.
				Name:      "sha256",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: sha256},
				File:      "threatfox/hash_ioc.json",
				Want:      post(`{"query":"search_ioc","search_term":"` + sha256 + `","exact_match":true}`),
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatFoxSummary](t, r)
					if d := cmp.Diff([]string{"AgentTesla", "exe"}, s.IOCs[0].Tags); d != "" {
						t.Errorf("tags (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 100,
						Reason: "ThreatFox: Agent Tesla payload IOC, confidence 100"})
				},
			},
			{
				Name:      "md5",
				Indicator: indicator.Indicator{Kind: indicator.MD5, Value: md5},
				File:      "threatfox/hash_ioc_md5.json",
				Want:      post(`{"query":"search_ioc","search_term":"` + md5 + `","exact_match":true}`),
			},
			{
				// An answer about something else (here the C2 domain a sample
				// talks to, the shape search_hash returns) is not taken as the
				// hash's own listing.
				Name:      "sha256_answer_about_another_ioc",
				Indicator: indicator.Indicator{Kind: indicator.SHA256, Value: sha256},
				File:      "threatfox/hash_ok.json",
				Want:      post(`{"query":"search_ioc","search_term":"` + sha256 + `","exact_match":true}`),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "domain_answer_for_another_domain",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "notevil.example"},
				File:      "threatfox/domain_ok.json",
				Want:      post(`{"query":"search_ioc","search_term":"notevil.example","exact_match":true}`),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "not_found_data_null",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "quiet.example"},
				File:      "threatfox/not_found.json",
				Want:      post(`{"query":"search_ioc","search_term":"quiet.example","exact_match":true}`),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "not_found_data_text",
				Indicator: indicator.Indicator{Kind: indicator.MD5, Value: md5},
				File:      "threatfox/not_found_text.json",
				Want:      post(`{"query":"search_ioc","search_term":"` + md5 + `","exact_match":true}`),
				WantErr:   provider.ErrNotFound,
			},
			{
				Name:      "illegal_search_term",
				Indicator: indicator.Indicator{Kind: indicator.URL, Value: "http://evil.example/"},
				File:      "threatfox/illegal_search_term.json",
				Want:      post(`{"query":"search_ioc","search_term":"http://evil.example/","exact_match":true}`),
				WantErr:   provider.ErrBadInput,
			},
			{
				Name:      "illegal_auth_key",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "threatfox/illegal_auth_key.json",
				Want:      post(`{"query":"search_ioc","search_term":"evil.example","exact_match":true}`),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "unknown_auth_key",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				File:      "threatfox/unknown_auth_key.json",
				Status:    http.StatusForbidden,
				Want:      post(`{"query":"search_ioc","search_term":"evil.example","exact_match":true}`),
				WantErr:   provider.ErrAuth,
			},
			{
				Name:      "unauthorized_no_body",
				Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"},
				Status:    http.StatusUnauthorized,
				Want:      post(`{"query":"search_ioc","search_term":"evil.example","exact_match":true}`),
				WantErr:   provider.ErrAuth,
			},
		},
	})
}
