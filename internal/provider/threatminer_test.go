package provider_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
	"github.com/inspector-gadget/gadget/internal/provider/providertest"
)

func TestThreatMiner(t *testing.T) {
	t.Parallel()
	get := func(page, v, rt string) providertest.Request {
		return providertest.Request{Method: "GET", Path: "/" + page, Query: map[string][]string{"q": {v}, "rt": {rt}},
			Header: map[string]string{"Accept": "application/json"}}
	}
	then := func(page, v, rt, file string) providertest.Exchange {
		return providertest.Exchange{Want: get(page, v, rt), File: "threatminer/" + file}
	}
	ip := indicator.Indicator{Kind: indicator.IPv4, Value: "209.29.221.235"}
	domain := indicator.Indicator{Kind: indicator.Domain, Value: "vwrm.com"}
	md5 := indicator.Indicator{Kind: indicator.MD5, Value: "e6ff1bf0821f00384cdd25efb9b1cc09"}
	sha1 := indicator.Indicator{Kind: indicator.SHA1, Value: "16fd388151c0e73b074faa33698b9afc5c024b59"}
	sha256 := indicator.Indicator{Kind: indicator.SHA256, Value: "555b3689dec6ad888348c595426d112d041de5c989d4929284594d1e09f3d85f"}
	parts := func(t *testing.T, r *provider.Result, want ...string) {
		t.Helper()
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(r.Raw, &raw); err != nil {
			t.Fatalf("Raw: %v", err)
		}
		var got []string
		for k := range raw {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Raw's named parts (-want +got):\n%s", d)
		}
	}
	if d, _ := provider.Lookup("threatminer"); !d.Disabled {
		t.Error("threatminer is enabled by default; it often fails upstream, so it must be off unless GADGET_THREATMINER_ENABLED=true")
	}
	providertest.Run(t, providertest.Suite{
		Provider: "threatminer",
		Probe:    ip,
		Fixtures: []providertest.Fixture{
			{
				Name: "ip_ok", Indicator: ip, File: "threatminer/ip_pdns.json", Want: get("host.php", ip.Value, "2"),
				More: []providertest.Exchange{then("host.php", ip.Value, "3", "ip_uris.json"), then("host.php", ip.Value, "4", "ip_samples.json")},
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatMinerSummary](t, r)
					want := &provider.ThreatMinerSummary{
						Parts:      []string{"ThreatMiner_PassiveDNS", "ThreatMiner_URIs", "ThreatMiner_Samples"},
						PassiveDNS: []provider.ThreatMinerDNS{{Domain: "vwrm.com", FirstSeen: utc(2013, 9, 19, 0, 0, 0), LastSeen: utc(2016, 2, 1, 9, 41, 15)}},
						URIs: []provider.ThreatMinerURI{{URI: "http://vwrm.com/maps/iexplorer.zip", Domain: "vwrm.com", LastSeen: utc(2014, 7, 17, 16, 51, 28)},
							{URI: "http://vwrm.com/", Domain: "vwrm.com", LastSeen: utc(2013, 4, 23, 18, 48, 53)}},
						Samples: []string{"dd0418c01b7196e967a63fedda70eaf6de4fffb5296a24b9ec13f7a09c2f7bc1", "abf736e1a8e0508b6dd840b012d4231cf13f8b48c2dcb3ed18ce92a59dba7109",
							"66e2a31fe008a463431b9ef0ffdf1de1706626d30776de2ec861d11e498e023c", "3cb694866d37274dcc0e46aaa20a45d55f4c8de6798e1226898776ea202162bf"},
						AVDetections: []provider.ThreatMinerDetection{},
					}
					if d := cmp.Diff(want, s); d != "" {
						t.Errorf("summary (-want +got):\n%s", d)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0,
						Reason: "ThreatMiner: 1 passive-DNS records, 2 URIs, 4 related samples, context only"})
					parts(t, r, "ThreatMiner_PassiveDNS", "ThreatMiner_URIs", "ThreatMiner_Samples")
					if c := s.Context(); !c.FirstSeen.Equal(utc(2013, 9, 19, 0, 0, 0)) || !c.LastSeen.Equal(utc(2016, 2, 1, 9, 41, 15)) {
						t.Errorf("Context() = %+v, want the passive-DNS span", c)
					}
				},
			},
			{
				Name: "ip_partly_known", Indicator: ip, File: "threatminer/ip_pdns.json", Want: get("host.php", ip.Value, "2"),
				More: []providertest.Exchange{then("host.php", ip.Value, "3", "not_found.json"), then("host.php", ip.Value, "4", "not_found.json")},
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatMinerSummary](t, r)
					if len(s.PassiveDNS) != 1 || len(s.URIs) != 0 || len(s.Samples) != 0 || len(s.Parts) != 3 {
						t.Errorf("summary = %+v, want the passive DNS only, and all three parts asked", s)
					}
					parts(t, r, "ThreatMiner_PassiveDNS", "ThreatMiner_URIs", "ThreatMiner_Samples") // the 404 parts stay, as the original showed them
				},
			},
			{
				Name: "domain_ok", Indicator: domain, File: "threatminer/domain_pdns.json", Want: get("domain.php", domain.Value, "2"),
				More: []providertest.Exchange{then("domain.php", domain.Value, "1", "domain_whois.json")},
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatMinerSummary](t, r)
					wantWhois := &provider.ThreatMinerWhois{Registrar: "register.com, inc.", Organization: "Valley Waste Resource Management",
						Created: utc(1999, 4, 1, 5, 0, 0), Expires: utc(2017, 4, 1, 4, 0, 0), Nameservers: []string{"onyx.nbnet.nb.ca", "opal.nbnet.nb.ca"}}
					if d := cmp.Diff(wantWhois, s.WHOIS); d != "" {
						t.Errorf("WHOIS (-want +got):\n%s", d)
					}
					if d := cmp.Diff([]provider.ThreatMinerDNS{{IP: "209.29.221.235", FirstSeen: utc(2013, 9, 19, 0, 0, 0), LastSeen: utc(2016, 2, 1, 9, 41, 15)}}, s.PassiveDNS); d != "" {
						t.Errorf("PassiveDNS (-want +got):\n%s", d)
					}
					if c := s.Context(); c.Registrar != "register.com, inc." || !c.RegisteredAt.Equal(utc(1999, 4, 1, 5, 0, 0)) {
						t.Errorf("Context() = %+v, want the WHOIS registrar and creation date", c)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "ThreatMiner: 1 passive-DNS records, WHOIS, context only"})
					parts(t, r, "ThreatMiner_PassiveDNS", "ThreatMiner_WHOIS")
				},
			},
			{
				Name: "md5_detected", Indicator: md5, File: "threatminer/sample_metadata.json", Want: get("sample.php", md5.Value, "1"),
				More: []providertest.Exchange{then("sample.php", md5.Value, "6", "sample_av.json")},
				Check: func(t *testing.T, r *provider.Result) {
					s := summaryOf[provider.ThreatMinerSummary](t, r)
					wantMeta := &provider.ThreatMinerMetadata{MD5: md5.Value, SHA1: sha1.Value, SHA256: sha256.Value, FileName: "installaware.15-patch.exe",
						FileType: "PE32 executable (GUI) Intel 80386, for MS Windows", FileSize: "546304 bytes", Imphash: "dc73a9bd8de0fd640549c85ac4089b87",
						DateAnalysed: utc(2016, 3, 13, 3, 46, 38)}
					if d := cmp.Diff(wantMeta, s.Metadata); d != "" {
						t.Errorf("Metadata (-want +got):\n%s", d)
					}
					if len(s.AVDetections) != 5 || s.AVDetections[1] != (provider.ThreatMinerDetection{AV: "CMC", Detection: "Trojan-Spy.Win32.Hoardy!O"}) {
						t.Errorf("AVDetections = %+v", s.AVDetections)
					}
					checkVerdict(t, r, provider.Assessment{Level: indicator.Suspicious, Score: 40,
						Reason: "ThreatMiner: 5 antivirus engines detect it (Trojan.Generic.8175716, Trojan-Spy.Win32.Hoardy!O, TrojanAPT.Infostealer.H4)"})
				},
			},
			{
				Name: "sha1_metadata_only", Indicator: sha1, File: "threatminer/sample_metadata.json", Want: get("sample.php", sha1.Value, "1"),
				More: []providertest.Exchange{then("sample.php", sha1.Value, "6", "not_found.json")},
				Check: func(t *testing.T, r *provider.Result) {
					checkVerdict(t, r, provider.Assessment{Level: indicator.Unknown, Score: 0, Reason: "ThreatMiner: sample metadata, context only"})
				},
			},
			{
				Name: "sha256_detections_only", Indicator: sha256, File: "threatminer/not_found.json", Want: get("sample.php", sha256.Value, "1"),
				More: []providertest.Exchange{then("sample.php", sha256.Value, "6", "sample_av.json")},
				Check: func(t *testing.T, r *provider.Result) {
					if s := summaryOf[provider.ThreatMinerSummary](t, r); s.Metadata != nil || r.Verdict.Level != indicator.Suspicious {
						t.Errorf("summary %+v verdict %+v: want no metadata and SUSPICIOUS", s, r.Verdict)
					}
				},
			},
			{
				Name: "not_found", Indicator: domain, File: "threatminer/not_found.json", Want: get("domain.php", domain.Value, "2"),
				More: []providertest.Exchange{then("domain.php", domain.Value, "1", "not_found.json")}, WantErr: provider.ErrNotFound,
			},
			{
				// The first failing report type ends the lookup: no further request.
				Name: "first_part_fails", Indicator: domain, Status: 503, Want: get("domain.php", domain.Value, "2"), WantErr: provider.ErrUpstream,
			},
		},
	})
}
