package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/dns/dnsmessage"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// dnsServer is a local UDP DNS server answering TXT queries from
// testdata/cymru/answers.json; other names are NXDOMAIN. mode "servfail"
// answers SERVFAIL, "silent" never answers.
type dnsServer struct {
	conn    net.PacketConn
	answers map[string][]string
	mu      sync.Mutex
	mode    string
	asked   []string
}

func newDNSServer(t *testing.T, mode string) *dnsServer {
	t.Helper()
	b, err := os.ReadFile("testdata/cymru/answers.json")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{mode: mode}
	if err := json.Unmarshal(b, &s.answers); err != nil {
		t.Fatal(err)
	}
	if s.conn, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.conn.Close() })
	go s.serve()
	return s
}

func (s *dnsServer) addr() string { return s.conn.LocalAddr().String() }

func (s *dnsServer) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.asked...)
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.asked = append(s.asked, q.Name.String())
		mode := s.mode
		s.mu.Unlock()
		if mode == "silent" {
			continue
		}
		rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
		recs, known := s.answers[q.Name.String()]
		switch {
		case mode == "servfail":
			rh.RCode = dnsmessage.RCodeServerFailure
		case !known:
			rh.RCode = dnsmessage.RCodeNameError
		}
		bld := dnsmessage.NewBuilder(nil, rh)
		bld.EnableCompression()
		_ = bld.StartQuestions()
		_ = bld.Question(q)
		_ = bld.StartAnswers()
		if rh.RCode == dnsmessage.RCodeSuccess && q.Type == dnsmessage.TypeTXT {
			for _, r := range recs {
				_ = bld.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.TXTResource{TXT: []string{r}})
			}
		}
		msg, err := bld.Finish()
		if err == nil {
			_, _ = s.conn.WriteTo(msg, from)
		}
	}
}

