package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inspector-gadget/gadget/internal/store"
	"github.com/inspector-gadget/gadget/internal/taxii"
	"github.com/inspector-gadget/gadget/internal/testenv"
)

// percentiles returns p50 and p99 of ds in milliseconds.
func percentiles(ds []time.Duration) (p50, p99 float64) {
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))].Microseconds()) / 1000 }
	return at(0.50), at(0.99)
}

// timeGET times n sequential GETs of u with header h (keep-alive).
func timeGET(b *testing.B, c *http.Client, u string, h http.Header, n int) []time.Duration {
	ds := make([]time.Duration, 0, n)
	for range n {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header = h.Clone()
		t := time.Now()
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		ds = append(ds, time.Since(t))
		if res.StatusCode != 200 {
			b.Fatalf("GET %s: %d", u, res.StatusCode)
		}
	}
	return ds
}

// BenchmarkMispCached: /misp/query for a cached value (hover's legacy
// format, gadget_all: every provider from the cache), 500 sequential
// queries, against GET /healthz in the same run as the baseline.
//
//	go test -run '^$' -bench BenchmarkMispCached -benchtime 1x ./cmd/gadget
func BenchmarkMispCached(b *testing.B) {
	in, _, tok := benchInstance(b)
	key := in.apiKey(tok, "bench", "TASKS")
	c := &http.Client{}
	query := func() time.Duration {
		req, _ := http.NewRequest("POST", in.base+"/misp/query", strings.NewReader(`{"module":"gadget_all","ip-src":"203.0.113.45"}`))
		req.Header.Set("Authorization", key)
		req.Header.Set("Content-Type", "application/json")
		t := time.Now()
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t)
		if res.StatusCode != 200 || strings.Contains(string(body), `"error"`) {
			b.Fatalf("misp query: %d %s", res.StatusCode, body)
		}
		return d
	}
	query() // fills the cache
	b.ResetTimer()
	for range b.N {
		ds := make([]time.Duration, 0, 500)
		for range 500 {
			ds = append(ds, query())
		}
		p50, p99 := percentiles(ds)
		b50, b99 := percentiles(timeGET(b, c, in.base+"/healthz", nil, 500))
		b.ReportMetric(p50, "misp_p50_ms")
		b.ReportMetric(p99, "misp_p99_ms")
		b.ReportMetric(b50, "healthz_p50_ms")
		b.ReportMetric(b99, "healthz_p99_ms")
	}
}

// BenchmarkTAXIIPage: pages of 1,000 objects of a collection holding
// GADGET_BENCH_TAXII_ROWS (default 1,000,000) stored verdicts on
// PostgreSQL: the first page, a page a thousand objects from the end (by
// next) and the page after an added_after near the end, 20 times each.
// Equal times for the three show the keyset paging is O(page).
//
//	go test -run '^$' -bench BenchmarkTAXIIPage -benchtime 1x -timeout 30m ./cmd/gadget
func BenchmarkTAXIIPage(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("GADGET_BENCH_TAXII_ROWS")); err == nil && v > 1000 {
		rows = v
	}
	dbURL := testenv.Postgres(b)
	env := map[string]string{"GADGET_DATABASE_URL": dbURL, "GADGET_ROOT_PASSWORD": rootPW, "GADGET_LOG_LEVEL": "error",
		"GADGET_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0123"}
	in := start(b, env)
	key := in.apiKey(in.token("root", rootPW, ""), "bench", "TASKS")
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	began := time.Now()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// an indicator of the size the publisher writes (~1 KB)
	if _, err := st.Pool().Exec(ctx, `INSERT INTO stix_objects (collection, object_id, object_type, version, date_added, revoked, level, score, object)
		SELECT $1, 'indicator--' || md5(g::text)::uuid, 'indicator', $2::timestamptz, $2::timestamptz + g * interval '1 millisecond', false, 'MALICIOUS', 80,
		  '{"type":"indicator","spec_version":"2.1","id":"indicator--' || md5(g::text)::uuid || '","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","created_by_ref":"identity--0c1f6c52-6a53-5f2e-a7e3-5a4d1a7c5f16","name":"IPV4 ' || g || ': MALICIOUS","description":"Inspector Gadget verdict MALICIOUS, score 80/100. virustotal: 23/90 VirusTotal engines flag it malicious; abuseipdb: abuse confidence 100 from 1204 reports.","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = ''10.' || g || ''']","pattern_type":"stix","pattern_version":"2.1","valid_from":"2026-01-01T00:00:00.000Z","valid_until":"2026-01-02T00:00:00.000Z","confidence":80,"labels":["inspector-gadget","malicious"],"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"],"external_references":[{"source_name":"VirusTotal","url":"https://www.virustotal.com/gui/ip-address/10.0.0.1"}]}'
		FROM generate_series(1, $3) g`, taxii.Malicious, base, rows); err != nil {
		b.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, `ANALYZE stix_objects`); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d stored verdicts inserted in %v", rows, time.Since(began).Round(time.Millisecond))
	objects := in.base + "/taxii2/gadget/collections/" + taxii.CollectionID(taxii.Malicious) + "/objects/"
	h := http.Header{"Accept": {taxii.MediaType}, "Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+key))}}
	var lastID int64
	if err := st.Pool().QueryRow(ctx, `SELECT max(id) FROM stix_objects`).Scan(&lastID); err != nil {
		b.Fatal(err)
	}
	// a next token 1,000 objects from the end, as a client paging through would hold
	deep := base.Add(time.Duration(rows-1000) * time.Millisecond)
	next := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d", deep.UnixMicro(), lastID-1000)))
	c := &http.Client{}
	b.ResetTimer()
	for range b.N {
		for _, p := range []struct{ name, query string }{
			{"first", url.Values{"limit": {"1000"}}.Encode()},
			{"deep_next", url.Values{"limit": {"1000"}, "next": {next}}.Encode()},
			{"added_after", url.Values{"limit": {"1000"}, "added_after": {deep.Add(-time.Microsecond).Format(time.RFC3339Nano)}}.Encode()},
		} {
			p50, p99 := percentiles(timeGET(b, c, objects+"?"+p.query, h, 20))
			b.ReportMetric(p50, p.name+"_p50_ms")
			b.ReportMetric(p99, p.name+"_p99_ms")
		}
	}
}
