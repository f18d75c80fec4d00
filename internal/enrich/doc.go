// Package enrich is the lookup engine: it turns "what do the providers say
// about this indicator?" into one call per provider, at most, and answers in
// the vocabulary of package lookup.
//
// A lookup flows one way:
//
//	transport (graph, rest, portal, tasks, CLI)
//	  → Engine.Begin(indicator, options) → Session.Get / All / Start
//	      plan:     is the provider live, does it serve the kind, has it a key?
//	      policy:   internal indicators are never sent anywhere
//	      cache:    a hit is answered at once (marked cached); Start
//	                delivers the hits and asks the rest in the background
//	      coalesce: one call per cache key at a time in this process
//	  → Executor.Execute(call)
//	      Inline: this process calls now (one process per key across
//	              replicas when a Locker is set)
//	      River:  package jobs inserts a job and waits for its notice; the
//	              worker, in any process, calls the Fetcher
//	  → Fetcher.Fetch(call)
//	      quota:    a token of the provider's shared budget (wait, or give
//	                up and say how long: a job snoozes)
//	      call:     the provider, under the in-flight bound; a 429 drains
//	                the shared budget
//	      cache:    OK and NOT_FOUND answers are kept for their TTL
//	      outcome:  a lookup.Result, and whether an upstream call was made
//
// Nothing lower calls back up: the Fetcher knows nothing of engines or
// jobs, and the River worker uses the Fetcher, never the Engine.
//
// Accounting: whoever makes the upstream call writes its ledger row (the
// Inline executor through its Ledger, the River worker in the job's
// completing transaction); the engine writes none. The transport writes
// one audit row per request, naming the providers asked and how each was
// answered, and package accounting rolls both up into daily counters.
//
// An answer changes form as little as possible: the provider's typed
// summary stays in the Result, the in-process cache holds the Result
// itself, and lookup.Codec encodes it only when it leaves the process
// (Redis, a job's notice).
package enrich
