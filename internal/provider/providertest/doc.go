// Package providertest is the conformance suite every provider passes. It
// replays recorded (scrubbed) responses from the calling test's testdata/
// directory through an httptest.Server, checks the exact request the provider
// sent, and then runs generic failure scenarios against the same provider.
//
// A provider's test is one call:
//
//	func TestVirusTotal(t *testing.T) {
//		providertest.Run(t, providertest.Suite{
//			Provider: "virustotal",
//			APIKey:   "test-key",
//			Probe:    indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"},
//			Fixtures: []providertest.Fixture{{
//				Name:      "ip_ok",
//				Indicator: indicator.Indicator{Kind: indicator.IPv4, Value: "1.1.1.1"},
//				File:      "virustotal/ip_ok.json",
//				Want: providertest.Request{
//					Method: "GET",
//					Path:   "/ip_addresses/1.1.1.1",
//					Header: map[string]string{"x-apikey": "test-key"},
//				},
//				Check: func(t *testing.T, r *provider.Result) { ... },
//			}},
//		})
//	}
//
// The fake server sits under a path prefix, so the provider must append its
// documented paths to the configured base URL (Base.URL) rather than to the
// host; Request.Path is relative to that base URL and compared with the
// escaped path as received (percent-encoding included).
//
// Besides the fixtures, Run checks the descriptor, that every kind the
// provider serves has a fixture, and these scenarios on Suite.Probe:
//
//   - 429 with Retry-After: 7 → ErrRateLimited with RetryAfter 7s
//   - 401, 403, and 403 {"query_status":"unknown_auth_key"} → ErrAuth;
//     for abuse.ch providers also 200 {"query_status":"illegal_auth_key"} → ErrAuth
//   - 500 and 503 → ErrUpstream
//   - 200 with malformed JSON → ErrUpstream
//   - a body over Config.MaxBodyBytes (1 KiB) → ErrUpstream
//   - no answer within Config.Timeout (100ms) → ErrTimeout
//   - a context cancelled before or during the call → errors.Is(err, context.Canceled)
//   - a required-key provider without a key → ErrNotConfigured and no request
//
// On every request: a non-default User-Agent and an Accept header. On every
// error: a *provider.Error with Provider set (except cancellation) whose text
// never contains the API key. On every success: Provider set, Bytes equal to
// the body length, Raw valid JSON, a non-nil Summary, a verdict score in
// 0–100 and a non-empty reason.
package providertest
