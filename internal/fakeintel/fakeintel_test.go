package fakeintel_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/inspector-gadget/gadget/internal/fakeintel"
	"github.com/inspector-gadget/gadget/internal/indicator"
	"github.com/inspector-gadget/gadget/internal/provider"
)

const demoKey = "demo-key"

// testdata is the provider recordings the fake serves.
var testdata = os.DirFS("../provider/testdata")

// listedValues get each provider's listed (malicious-looking) answer where
// it has one: the malicious range, "evil" hosts, the recorded sample's
// hashes. IPv6 has no malicious convention; its value is ordinary.
var listedValues = map[indicator.Kind]string{
	indicator.IPv4:   "203.0.113.7",
	indicator.IPv6:   "2001:db8::14",
	indicator.Domain: "evil.example",
	indicator.URL:    "http://evil.example/download/setup.exe",
	indicator.MD5:    "ea372104f1e9f069068e3752b543c7b0",
	indicator.SHA1:   "9f057d94c9b77d6286073dc5b5c382bcba67a3b2",
	indicator.SHA256: "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f",
}

// ordinaryValues get each provider's unlisted answer: documentation
// addresses outside the not-found and malicious ranges, example domains,
// hashes of nothing in particular.
var ordinaryValues = map[indicator.Kind]string{
	indicator.IPv4:   "198.51.100.14",
	indicator.IPv6:   "2001:db8::14",
	indicator.Domain: "example.org",
	indicator.URL:    "https://example.org/download/setup.exe",
	indicator.MD5:    "5d41402abc4b2a76b9719d911017c592",
	indicator.SHA1:   "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d",
	indicator.SHA256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
}

// notFoundValues follow the not-found convention.
var notFoundValues = map[indicator.Kind]string{
	indicator.IPv4:   "192.0.2.44",
	indicator.IPv6:   "3fff::44",
	indicator.Domain: "notfound.example",
	indicator.URL:    "http://notfound.example/gone",
	indicator.MD5:    "00000000000000000000000000000042",
	indicator.SHA1:   "0000000000000000000000000000000000000042",
	indicator.SHA256: "0000000000000000000000000000000000000000000000000000000000000042",
}

// alwaysFound lists the kinds for which a provider has no not-found answer
// (VirusTotal has a report for every IP address, AbuseIPDB scores every
// address, OTX answers "no pulses" with a 200).
var alwaysFound = map[string][]indicator.Kind{
	"virustotal": {indicator.IPv4, indicator.IPv6},
	"abuseipdb":  {indicator.IPv4, indicator.IPv6},
	"otx":        {indicator.IPv4, indicator.IPv6, indicator.Domain, indicator.URL, indicator.MD5, indicator.SHA1, indicator.SHA256},
}

// notEchoed are the answers that do not contain the value asked for: the
// ThreatFox hash recording names only the SHA-256, the RDAP IPv6 recording
// is the whole documentation network.
var notEchoed = map[string]indicator.Kind{"threatfox": indicator.MD5, "rdap": indicator.IPv6}