func cymruWith(t *testing.T, resolver string, timeout time.Duration) provider.Provider {
	t.Helper()
	d, ok := provider.Lookup("cymru")
	if !ok {
		t.Fatal("cymru is not registered")
	}
	p, err := d.New(provider.Config{Timeout: timeout, Settings: map[string]string{"RESOLVER": resolver}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCymru(t *testing.T) {
	t.Parallel()
	srv := newDNSServer(t, "")
	p := cymruWith(t, srv.addr(), 5*time.Second)
	ctx := context.Background()
	tests := []struct {
		name    string
		ind     indicator.Indicator
		want    *provider.CymruSummary
		verdict provider.Assessment
		err     error
	}{
		{name: "ip", ind: indicator.Indicator{Kind: indicator.IPv4, Value: "216.90.108.31"},
			want: &provider.CymruSummary{ASN: 23028, ASName: "TEAMCYMRU - SAUNET", Prefix: "216.90.108.0/24", Country: "US", Registry: "arin",
				Allocated: "1998-09-25", Peers: []int{701, 1239, 3549, 3561, 7132}},
			verdict: provider.Assessment{Level: indicator.Unknown, Reason: "Team Cymru: AS23028 TEAMCYMRU - SAUNET, prefix 216.90.108.0/24 (arin), context only"}},
		{name: "ip_unrouted", ind: indicator.Indicator{Kind: indicator.IPv4, Value: "192.0.2.44"}, err: provider.ErrNotFound},
		{name: "md5_malware", ind: indicator.Indicator{Kind: indicator.MD5, Value: "8A62D103168974FBA9C61EDAB336038C"},
			want:    &provider.CymruSummary{Peers: []int{}, Malware: true, Detection: 28, LastSeen: time.Unix(1611956489, 0).UTC()},
			verdict: provider.Assessment{Level: indicator.Malicious, Score: 75, Reason: "Team Cymru Malware Hash Registry: known malware, 28 % antivirus detection, last seen 2021-01-29"}},
		{name: "sha1_malware", ind: indicator.Indicator{Kind: indicator.SHA1, Value: "e1112134b6dcc8bed54e0e34d8ac272795e73d74"},
			want: &provider.CymruSummary{Peers: []int{}, Malware: true, Detection: 53, LastSeen: time.Unix(1221154281, 0).UTC()},
			verdict: provider.Assessment{Level: indicator.Malicious, Score: 75,
				Reason: "Team Cymru Malware Hash Registry: known malware, 53 % antivirus detection, last seen 2008-09-11"}},
		{name: "sha256_split_low_detection", ind: indicator.Indicator{Kind: indicator.SHA256, Value: "9b573bc2555d8d35e4a2e927cc14217eb112f0725cb4ebff4878976a229fde45"},
			want: &provider.CymruSummary{Peers: []int{}, Malware: true, Detection: 6, LastSeen: time.Unix(1611956489, 0).UTC()},
			verdict: provider.Assessment{Level: indicator.Suspicious, Score: 50,
				Reason: "Team Cymru Malware Hash Registry: listed with a low 6 % antivirus detection, last seen 2021-01-29"}},
		{name: "hash_not_malware", ind: indicator.Indicator{Kind: indicator.MD5, Value: "00000000000000000000000000000042"}, err: provider.ErrNotFound},
		{name: "domain_not_served", ind: indicator.Indicator{Kind: indicator.Domain, Value: "example.org"}, err: provider.ErrBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := p.Lookup(ctx, tt.ind)
			if tt.err != nil {
				var pe *provider.Error
				if !errors.Is(err, tt.err) || !errors.As(err, &pe) || pe.Provider != "cymru" || r != nil {
					t.Fatalf("Lookup = %v, %v; want a cymru *provider.Error matching %v", r, err, tt.err)
				}
				if errors.Is(err, provider.ErrNotFound) && !json.Valid(pe.Raw) {
					t.Errorf("not-found Raw %q is not JSON", pe.Raw)
				}
				return
			}
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if d := cmp.Diff(tt.want, summaryOf[provider.CymruSummary](t, r)); d != "" {
				t.Errorf("summary (-want +got):\n%s", d)
			}
			checkVerdict(t, r, tt.verdict)
			if !json.Valid(r.Raw) || r.Bytes <= 0 || r.Provider != "cymru" {
				t.Errorf("result Raw %q Bytes %d Provider %q", r.Raw, r.Bytes, r.Provider)
			}
		})
	}
	asked := srv.names()
	for _, want := range []string{"31.108.90.216.origin.asn.cymru.com.", "AS23028.asn.cymru.com.", "31.108.90.216.peer.asn.cymru.com.",
		"9b573bc2555d8d35e4a2e927cc14217e.b112f0725cb4ebff4878976a229fde45.hash.cymru.com.", "8a62d103168974fba9c61edab336038c.hash.cymru.com."} {
		found := false
		for _, a := range asked {
			found = found || a == want
		}
		if !found {
			t.Errorf("the resolver was never asked %s (asked %q)", want, asked)
		}
	}
}

func TestCymruFailures(t *testing.T) {
	t.Parallel()
	ip := indicator.Indicator{Kind: indicator.IPv4, Value: "216.90.108.31"}
	t.Run("no_resolver", func(t *testing.T) {
		t.Parallel()
		p := cymruWith(t, "", time.Second)
		if p.Configured() {
			t.Error("Configured() = true without GADGET_CYMRU_RESOLVER")
		}
		if _, err := p.Lookup(context.Background(), ip); !errors.Is(err, provider.ErrNotConfigured) {
			t.Errorf("error = %v, want ErrNotConfigured", err)
		}
	})
	t.Run("servfail", func(t *testing.T) {
		t.Parallel()
		srv := newDNSServer(t, "servfail")
		if _, err := cymruWith(t, srv.addr(), 2*time.Second).Lookup(context.Background(), ip); !errors.Is(err, provider.ErrUpstream) {
			t.Errorf("error = %v, want ErrUpstream", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		srv := newDNSServer(t, "silent")
		_, err := cymruWith(t, srv.addr(), 300*time.Millisecond).Lookup(context.Background(), ip)
		if !errors.Is(err, provider.ErrTimeout) {
			t.Errorf("error = %v, want ErrTimeout", err)
		}
		if len(srv.names()) == 0 {
			t.Error("no query reached the configured resolver")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		srv := newDNSServer(t, "silent")
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if _, err := cymruWith(t, srv.addr(), 5*time.Second).Lookup(ctx, ip); !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})
}
