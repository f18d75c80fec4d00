// Package jobs carries cache-missing provider calls through River, so that
// any process working a provider's queue can make a call for any API
// process, one call per provider and indicator however many ask.
//
// A River lookup, end to end:
//
//	enrich.Engine (cache miss)
//	  → Executor.Execute(call)
//	      registers a waiter on the Dispatcher under the call's cache key,
//	      then inserts LookupArgs (unique by provider, kind and value while
//	      in flight: an identical lookup joins the job instead) through the
//	      Inserter: one Client.InsertMany for the lookups inserting at
//	      that moment, or Client.Insert alone when a shared batch fails
//	  → River runs Worker.Work in some process
//	      the cache may have the answer meanwhile: complete without a call
//	      otherwise enrich.Fetcher.Fetch: quota (a spent budget snoozes the
//	      job), the upstream call, the cache write
//	      then one transaction writes the ledger rows of the calls made
//	      and clears the call marks (Store.RecordAttempt)
//	      once committed, a Notice with the answer goes to this process's
//	      waiters at once, and to every process through NOTIFY (notifier)
//	      Work returns; River's completer marks the job completed (or
//	      snoozed, retryable, cancelled), batched with other jobs
//	  → Dispatcher (one LISTEN connection per process) hands the Notice to
//	    the waiters; a waiter whose deadline comes first answers PENDING
//	    with the job id, and asks again later from the cache. A notice that
//	    never comes is covered by the dispatcher's sweep: one JobList query
//	    a second for every job waited on in the process.
//
// Nothing here calls back into the engine: the worker uses the Fetcher,
// and the answer travels as lookup.Codec bytes inside the Notice (when too
// large for a notification: whole to this process's waiters, from the
// cache or the job's recorded output to the others').
//
// A call mark (table job_call) is written beside each upstream call and
// cleared in the transaction that writes its ledger row; an attempt that
// finds marks of earlier attempts (a worker killed mid-call) writes an
// "interrupted" ledger row for each, so every upstream call is accounted
// exactly once, whether or not River had marked the job completed when its
// process died (a rerun finds the answer in the cache, or makes and
// records a call of its own).
//
// The package issues no SQL of its own: the workers' statements are
// store.JobQueue's (the Store interface), the rest is River's.
package jobs
