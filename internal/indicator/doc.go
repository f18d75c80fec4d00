// Package indicator is the vocabulary of Inspector Gadget: the kinds of
// indicator it understands, parsing and normalisation of analyst input, the
// policy that decides what may leave the building, and verdict levels.
//
// It imports only the standard library.
//
// # Parsing
//
// Parse turns what an analyst pastes into an Indicator with a canonical
// Value: it trims wrapping quotes and brackets, refangs defanged input
// (hxxp://, [.], [dot], [:] and friends), detects the kind and normalises
// the value, so that every spelling of one indicator gives one Value that
// caches, deduplicates and compares by ==. ParseAs does the same for input
// that must be of a given kind. Invalid input gives a *ParseError whose
// Reason says what is wrong.
//
// Parse is deliberately strict where software disagrees about meaning:
// IPv4 addresses must be plain dotted quads (no "010.0.0.1", "127.1" or
// "0x7f000001", which different resolvers read differently), IPv6 zones
// are rejected, and URL hosts obey the same rules as bare ones.
//
// Internationalised domains are converted to punycode (RFC 3492, with the
// IDNA parameters) by this package. It approximates the IDNA2008 rules
// without their tables: labels are lower-cased and full-width forms mapped
// to ASCII as UTS #46 does, but input is not NFC-normalised, so decomposed
// input yields a different (valid) A-label than its composed form.
//
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is parsed as the IPv4
// address, also as a URL host: it reaches the same host, so it is looked up,
// cached and checked as that address.
//
// # Policy
//
// A Policy decides whether an indicator may be sent to third-party
// services at all: Policy.Check blocks loopback, private, link-local and
// other special-purpose addresses, internal domains, and URLs that point at
// them or carry a password. It fails closed on anything Parse would not
// have produced.
//
// # Verdicts
//
// Level and Verdict are the common currency of providers' answers.
package indicator
