package fakeintel

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// service is one provider's fake.
type service struct {
	name        string
	contentType string                     // of every answer; "" means application/json
	authorized  func(r *http.Request) bool // nil: no key needed (keyless, or the key is optional)
	denied      func(s *Server) reply      // the answer to a request without the key
	serve       func(s *Server, c *call) reply
}

// services builds the routing table.
func services() map[string]*service {
	list := []*service{
		{name: "virustotal", authorized: header("x-apikey"), denied: vtDenied, serve: (*Server).virustotal},
		{name: "abuseipdb", authorized: header("Key"), denied: fixed(http.StatusUnauthorized, "abuseipdb/auth.json"), serve: (*Server).abuseipdb},
		{name: "internetdb", serve: (*Server).internetdb},
		{name: "shodan", authorized: query("key"), denied: fixed(http.StatusUnauthorized, "shodan/auth.json"), serve: (*Server).shodan},
		{name: "greynoise", serve: (*Server).greynoise},
		{name: "otx", serve: (*Server).otx},
		{name: "urlhaus", authorized: header("Auth-Key"), denied: abuseCHDenied, serve: (*Server).urlhaus},
		{name: "threatfox", authorized: header("Auth-Key"), denied: abuseCHDenied, serve: (*Server).threatfox},
		{name: "malwarebazaar", authorized: header("Auth-Key"), denied: abuseCHDenied, serve: (*Server).malwarebazaar},
		{name: "urlscan", serve: (*Server).urlscan},
		{name: "ipinfo", authorized: bearer, denied: fixed(http.StatusForbidden, "ipinfo/auth.json"), serve: (*Server).ipinfo},
		{name: "rdap", contentType: "application/rdap+json", serve: (*Server).rdap},
	}
	m := make(map[string]*service, len(list))
	for _, s := range list {
		m[s.name] = s
	}
	return m
}

// requiredFixtures are the recordings the routes answer with.
var requiredFixtures = []string{
	"virustotal/ip_ok.json", "virustotal/ipv6_ok.json", "virustotal/domain_ok.json", "virustotal/file_ok.json",
	"virustotal/url_ok.json", "virustotal/file_not_found.json", "virustotal/url_not_found.json", "virustotal/bad_input.json",
	"abuseipdb/ip_ok.json", "abuseipdb/ip_clean.json", "abuseipdb/ipv6_ok.json", "abuseipdb/auth.json", "abuseipdb/bad_input.json",
	"internetdb/ip_ok.json", "internetdb/ip_malware.json", "internetdb/ip_not_found.json",
	"shodan/ip_ok.json", "shodan/ipv6_ok.json", "shodan/ip_malware.json", "shodan/ip_not_found.json", "shodan/auth.json",
	"greynoise/ip_ok.json", "greynoise/ip_malicious.json", "greynoise/ip_not_found.json", "greynoise/bad_input.json",
	"otx/ip_ok.json", "otx/ip_malicious.json", "otx/ipv6_no_pulses.json", "otx/domain_ok.json", "otx/domain_whitelisted.json",
	"otx/url_ok.json", "otx/file_ok.json", "otx/file_md5_ok.json", "otx/file_sha1_no_pulses.json",
	"urlhaus/host_ip_ok.json", "urlhaus/host_domain_ok.json", "urlhaus/url_ok.json", "urlhaus/url_offline.json",
	"urlhaus/payload_ok.json", "urlhaus/not_found.json", "urlhaus/payload_not_found.json", "urlhaus/invalid_url.json",
	"threatfox/ip_ok.json", "threatfox/domain_ok.json", "threatfox/url_ok.json", "threatfox/hash_ok.json",
	"threatfox/not_found.json", "threatfox/illegal_search_term.json",
	"malwarebazaar/file_ok.json", "malwarebazaar/file_not_found.json", "malwarebazaar/illegal_hash.json", "malwarebazaar/no_hash_provided.json",
	"urlscan/domain_ok.json", "urlscan/ip_ok.json", "urlscan/url_ok.json", "urlscan/not_found.json", "urlscan/bad_query.json",
	"ipinfo/ip_ok.json", "ipinfo/ipv6_ok.json", "ipinfo/bogon.json", "ipinfo/invalid_ip.json", "ipinfo/auth.json",
	"rdap/ip_ok.json", "rdap/ipv6_ok.json", "rdap/domain_ok.json", "rdap/domain_new.json", "rdap/not_found.json", "rdap/bad_request.json",
}

