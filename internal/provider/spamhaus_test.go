package provider_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestSpamhaus(t *testing.T) {
	t.Parallel()
	const key = "spamhaus-dqs-test-key-4711"
	get := func(dataset, v string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/lookup/v1/" + dataset + "/" + v, Query: map[string][]string{},
			Header: map[string]string{"Authorization": "Bearer " + key, "Accept": "application/json"}}
	}
	ip := indicator.Indicator{Kind: indicator.IPv4, Value: "203.0.113.45"}
	providertest.Run(t, providertest.Suite{
		Provider: "spamhaus",
		APIKey:   key,
		Probe:    ip,
		Fixtures: []providertest.Fixture{
			{
				Name: "ip_listed", Indicator: ip, File: "spamhaus/ip_listed.json", Want: get("ZEN", "203.0.113.45"),
				Check: func(t *testing.T, r *provider.Result) {
					want := &provider.SpamhausSummary{Dataset: "ZEN", Codes: []int{2, 4, 10}, Lists: []string{"SBL", "XBL (exploited host)", "PBL (ISP)"}}
					if d := cmp.Diff(want, summaryOf[provider.SpamhausSummary](t, r)); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 70, Reason: "Spamhaus ZEN: SBL, XBL (exploited host), PBL (ISP)"})
				},
			},
			{
				Name: "ip_pbl_only", Indicator: ip, File: "spamhaus/ip_pbl.json", Want: get("ZEN", "203.0.113.45"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "Spamhaus ZEN: PBL (ISP), a policy listing (not a reputation)"})
				},
			},
			{Name: "ipv6", Indicator: indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"}, File: "spamhaus/ip_pbl.json", Want: get("ZEN", "2001:db8::1")},
			{
				Name: "domain_phish", Indicator: indicator.Indicator{Kind: indicator.Domain, Value: "evil.example"}, File: "spamhaus/domain_phish.json",
				Want: get("DBL", "evil.example"),
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Malicious, Score: 85, Reason: "Spamhaus DBL: phishing domain"})
				},
			},
			{Name: "not_listed", Indicator: ip, File: "spamhaus/not_listed.json", Status: http.StatusNotFound, Want: get("ZEN", "203.0.113.45"), WantErr: provider.ErrNotFound},
			{Name: "bad_key", Indicator: ip, File: "spamhaus/auth.json", Status: http.StatusUnauthorized, Want: get("ZEN", "203.0.113.45"), WantErr: provider.ErrAuth},
		},
	})
}
