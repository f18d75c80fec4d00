package provider

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"

	"github.com/inspector-gadget/gadget/internal/indicator"
)

func init() {
	d := Descriptor{
		Name:   "feeds",
		Title:  "Local feeds",
		Source: "LocalFeeds",
		Local:  true,
		Kinds:  indicator.Kinds,
		Key:    KeyOptional,
		// The feeds live at their publishers' hosts (feedSpecs). Another
		// GADGET_FEEDS_BASE_URL is a mirror serving <base>/<host>/<path>.
		BaseURL:     "https://abuse.ch",
		Rate:        Rate{}, // lookups never leave the process
		CacheTTL:    0,
		NotFoundTTL: 0,
		Timeout:     2 * time.Minute, // one feed download
		FreeTier:    "no quota: free lists downloaded on a schedule (URLhaus, ThreatFox, Feodo Tracker, SSLBL, Tor exits, Spamhaus DROP); an abuse.ch Auth-Key is sent to abuse.ch when set",
		Terms:       "each list's licence is in docs/feeds.md: abuse.ch data CC0 (https://abuse.ch/terms-of-use/), Tor exit list public (https://metrics.torproject.org), Spamhaus DROP free to use under https://www.spamhaus.org/drop/terms/",
		Summary:     FeedsSummary{},
		Tags:        []string{"reputation", "local"},
		Description: "Whether a value is on the free lists this service downloads on a schedule and matches in memory (URLhaus, ThreatFox, Feodo Tracker, SSLBL, Tor exit nodes, Spamhaus DROP/EDROP), without an upstream call per lookup.",
		MaxTLP:      indicator.TLPRed,
		TLPReason:   "local: the lists are downloaded on a schedule and matched in memory, so no value leaves this service",
		VerdictRules: []string{
			"on Feodo Tracker, SSLBL, ThreatFox or URLhaus (URL or host): MALICIOUS 90 (ThreatFox: its confidence, at least 60), the feed named",
			"in a Spamhaus DROP/EDROP range: MALICIOUS 85",
			"a Tor exit node only: UNKNOWN, context (tag tor-exit)",
			"on no list: not found; a feed older than twice its refresh interval is named as stale in the answer",
		},
	}
	d.New = func(cfg Config) (Provider, error) { return newFeeds(d, cfg) }
	Register(d)
}

// feedSpec is one downloadable list: where it is, how often it changes,
// its licence, and how its format reads.
type feedSpec struct {
	Name     string // GADGET_FEEDS_<NAME>_ENABLED, _URL, _INTERVAL
	Title    string
	URL      string
	Interval time.Duration
	Licence  string
	Off      bool // disabled unless GADGET_FEEDS_<NAME>_ENABLED=true
	AbuseCH  bool // the abuse.ch Auth-Key goes with the download
	Context  bool // a listing is context, not a verdict (Tor exits)
	Score    int  // the verdict score of a listing (ThreatFox: its confidence)
	parse    func(body []byte, b *feedBuilder) error
}

const abuseCHLicence = "CC0 1.0; abuse.ch terms of use https://abuse.ch/terms-of-use/"

