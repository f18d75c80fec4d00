package provider_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

// feedFiles maps each feed's path under a mirror root to its recording.
var feedFiles = map[string]string{
	"/feodotracker.abuse.ch/downloads/ipblocklist.json": "feodo_ipblocklist.json",
	"/sslbl.abuse.ch/blacklist/sslipblacklist.csv":      "sslipblacklist.csv",
	"/threatfox.abuse.ch/export/json/recent/":           "threatfox_recent.json",
	"/urlhaus.abuse.ch/downloads/csv_recent/":           "urlhaus_csv_recent.csv",
	"/urlhaus.abuse.ch/downloads/hostfile/":             "urlhaus_hostfile.txt",
	"/www.spamhaus.org/drop/drop_v4.json":               "drop_v4.json",
	"/www.spamhaus.org/drop/drop_v6.json":               "drop_v6.json",
	"/www.spamhaus.org/drop/edrop.txt":                  "edrop.txt",
	"/check.torproject.org/torbulkexitlist":             "torbulkexitlist.txt",
}

// feedMirror serves the recordings; body overrides a path's answer and
// hold, when set, blocks a path's download until it is closed.
type feedMirror struct {
	mu    sync.Mutex
	body  map[string][]byte
	hold  map[string]chan struct{}
	calls map[string]int
	keys  map[string]string // path → Auth-Key received
	srv   *httptest.Server
}

func newFeedMirror(t testing.TB) *feedMirror {
	t.Helper()
	m := &feedMirror{body: map[string][]byte{}, hold: map[string]chan struct{}{}, calls: map[string]int{}, keys: map[string]string{}}
	for p, f := range feedFiles {
		b, err := os.ReadFile("testdata/feeds/" + f)
		if err != nil {
			t.Fatal(err)
		}
		m.body[p] = b
	}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		b, ok := m.body[r.URL.Path]
		hold := m.hold[r.URL.Path]
		m.calls[r.URL.Path]++
		m.keys[r.URL.Path] = r.Header.Get("Auth-Key")
		m.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *feedMirror) set(path string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body[path] = body
}

func (m *feedMirror) block(path string) chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(chan struct{})
	m.hold[path] = c
	return c
}

