package policy_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/policy"
)

// million is a list of 1,000,000 mixed entries: 400k IPv4 CIDRs (/16 to
// /32), 50k IPv6 prefixes, 300k domain suffixes, 150k hashes and 100k URL
// prefixes, with the values a lookup would then ask about.
func million(r *rand.Rand) ([]*policy.Entry, []indicator.Indicator) {
	var es []*policy.Entry
	var probes []indicator.Indicator
	add := func(v string, typ policy.EntryType) {
		es = append(es, &policy.Entry{List: "big", Value: v, Type: typ, Reason: "bench"})
	}
	for range 400_000 {
		a := netip.AddrFrom4([4]byte{byte(1 + r.IntN(220)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		p, _ := a.Prefix(16 + r.IntN(17))
		add(p.String(), policy.CIDR)
	}
	for range 50_000 {
		var b [16]byte
		b[0], b[1] = 0x20, 0x01
		for i := 2; i < 8; i++ {
			b[i] = byte(r.IntN(256))
		}
		p, _ := netip.AddrFrom16(b).Prefix(32 + r.IntN(33))
		add(p.String(), policy.CIDR)
	}
	for i := range 300_000 {
		add(fmt.Sprintf("host%d.example%d.com", i, i%977), policy.DomainSuffix)
	}
	for i := range 150_000 {
		add(fmt.Sprintf("%064x", uint64(i)*2654435761), policy.Hash)
	}
	for i := range 100_000 {
		add(fmt.Sprintf("https://site%d.example.net/path/%d/", i, i%13), policy.URLPrefix)
	}
	for i := range 10_000 {
		switch i % 5 {
		case 0:
			probes = append(probes, indicator.Indicator{Kind: indicator.IPv4, Value: netip.AddrFrom4([4]byte{byte(1 + r.IntN(220)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String()})
		case 1:
			probes = append(probes, indicator.Indicator{Kind: indicator.Domain, Value: fmt.Sprintf("a.b.host%d.example%d.com", r.IntN(600_000), r.IntN(977))})
		case 2:
			probes = append(probes, indicator.Indicator{Kind: indicator.SHA256, Value: fmt.Sprintf("%064x", uint64(r.IntN(300_000))*2654435761)})
		case 3:
			probes = append(probes, indicator.Indicator{Kind: indicator.URL, Value: fmt.Sprintf("https://site%d.example.net/path/%d/x/y?q=1", r.IntN(200_000), r.IntN(13))})
		default:
			probes = append(probes, indicator.Indicator{Kind: indicator.IPv6, Value: "2001:db8::1"})
		}
	}
	return es, probes
}

// BenchmarkMatchMillion matches values against a 1,000,000-entry list and
// rebuilds the list's index after a change of one entry; it prints the
// per-match p50/p99 and the rebuild time (docs/performance.md).
func BenchmarkMatchMillion(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	es, probes := million(r)
	l := policy.List{Name: "big", Effect: policy.KnownGood}
	start := time.Now()
	m := policy.NewMatcher(policy.Compile(l, es))
	build := time.Since(start)
	now := time.Now()
	lat := make([]time.Duration, 0, b.N)
	hits := 0
	b.ResetTimer()
	for i := range b.N {
		p := probes[i%len(probes)]
		t0 := time.Now()
		if m.Match(p, now).Any() {
			hits++
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	// a change of one entry: the list is compiled again from its entries
	es[len(es)/2] = &policy.Entry{List: "big", Value: "changed.example", Type: policy.DomainSuffix}
	start = time.Now()
	m = m.Replace("big", policy.Compile(l, es))
	rebuild := time.Since(start)
	if m.Size() != len(es) {
		b.Fatalf("compiled %d entries, want %d", m.Size(), len(es))
	}
	b.ReportMetric(float64(pct(0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(pct(0.99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(rebuild.Milliseconds()), "rebuild-ms")
	b.Logf("%d entries: first build %v, rebuild after one change %v; match p50 %v p99 %v over %d values (%d hits)",
		len(es), build.Round(time.Millisecond), rebuild.Round(time.Millisecond), pct(0.5), pct(0.99), len(lat), hits)
}