// feedSpecs are the lists, in the order answers name them. Formats and
// intervals follow each publisher's page (docs/feeds.md).
var feedSpecs = []feedSpec{
	{Name: "feodo", Title: "Feodo Tracker botnet C2 IP blocklist", URL: "https://feodotracker.abuse.ch/downloads/ipblocklist.json",
		Interval: 30 * time.Minute, Licence: abuseCHLicence, AbuseCH: true, Score: 90, parse: parseFeodo},
	{Name: "sslbl", Title: "SSLBL botnet C2 IP blacklist", URL: "https://sslbl.abuse.ch/blacklist/sslipblacklist.csv",
		Interval: time.Hour, Licence: abuseCHLicence, AbuseCH: true, Score: 90, parse: parseSSLBL},
	{Name: "threatfox", Title: "ThreatFox IOCs (last 48 hours)", URL: "https://threatfox.abuse.ch/export/json/recent/",
		Interval: 30 * time.Minute, Licence: abuseCHLicence, AbuseCH: true, Score: 90, parse: parseThreatFoxExport},
	{Name: "urlhaus", Title: "URLhaus malware URLs (last 30 days)", URL: "https://urlhaus.abuse.ch/downloads/csv_recent/",
		Interval: 30 * time.Minute, Licence: abuseCHLicence, AbuseCH: true, Score: 90, parse: parseURLhausCSV},
	{Name: "urlhaus_hosts", Title: "URLhaus malware hosts", URL: "https://urlhaus.abuse.ch/downloads/hostfile/",
		Interval: 30 * time.Minute, Licence: abuseCHLicence, AbuseCH: true, Score: 90, parse: parseHostfile},
	{Name: "drop", Title: "Spamhaus DROP (IPv4)", URL: "https://www.spamhaus.org/drop/drop_v4.json",
		Interval: 12 * time.Hour, Licence: "Spamhaus DROP terms https://www.spamhaus.org/drop/terms/ (free, no redistribution for profit)", Score: 85, parse: parseDropJSON},
	{Name: "dropv6", Title: "Spamhaus DROPv6", URL: "https://www.spamhaus.org/drop/drop_v6.json",
		Interval: 12 * time.Hour, Licence: "Spamhaus DROP terms https://www.spamhaus.org/drop/terms/ (free, no redistribution for profit)", Score: 85, parse: parseDropJSON},
	{Name: "edrop", Title: "Spamhaus EDROP (merged into DROP by Spamhaus in 2024)", URL: "https://www.spamhaus.org/drop/edrop.txt",
		Interval: 12 * time.Hour, Licence: "Spamhaus DROP terms https://www.spamhaus.org/drop/terms/ (free, no redistribution for profit)", Off: true, Score: 85, parse: parseDropText},
	{Name: "tor", Title: "Tor exit nodes (Tor Project bulk exit list)", URL: "https://check.torproject.org/torbulkexitlist",
		Interval: time.Hour, Licence: "public; Tor Metrics data is CC0 (https://metrics.torproject.org/)", Context: true, parse: parseTorExits},
}

// FeedsSummary is what the local feeds say about a value.
type FeedsSummary struct {
	Matches []FeedMatch `json:"matches"` // one per feed that lists the value (or its URL's host)
	Tags    []string    `json:"tags"`    // e.g. "tor-exit", "botnet_cc"
	Malware []string    `json:"malware"` // distinct malware families named by the feeds
	Feeds   int         `json:"feeds"`   // feeds loaded and consulted
	Stale   []string    `json:"stale"`   // enabled feeds older than twice their interval, or never loaded
}

// FeedMatch is one feed's entry for a value.
type FeedMatch struct {
	Feed      string    `json:"feed"`                // e.g. "feodo"
	Title     string    `json:"title"`               // e.g. "Feodo Tracker botnet C2 IP blocklist"
	Entry     string    `json:"entry"`               // the listed value: the address, range, URL, host or hash
	Threat    string    `json:"threat"`              // e.g. botnet_cc, malware_download, drop, tor-exit
	Malware   string    `json:"malware,omitempty"`   // e.g. "QakBot"
	Reference string    `json:"reference,omitempty"` // e.g. an SBL id, a ThreatFox IOC id, a URLhaus page
	FirstSeen time.Time `json:"firstSeen,omitzero"`
	Score     int       `json:"score"` // the listing's weight, 0 for context
}

// Context implements Contexter: the tags, families and first sighting.
func (s FeedsSummary) Context() Context {
	c := Context{Tags: s.Tags, MalwareFamilies: s.Malware}
	for _, m := range s.Matches {
		if !m.FirstSeen.IsZero() && (c.FirstSeen.IsZero() || m.FirstSeen.Before(c.FirstSeen)) {
			c.FirstSeen = m.FirstSeen
		}
	}
	return c
}

// feedHit is an entry as kept in memory; strings repeated across entries
// (threats, families) are interned by the builder.
type feedHit struct {
	threat, malware, ref string
	seen                 int64 // unix seconds, 0 when unknown
	score                int32
}

