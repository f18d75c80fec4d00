// Package lookup is the vocabulary of an answer: a provider's Result about
// one indicator, its Status, the Caller it is delivered to, the one Codec
// that carries a Result across processes (the shared cache, River job
// notices), and the Service and Session interfaces every transport speaks.
//
// It imports only indicator, provider and errcode, so GraphQL, REST, the
// portal, REST tasks and the CLI talk about answers without importing the
// engine (package enrich) that produces them.
package lookup