// echoes reports whether a provider's answers repeat the value asked for:
// its manifest says "echo": false when they do not.
func echoes(t *testing.T, name string) bool {
	t.Helper()
	b, err := fs.ReadFile(testdata, name+"/"+fakeintel.ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Echo *bool `json:"echo"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m.Echo == nil || *m.Echo
}

// fake starts a Server behind an httptest.Server.
func fake(t *testing.T, o fakeintel.Options) (*fakeintel.Server, *httptest.Server) {
	t.Helper()
	srv := fakeintel.New(testdata, o)
	if err := srv.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs
}

// client builds the real provider client against the fake's prefix.
func client(t *testing.T, d provider.Descriptor, hs *httptest.Server, mod func(*provider.Config)) provider.Provider {
	t.Helper()
	cfg := provider.Config{BaseURL: hs.URL + "/" + d.Name, APIKey: demoKey, Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	p, err := d.New(cfg)
	if err != nil {
		t.Fatalf("%s: New = %v", d.Name, err)
	}
	return p
}

func mustParse(t *testing.T, k indicator.Kind, v string) indicator.Indicator {
	t.Helper()
	ind, err := indicator.ParseAs(v, k)
	if err != nil {
		t.Fatalf("ParseAs(%q, %s) = %v", v, k, err)
	}
	return ind
}

// stripAuth removes every way a client sends its key, as if none were set.
type stripAuth struct{ next http.RoundTripper }

func (s stripAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for _, h := range []string{"X-Apikey", "Key", "Auth-Key", "Authorization", "Api-Key", "X-Otx-Api-Key", "X-Api-Key", "X-Key"} {
		r.Header.Del(h)
	}
	q := r.URL.Query()
	q.Del("key")
	q.Del("token")
	r.URL.RawQuery = q.Encode()
	return s.next.RoundTrip(r)
}

func wantCalls(t *testing.T, srv *fakeintel.Server, name string, want int) {
	t.Helper()
	if got := srv.Calls(name); got != want {
		t.Errorf("Calls(%q) = %d, want %d; requests: %+v", name, got, want, srv.Requests(name))
	}
	if got := len(srv.Requests(name)); got != want {
		t.Errorf("len(Requests(%q)) = %d, want %d", name, got, want)
	}
}

// wantLookupCalls checks one lookup made at least one call and at most the
// descriptor's Calls (ThreatMiner asks once per report type).
func wantLookupCalls(t *testing.T, srv *fakeintel.Server, d provider.Descriptor) {
	t.Helper()
	if got := srv.Calls(d.Name); got < 1 || got > d.MaxCalls() {
		t.Errorf("Calls(%q) = %d, want 1 to %d; requests: %+v", d.Name, got, d.MaxCalls(), srv.Requests(d.Name))
	}
}

func wantResult(t *testing.T, res *provider.Result, err error, name string) {
	t.Helper()
	if err != nil {
		t.Fatalf("Lookup error = %v, want a result", err)
	}
	if res.Provider != name {
		t.Errorf("Result.Provider = %q, want %q", res.Provider, name)
	}
	if res.Summary == nil {
		t.Error("Result.Summary is nil")
	}
	if strings.TrimSpace(res.Verdict.Reason) == "" {
		t.Error("Result.Verdict.Reason is empty")
	}
	if !json.Valid(res.Raw) {
		t.Errorf("Result.Raw is not valid JSON: %s", res.Raw)
	}
}

// TestProviders drives every registered provider's real client, for every
// kind it serves, through the fake.
func TestProviders(t *testing.T) {
	t.Parallel()
	descs := provider.Descriptors()
	if len(descs) == 0 {
		t.Fatal("no provider registered")
	}
	for _, d := range descs {
		if d.NotHTTP || d.Local {
			continue // no HTTP fake, or answers from its downloads without a request per lookup: its own test covers it
		}
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			for _, k := range d.Kinds {
				t.Run(string(k), func(t *testing.T) {
					t.Parallel()
					testProviderKind(t, d, k)
				})
			}
		})
	}
}

func testProviderKind(t *testing.T, d provider.Descriptor, k indicator.Kind) {
	listed := mustParse(t, k, listedValues[k])
	ctx := context.Background()

	t.Run("listed", func(t *testing.T) {
		t.Parallel()
		srv, hs := fake(t, fakeintel.Options{})
		res, err := client(t, d, hs, nil).Lookup(ctx, listed)
		wantResult(t, res, err, d.Name)
		wantLookupCalls(t, srv, d)
		mentions := func(v string) bool { return strings.Contains(strings.ToLower(string(res.Raw)), strings.ToLower(v)) }
		host := "" // a provider may ask about a URL's host only (crt.sh)
		if u, err := url.Parse(listed.Value); err == nil && k == indicator.URL {
			host = u.Hostname()
		}
		if notEchoed[d.Name] != k && echoes(t, d.Name) && !mentions(listed.Value) && (host == "" || !mentions(host)) {
			t.Errorf("the answer does not mention %q:\n%s", listed.Value, res.Raw)
		}
	})

	// An ordinary value is unlisted: the provider does not know it, or
	// knows it and finds nothing wrong (never SUSPICIOUS or MALICIOUS).
	t.Run("unlisted", func(t *testing.T) {
		t.Parallel()
		srv, hs := fake(t, fakeintel.Options{})
		res, err := client(t, d, hs, nil).Lookup(ctx, mustParse(t, k, ordinaryValues[k]))
		wantLookupCalls(t, srv, d)
		switch {
		case errors.Is(err, provider.ErrNotFound):
		case err != nil:
			t.Fatalf("Lookup error = %v, want a result or ErrNotFound", err)
		case res.Verdict.Level >= indicator.Suspicious:
			t.Errorf("verdict = %v (%q), want BENIGN or UNKNOWN for an ordinary value", res.Verdict.Level, res.Verdict.Reason)
		}
	})

	t.Run("not_found", func(t *testing.T) {
		t.Parallel()
		srv, hs := fake(t, fakeintel.Options{})
		res, err := client(t, d, hs, nil).Lookup(ctx, mustParse(t, k, notFoundValues[k]))
		wantLookupCalls(t, srv, d)
		for _, found := range alwaysFound[d.Name] {
			if found == k {
				wantResult(t, res, err, d.Name)
				return
			}
		}
		if !errors.Is(err, provider.ErrNotFound) {
			t.Fatalf("Lookup error = %v (result %+v), want ErrNotFound", err, res)
		}
	})

	t.Run("rate_limited", func(t *testing.T) {
		t.Parallel()
		srv, hs := fake(t, fakeintel.Options{})
		srv.SetFailure(d.Name, http.StatusTooManyRequests, 7*time.Second)
		_, err := client(t, d, hs, nil).Lookup(ctx, listed)
		var pe *provider.Error
		if !errors.Is(err, provider.ErrRateLimited) || !errors.As(err, &pe) {
			t.Fatalf("Lookup error = %v, want ErrRateLimited", err)
		}
		if pe.RetryAfter != 7*time.Second {
			t.Errorf("RetryAfter = %s, want 7s", pe.RetryAfter)
		}
		wantCalls(t, srv, d.Name, 1)

		srv.ClearFailure(d.Name)
		res, err := client(t, d, hs, nil).Lookup(ctx, listed)
		wantResult(t, res, err, d.Name)
	})

	t.Run("no_key", func(t *testing.T) {
		t.Parallel()
		srv, hs := fake(t, fakeintel.Options{})
		switch d.Key {
		case provider.KeyRequired:
			// The real client refuses without calling (the raw request
			// without the header is TestAuthFailure); with the header
			// stripped on the wire it reads the fake's refusal as ErrAuth.
			_, err := client(t, d, hs, func(c *provider.Config) { c.APIKey = "" }).Lookup(ctx, listed)
			if !errors.Is(err, provider.ErrNotConfigured) {
				t.Errorf("Lookup with APIKey \"\": error = %v, want ErrNotConfigured", err)
			}
			wantCalls(t, srv, d.Name, 0)
			p := client(t, d, hs, func(c *provider.Config) { c.Transport = stripAuth{http.DefaultTransport} })
			if _, err := p.Lookup(ctx, listed); !errors.Is(err, provider.ErrAuth) {
				t.Fatalf("Lookup without the key on the wire: error = %v, want ErrAuth", err)
			}
		default: // keyless or optional: the fake answers without a key
			p := client(t, d, hs, func(c *provider.Config) { c.APIKey = "" })
			res, err := p.Lookup(ctx, listed)
			wantResult(t, res, err, d.Name)
		}
		wantLookupCalls(t, srv, d)
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		srv, hs := fake(t, fakeintel.Options{})
		srv.SetLatency(d.Name, 5*time.Second) // ends early when the client gives up
		// long enough for the request to reach the fake on a loaded machine
		// (at 100 ms the client sometimes gave up before sending it)
		p := client(t, d, hs, func(c *provider.Config) { c.Timeout = 400 * time.Millisecond })
		_, err := p.Lookup(ctx, listed)
		if !errors.Is(err, provider.ErrTimeout) {
			t.Fatalf("Lookup error = %v, want ErrTimeout", err)
		}
		wantCalls(t, srv, d.Name, 1)
	})
}

// TestRequests pins what the real clients send and the fake records.
func TestRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider string
		kind     indicator.Kind
		value    string
		want     fakeintel.RecordedRequest
	}{
		{"virustotal", indicator.IPv4, "198.51.100.14", fakeintel.RecordedRequest{Method: "GET", Path: "/ip_addresses/198.51.100.14"}},
		{"virustotal", indicator.URL, "https://example.org/a?b=~c", fakeintel.RecordedRequest{Method: "GET", Path: "/urls/aHR0cHM6Ly9leGFtcGxlLm9yZy9hP2I9fmM"}},
		{"abuseipdb", indicator.IPv6, "2001:db8::1", fakeintel.RecordedRequest{Method: "GET", Path: "/check", Query: url.Values{"ipAddress": {"2001:db8::1"}, "maxAgeInDays": {"90"}}}},
		{"internetdb", indicator.IPv4, "198.51.100.14", fakeintel.RecordedRequest{Method: "GET", Path: "/198.51.100.14"}},
		{"shodan", indicator.IPv4, "198.51.100.14", fakeintel.RecordedRequest{Method: "GET", Path: "/shodan/host/198.51.100.14", Query: url.Values{"key": {"REDACTED"}}}},
		{"greynoise", indicator.IPv4, "198.51.100.14", fakeintel.RecordedRequest{Method: "GET", Path: "/v3/community/198.51.100.14"}},
		{"otx", indicator.URL, "http://example.org/x?y=1", fakeintel.RecordedRequest{Method: "GET", Path: "/indicators/url/http:%2F%2Fexample.org%2Fx%3Fy=1/general"}},
		{"urlhaus", indicator.MD5, listedValues[indicator.MD5], fakeintel.RecordedRequest{Method: "POST", Path: "/payload/", Body: "md5_hash=" + listedValues[indicator.MD5]}},
		{"urlhaus", indicator.URL, "http://evil.example/x", fakeintel.RecordedRequest{Method: "POST", Path: "/url/", Body: "url=http%3A%2F%2Fevil.example%2Fx"}},
		{"threatfox", indicator.Domain, "evil.example", fakeintel.RecordedRequest{Method: "POST", Path: "/", Body: `{"query":"search_ioc","search_term":"evil.example","exact_match":true}`}},
		{"malwarebazaar", indicator.SHA1, listedValues[indicator.SHA1], fakeintel.RecordedRequest{Method: "POST", Path: "/", Body: "hash=" + listedValues[indicator.SHA1] + "&query=get_info"}},
		{"urlscan", indicator.IPv4, "198.51.100.14", fakeintel.RecordedRequest{Method: "GET", Path: "/search/", Query: url.Values{"q": {`page.ip:"198.51.100.14"`}, "size": {"100"}}}},
		{"ipinfo", indicator.IPv6, "2001:db8::1", fakeintel.RecordedRequest{Method: "GET", Path: "/lite/2001:db8::1"}},
		{"rdap", indicator.Domain, "example.org", fakeintel.RecordedRequest{Method: "GET", Path: "/domain/example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+string(tt.kind), func(t *testing.T) {
			t.Parallel()
			d, ok := provider.Lookup(tt.provider)
			if !ok {
				t.Fatalf("provider %q is not registered", tt.provider)
			}
			srv, hs := fake(t, fakeintel.Options{})
			res, err := client(t, d, hs, nil).Lookup(context.Background(), mustParse(t, tt.kind, tt.value))
			wantResult(t, res, err, tt.provider)
			if diff := cmp.Diff([]fakeintel.RecordedRequest{tt.want}, srv.Requests(tt.provider)); diff != "" {
				t.Errorf("Requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConventions checks the malicious/benign picks and the rewriting of
// the recorded value.
func TestConventions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider string
		kind     indicator.Kind
		value    string
		level    indicator.Level
		check    func(t *testing.T, r *provider.Result)
	}{
		{name: "greynoise malicious", provider: "greynoise", kind: indicator.IPv4, value: "203.0.113.7", level: indicator.Malicious},
		{name: "greynoise ordinary", provider: "greynoise", kind: indicator.IPv4, value: "198.51.100.14", level: indicator.Benign},
		{name: "abuseipdb malicious", provider: "abuseipdb", kind: indicator.IPv4, value: "203.0.113.7", level: indicator.Malicious},
		{name: "abuseipdb ordinary", provider: "abuseipdb", kind: indicator.IPv4, value: "198.51.100.14", level: indicator.Benign},
		{name: "internetdb malicious", provider: "internetdb", kind: indicator.IPv4, value: "203.0.113.7", level: indicator.Malicious},
		{name: "shodan malicious", provider: "shodan", kind: indicator.IPv4, value: "203.0.113.7", level: indicator.Malicious,
			check: func(t *testing.T, r *provider.Result) {
				var raw struct {
					IP    uint32 `json:"ip"`
					IPStr string `json:"ip_str"`
				}
				if err := json.Unmarshal(r.Raw, &raw); err != nil || raw.IPStr != "203.0.113.7" || raw.IP != 203<<24|113<<8|7 {
					t.Errorf("ip/ip_str = %d/%q (%v), want the asked address", raw.IP, raw.IPStr, err)
				}
			}},
		{name: "otx malicious ip", provider: "otx", kind: indicator.IPv4, value: "203.0.113.7", level: indicator.Malicious},
		{name: "otx ordinary ip", provider: "otx", kind: indicator.IPv4, value: "198.51.100.14", level: indicator.Benign},
		{name: "otx evil domain", provider: "otx", kind: indicator.Domain, value: "evil-login.example", level: indicator.Suspicious},
		{name: "otx ordinary domain", provider: "otx", kind: indicator.Domain, value: "example.org", level: indicator.Benign},
		{name: "otx not found", provider: "otx", kind: indicator.SHA256, value: notFoundValues[indicator.SHA256], level: indicator.Unknown,
			check: func(t *testing.T, r *provider.Result) {
				if s := r.Summary.(*provider.OTXSummary); s.Type != "FileHash-SHA256" || s.Indicator != notFoundValues[indicator.SHA256] {
					t.Errorf("type/indicator = %q/%q", s.Type, s.Indicator)
				}
			}},
		{name: "urlhaus online url", provider: "urlhaus", kind: indicator.URL, value: "http://malicious.example/drop.bin", level: indicator.Malicious,
			check: func(t *testing.T, r *provider.Result) {
				if s := r.Summary.(*provider.URLhausSummary); s.URL.URL != "http://malicious.example/drop.bin" || s.URL.Host != "malicious.example" {
					t.Errorf("url/host = %q/%q", s.URL.URL, s.URL.Host)
				}
			}},
		{name: "urlhaus host subdomains follow", provider: "urlhaus", kind: indicator.Domain, value: "malicious-shop.example", level: indicator.Suspicious,
			check: func(t *testing.T, r *provider.Result) {
				for _, u := range r.Summary.(*provider.URLhausSummary).Host.URLs {
					if !strings.HasPrefix(u.URL, "https://malicious-shop.example/") {
						t.Errorf("listed URL %q is not on the asked host", u.URL)
					}
				}
			}},
		{name: "urlscan ordinary url", provider: "urlscan", kind: indicator.URL, value: "https://example.org/login", level: indicator.Unknown},
		{name: "urlscan evil domain", provider: "urlscan", kind: indicator.Domain, value: "evil.example", level: indicator.Suspicious},
		{name: "rdap evil domain is young", provider: "rdap", kind: indicator.Domain, value: "evil.example", level: indicator.Suspicious},
		{name: "rdap ordinary domain", provider: "rdap", kind: indicator.Domain, value: "example.org", level: indicator.Unknown,
			check: func(t *testing.T, r *provider.Result) {
				if s := r.Summary.(*provider.RDAPSummary); s.LDHName != "example.org" {
					t.Errorf("ldhName = %q", s.LDHName)
				}
			}},
		{name: "rdap ip network follows", provider: "rdap", kind: indicator.IPv4, value: "9.9.9.9", level: indicator.Unknown,
			check: func(t *testing.T, r *provider.Result) {
				s := r.Summary.(*provider.RDAPSummary)
				if diff := cmp.Diff([]string{"9.9.9.0/24"}, s.CIDRs); diff != "" || s.StartAddress != "9.9.9.0" || s.EndAddress != "9.9.9.255" || s.Handle != "NET-9-9-9-0-2" {
					t.Errorf("cidrs %v start %q end %q handle %q", s.CIDRs, s.StartAddress, s.EndAddress, s.Handle)
				}
			}},
		{name: "threatfox ip:port follows", provider: "threatfox", kind: indicator.IPv4, value: "203.0.113.9", level: indicator.Malicious,
			check: func(t *testing.T, r *provider.Result) {
				for _, ioc := range r.Summary.(*provider.ThreatFoxSummary).IOCs {
					if !strings.HasPrefix(ioc.IOC, "203.0.113.9:") {
						t.Errorf("IOC %q is not on the asked address", ioc.IOC)
					}
				}
			}},
		{name: "virustotal url id follows", provider: "virustotal", kind: indicator.URL, value: "https://example.org/a", level: indicator.Benign,
			check: func(t *testing.T, r *provider.Result) {
				s := r.Summary.(*provider.VirusTotalSummary)
				sum := sha256.Sum256([]byte("https://example.org/a"))
				if want := hex.EncodeToString(sum[:]); s.URL != "https://example.org/a" || s.ID != want {
					t.Errorf("url/id = %q/%q, want the URL and its SHA-256 %s", s.URL, s.ID, want)
				}
			}},
		{name: "virustotal unanalysed ipv4", provider: "virustotal", kind: indicator.IPv4, value: "192.0.2.44", level: indicator.Unknown},
		{name: "virustotal unanalysed ipv6", provider: "virustotal", kind: indicator.IPv6, value: "3fff::44", level: indicator.Unknown},
		{name: "virustotal md5 follows", provider: "virustotal", kind: indicator.MD5, value: "badc0de0000000000000000000000001", level: indicator.Malicious,
			check: func(t *testing.T, r *provider.Result) {
				if s := r.Summary.(*provider.VirusTotalSummary); s.MD5 != "badc0de0000000000000000000000001" {
					t.Errorf("md5 = %q", s.MD5)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, _ := provider.Lookup(tt.provider)
			_, hs := fake(t, fakeintel.Options{})
			res, err := client(t, d, hs, nil).Lookup(context.Background(), mustParse(t, tt.kind, tt.value))
			wantResult(t, res, err, tt.provider)
			if res.Verdict.Level != tt.level {
				t.Errorf("verdict = %v (%q), want level %v", res.Verdict.Level, res.Verdict.Reason, tt.level)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

// TestProvidersMatchRegistry keeps the fake in step with the clients.
func TestProvidersMatchRegistry(t *testing.T) {
	t.Parallel()
	var want []string
	for _, d := range provider.Descriptors() {
		if !d.NotHTTP { // over DNS: no HTTP fake
			want = append(want, d.Name)
		}
	}
	if diff := cmp.Diff(want, fakeintel.Providers()); diff != "" {
		t.Errorf("Providers() (-registered +fake):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if err := fakeintel.New(testdata, fakeintel.Options{}).Validate(); err != nil {
		t.Errorf("Validate() with the provider testdata = %v", err)
	}
	manifest := func(name string) *fstest.MapFile {
		b, err := fs.ReadFile(testdata, name+"/"+fakeintel.ManifestFile)
		if err != nil {
			t.Fatal(err)
		}
		return &fstest.MapFile{Data: b}
	}
	fsys := fstest.MapFS{
		"virustotal/fake.json": manifest("virustotal"), "virustotal/ip_ok.json": {Data: []byte(`{"data":`)},
		"rdap/fake.json": manifest("rdap"),
		"otx/fake.json":  {Data: []byte(`{"source":"x","noRoute":{"status":404},"routes":[{"method":"GET","path":"/{value}","kinds":["ipv4"],"invalid":{"status":400},"answers":[{"class":"malicious","status":200}]}]}`)},
	}
	err := fakeintel.New(fsys, fakeintel.Options{}).Validate()
	for _, want := range []string{
		"virustotal/ip_ok.json is not valid JSON", "recording rdap/not_found.json is missing", "shodan has no fake",
		"otx/fake.json: route 0 (/{value}): no answer for kind ipv4, class ordinary",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
}

func TestErrorRate(t *testing.T) {
	t.Parallel()
	srv, hs := fake(t, fakeintel.Options{ErrorRate: 1, Seed: 42})
	for _, name := range []string{"virustotal", "otx", "malwarebazaar", "rdap"} {
		d, _ := provider.Lookup(name)
		_, err := client(t, d, hs, nil).Lookup(context.Background(), mustParse(t, d.Kinds[0], ordinaryValues[d.Kinds[0]]))
		var pe *provider.Error
		if !errors.Is(err, provider.ErrUpstream) || !errors.As(err, &pe) || pe.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: error = %v, want ErrUpstream with a 503", name, err)
		}
		wantCalls(t, srv, name, 1)
	}
}

// TestLatencyHonoursCancellation checks the handler returns as soon as the
// client goes away, not when the injected latency ends.
func TestLatencyHonoursCancellation(t *testing.T) {
	t.Parallel()
	srv := fakeintel.New(testdata, fakeintel.Options{Latency: time.Hour, Jitter: time.Minute})
	done := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+"/internetdb/198.51.100.14", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("request answered with %s during an hour of latency", res.Status)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second): // a deadlock guard, not a timing assertion
		t.Fatal("the handler is still sleeping after the client went away")
	}
}

// TestControlEndpoints drives /_fakeintel/ over HTTP.
func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	srv, hs := fake(t, fakeintel.Options{})
	vt, _ := provider.Lookup("virustotal")
	shodan, _ := provider.Lookup("shodan")
	ip := mustParse(t, indicator.IPv4, "198.51.100.14")
	ctx := context.Background()

	do := func(method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	stats := func() fakeintel.Stats {
		t.Helper()
		code, body := do("GET", "/_fakeintel/stats")
		var st fakeintel.Stats
		if err := json.Unmarshal([]byte(body), &st); code != http.StatusOK || err != nil {
			t.Fatalf("GET stats = %d %s (%v)", code, body, err)
		}
		return st
	}

	for _, p := range []provider.Provider{client(t, vt, hs, nil), client(t, vt, hs, nil), client(t, shodan, hs, nil)} {
		if _, err := p.Lookup(ctx, ip); err != nil {
			t.Fatalf("Lookup = %v", err)
		}
	}
	st := stats()
	if st.Calls["virustotal"] != 2 || st.Calls["shodan"] != 1 || st.Calls["rdap"] != 0 || st.Total != 3 || len(st.Calls) != len(fakeintel.Providers()) {
		t.Errorf("stats calls = %v total %d, want virustotal 2, shodan 1, every provider listed, total 3", st.Calls, st.Total)
	}
	if _, body := do("GET", "/_fakeintel/requests?provider=shodan"); !strings.Contains(body, `"key":["REDACTED"]`) || strings.Contains(body, demoKey) {
		t.Errorf("GET requests?provider=shodan = %s, want the key redacted", body)
	}

	if code, body := do("POST", "/_fakeintel/fail?provider=virustotal&status=429&retry_after=5"); code != http.StatusOK {
		t.Fatalf("POST fail = %d %s", code, body)
	}
	_, err := client(t, vt, hs, nil).Lookup(ctx, ip)
	var pe *provider.Error
	if !errors.As(err, &pe) || !errors.Is(err, provider.ErrRateLimited) || pe.RetryAfter != 5*time.Second {
		t.Errorf("after POST fail: error = %v, want ErrRateLimited retry after 5s", err)
	}
	if f := stats().Failures["virustotal"]; f.Status != 429 || f.RetryAfter != 5*time.Second {
		t.Errorf("stats failure = %+v, want 429 after 5s", f)
	}
	if code, body := do("POST", "/_fakeintel/fail?provider=virustotal&status=0"); code != http.StatusOK {
		t.Fatalf("POST fail status=0 = %d %s", code, body)
	}
	if _, err := client(t, vt, hs, nil).Lookup(ctx, ip); err != nil {
		t.Errorf("after clearing the failure: %v", err)
	}

	if code, body := do("POST", "/_fakeintel/latency?provider=virustotal&d=1m"); code != http.StatusOK {
		t.Fatalf("POST latency = %d %s", code, body)
	}
	if _, err := client(t, vt, hs, func(c *provider.Config) { c.Timeout = 50 * time.Millisecond }).Lookup(ctx, ip); !errors.Is(err, provider.ErrTimeout) {
		t.Errorf("after POST latency: error = %v, want ErrTimeout", err)
	}
	if code, body := do("DELETE", "/_fakeintel/latency?provider=virustotal"); code != http.StatusOK {
		t.Fatalf("DELETE latency = %d %s", code, body)
	}
	if _, err := client(t, vt, hs, nil).Lookup(ctx, ip); err != nil {
		t.Errorf("after DELETE latency: %v", err)
	}

	if code, body := do("POST", "/_fakeintel/reset"); code != http.StatusOK {
		t.Fatalf("POST reset = %d %s", code, body)
	}
	if st := stats(); st.Total != 0 || srv.Calls("virustotal") != 0 || len(srv.Requests("virustotal")) != 0 {
		t.Errorf("after reset: total %d, calls %d", st.Total, srv.Calls("virustotal"))
	}

	bad := []struct {
		method, path string
		status       int
	}{
		{"POST", "/_fakeintel/fail?provider=nope&status=429", http.StatusBadRequest},
		{"POST", "/_fakeintel/fail?provider=otx&status=200", http.StatusBadRequest},
		{"POST", "/_fakeintel/fail?provider=otx&status=503&retry_after=soon", http.StatusBadRequest},
		{"POST", "/_fakeintel/latency?provider=otx&d=fast", http.StatusBadRequest},
		{"POST", "/_fakeintel/latency", http.StatusBadRequest},
		{"GET", "/_fakeintel/reset", http.StatusMethodNotAllowed},
		{"POST", "/_fakeintel/stats", http.StatusMethodNotAllowed},
		{"GET", "/_fakeintel/nope", http.StatusNotFound},
		{"GET", "/nope/ip/1.2.3.4", http.StatusNotFound},
		{"GET", "/", http.StatusOK},
	}
	for _, b := range bad {
		if code, body := do(b.method, b.path); code != b.status {
			t.Errorf("%s %s = %d %s, want %d", b.method, b.path, code, body, b.status)
		}
	}
	if st := stats(); st.Total != 0 {
		t.Errorf("control requests were counted as provider calls: %v", st.Calls)
	}
}

// TestAuthFailure sends, for every provider that requires a key, the request
// its client sends but without the key, as a raw request (the real client
// refuses to call without one), and checks the provider's own refusal. With
// any key the same request succeeds. Providers added later, whose change is
// their own file and testdata only, are checked through their real client
// with the key stripped on the wire (TestProviders, no_key) and, here,
// by the manifest's denied answer.
func TestAuthFailure(t *testing.T) {
	t.Parallel()
	type rawRequest struct {
		method, path, contentType, body string
		keyHeader, keyQuery             string // how the key is sent
		status                          int    // without the key
		bodyHas                         string // in the refusal; "" means an empty body
	}
	const md5 = "5d41402abc4b2a76b9719d911017c592"
	tests := map[string]rawRequest{
		"virustotal": {method: "GET", path: "/ip_addresses/198.51.100.14", keyHeader: "x-apikey",
			status: http.StatusUnauthorized, bodyHas: "AuthenticationRequiredError"},
		"abuseipdb": {method: "GET", path: "/check?ipAddress=198.51.100.14&maxAgeInDays=90", keyHeader: "Key",
			status: http.StatusUnauthorized, bodyHas: "Authentication failed"},
		"shodan": {method: "GET", path: "/shodan/host/198.51.100.14", keyQuery: "key",
			status: http.StatusUnauthorized, bodyHas: "API key"},
		"ipinfo": {method: "GET", path: "/lite/198.51.100.14", keyHeader: "Authorization",
			status: http.StatusForbidden, bodyHas: "Unknown token"},
		"urlhaus": {method: "POST", path: "/host/", contentType: "application/x-www-form-urlencoded", body: "host=example.org",
			keyHeader: "Auth-Key", status: http.StatusUnauthorized},
		"threatfox": {method: "POST", path: "/", contentType: "application/json",
			body: `{"query":"search_ioc","search_term":"example.org","exact_match":true}`, keyHeader: "Auth-Key", status: http.StatusUnauthorized},
		"malwarebazaar": {method: "POST", path: "/", contentType: "application/x-www-form-urlencoded", body: "query=get_info&hash=" + md5,
			keyHeader: "Auth-Key", status: http.StatusUnauthorized},
	}
	for _, d := range provider.Descriptors() {
		if d.Key != provider.KeyRequired {
			if _, ok := tests[d.Name]; ok {
				t.Errorf("%s does not require a key but has an auth-failure case", d.Name)
			}
			continue
		}
		tt, ok := tests[d.Name]
		if !ok {
			continue // covered by TestProviders' no_key case
		}
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			srv, hs := fake(t, fakeintel.Options{})
			send := func(withKey bool) (int, string) {
				t.Helper()
				u := hs.URL + "/" + d.Name + tt.path
				if withKey && tt.keyQuery != "" {
					sep := "?"
					if strings.Contains(u, "?") {
						sep = "&"
					}
					u += sep + tt.keyQuery + "=" + demoKey
				}
				req, err := http.NewRequest(tt.method, u, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				if withKey && tt.keyHeader != "" {
					v := demoKey
					if tt.keyHeader == "Authorization" {
						v = "Bearer " + demoKey
					}
					req.Header.Set(tt.keyHeader, v)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", tt.method, u, err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}

			code, body := send(false)
			if code != tt.status {
				t.Errorf("without the key: status %d, want %d; body %s", code, tt.status, body)
			}
			if tt.bodyHas == "" && body != "" {
				t.Errorf("without the key: body %q, want none", body)
			}
			if tt.bodyHas != "" && !strings.Contains(body, tt.bodyHas) {
				t.Errorf("without the key: body %s, want it to contain %q", body, tt.bodyHas)
			}
			if code, body := send(true); code != http.StatusOK {
				t.Errorf("with key %q: status %d, want 200; body %s", demoKey, code, body)
			}
			wantCalls(t, srv, d.Name, 2)
		})
	}
}

// A request answers with the failure in force when it arrived: a test that
// clears a failure once Calls shows the request meant to get it does not
// race the request's latency.
func TestFailureInForceWhenTheRequestArrived(t *testing.T) {
	t.Parallel()
	var d provider.Descriptor
	for _, x := range provider.Descriptors() {
		if x.Name == "abuseipdb" {
			d = x
		}
	}
	srv, hs := fake(t, fakeintel.Options{})
	srv.SetLatency(d.Name, 300*time.Millisecond)
	srv.SetFailure(d.Name, http.StatusTooManyRequests, time.Second)
	p, ind := client(t, d, hs, nil), mustParse(t, indicator.IPv4, "198.51.100.7")
	done := make(chan error, 1)
	go func() {
		_, err := p.Lookup(context.Background(), ind)
		done <- err
	}()
	for srv.Calls(d.Name) == 0 {
		time.Sleep(time.Millisecond)
	}
	srv.ClearFailure(d.Name)
	if err := <-done; !errors.Is(err, provider.ErrRateLimited) {
		t.Fatalf("Lookup error = %v, want ErrRateLimited (the failure set when the request arrived)", err)
	}
}