// The sample the file recordings describe, shared by several providers.
const (
	sampleMD5    = "ea372104f1e9f069068e3752b543c7b0"
	sampleSHA1   = "9f057d94c9b77d6286073dc5b5c382bcba67a3b2"
	sampleSHA256 = "110a91b180bc3421d6c10d8dccd371994872e48a2414d12cf5c9dc0f15f1ee1f"
)

// sampleHash substitutes the recorded hash of kind k with v.
func sampleHash(k kind, v string) sub {
	switch k {
	case kindMD5:
		return tok(sampleMD5, v)
	case kindSHA1:
		return tok(sampleSHA1, v)
	default:
		return tok(sampleSHA256, v)
	}
}

func header(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.TrimSpace(r.Header.Get(name)) != "" }
}

func query(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return strings.TrimSpace(r.URL.Query().Get(name)) != "" }
}

// bearer accepts IPinfo's Authorization: Bearer TOKEN or ?token=TOKEN.
func bearer(r *http.Request) bool {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && strings.TrimSpace(t) != "" {
		return true
	}
	return strings.TrimSpace(r.URL.Query().Get("token")) != ""
}

func fixed(status int, file string) func(*Server) reply {
	return func(s *Server) reply { return s.fixture(status, file) }
}

func vtDenied(*Server) reply {
	return vtError(http.StatusUnauthorized, "AuthenticationRequiredError", "X-Apikey header is missing")
}

// abuseCHDenied is abuse.ch's answer without an Auth-Key: 401 without a
// body (with an unregistered key it would be 403 unknown_auth_key).
func abuseCHDenied(*Server) reply { return reply{status: http.StatusUnauthorized} }

// fixture answers with a recording, its values substituted where the
// result is still valid JSON.
func (s *Server) fixture(status int, file string, subs ...sub) reply {
	b, ok := s.files[file]
	if !ok {
		return jsonReply(http.StatusInternalServerError, map[string]string{"error": "fakeintel: recording " + file + " is missing from the data directory"})
	}
	if out := rewrite(b, subs); json.Valid(out) {
		b = out
	}
	return reply{status: status, body: b}
}

// injected is the answer to a forced or random failure: the provider's
// recorded rate-limit or auth body where it has one, else a short JSON
// message in the provider's error shape.
func (s *Server) injected(svc *service, status int) reply {
	name := svc.name
	switch status {
	case http.StatusTooManyRequests:
		if f := name + "/rate_limited.json"; s.files[f] != nil {
			return s.fixture(status, f)
		}
	case http.StatusUnauthorized, http.StatusForbidden:
		file := map[string]string{
			"virustotal": "virustotal/auth.json", "abuseipdb": "abuseipdb/auth.json", "ipinfo": "ipinfo/auth.json",
			"urlscan": "urlscan/auth.json", "shodan": "shodan/auth.json",
		}[name]
		if status == http.StatusForbidden {
			switch name {
			case "shodan":
				file = "shodan/forbidden.json"
			case "urlhaus", "threatfox":
				file = name + "/unknown_auth_key.json"
			case "malwarebazaar":
				file = "malwarebazaar/auth_unknown_key.json"
			}
		}
		if file != "" && s.files[file] != nil {
			return s.fixture(status, file)
		}
	}
	msg := "fakeintel: injected HTTP " + http.StatusText(status)
	switch name {
	case "virustotal":
		code := "TransientError"
		switch {
		case status == http.StatusTooManyRequests:
			code = "QuotaExceededError"
		case status < 500:
			code = "BadRequestError"
		}
		return vtError(status, code, msg)
	case "rdap":
		return jsonReply(status, map[string]any{"errorCode": status, "title": http.StatusText(status), "description": []string{msg}})
	case "abuseipdb":
		return jsonReply(status, map[string]any{"errors": []map[string]any{{"detail": msg, "status": status}}})
	}
	return jsonReply(status, map[string]string{"message": msg})
}