func (m *feedMirror) count(path string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[path]
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// feedsProvider builds the feeds provider against the mirror, runs it and
// waits until every enabled feed is loaded.
func feedsProvider(t testing.TB, m *feedMirror, settings map[string]string, store provider.DatasetStore, now func() time.Time) provider.Provider {
	t.Helper()
	p := startFeeds(t, m, settings, store, now)
	waitFeeds(t, p, func(ds []provider.DatasetStatus) bool {
		for _, d := range ds {
			if d.Enabled && d.FetchedAt == nil {
				return false
			}
		}
		return true
	})
	return p
}

// startFeeds builds the feeds provider against the mirror and runs it.
func startFeeds(t testing.TB, m *feedMirror, settings map[string]string, store provider.DatasetStore, now func() time.Time) provider.Provider {
	t.Helper()
	d, _ := provider.Lookup("feeds")
	set := map[string]string{"POLL": "10ms"}
	for k, v := range settings {
		set[k] = v
	}
	p, err := d.New(provider.Config{BaseURL: m.srv.URL, APIKey: "abusech-key", Store: store, Now: now,
		Setting: func(n string) string { return set[n] }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.(provider.Runner).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

// waitFeeds waits until ok holds for the provider's feed status.
func waitFeeds(t testing.TB, p provider.Provider, ok func([]provider.DatasetStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // the million-entry benchmark on a shared machine
	for !ok(p.(provider.DatasetReporter).DatasetStatus(time.Now())) {
		if time.Now().After(deadline) {
			t.Fatalf("feeds did not reach the state: %+v", p.(provider.DatasetReporter).DatasetStatus(time.Now()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func lookupFeeds(t testing.TB, p provider.Provider, k indicator.Kind, v string) (*provider.Result, error) {
	t.Helper()
	ind, err := indicator.ParseAs(v, k)
	if err != nil {
		t.Fatal(err)
	}
	return p.Lookup(context.Background(), ind)
}

func TestFeedsLookups(t *testing.T) {
	t.Parallel()
	m := newFeedMirror(t)
	p := feedsProvider(t, m, nil, nil, nil)
	tests := []struct {
		kind    indicator.Kind
		value   string
		level   indicator.Level
		score   int
		reason  string
		entries []string // feed:entry of each match
		tags    []string
	}{
		{indicator.IPv4, "192.9.135.73", indicator.Malicious, 90, "listed by feodo (Pikabot botnet_cc)", []string{"feodo:192.9.135.73"}, []string{"botnet_cc"}},
		{indicator.IPv4, "45.66.250.145", indicator.Malicious, 90, "listed by sslbl (botnet_cc)", []string{"sslbl:45.66.250.145"}, []string{"botnet_cc"}},
		{indicator.IPv4, "203.0.113.7", indicator.Malicious, 100, "listed by threatfox (Cobalt Strike botnet_cc)",
			[]string{"threatfox:203.0.113.7"}, []string{"botnet_cc"}},
		{indicator.IPv4, "1.10.20.5", indicator.Malicious, 85, "listed by drop (drop)", []string{"drop:1.10.16.0/20"}, []string{"drop"}},
		{indicator.IPv6, "2001:678:254::1", indicator.Malicious, 85, "listed by dropv6 (drop)", []string{"dropv6:2001:678:254::/48"}, []string{"drop"}},
		{indicator.IPv4, "185.244.195.103", indicator.Unknown, 0, "context: tor (tor-exit)", []string{"tor:185.244.195.103"}, []string{"tor-exit"}},
		{indicator.Domain, "EVIL.example.", indicator.Malicious, 75, "listed by threatfox (Lumma Stealer botnet_cc)",
			[]string{"threatfox:evil.example"}, []string{"botnet_cc"}},
		{indicator.URL, "hxxp://evil[.]example/download/setup.exe", indicator.Malicious, 60, "listed by threatfox (Lumma Stealer payload_delivery)",
			[]string{"threatfox:http://evil.example/download/setup.exe"}, []string{"payload_delivery"}},
		{indicator.URL, "http://auto.lambolero.com/f1nygync/J18Keqh/", indicator.Malicious, 90, "listed by threatfox (Emotet payload_delivery)",
			[]string{"threatfox:http://auto.lambolero.com/f1nygync/J18Keqh/"}, []string{"payload_delivery"}},
		{indicator.Domain, "1HOME.az", indicator.Malicious, 90, "listed by urlhaus_hosts (malware_download)",
			[]string{"urlhaus_hosts:1home.az"}, []string{"malware_download"}},
		{indicator.URL, "http://1sp1d.club/bins/x86", indicator.Malicious, 90, "listed by urlhaus_hosts (malware_download)",
			[]string{"urlhaus_hosts:1sp1d.club"}, []string{"malware_download"}},
		{indicator.URL, "http://117.216.19.13:42598/i", indicator.Malicious, 90, "listed by urlhaus (32-bit,elf,mips,Mozi malware_download)",
			[]string{"urlhaus:http://117.216.19.13:42598/i"}, []string{"malware_download"}},
		{indicator.URL, "https://d008.roles.thepowerofgodswhisper.com/updateResource", indicator.Malicious, 90, "listed by urlhaus (SocGholish malware_download)",
			[]string{"urlhaus:https://d008.roles.thepowerofgodswhisper.com/updateResource"}, []string{"malware_download"}},
		{indicator.MD5, "EA372104F1E9F069068E3752B543C7B0", indicator.Malicious, 100, "listed by threatfox (Lumma Stealer payload)",
			[]string{"threatfox:ea372104f1e9f069068e3752b543c7b0"}, []string{"payload"}},
		{indicator.SHA1, "9f057d94c9b77d6286073dc5b5c382bcba67a3b2", indicator.Malicious, 100, "listed by threatfox (Lumma Stealer payload)",
			[]string{"threatfox:9f057d94c9b77d6286073dc5b5c382bcba67a3b2"}, []string{"payload"}},
		{indicator.SHA256, "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f", indicator.Malicious, 100, "listed by threatfox (Lumma Stealer payload)",
			[]string{"threatfox:110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"}, []string{"payload"}},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			r, err := lookupFeeds(t, p, tt.kind, tt.value)
			if err != nil {
				t.Fatalf("Lookup = %v", err)
			}
			checkVerdict(t, r, provider.Assessment{Level: tt.level, Score: tt.score, Reason: tt.reason})
			checkFeedsJSON(t, r)
			s := summaryOf[provider.FeedsSummary](t, r)
			var got []string
			for _, m := range s.Matches {
				got = append(got, m.Feed+":"+m.Entry)
			}
			if d := cmp.Diff(tt.entries, got); d != "" {
				t.Errorf("matches (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.tags, s.Context().Tags); d != "" {
				t.Errorf("context tags (-want +got):\n%s", d)
			}
			if s.Feeds != 8 || len(s.Stale) != 0 {
				t.Errorf("feeds %d stale %v, want 8 fresh (edrop is off)", s.Feeds, s.Stale)
			}
		})
	}
	// the details of one match, as the feeds publish them
	r, _ := lookupFeeds(t, p, indicator.IPv4, "85.239.243.155")
	want := provider.FeedMatch{Feed: "feodo", Title: "Feodo Tracker botnet C2 IP blocklist", Entry: "85.239.243.155", Threat: "botnet_cc",
		Malware: "Pikabot", Reference: "port 5000", FirstSeen: time.Date(2024, 2, 8, 19, 20, 49, 0, time.UTC), Score: 90}
	if d := cmp.Diff(want, summaryOf[provider.FeedsSummary](t, r).Matches[0]); d != "" {
		t.Errorf("feodo match (-want +got):\n%s", d)
	}
	for _, v := range []struct {
		k indicator.Kind
		v string
	}{{indicator.IPv4, "198.51.100.14"}, {indicator.IPv4, "198.18.0.5"}, {indicator.Domain, "example.org"},
		{indicator.URL, "https://example.org/download/setup.exe"}, {indicator.SHA256, strings.Repeat("0", 63) + "1"}} {
		if _, err := lookupFeeds(t, p, v.k, v.v); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Lookup(%s) = %v, want ErrNotFound", v.v, err)
		}
	}
	// the abuse.ch key goes to abuse.ch only
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys["/feodotracker.abuse.ch/downloads/ipblocklist.json"] != "abusech-key" || m.keys["/www.spamhaus.org/drop/drop_v4.json"] != "" ||
		m.keys["/check.torproject.org/torbulkexitlist"] != "" {
		t.Errorf("Auth-Key sent: %v", m.keys)
	}
	if m.calls["/www.spamhaus.org/drop/edrop.txt"] != 0 {
		t.Error("the disabled EDROP feed was downloaded")
	}
}

// checkFeedsJSON holds the answer's hand-written JSON to json.Marshal of
// its summary, byte for byte.
func checkFeedsJSON(t *testing.T, r *provider.Result) {
	t.Helper()
	want, err := json.Marshal(r.Summary)
	if err != nil {
		t.Fatal(err)
	}
	if string(r.Raw) != string(want) {
		t.Errorf("raw answer\n%s\nwant (json.Marshal)\n%s", r.Raw, want)
	}
}

func TestFeedsSettings(t *testing.T) {
	t.Parallel()
	m := newFeedMirror(t)
	m.set("/elsewhere/feodo.json", []byte(`[{"ip_address":"198.51.100.77","port":443,"malware":"QakBot"},
		{"ip_address":"198.51.100.78","port":443,"malware":"Q&A <\"β\">\\\u0001","first_seen":"2024-10-14"}]`))
	// EDROP switched on, Tor off, Feodo from its own URL (with a key in it)
	p := feedsProvider(t, m, map[string]string{"EDROP_ENABLED": "true", "TOR_ENABLED": "false",
		"FEODO_URL": strings.Replace(m.srv.URL, "http://", "http://user:pw-secret@", 1) + "/elsewhere/feodo.json?auth-key=key-secret"}, nil, nil)
	if u := p.(provider.DatasetReporter).DatasetStatus(time.Now())[0].URL; u != m.srv.URL+"/elsewhere/feodo.json?…" {
		t.Errorf("status shows the feodo URL as %q, want it without user info and query", u)
	}
	if r, err := lookupFeeds(t, p, indicator.IPv4, "198.18.9.1"); err != nil || r.Verdict.Reason != "listed by edrop (drop)" {
		t.Errorf("EDROP on: %v %v", r, err)
	}
	if _, err := lookupFeeds(t, p, indicator.IPv4, "93.95.230.253"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Tor off: error %v, want not found", err)
	}
	if r, err := lookupFeeds(t, p, indicator.IPv4, "198.51.100.77"); err != nil || r.Verdict.Reason != "listed by feodo (QakBot botnet_cc)" {
		t.Errorf("feodo from its own URL: %v %v", r, err)
	}
	if _, err := lookupFeeds(t, p, indicator.IPv4, "85.239.243.155"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("feodo from its own URL still has the default list: %v", err)
	}
	r, err := lookupFeeds(t, p, indicator.IPv4, "198.51.100.78") // the answer's JSON escapes what encoding/json escapes
	if err != nil {
		t.Fatal(err)
	}
	checkFeedsJSON(t, r)
	if m := summaryOf[provider.FeedsSummary](t, r).Matches[0]; m.Malware != "Q&A <\"β\">\\\x01" {
		t.Errorf("malware %q", m.Malware)
	}

	d, _ := provider.Lookup("feeds")
	bad := map[string]string{"TOR_INTERVAL": "soon", "FEODO_URL": "ftp://x", "URLHAUS_ENABLED": "maybe", "POLL": "-1s"}
	_, err = d.New(provider.Config{Setting: func(n string) string { return bad[n] }})
	if err == nil {
		t.Fatal("New accepted bad settings")
	}
	for _, v := range []string{"GADGET_FEEDS_TOR_INTERVAL", "GADGET_FEEDS_FEODO_URL", "GADGET_FEEDS_URLHAUS_ENABLED", "GADGET_FEEDS_POLL"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
}

// A feed older than twice its interval says so in every answer and in
// status; a failed refresh keeps the data it had.
func TestFeedsStaleAndFailedRefresh(t *testing.T) {
	t.Parallel()
	m := newFeedMirror(t)
	c := &clock{t: time.Now()}
	p := feedsProvider(t, m, map[string]string{"TOR_INTERVAL": "1h"}, nil, c.Now)
	tor := "/check.torproject.org/torbulkexitlist"
	m.set(tor, []byte("<html>maintenance</html>")) // a broken download: not an address list
	m.set("/feodotracker.abuse.ch/downloads/ipblocklist.json", []byte(`{"error":"x"}`))
	c.add(2*time.Hour + time.Minute) // every feed is due; Tor is stale; the Spamhaus lists (12 h) are not
	waitFeeds(t, p, func(ds []provider.DatasetStatus) bool {
		for _, d := range ds {
			if (d.Name == "feodo" || d.Name == "tor") && d.Error == "" {
				return false
			}
		}
		return true
	})
	r, err := lookupFeeds(t, p, indicator.IPv4, "93.95.230.253")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Verdict.Reason, "stale: ") || !slices.Contains(summaryOf[provider.FeedsSummary](t, r).Stale, "tor") {
		t.Errorf("reason %q, stale %v: want tor named stale", r.Verdict.Reason, summaryOf[provider.FeedsSummary](t, r).Stale)
	}
	var pe *provider.Error
	if _, err := lookupFeeds(t, p, indicator.IPv4, "198.51.100.14"); !errors.As(err, &pe) || !strings.Contains(pe.Message, "stale: ") {
		t.Errorf("not found: %v, want the stale feeds named", err)
	}
	// feodo's broken download left its data in place and its error in status
	if r, err := lookupFeeds(t, p, indicator.IPv4, "85.239.243.155"); err != nil || !strings.HasPrefix(r.Verdict.Reason, "listed by feodo (Pikabot") {
		t.Errorf("after a failed refresh: %v %v", r, err)
	}
	for _, d := range p.(provider.DatasetReporter).DatasetStatus(c.Now()) {
		switch d.Name {
		case "tor":
			if !d.Stale || d.Entries != 3 || d.AgeSeconds == nil || *d.AgeSeconds < 7200 {
				t.Errorf("tor status %+v, want stale with its 3 entries", d)
			}
		case "drop":
			if d.Stale || d.Entries != 3 || d.Error != "" || d.RefreshSeconds != 12*3600 {
				t.Errorf("drop status %+v", d)
			}
		case "feodo":
			if !strings.Contains(d.Error, "ipblocklist.json array") {
				t.Errorf("feodo error %q", d.Error)
			}
		}
	}
}

// Lookups are answered while a feed is being downloaded and rebuilt, from
// the data in memory; the new data replaces it at once when ready.
func TestFeedsRefreshDoesNotBlockLookups(t *testing.T) {
	t.Parallel()
	m := newFeedMirror(t)
	c := &clock{t: time.Now()}
	p := feedsProvider(t, m, nil, nil, c.Now)
	path := "/feodotracker.abuse.ch/downloads/ipblocklist.json"
	release := m.block(path)
	m.set(path, []byte(`[{"ip_address":"203.0.113.250","port":443,"status":"online","first_seen":"2024-10-15 00:00:00","malware":"QakBot"}]`))
	c.add(31 * time.Minute) // feodo is due
	for m.count(path) < 2 { // the refresh has started and is held
		time.Sleep(time.Millisecond)
	}
	var answered atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 500 {
				r, err := lookupFeeds(t, p, indicator.IPv4, "85.239.243.155")
				if err != nil || !strings.HasPrefix(r.Verdict.Reason, "listed by feodo (Pikabot") {
					t.Errorf("during the refresh: %v %v", r, err)
					return
				}
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	if answered.Load() != 2000 || m.count(path) != 2 {
		t.Fatalf("answered %d lookups during the held refresh (downloads %d)", answered.Load(), m.count(path))
	}
	close(release)
	waitFeeds(t, p, func([]provider.DatasetStatus) bool {
		r, err := lookupFeeds(t, p, indicator.IPv4, "203.0.113.250")
		return err == nil && r.Verdict.Level == indicator.Malicious
	})
	if _, err := lookupFeeds(t, p, indicator.IPv4, "85.239.243.155"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("the old feodo entry after the swap: %v", err)
	}
}

// A feed download that answers with a redirect is a failed refresh: the
// redirect is not followed, so the Auth-Key reaches no other host.
func TestFeedsDoNotFollowRedirects(t *testing.T) {
	t.Parallel()
	internal := newInternalService(t)
	up := redirector(t, internal.URL)
	p := startFeeds(t, newFeedMirror(t), map[string]string{"FEODO_URL": up.URL + "/ipblocklist.json"}, nil, nil)
	waitFeeds(t, p, func(ds []provider.DatasetStatus) bool { return ds[0].Error != "" })
	if d := p.(provider.DatasetReporter).DatasetStatus(time.Now())[0]; !strings.Contains(d.Error, "redirect (302) not followed") || d.FetchedAt != nil {
		t.Errorf("feodo status %+v, want the refused redirect", d)
	}
	if n := internal.hits.Load(); n != 0 {
		t.Errorf("the redirect target was asked %d times", n)
	}
}

// memStore is a DatasetStore in memory with the database's lease rule.
type memStore struct {
	mu   sync.Mutex
	rows map[string]*provider.Dataset
}

func (s *memStore) ClaimDataset(_ context.Context, prov, name string, now, until time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rows[prov+"/"+name]
	if !ok {
		r = &provider.Dataset{Provider: prov, Name: name, DueAt: now}
		s.rows[prov+"/"+name] = r
	}
	if r.DueAt.After(now) {
		return false, nil
	}
	r.DueAt = until
	return true, nil
}

func (s *memStore) SaveDataset(_ context.Context, d provider.Dataset) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rows[d.Provider+"/"+d.Name]
	d.Version = r.Version + 1
	*r = d
	return d.Version, nil
}

func (s *memStore) FailDataset(_ context.Context, prov, name, msg string, retryAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rows[prov+"/"+name]
	r.LastError, r.DueAt = msg, retryAt
	return nil
}

func (s *memStore) Datasets(_ context.Context, prov string) ([]provider.Dataset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []provider.Dataset
	for _, r := range s.rows {
		if r.Provider == prov {
			d := *r
			d.Data = nil
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *memStore) LoadDataset(_ context.Context, prov, name string) (*provider.Dataset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := *s.rows[prov+"/"+name]
	return &d, nil
}

// Replicas sharing a store download each feed once between them; the
// others build it from the store.
func TestFeedsReplicasShareOneRefresh(t *testing.T) {
	t.Parallel()
	m := newFeedMirror(t)
	st := &memStore{rows: map[string]*provider.Dataset{}}
	var ps []provider.Provider
	for range 3 {
		ps = append(ps, feedsProvider(t, m, nil, st, nil))
	}
	for path := range feedFiles {
		if want := map[bool]int{true: 0, false: 1}[strings.HasSuffix(path, "edrop.txt")]; m.count(path) != want {
			t.Errorf("%s downloaded %d times by 3 replicas, want %d", path, m.count(path), want)
		}
	}
	for i, p := range ps {
		r, err := lookupFeeds(t, p, indicator.IPv4, "203.0.113.7")
		if err != nil || r.Verdict.Level != indicator.Malicious {
			t.Errorf("replica %d: %v %v", i, r, err)
		}
	}
	// a refresh by one replica reaches the others through the store
	st.mu.Lock()
	for _, r := range st.rows {
		if r.Name == "tor" {
			r.DueAt = time.Time{}
		}
	}
	st.mu.Unlock()
	m.set("/check.torproject.org/torbulkexitlist", []byte("198.51.100.99\n"))
	for _, p := range ps {
		waitFeeds(t, p, func([]provider.DatasetStatus) bool {
			_, err := lookupFeeds(t, p, indicator.IPv4, "198.51.100.99")
			return err == nil
		})
	}
	if n := m.count("/check.torproject.org/torbulkexitlist"); n != 2 {
		t.Errorf("tor downloaded %d times, want 2 (start and the one refresh)", n)
	}
}

// BenchmarkFeedsMillion builds the feeds from 1,000,000 entries (250,000
// each of addresses, URLs, hosts and SHA-256 hashes, through the real
// parsers) and times lookups of listed and unlisted values one by one:
// p50/p99 and the heap the entries take (runtime.MemStats before and after).
func BenchmarkFeedsMillion(b *testing.B) {
	million.once.Do(func() { million.p, million.total, million.heap, million.built = buildMillion(b) })
	p, total, heap := million.p, million.total, million.heap

	values := []indicator.Indicator{}
	for i := range 1000 {
		n := i * 249
		values = append(values,
			indicator.Indicator{Kind: indicator.IPv4, Value: fmt.Sprintf("10.%d.%d.%d", n>>16, (n>>8)&255, n&255)},
			indicator.Indicator{Kind: indicator.URL, Value: fmt.Sprintf("http://h%d.example/p/%d.exe", n%5000, n)},
			indicator.Indicator{Kind: indicator.Domain, Value: fmt.Sprintf("host%d.example", n)},
			indicator.Indicator{Kind: indicator.SHA256, Value: fmt.Sprintf("%064x", n)},
			indicator.Indicator{Kind: indicator.IPv4, Value: fmt.Sprintf("172.16.%d.%d", i>>8, i&255)}, // unlisted
			indicator.Indicator{Kind: indicator.Domain, Value: fmt.Sprintf("clean%d.example", i)},      // unlisted
		)
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ind := values[i%len(values)]
		t0 := time.Now()
		_, err := p.Lookup(ctx, ind)
		lat = append(lat, time.Since(t0))
		if err != nil && !errors.Is(err, provider.ErrNotFound) {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(heap)/float64(total)*1e6/(1<<20), "MiB/1M-entries")
	b.Logf("%d entries built in %s (download, parse, index; 8 feeds); heap %.1f MiB; lookup p50 %s p99 %s over %d lookups",
		total, million.built.Round(time.Millisecond), float64(heap)/(1<<20), lat[len(lat)/2], lat[len(lat)*99/100], len(lat))
}

// million is the benchmark's provider, built once for every b.N.
var million struct {
	once  sync.Once
	p     provider.Provider
	total int
	heap  int64
	built time.Duration
}

func buildMillion(b *testing.B) (provider.Provider, int, int64, time.Duration) {
	const quarter = 250_000
	var feodo, urls, hosts, tf strings.Builder
	feodo.WriteString("[")
	tf.WriteString("{")
	urls.WriteString("# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter\n")
	for i := range quarter {
		if i > 0 {
			feodo.WriteString(",")
			tf.WriteString(",")
		}
		fmt.Fprintf(&feodo, `{"ip_address":"10.%d.%d.%d","port":443,"first_seen":"2024-10-14 00:00:00","malware":"QakBot"}`, i>>16, (i>>8)&255, i&255)
		fmt.Fprintf(&urls, `"%d","2024-10-14 00:00:00","http://h%d.example/p/%d.exe","online","","malware_download","exe","https://urlhaus.abuse.ch/url/%d/","r"`+"\n", i, i%5000, i, i)
		fmt.Fprintf(&hosts, "127.0.0.1\thost%d.example\n", i)
		fmt.Fprintf(&tf, `"%d":[{"ioc_value":"%064x","ioc_type":"sha256_hash","threat_type":"payload","malware_printable":"Lumma Stealer","first_seen_utc":"2024-10-14 00:00:00","confidence_level":100}]`, i, i)
	}
	feodo.WriteString("]")
	tf.WriteString("}")
	m := newFeedMirror(b)
	m.set("/feodotracker.abuse.ch/downloads/ipblocklist.json", []byte(feodo.String()))
	m.set("/urlhaus.abuse.ch/downloads/csv_recent/", []byte(urls.String()))
	m.set("/urlhaus.abuse.ch/downloads/hostfile/", []byte(hosts.String()))
	m.set("/threatfox.abuse.ch/export/json/recent/", []byte(tf.String()))
	feodo, urls, hosts, tf = strings.Builder{}, strings.Builder{}, strings.Builder{}, strings.Builder{}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	started := time.Now()
	p := feedsProvider(b, m, nil, nil, nil)
	built := time.Since(started)
	m.mu.Lock()
	m.body = nil // the downloads are garbage now; only the indexes stay
	m.mu.Unlock()
	runtime.GC()
	runtime.ReadMemStats(&after)
	total := 0
	for _, d := range p.(provider.DatasetReporter).DatasetStatus(time.Now()) {
		total += d.Entries
	}
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	return p, total, heap, built
}

// docs/feeds.md lists every feed with its default URL, refresh interval,
// default switch and licence, as the provider has them.
func TestFeedsDocumented(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(repoRoot + "/docs/feeds.md")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := provider.Lookup("feeds")
	p, err := d.New(provider.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(page), "\n") {
		if f := strings.Split(line, "|"); len(f) > 2 && strings.HasPrefix(strings.TrimSpace(f[1]), "`") {
			if k := strings.Trim(strings.TrimSpace(f[1]), "`"); rows[k] == "" { // the lists table comes first
				rows[k] = line
			}
		}
	}
	for _, ds := range p.(provider.DatasetReporter).DatasetStatus(time.Now()) {
		row, ok := rows[ds.Name]
		if !ok {
			t.Errorf("docs/feeds.md has no row for feed %s", ds.Name)
			continue
		}
		every := strings.TrimSuffix((time.Duration(ds.RefreshSeconds) * time.Second).String(), "0s") // 30m, 1h0m
		if strings.HasSuffix(every, "h0m") {
			every = strings.TrimSuffix(every, "0m")
		}
		on := map[bool]string{true: "yes", false: "no"}[ds.Enabled]
		for _, want := range []string{" " + ds.URL + " ", " " + every + " ", " " + on + " ", ds.Licence} {
			if !strings.Contains(row, want) {
				t.Errorf("docs/feeds.md row of %s lacks %q:\n%s", ds.Name, want, row)
			}
		}
	}
}
