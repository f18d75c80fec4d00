// Package fakeintel is an offline stand-in for the twelve threat-intelligence
// services Inspector Gadget talks to, so demos, benchmarks and end-to-end
// tests run without the internet or real API keys.
//
// A *Server is an http.Handler. Every provider lives under its own prefix,
// /<provider>, and answers the documented paths the real clients in
// internal/provider send, with the responses recorded in
// internal/provider/testdata/<provider>/*.json. Point a client's base URL at
// the prefix:
//
//	GADGET_VIRUSTOTAL_BASE_URL=http://127.0.0.1:9000/virustotal
//
// makes the real client's GET /virustotal/ip_addresses/1.2.3.4 land here.
//
// # Routes
//
//	provider       request                                          key (any non-empty value is accepted)
//	virustotal     GET /ip_addresses/{ip} /domains/{d} /files/{hash}  header x-apikey
//	               GET /urls/{unpadded base64url of the URL, or its SHA-256}
//	abuseipdb      GET /check?ipAddress={ip}&maxAgeInDays=N           header Key
//	internetdb     GET /{ip}                                          none
//	shodan         GET /shodan/host/{ip}?key=K&minify=true            query key
//	greynoise      GET /v3/community/{ip}                             header key, optional
//	otx            GET /indicators/{IPv4|IPv6|domain|hostname|url|file}/{value}/general   X-OTX-API-KEY, optional
//	urlhaus        POST /host/ /url/ /payload/ (form host=, url=, md5_hash= or sha256_hash=)   header Auth-Key
//	threatfox      POST / (JSON {"query":"search_ioc","search_term":…} or {"query":"search_hash","hash":…})   header Auth-Key
//	malwarebazaar  POST / (form query=get_info&hash=…)                header Auth-Key
//	urlscan        GET /search/?q=domain:D | ip:"IP" | page.url:"URL"  header API-Key, optional
//	ipinfo         GET /lite/{ip}                                     Authorization: Bearer T (or ?token=T)
//	rdap           GET /ip/{ip} /domain/{d}                           none
//
// A request without a required key gets the provider's own refusal: 401
// AuthenticationRequiredError from virustotal, 401 from abuseipdb and shodan,
// 403 from ipinfo, and a 401 without a body from the abuse.ch services
// (urlhaus, threatfox, malwarebazaar). Malformed values get the provider's
// bad-input answer (VirusTotal 400, AbuseIPDB 422, GreyNoise and RDAP 400,
// IPinfo 404 "Wrong ip", in-band invalid_*/illegal_* query statuses at
// abuse.ch, urlscan 400 for a query it cannot parse).
//
// # Which answer a value gets
//
// The answer depends on the value asked for:
//
//	not found   an IPv4 address in 192.0.2.0/24 or an IPv6 address in 3fff::/20 (documentation
//	            ranges that gadget's egress policy lets through), a domain or URL host containing
//	            "notfound" (e.g. notfound.example), or a hash starting with "00000000"
//	malicious   an IPv4 address in 203.0.113.0/24, or a domain or URL containing "malicious" or "evil"
//	ordinary    anything else
//
// A not-found value gets the provider's real not-found answer: VirusTotal
// 404 NotFoundError for domains, URLs and files; InternetDB, Shodan and
// GreyNoise 404 with their JSON bodies; URLhaus 200 no_results (host, url)
// or no_result (payload); ThreatFox 200 no_result; MalwareBazaar 200
// hash_not_found; urlscan 200 with total 0; IPinfo 200 {"bogon":true}; RDAP
// 404 errorCode. Three services have no not-found, and the fake answers as
// they do: VirusTotal has a report for every IP address (here one without
// engine verdicts), AbuseIPDB scores every address (0, here with isPublic
// false) and OTX answers 200 with no pulses. IPv6 addresses also get
// InternetDB's 404 and ThreatFox's and URLhaus's no_result.
//
// A malicious value picks the malicious-looking recording where the provider
// has one (AbuseIPDB score 100, InternetDB and Shodan "malware" tags,
// GreyNoise classification malicious, OTX six pulses for an IP and the
// phishing domain, URLhaus an online malware URL, urlscan scans tagged
// phishing, RDAP a domain registered five days ago); an ordinary value picks
// the benign one where there is a choice (AbuseIPDB score 0, OTX whitelisted,
// URLhaus an offline URL, urlscan scans without alarm tags). Providers with
// one recording per kind answer it for every value.
//
// The recorded indicator is rewritten to the one asked for (the IP address,
// domain, URL or hash, and what follows from it: VirusTotal's URL id and
// /24 network, Shodan's numeric ip, RDAP's /24 range, subdomains of a domain)
// as long as the body stays valid JSON; values elsewhere in a recording
// (other hashes of a sample, related hosts) are left as recorded.
//
// # Run-time controls
//
// Options set a base latency (per provider too), jitter and a rate of random
// 503 answers (Seed makes them repeatable). SetLatency, SetFailure (a forced status with an
// optional Retry-After, answered with the provider's recorded rate-limit or
// auth body where it has one) and their Clear counterparts change them while
// serving; all methods are safe for concurrent use. Injected latency ends
// early when the client gives up. Calls, Requests and Reset count what
// arrived, one entry per upstream request.
//
// The same controls are served under /_fakeintel/:
//
//	GET  /_fakeintel/stats                                   {"calls":{"virustotal":3,…},"total":3,…}
//	GET  /_fakeintel/requests?provider=virustotal            the recorded requests
//	POST /_fakeintel/reset                                   zero the counters
//	POST /_fakeintel/fail?provider=x&status=429&retry_after=5  (status=0 or DELETE clears)
//	POST /_fakeintel/latency?provider=x&d=200ms              (no provider: every provider; no d: back to the default)
//
// cmd/fakeintel serves a Server on 127.0.0.1:9000 and prints the
// GADGET_<P>_BASE_URL lines; scripts/demo.sh runs gadget against it.
package fakeintel