func methodNotAllowed(allow string) reply {
	return jsonReply(http.StatusMethodNotAllowed, map[string]string{"message": "fakeintel: use " + allow})
}

// ---- VirusTotal

func vtError(status int, code, msg string) reply {
	return jsonReply(status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func (s *Server) virustotal(c *call) reply {
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	if len(c.segs) != 2 {
		return vtError(http.StatusNotFound, "NotFoundError", "Resource not found.")
	}
	section, v := c.segs[0], c.segs[1]
	switch section {
	case "ip_addresses":
		// VirusTotal has a report for every address; one nobody looked at
		// has no engine verdicts (its "not found").
		const none = `"last_analysis_stats":{"harmless":0,"malicious":0,"suspicious":0,"undetected":0,"timeout":0}`
		a, k := ipKind(v)
		switch {
		case k == kindIPv4 && classify(k, v) == notFound:
			return s.fixture(http.StatusOK, "virustotal/ip_ok.json", tok("1.1.1.1", v), tok("1.1.1.0/24", prefixString(a, 24)),
				raw(`"last_analysis_stats":{"harmless":80,"malicious":4,"suspicious":0,"undetected":10,"timeout":0}`, none),
				raw(`"last_analysis_results":{"CMC Threat Intelligence":{"category":"malicious","result":"malware","method":"blacklist","engine_name":"CMC Threat Intelligence"}}`, `"last_analysis_results":{}`),
				raw(`"total_votes":{"harmless":64,"malicious":9}`, `"total_votes":{"harmless":0,"malicious":0}`),
				raw(`"reputation":134`, `"reputation":0`))
		case k == kindIPv4:
			return s.fixture(http.StatusOK, "virustotal/ip_ok.json", tok("1.1.1.1", v), tok("1.1.1.0/24", prefixString(a, 24)))
		case k == kindIPv6 && classify(k, v) == notFound:
			return s.fixture(http.StatusOK, "virustotal/ipv6_ok.json", tok("2001:4860:4860::8888", v), tok("2001:4860::/32", prefixString(a, 32)),
				raw(`"last_analysis_stats":{"harmless":62,"malicious":0,"suspicious":0,"undetected":28,"timeout":0}`, none),
				raw(`"total_votes":{"harmless":3,"malicious":0}`, `"total_votes":{"harmless":0,"malicious":0}`))
		case k == kindIPv6:
			return s.fixture(http.StatusOK, "virustotal/ipv6_ok.json", tok("2001:4860:4860::8888", v), tok("2001:4860::/32", prefixString(a, 32)))
		}
		return vtError(http.StatusBadRequest, "InvalidArgumentError", "\""+v+"\" is not a valid IP address")
	case "domains":
		switch {
		case !isDomain(v):
			return s.fixture(http.StatusBadRequest, "virustotal/bad_input.json", tok("-bad-.example", v))
		case classify(kindDomain, v) == notFound:
			return vtError(http.StatusNotFound, "NotFoundError", "Domain \""+v+"\" not found")
		}
		return s.fixture(http.StatusOK, "virustotal/domain_ok.json", dom("evil.example", v), tok("EVIL.EXAMPLE", strings.ToUpper(v)))
	case "files":
		k := hashKind(v)
		switch {
		case k == kindNone:
			return vtError(http.StatusBadRequest, "InvalidArgumentError", "\""+v+"\" is not a valid file hash")
		case classify(k, v) == notFound:
			return s.fixture(http.StatusNotFound, "virustotal/file_not_found.json", tok("0123456789abcdef0123456789abcdef", v))
		}
		return s.fixture(http.StatusOK, "virustotal/file_ok.json", sampleHash(k, v))
	case "urls":
		const recordedURL, recordedID = "https://evil.example/dl?f=~payload.exe", "49c4b36cf89166f5b6ba07de01076a844b75d8f6970cae1d106e652540f48817"
		u, ok := vtURLID(v)
		switch {
		case !ok:
			return vtError(http.StatusNotFound, "NotFoundError", "URL \""+v+"\" not found")
		case u != "" && classify(kindURL, u) == notFound:
			return s.fixture(http.StatusNotFound, "virustotal/url_not_found.json", tok("aHR0cDovL25vd2hlcmUuZXhhbXBsZS8", v))
		case u == "":
			return s.fixture(http.StatusOK, "virustotal/url_ok.json", tok(recordedID, strings.ToLower(v)))
		}
		return s.fixture(http.StatusOK, "virustotal/url_ok.json", tok(recordedURL, u), tok(recordedID, sha256Hex(u)))
	}
	return vtError(http.StatusNotFound, "NotFoundError", "Resource not found.")
}

// ---- AbuseIPDB

func (s *Server) abuseipdb(c *call) reply {
	if _, ok := c.is("check"); !ok {
		return jsonReply(http.StatusNotFound, map[string]any{"errors": []map[string]any{{"detail": "The requested resource could not be found.", "status": 404}}})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	v := c.r.URL.Query().Get("ipAddress")
	_, k := ipKind(v)
	switch {
	case k == kindNone:
		return s.fixture(http.StatusUnprocessableEntity, "abuseipdb/bad_input.json")
	case k == kindIPv6:
		return s.fixture(http.StatusOK, "abuseipdb/ipv6_ok.json", tok("2001:db8::bad", v))
	}
	switch classify(k, v) {
	case malicious:
		return s.fixture(http.StatusOK, "abuseipdb/ip_ok.json", tok("198.51.100.23", v))
	case notFound:
		return s.fixture(http.StatusOK, "abuseipdb/ip_clean.json", tok("203.0.113.9", v), raw(`"isPublic":true`, `"isPublic":false`))
	}
	return s.fixture(http.StatusOK, "abuseipdb/ip_clean.json", tok("203.0.113.9", v))
}

// ---- Shodan InternetDB

func (s *Server) internetdb(c *call) reply {
	vals, ok := c.is("*")
	if !ok {
		return jsonReply(http.StatusNotFound, map[string]string{"detail": "Not Found"})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	v := vals[0]
	_, k := ipKind(v)
	switch {
	case k == kindNone:
		return jsonReply(http.StatusUnprocessableEntity, map[string]string{"detail": "Invalid IP address"})
	case k == kindIPv6 || classify(k, v) == notFound:
		return s.fixture(http.StatusNotFound, "internetdb/ip_not_found.json")
	case classify(k, v) == malicious:
		return s.fixture(http.StatusOK, "internetdb/ip_malware.json", tok("203.0.113.66", v))
	}
	return s.fixture(http.StatusOK, "internetdb/ip_ok.json", tok("8.8.8.8", v))
}

// ---- Shodan

func (s *Server) shodan(c *call) reply {
	vals, ok := c.is("shodan", "host", "*")
	if !ok {
		return jsonReply(http.StatusNotFound, map[string]string{"error": "Not found"})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	v := vals[0]
	a, k := ipKind(v)
	switch {
	case k == kindNone:
		return jsonReply(http.StatusBadRequest, map[string]string{"error": "Invalid IP"})
	case classify(k, v) == notFound:
		return s.fixture(http.StatusNotFound, "shodan/ip_not_found.json")
	case k == kindIPv6:
		return s.fixture(http.StatusOK, "shodan/ipv6_ok.json", tok("2001:4860:4860::8888", v),
			raw(`"ip":42541956123769884636017138956568135816`, `"ip":`+ipNumber(a)))
	case classify(k, v) == malicious:
		return s.fixture(http.StatusOK, "shodan/ip_malware.json", tok("203.0.113.66", v), raw(`"ip":3405804866`, `"ip":`+ipNumber(a)))
	}
	return s.fixture(http.StatusOK, "shodan/ip_ok.json", tok("1.1.1.1", v), raw(`"ip":16843009`, `"ip":`+ipNumber(a)))
}

// ---- GreyNoise Community

func (s *Server) greynoise(c *call) reply {
	vals, ok := c.is("v3", "community", "*")
	if !ok {
		return jsonReply(http.StatusNotFound, map[string]string{"message": "Not found"})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	v := vals[0]
	_, k := ipKind(v)
	if k != kindIPv4 {
		return s.fixture(http.StatusBadRequest, "greynoise/bad_input.json")
	}
	switch classify(k, v) {
	case notFound:
		return s.fixture(http.StatusNotFound, "greynoise/ip_not_found.json", tok("198.51.100.8", v))
	case malicious:
		return s.fixture(http.StatusOK, "greynoise/ip_malicious.json", tok("203.0.113.45", v))
	}
	return s.fixture(http.StatusOK, "greynoise/ip_ok.json", tok("1.1.1.1", v))
}

// ---- AlienVault OTX

func (s *Server) otx(c *call) reply {
	vals, ok := c.is("indicators", "*", "*", "general")
	if !ok {
		return jsonReply(http.StatusNotFound, map[string]string{"detail": "Not found."})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	section, v := vals[0], vals[1]
	var k kind
	switch section {
	case "IPv4", "IPv6":
		if _, k = ipKind(v); (k == kindIPv4) != (section == "IPv4") {
			k = kindNone
		}
	case "domain", "hostname":
		if isDomain(v) {
			k = kindDomain
		}
	case "url":
		if v != "" {
			k = kindURL
		}
	case "file":
		k = hashKind(v)
	default:
		return jsonReply(http.StatusNotFound, map[string]string{"detail": "Not found."})
	}
	if k == kindNone {
		return jsonReply(http.StatusBadRequest, map[string]string{"detail": "Invalid indicator"})
	}
	cl := classify(k, v)
	if cl == notFound || k == kindIPv6 {
		return s.otxNoPulses(k, v)
	}
	switch k {
	case kindIPv4:
		if cl == malicious {
			return s.fixture(http.StatusOK, "otx/ip_malicious.json", tok("203.0.113.50", v))
		}
		return s.fixture(http.StatusOK, "otx/ip_ok.json", tok("8.8.8.8", v))
	case kindDomain:
		if cl == malicious {
			return s.fixture(http.StatusOK, "otx/domain_ok.json", dom("evil.example", v))
		}
		return s.fixture(http.StatusOK, "otx/domain_whitelisted.json", dom("example.com", v))
	case kindURL:
		return s.fixture(http.StatusOK, "otx/url_ok.json", tok("http://evil.example/dl/get.php?id=1", v))
	case kindMD5:
		return s.fixture(http.StatusOK, "otx/file_md5_ok.json", tok(sampleMD5, v))
	case kindSHA1:
		return s.fixture(http.StatusOK, "otx/file_ok.json", tok(sampleSHA256, v), raw(`"FileHash-SHA256"`, `"FileHash-SHA1"`))
	}
	return s.fixture(http.StatusOK, "otx/file_ok.json", tok(sampleSHA256, v))
}

// otxNoPulses is OTX's "nothing known": 200 with pulse_info.count 0.
func (s *Server) otxNoPulses(k kind, v string) reply {
	if k == kindIPv6 {
		return s.fixture(http.StatusOK, "otx/ipv6_no_pulses.json", tok("2001:db8::1", v))
	}
	typ := map[kind]string{kindIPv4: "IPv4", kindDomain: "domain", kindURL: "url", kindMD5: "FileHash-MD5", kindSHA1: "FileHash-SHA1", kindSHA256: "FileHash-SHA256"}[k]
	return s.fixture(http.StatusOK, "otx/file_sha1_no_pulses.json", tok(sampleSHA1, v), raw(`"FileHash-SHA1"`, `"`+typ+`"`))
}

// ---- URLhaus

func (s *Server) urlhaus(c *call) reply {
	if len(c.segs) != 1 || (c.segs[0] != "host" && c.segs[0] != "url" && c.segs[0] != "payload") {
		return jsonReply(http.StatusNotFound, map[string]string{"query_status": "unknown_endpoint"})
	}
	if c.r.Method != http.MethodPost {
		return jsonReply(http.StatusMethodNotAllowed, map[string]string{"query_status": "http_post_expected"})
	}
	f := c.form()
	ok := func(file string, subs ...sub) reply { return s.fixture(http.StatusOK, file, subs...) }
	switch c.segs[0] {
	case "host":
		v := f.Get("host")
		_, k := ipKind(v)
		if k == kindNone && isDomain(v) {
			k = kindDomain
		}
		switch {
		case k == kindNone:
			return jsonReply(http.StatusOK, map[string]string{"query_status": "invalid_host"})
		case k == kindIPv6 || classify(k, v) == notFound:
			return ok("urlhaus/not_found.json")
		case k == kindIPv4:
			return ok("urlhaus/host_ip_ok.json", tok("1.1.1.1", v))
		}
		return ok("urlhaus/host_domain_ok.json", dom("evil.example", v))
	case "url":
		v := f.Get("url")
		switch {
		case !isURL(v):
			return ok("urlhaus/invalid_url.json")
		case classify(kindURL, v) == notFound:
			return ok("urlhaus/not_found.json")
		case classify(kindURL, v) == malicious:
			return ok("urlhaus/url_ok.json", tok("http://198.51.100.10/bins/sora.arm7", v), tok("198.51.100.10", urlHost(v)))
		}
		return ok("urlhaus/url_offline.json", tok("https://evil.example/wp-content/upd.zip", v), tok("evil.example", urlHost(v)))
	}
	field, v := "md5_hash", f.Get("md5_hash")
	if v == "" {
		field, v = "sha256_hash", f.Get("sha256_hash")
	}
	k := hashKind(v)
	switch {
	case v == "":
		return jsonReply(http.StatusOK, map[string]string{"query_status": "missing_hash"})
	case (field == "md5_hash" && k != kindMD5) || (field == "sha256_hash" && k != kindSHA256):
		return jsonReply(http.StatusOK, map[string]string{"query_status": "invalid_" + field})
	case classify(k, v) == notFound:
		return ok("urlhaus/payload_not_found.json")
	}
	return ok("urlhaus/payload_ok.json", sampleHash(k, v))
}

// ---- ThreatFox

func (s *Server) threatfox(c *call) reply {
	if len(c.segs) != 0 {
		return jsonReply(http.StatusNotFound, map[string]string{"query_status": "unknown_endpoint"})
	}
	if c.r.Method != http.MethodPost {
		return methodNotAllowed("POST")
	}
	status := func(q string) reply { return jsonReply(http.StatusOK, map[string]string{"query_status": q}) }
	var q struct {
		Query      string `json:"query"`
		SearchTerm string `json:"search_term"`
		Hash       string `json:"hash"`
	}
	if err := json.Unmarshal(c.body, &q); err != nil {
		return status("illegal_json")
	}
	ok := func(file string, subs ...sub) reply { return s.fixture(http.StatusOK, file, subs...) }
	switch q.Query {
	case "search_ioc":
		v := strings.TrimSpace(q.SearchTerm)
		k := kindOf(v)
		switch {
		case v == "":
			return status("missing_search_term")
		case k == kindNone:
			return ok("threatfox/illegal_search_term.json")
		case k == kindIPv6 || classify(k, v) == notFound:
			return ok("threatfox/not_found.json")
		case k == kindIPv4:
			return ok("threatfox/ip_ok.json", tok("198.51.100.23", v))
		case k == kindDomain:
			return ok("threatfox/domain_ok.json", dom("evil.example", v))
		case k == kindURL:
			return ok("threatfox/url_ok.json", tok("http://auto.lambolero.com/f1nygync/J18Keqh/", v))
		}
		return ok("threatfox/hash_ok.json", sampleHash(k, v))
	case "search_hash":
		v := strings.TrimSpace(q.Hash)
		k := hashKind(v)
		switch {
		case v == "":
			return status("missing_hash")
		case k == kindNone:
			return status("illegal_hash")
		case classify(k, v) == notFound:
			return ok("threatfox/not_found.json")
		}
		return ok("threatfox/hash_ok.json", sampleHash(k, v))
	}
	return status("unknown_operation")
}

// ---- MalwareBazaar

func (s *Server) malwarebazaar(c *call) reply {
	if len(c.segs) != 0 {
		return jsonReply(http.StatusNotFound, map[string]string{"query_status": "unknown_endpoint"})
	}
	if c.r.Method != http.MethodPost {
		return methodNotAllowed("POST")
	}
	f := c.form()
	if f.Get("query") != "get_info" {
		return jsonReply(http.StatusOK, map[string]string{"query_status": "unknown_operation"})
	}
	v := strings.TrimSpace(f.Get("hash"))
	k := hashKind(v)
	switch {
	case v == "":
		return s.fixture(http.StatusOK, "malwarebazaar/no_hash_provided.json")
	case k == kindNone:
		return s.fixture(http.StatusOK, "malwarebazaar/illegal_hash.json")
	case classify(k, v) == notFound:
		return s.fixture(http.StatusOK, "malwarebazaar/file_not_found.json")
	}
	return s.fixture(http.StatusOK, "malwarebazaar/file_ok.json", sampleHash(k, v))
}

// ---- urlscan.io search

func (s *Server) urlscan(c *call) reply {
	if _, ok := c.is("search"); !ok {
		return jsonReply(http.StatusNotFound, map[string]any{"status": 404, "message": "Not Found"})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	field, v, ok := parseURLScanQuery(c.r.URL.Query().Get("q"))
	if !ok {
		return s.fixture(http.StatusBadRequest, "urlscan/bad_query.json")
	}
	var k kind
	switch field {
	case "domain", "page.domain", "task.domain":
		if isDomain(v) {
			k = kindDomain
		}
	case "ip", "page.ip":
		if _, k = ipKind(v); k != kindIPv4 {
			k = kindNone
		}
	case "page.url", "task.url":
		k = kindURL
	}
	if k == kindNone || classify(k, v) == notFound {
		return s.fixture(http.StatusOK, "urlscan/not_found.json")
	}
	mal := classify(k, v) == malicious
	switch k {
	case kindDomain:
		if mal {
			return s.fixture(http.StatusOK, "urlscan/url_ok.json", dom("evil.example", v))
		}
		return s.fixture(http.StatusOK, "urlscan/domain_ok.json", dom("example.com", v))
	case kindIPv4:
		if mal {
			return s.fixture(http.StatusOK, "urlscan/url_ok.json", tok("203.0.113.45", v))
		}
		return s.fixture(http.StatusOK, "urlscan/ip_ok.json", tok("198.51.100.7", v))
	}
	subs := []sub{tok("http://login.evil.example/account/verify?id=42", v), tok("login.evil.example", urlHost(v))}
	if !mal {
		subs = append(subs, raw(`"tags": ["phishing", "microsoft"]`, `"tags": []`))
	}
	return s.fixture(http.StatusOK, "urlscan/url_ok.json", subs...)
}

// parseURLScanQuery reads field:value or field:"value" with \" and \\
// escapes, as the client builds them.
func parseURLScanQuery(q string) (field, value string, ok bool) {
	field, rest, found := strings.Cut(strings.TrimSpace(q), ":")
	if !found || field == "" || rest == "" {
		return "", "", false
	}
	if rest[0] != '"' {
		return field, rest, true
	}
	var b strings.Builder
	for i := 1; i < len(rest); i++ {
		switch ch := rest[i]; ch {
		case '\\':
			if i+1 == len(rest) {
				return "", "", false
			}
			i++
			b.WriteByte(rest[i])
		case '"':
			if i != len(rest)-1 {
				return "", "", false
			}
			return field, b.String(), true
		default:
			b.WriteByte(ch)
		}
	}
	return "", "", false // no closing quote
}

// ---- IPinfo Lite

func (s *Server) ipinfo(c *call) reply {
	vals, ok := c.is("lite", "*")
	if !ok {
		return jsonReply(http.StatusNotFound, map[string]any{"status": 404, "error": map[string]string{"title": "Not found", "message": "Unknown endpoint"}})
	}
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	v := vals[0]
	_, k := ipKind(v)
	switch {
	case k == kindNone:
		return s.fixture(http.StatusNotFound, "ipinfo/invalid_ip.json")
	case classify(k, v) == notFound:
		return s.fixture(http.StatusOK, "ipinfo/bogon.json", tok("192.0.2.10", v))
	case k == kindIPv6:
		return s.fixture(http.StatusOK, "ipinfo/ipv6_ok.json", tok("2606:4700:4700::1111", v))
	}
	return s.fixture(http.StatusOK, "ipinfo/ip_ok.json", tok("8.8.8.8", v))
}

// ---- RDAP (rdap.org)

func (s *Server) rdap(c *call) reply {
	if c.r.Method != http.MethodGet {
		return methodNotAllowed("GET")
	}
	if vals, ok := c.is("ip", "*"); ok {
		v := vals[0]
		a, k := ipKind(v)
		switch {
		case k == kindNone:
			return s.fixture(http.StatusBadRequest, "rdap/bad_request.json")
		case classify(k, v) == notFound:
			return s.fixture(http.StatusNotFound, "rdap/not_found.json")
		case k == kindIPv6:
			return s.fixture(http.StatusOK, "rdap/ipv6_ok.json")
		}
		first, _ := a.Prefix(24)
		handle := "NET-" + strings.ReplaceAll(first.Addr().String(), ".", "-") + "-2"
		return s.fixture(http.StatusOK, "rdap/ip_ok.json",
			tok("8.8.8.8", v), tok("8.8.8.0", first.Addr().String()), tok("8.8.8.255", lastAddr(a, 24).String()), tok("NET-8-8-8-0-2", handle))
	}
	if vals, ok := c.is("domain", "*"); ok {
		v := strings.ToLower(strings.TrimSuffix(vals[0], "."))
		switch {
		case !isDomain(v):
			return s.fixture(http.StatusBadRequest, "rdap/bad_request.json")
		case classify(kindDomain, v) == notFound:
			return s.fixture(http.StatusNotFound, "rdap/not_found.json")
		case classify(kindDomain, v) == malicious:
			// Registered five days ago, whenever the demo runs.
			reg := s.now().UTC().Add(-5 * 24 * time.Hour).Truncate(time.Second)
			return s.fixture(http.StatusOK, "rdap/domain_new.json", dom("evil.example", v),
				raw(`"2026-11-23T10:12:44Z"`, `"`+reg.Format(time.RFC3339)+`"`),
				raw(`"2026-11-24T06:00:03Z"`, `"`+reg.Add(20*time.Hour).Format(time.RFC3339)+`"`),
				raw(`"2027-11-23T10:12:44Z"`, `"`+reg.AddDate(1, 0, 0).Format(time.RFC3339)+`"`))
		}
		return s.fixture(http.StatusOK, "rdap/domain_ok.json", tok("EXAMPLE.COM", strings.ToUpper(v)))
	}
	return s.fixture(http.StatusNotFound, "rdap/not_found.json")
}