// feedIndex is one feed compiled for matching. It is immutable: a refresh
// builds a new one aside and swaps the pointer, so lookups never wait.
type feedIndex struct {
	addrs     map[netip.Addr]feedHit
	nets      *bart.Table[feedHit]
	hosts     map[string]feedHit
	urls      map[string]feedHit
	hashes    map[string]feedHit
	entries   int
	fetchedAt time.Time
	version   int64
}

// feedBuilder collects a feed's entries; the first entry of a value wins.
type feedBuilder struct {
	x     *feedIndex
	spec  *feedSpec
	names map[string]string
	bad   int // values that were neither an address, range, host, URL nor hash
}

func newFeedBuilder(spec *feedSpec) *feedBuilder {
	return &feedBuilder{spec: spec, names: map[string]string{}, x: &feedIndex{addrs: map[netip.Addr]feedHit{},
		nets: new(bart.Table[feedHit]), hosts: map[string]feedHit{}, urls: map[string]feedHit{}, hashes: map[string]feedHit{}}}
}

func (b *feedBuilder) intern(s string) string {
	if v, ok := b.names[s]; ok {
		return v
	}
	b.names[s] = s
	return s
}

// hit builds an entry; seen is a date in one of the feeds' layouts.
func (b *feedBuilder) hit(threat, malware, ref, seen string, score int) feedHit {
	h := feedHit{threat: b.intern(threat), malware: b.intern(malware), ref: ref, score: int32(score)}
	if score == 0 {
		h.score = int32(b.spec.Score)
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04:05 MST", time.DateOnly} {
		if t, err := time.Parse(layout, strings.TrimSpace(seen)); err == nil {
			h.seen = t.Unix()
			break
		}
	}
	return h
}

// addValue files an entry under a value of any kind: an address, a CIDR
// range, a host, a URL or a hash. It reports whether the value was usable.
func (b *feedBuilder) addValue(v string, h feedHit) bool {
	if !b.add(strings.TrimSpace(v), h) {
		b.bad++
		return false
	}
	return true
}

func (b *feedBuilder) add(v string, h feedHit) bool {
	if strings.Contains(v, "/") && !strings.Contains(v, "://") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return false
		}
		p = p.Masked()
		if _, dup := b.x.nets.Get(p); !dup {
			b.x.nets.Insert(p, h)
			b.x.entries++
		}
		return true
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return b.addAddr(a, h)
	}
	ind, err := parseFeedValue(v)
	if err != nil {
		return false
	}
	var m map[string]feedHit
	switch {
	case ind.Kind == indicator.Domain:
		m = b.x.hosts
	case ind.Kind == indicator.URL:
		m = b.x.urls
	case ind.Kind.IsHash():
		m = b.x.hashes
	case ind.Kind.IsIP():
		a, _ := netip.ParseAddr(ind.Value)
		return b.addAddr(a, h)
	default:
		return false
	}
	if _, dup := m[ind.Value]; !dup {
		m[ind.Value] = h
		b.x.entries++
	}
	return true
}

// parseFeedValue reads a host, URL or hash. Values already in canonical
// form (lower-case hex, lower-case ASCII host names) skip the full parser,
// which a million-entry feed would otherwise spend seconds in.
func parseFeedValue(v string) (indicator.Indicator, error) {
	if strings.Contains(v, "://") {
		return indicator.ParseAs(v, indicator.URL)
	}
	hex, host, letter := true, strings.Contains(v, ".") && !strings.HasPrefix(v, ".") && !strings.HasSuffix(v, "."), false
	for i := 0; i < len(v) && (hex || host); i++ {
		c := v[i]
		hex = hex && ('0' <= c && c <= '9' || 'a' <= c && c <= 'f')
		host = host && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.')
		letter = letter || 'a' <= c && c <= 'z'
	}
	switch {
	case hex && len(v) == 32:
		return indicator.Indicator{Kind: indicator.MD5, Value: v}, nil
	case hex && len(v) == 40:
		return indicator.Indicator{Kind: indicator.SHA1, Value: v}, nil
	case hex && len(v) == 64:
		return indicator.Indicator{Kind: indicator.SHA256, Value: v}, nil
	case host && letter && !strings.Contains(v, "..") && !strings.HasPrefix(v, "-") && !strings.Contains(v, "xn--"):
		return indicator.Indicator{Kind: indicator.Domain, Value: v}, nil
	}
	return indicator.Parse(v)
}

