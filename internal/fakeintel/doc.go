// Package fakeintel is an offline stand-in for the threat-intelligence
// services Inspector Gadget talks to, so demos, benchmarks and end-to-end
// tests run without the internet or real API keys.
//
// A *Server is an http.Handler. Every registered provider (see
// internal/provider) lives under its own prefix, /<provider>, and answers
// the documented paths the real clients send, as its manifest says:
// internal/provider/testdata/<provider>/fake.json, beside the recordings
// it answers with. The server has no per-provider code: a manifest names
// its documentation (source), where the key goes (header, query or
// bearer) and the refusal without it, the answers to injected failures,
// and its routes: method, path, where the value is (path segment, query,
// form or JSON field, urlscan's field:"value" search), the kinds it may
// be, and the answer for each kind and class of value (below), a recording
// or an inline body, with the recorded value substituted by the one asked
// for. New reports a provider without a manifest, a manifest that leaves a
// kind and class without an answer, and missing recordings, through
// Validate. Point a client's base URL at the prefix:
//
//	GADGET_VIRUSTOTAL_BASE_URL=http://127.0.0.1:9000/virustotal
//
// makes the real client's GET /virustotal/ip_addresses/1.2.3.4 land here.
// A request without a required key gets the provider's own refusal (401
// AuthenticationRequiredError from VirusTotal, 401 without a body from the
// abuse.ch services, ...); a malformed value gets the provider's bad-input
// answer (VirusTotal 400, AbuseIPDB 422, in-band invalid_* statuses at
// abuse.ch, ...).
//
// # Which answer a value gets
//
// The answer depends on the class of the value asked for:
//
//	not found   an IPv4 address in 192.0.2.0/24 or an IPv6 address in 3fff::/20 (documentation
//	            ranges that gadget's egress policy lets through), a domain or URL host containing
//	            "notfound" (e.g. notfound.example), or a hash starting with "00000000"
//	malicious   an IPv4 address in 203.0.113.0/24, a domain or URL containing "malicious" or
//	            "evil", the recorded malware sample's hashes (MD5 ea372104f1e9f069068e3752b543c7b0,
//	            SHA-1 9f057d94c9b77d6286073dc5b5c382bcba67a3b2, SHA-256 110a91b1…f1ee1f), the EICAR
//	            test file's (MD5 44d88612fea8a8f36de82e1278abb02f) and any hash starting with "badc0de"
//	ordinary    anything else (8.8.8.8, 1.1.1.1, 198.51.100.14, example.org, other hashes)
//
// A malicious value is listed: it gets the provider's malicious-looking
// recording (VirusTotal detections, AbuseIPDB score 100, ThreatFox and
// URLhaus entries, MalwareBazaar's sample, GreyNoise malicious, OTX
// pulses, urlscan scans tagged phishing, RDAP a domain registered five days
// ago). An ordinary value is unlisted: the listing services (ThreatFox,
// URLhaus, MalwareBazaar, VirusTotal for files) answer their not-found, the
// others their clean answer (VirusTotal without detections, AbuseIPDB score
// 0, GreyNoise RIOT, OTX whitelisted or no pulses, urlscan scans without
// alarm tags), so no provider calls it SUSPICIOUS or MALICIOUS. A not-found
// value gets every provider's not-found answer; three services have none
// and answer as they do: VirusTotal has a report for every IP address (here
// one without engine verdicts), AbuseIPDB scores every address (0, here
// with isPublic false) and OTX answers 200 with no pulses. docs/demo.md
// lists values to try and the verdicts they get.
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