func (b *feedBuilder) addAddr(a netip.Addr, h feedHit) bool {
	a = a.Unmap()
	if _, dup := b.x.addrs[a]; !dup {
		b.x.addrs[a] = h
		b.x.entries++
	}
	return true
}

// parseFeodo reads Feodo Tracker's ipblocklist.json: an array of
// {ip_address, port, status, as_number, as_name, country, first_seen,
// last_online, malware}.
func parseFeodo(body []byte, b *feedBuilder) error {
	var rows []struct {
		IP        string `json:"ip_address"`
		Port      int    `json:"port"`
		Malware   string `json:"malware"`
		FirstSeen string `json:"first_seen"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return fmt.Errorf("feodo: not the ipblocklist.json array: %w", err)
	}
	for _, r := range rows {
		b.addValue(r.IP, b.hit("botnet_cc", r.Malware, "port "+strconv.Itoa(r.Port), r.FirstSeen, 0))
	}
	return nil
}

// parseSSLBL reads SSLBL's sslipblacklist.csv: "# Firstseen,DstIP,DstPort"
// comment header, then one listing per line.
func parseSSLBL(body []byte, b *feedBuilder) error {
	return readCSV(body, func(rec []string) {
		if len(rec) >= 3 {
			b.addValue(rec[1], b.hit("botnet_cc", "", "port "+strings.TrimSpace(rec[2]), rec[0], 0))
		}
	})
}

// parseThreatFoxExport reads ThreatFox's JSON export: an object of IOC id →
// [ {ioc_value, ioc_type, threat_type, malware_printable, first_seen_utc,
// confidence_level, tags} ]. An ip:port IOC lists its address.
func parseThreatFoxExport(body []byte, b *feedBuilder) error {
	var rows map[string][]struct {
		Value      string `json:"ioc_value"`
		Type       string `json:"ioc_type"`
		Threat     string `json:"threat_type"`
		Malware    string `json:"malware_printable"`
		FirstSeen  string `json:"first_seen_utc"`
		Confidence int    `json:"confidence_level"`
	}
	if err := json.Unmarshal(body, &rows); err != nil {
		return fmt.Errorf("threatfox: not the JSON export: %w", err)
	}
	for id, iocs := range rows {
		for _, r := range iocs {
			v := r.Value
			if r.Type == "ip:port" {
				if ap, err := netip.ParseAddrPort(v); err == nil {
					v = ap.Addr().String()
				} else if i := strings.LastIndexByte(v, ':'); i > 0 {
					v = v[:i]
				}
			}
			b.addValue(v, b.hit(r.Threat, r.Malware, "ThreatFox IOC "+id, r.FirstSeen, max(60, min(100, r.Confidence))))
		}
	}
	return nil
}

// parseURLhausCSV reads URLhaus' csv_recent: "#" comment header, then
// id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter.
func parseURLhausCSV(body []byte, b *feedBuilder) error {
	return readCSV(body, func(rec []string) {
		if len(rec) >= 8 {
			b.addValue(rec[2], b.hit(rec[5], rec[6], rec[7], rec[1], 0))
		}
	})
}

// parseHostfile reads URLhaus' hostfile: "127.0.0.1<TAB>host" lines after
// "#" comments.
func parseHostfile(body []byte, b *feedBuilder) error {
	return readLines(body, "#", func(line string) {
		if f := strings.Fields(line); len(f) >= 2 {
			b.addValue(f[1], b.hit("malware_download", "", "", "", 0))
		}
	})
}

// parseDropJSON reads Spamhaus' drop_v4.json / drop_v6.json: one JSON object
// a line, {"cidr","sblid","rir"}, and a last {"type":"metadata",…} line.
func parseDropJSON(body []byte, b *feedBuilder) error {
	n := 0
	err := readLines(body, "", func(line string) {
		var r struct {
			CIDR string `json:"cidr"`
			SBL  string `json:"sblid"`
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(line), &r) == nil {
			n++
			if r.CIDR != "" {
				b.addValue(r.CIDR, b.hit("drop", "", r.SBL, "", 0))
			}
		}
	})
	if err == nil && n == 0 && len(bytes.TrimSpace(body)) > 0 {
		return errors.New("drop: no JSON lines")
	}
	return err
}

// parseDropText reads the text form of DROP/EDROP: "CIDR ; SBLid" lines
// after ";" comments.
func parseDropText(body []byte, b *feedBuilder) error {
	return readLines(body, ";", func(line string) {
		cidr, sbl, _ := strings.Cut(line, ";")
		b.addValue(cidr, b.hit("drop", "", strings.TrimSpace(sbl), "", 0))
	})
}

// parseTorExits reads the Tor Project's bulk exit list: one address a line.
func parseTorExits(body []byte, b *feedBuilder) error {
	return readLines(body, "#", func(line string) {
		b.addValue(line, b.hit("tor-exit", "", "", "", 0))
	})
}

// readLines calls fn with each non-empty line not starting with comment.
func readLines(body []byte, comment string, fn func(string)) error {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || comment != "" && strings.HasPrefix(line, comment) {
			continue
		}
		fn(line)
	}
	return sc.Err()
}

// readCSV calls fn with each record of a CSV whose comments start with "#".
func readCSV(body []byte, fn func([]string)) error {
	r := csv.NewReader(bytes.NewReader(body))
	r.Comment, r.FieldsPerRecord, r.LazyQuotes, r.TrimLeadingSpace, r.ReuseRecord = '#', -1, true, true, true
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("csv: %w", err)
		}
		fn(rec)
	}
}

// feedState is one configured feed in this process.
type feedState struct {
	spec    feedSpec
	url     string
	enabled bool
	idx     atomic.Pointer[feedIndex]
	mu      sync.Mutex
	lastErr string    // the last refresh failure seen (here or in the store)
	retryAt time.Time // memory-only mode: no new download before this
}

// feeds answers from the lists in memory; Run keeps them fresh.
type feeds struct {
	Base
	list  []*feedState
	store DatasetStore
	now   func() time.Time
	poll  time.Duration // how often Run looks at the store
	lease time.Duration // how long a claimed refresh may take
}

func newFeeds(d Descriptor, cfg Config) (*feeds, error) {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 128 << 20 // ThreatFox's and URLhaus' exports are several MB
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	mirror := cfg.BaseURL != "" && strings.TrimRight(cfg.BaseURL, "/") != d.BaseURL
	f := &feeds{Base: NewBase(d, cfg), store: cfg.Store, now: cfg.Now, poll: time.Minute, lease: 10 * time.Minute}
	if f.now == nil {
		f.now = time.Now
	}
	setting := cfg.Setting
	if setting == nil {
		setting = func(string) string { return "" }
	}
	var problems []string
	duration := func(name string, def time.Duration) time.Duration {
		v := setting(name)
		if v == "" {
			return def
		}
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 {
			problems = append(problems, fmt.Sprintf("GADGET_FEEDS_%s=%q: want a positive duration such as 30m", name, v))
			return def
		}
		return t
	}
	f.poll = duration("POLL", f.poll)
	for _, spec := range feedSpecs {
		key := strings.ToUpper(spec.Name) + "_"
		s := &feedState{spec: spec, url: spec.URL, enabled: !spec.Off}
		if mirror {
			s.url = f.URL("/" + strings.TrimPrefix(spec.URL, "https://"))
		}
		if v := setting(key + "ENABLED"); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("GADGET_FEEDS_%sENABLED=%q: want true or false", key, v))
			}
			s.enabled = on
		}
		if v := setting(key + "URL"); v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				problems = append(problems, fmt.Sprintf("GADGET_FEEDS_%sURL: want an http:// or https:// URL", key))
			} else {
				s.url = v
			}
		}
		s.spec.Interval = duration(key+"INTERVAL", spec.Interval)
		f.list = append(f.list, s)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return f, nil
}

// Lookup answers from the feeds in memory; it makes no network call.
func (f *feeds) Lookup(ctx context.Context, ind indicator.Indicator) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("feeds: %w", err)
	}
	now := f.now()
	var (
		addr    netip.Addr
		host    string
		s       FeedsSummary
		loaded  int
		hasAddr bool
	)
	switch {
	case ind.Kind.IsIP():
		addr, _ = netip.ParseAddr(ind.Value)
		hasAddr = addr.IsValid()
	case ind.Kind == indicator.URL:
		host = urlHost(ind.Value)
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			addr, hasAddr, host = a, true, ""
		}
	}
	for _, st := range f.list {
		if !st.enabled {
			continue
		}
		x := st.idx.Load()
		if x == nil || now.Sub(x.fetchedAt) > 2*st.spec.Interval {
			s.Stale = append(s.Stale, st.spec.Name)
		}
		if x == nil {
			continue
		}
		loaded++
		match := func(entry string, h feedHit) {
			m := FeedMatch{Feed: st.spec.Name, Title: st.spec.Title, Entry: entry, Threat: h.threat, Malware: h.malware,
				Reference: h.ref, Score: int(h.score)}
			if h.seen != 0 {
				m.FirstSeen = time.Unix(h.seen, 0).UTC()
			}
			if st.spec.Context {
				m.Score = 0
			}
			s.Matches = append(s.Matches, m)
		}
		switch {
		case ind.Kind == indicator.Domain:
			if h, ok := x.hosts[ind.Value]; ok {
				match(ind.Value, h)
			}
		case ind.Kind.IsHash():
			if h, ok := x.hashes[ind.Value]; ok {
				match(ind.Value, h)
			}
		case ind.Kind == indicator.URL:
			if h, ok := x.urls[ind.Value]; ok {
				match(ind.Value, h)
			} else if h, ok := x.hosts[host]; ok && host != "" {
				match(host, h)
			}
		}
		if hasAddr {
			if h, ok := x.addrs[addr]; ok {
				match(addr.String(), h)
			} else if p, h, ok := x.nets.LookupPrefixLPM(netip.PrefixFrom(addr, addr.BitLen())); ok {
				match(p.String(), h)
			}
		}
	}
	if loaded == 0 {
		return nil, f.Fail(ErrUpstream, nil, "no feed loaded yet")
	}
	s.Feeds = loaded
	note := ""
	if len(s.Stale) > 0 {
		note = "stale: " + strings.Join(s.Stale, ", ")
	}
	if len(s.Matches) == 0 {
		e := f.Fail(ErrNotFound, nil, note)
		if note != "" { // the answer names the stale feeds
			e.Raw, _ = json.Marshal(s)
		}
		return nil, e
	}
	for _, m := range s.Matches {
		if m.Threat != "" && !slices.Contains(s.Tags, m.Threat) {
			s.Tags = append(s.Tags, m.Threat)
		}
		if m.Malware != "" && !slices.Contains(s.Malware, m.Malware) && !strings.Contains(m.Malware, ",") {
			s.Malware = append(s.Malware, m.Malware)
		}
	}
	raw := s.appendJSON(make([]byte, 0, 256+192*len(s.Matches)))
	return &Result{Provider: "feeds", Raw: raw, Summary: &s, Verdict: feedsVerdict(&s, note), StatusCode: http.StatusOK}, nil
}

// appendJSON encodes s as json.Marshal does (same names, nulls and
// omissions) without reflection: it runs on every listed lookup.
// TestFeedsSummaryJSON holds it to json.Marshal.
func (s *FeedsSummary) appendJSON(b []byte) []byte {
	strs := func(b []byte, key string, v []string) []byte {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		if v == nil {
			return append(b, "null"...)
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, x)
		}
		return append(b, ']')
	}
	b = append(b, `{"matches":`...)
	if s.Matches == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range s.Matches {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"feed":`...)
			b = appendJSONString(b, m.Feed)
			b = append(b, `,"title":`...)
			b = appendJSONString(b, m.Title)
			b = append(b, `,"entry":`...)
			b = appendJSONString(b, m.Entry)
			b = append(b, `,"threat":`...)
			b = appendJSONString(b, m.Threat)
			if m.Malware != "" {
				b = append(b, `,"malware":`...)
				b = appendJSONString(b, m.Malware)
			}
			if m.Reference != "" {
				b = append(b, `,"reference":`...)
				b = appendJSONString(b, m.Reference)
			}
			if !m.FirstSeen.IsZero() {
				b = append(b, `,"firstSeen":"`...)
				b = m.FirstSeen.AppendFormat(b, time.RFC3339Nano)
				b = append(b, '"')
			}
			b = append(b, `,"score":`...)
			b = strconv.AppendInt(b, int64(m.Score), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = strs(b, "tags", s.Tags)
	b = strs(b, "malware", s.Malware)
	b = append(b, `,"feeds":`...)
	b = strconv.AppendInt(b, int64(s.Feeds), 10)
	b = strs(b, "stale", s.Stale)
	return append(b, '}')
}

// appendJSONString appends v as a JSON string, escaped as encoding/json
// escapes it (HTML characters too), so both encodings are byte-equal.
func appendJSONString(b []byte, v string) []byte {
	simple := true
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, v...)
		return append(b, '"')
	}
	q, _ := json.Marshal(v)
	return append(b, q...)
}

// feedsVerdict: the highest-scoring listing decides; Tor exits are context.
func feedsVerdict(s *FeedsSummary, note string) Assessment {
	best := 0
	var names []string
	for _, m := range s.Matches {
		best = max(best, m.Score)
		what := m.Feed
		switch {
		case m.Malware != "" && m.Threat != "":
			what += " (" + m.Malware + " " + m.Threat + ")"
		case m.Threat != "":
			what += " (" + m.Threat + ")"
		}
		names = append(names, what)
	}
	a := Assessment{Level: indicator.Malicious, Score: best, Reason: "listed by " + strings.Join(names, ", ")}
	if best == 0 {
		a = Assessment{Level: indicator.Unknown, Reason: "context: " + strings.Join(names, ", ")}
	}
	if note != "" {
		a.Reason += "; " + note
	}
	return a
}

// urlHost is the host of a canonical URL (without user info and port).
func urlHost(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if i := strings.IndexByte(rest, ']'); i > 0 {
			return rest[:i+1]
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// DatasetStatus implements DatasetReporter: each feed's age and size.
func (f *feeds) DatasetStatus(now time.Time) []DatasetStatus {
	out := make([]DatasetStatus, 0, len(f.list))
	for _, st := range f.list {
		d := DatasetStatus{Name: st.spec.Name, Title: st.spec.Title, URL: publicURL(st.url), Licence: st.spec.Licence, Enabled: st.enabled,
			RefreshSeconds: st.spec.Interval.Seconds(), Stale: st.enabled}
		if x := st.idx.Load(); x != nil {
			at, age := x.fetchedAt, now.Sub(x.fetchedAt).Seconds()
			d.Entries, d.FetchedAt, d.AgeSeconds = x.entries, &at, &age
			d.Stale = st.enabled && now.Sub(at) > 2*st.spec.Interval
		}
		st.mu.Lock()
		d.Error = st.lastErr
		st.mu.Unlock()
		out = append(out, d)
	}
	return out
}

// publicURL is a feed URL as status (which needs no sign-in) shows it:
// without user info and query, where an operator's URL may carry a key.
func publicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

// Run implements Runner: at once and then every poll interval, load the
// feeds another replica refreshed and refresh the due ones this replica
// claims. Without a store every process downloads for itself.
func (f *feeds) Run(ctx context.Context) {
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		f.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick does one round of Run.
func (f *feeds) tick(ctx context.Context) {
	if f.store == nil {
		for _, st := range f.list {
			now := f.now()
			x := st.idx.Load()
			st.mu.Lock()
			wait := now.Before(st.retryAt)
			st.mu.Unlock()
			if st.enabled && !wait && (x == nil || now.Sub(x.fetchedAt) >= st.spec.Interval) {
				f.refresh(ctx, st)
			}
		}
		return
	}
	rows, err := f.store.Datasets(ctx, "feeds")
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "feeds: read the stored feeds", "err", err)
		return
	}
	stored := map[string]Dataset{}
	for _, r := range rows {
		stored[r.Name] = r
	}
	for _, st := range f.list {
		if !st.enabled || ctx.Err() != nil {
			continue
		}
		r, ok := stored[st.spec.Name]
		if ok {
			st.mu.Lock()
			st.lastErr = r.LastError
			st.mu.Unlock()
			if x := st.idx.Load(); r.Version > 0 && (x == nil || x.version != r.Version) {
				f.reload(ctx, st)
			}
		}
		now := f.now()
		if ok && r.DueAt.After(now) {
			continue
		}
		claimed, err := f.store.ClaimDataset(ctx, "feeds", st.spec.Name, now, now.Add(f.lease))
		if err != nil {
			f.cfg.Logger.WarnContext(ctx, "feeds: claim a refresh", "feed", st.spec.Name, "err", err)
			continue
		}
		if claimed {
			f.refresh(ctx, st)
		}
	}
}

// reload builds a feed from its stored download and swaps it in.
func (f *feeds) reload(ctx context.Context, st *feedState) {
	d, err := f.store.LoadDataset(ctx, "feeds", st.spec.Name)
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "feeds: load a stored feed", "feed", st.spec.Name, "err", err)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(d.Data))
	var body []byte
	if err == nil {
		body, err = io.ReadAll(zr)
	}
	var x *feedIndex
	if err == nil {
		x, err = buildFeed(&st.spec, body)
	}
	if err != nil {
		f.cfg.Logger.WarnContext(ctx, "feeds: read a stored feed", "feed", st.spec.Name, "err", err)
		return
	}
	x.fetchedAt, x.version = d.FetchedAt, d.Version
	st.idx.Store(x)
}

// buildFeed compiles a download into a new index.
func buildFeed(spec *feedSpec, body []byte) (*feedIndex, error) {
	b := newFeedBuilder(spec)
	if err := spec.parse(body, b); err != nil {
		return nil, err
	}
	if b.x.entries == 0 && b.bad > 0 { // an error page or a changed format, not an empty list
		return nil, fmt.Errorf("%s: none of %d values is an address, range, host, URL or hash", spec.Name, b.bad)
	}
	return b.x, nil
}

// refresh downloads a feed, builds its index aside, keeps the download in
// the store and swaps the index in. On failure the old index stays.
func (f *feeds) refresh(ctx context.Context, st *feedState) {
	started := f.now()
	x, body, err := f.download(ctx, st)
	if err == nil && f.store != nil {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		_, _ = zw.Write(body)
		_ = zw.Close()
		x.version, err = f.store.SaveDataset(ctx, Dataset{Provider: "feeds", Name: st.spec.Name, Data: zb.Bytes(), Entries: x.entries,
			FetchedAt: started, DueAt: started.Add(st.spec.Interval)})
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		st.lastErr = err.Error()
		retry := min(st.spec.Interval, 5*time.Minute)
		st.retryAt = started.Add(retry)
		f.cfg.Logger.WarnContext(ctx, "feeds: refresh failed; keeping the data in memory", "feed", st.spec.Name, "err", err)
		if f.store != nil && ctx.Err() == nil {
			if ferr := f.store.FailDataset(ctx, "feeds", st.spec.Name, st.lastErr, started.Add(retry)); ferr != nil {
				f.cfg.Logger.WarnContext(ctx, "feeds: record a failed refresh", "feed", st.spec.Name, "err", ferr)
			}
		}
		return
	}
	st.lastErr = ""
	x.fetchedAt = started
	st.idx.Store(x)
	f.cfg.Logger.InfoContext(ctx, "feeds: refreshed", "feed", st.spec.Name, "entries", x.entries, "took_ms", f.now().Sub(started).Milliseconds())
}

// download fetches and parses a feed; a body that does not parse is an
// error, so a broken download never replaces good data.
func (f *feeds) download(ctx context.Context, st *feedState) (*feedIndex, []byte, error) {
	req, err := f.NewRequest(ctx, http.MethodGet, st.url, nil, "*/*")
	if err != nil {
		return nil, nil, err
	}
	if st.spec.AbuseCH {
		f.setKeyHeader(req, "Auth-Key")
	}
	resp, err := f.Do(req)
	if err != nil {
		return nil, nil, err
	}
	if e := f.Classify(resp); e != nil {
		return nil, nil, e
	}
	x, err := buildFeed(&st.spec, resp.Body)
	if err != nil {
		return nil, nil, f.Fail(ErrUpstream, nil, err.Error())
	}
	return x, resp.Body, nil
}
