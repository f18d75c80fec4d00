package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// LookupArgs is one provider call about one indicator. Provider, Kind and
// Value make it unique among in-flight jobs, so identical lookups from any
// number of API processes share one job and one upstream call (fresh ones
// excepted: see InsertOpts).
type LookupArgs struct {
	Provider string `json:"provider" river:"unique"`
	IndKind  string `json:"kind" river:"unique"`
	Value    string `json:"value" river:"unique"`
	// Fresh skips the worker's cache check (the caller asked to bypass it).
	Fresh bool `json:"fresh,omitempty"`
	// Caller is who inserted the job: the usage row of the upstream call
	// is theirs.
	Username  string `json:"username,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// Kind is the River job kind.
func (LookupArgs) Kind() string { return "gadget_lookup" }

// inFlight are the states in which an identical lookup joins the existing
// job instead of inserting another; a completed job's answer is in the
// cache, so it is left out.
var inFlight = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// InsertOpts puts the job on its provider's queue, unique while in flight.
// A fresh lookup asks the provider again by definition: its job is its
// own, and never joins one that has already answered but that River's
// completer has not yet marked completed.
func (a LookupArgs) InsertOpts() river.InsertOpts {
	if a.Fresh {
		return river.InsertOpts{Queue: a.Provider}
	}
	return river.InsertOpts{Queue: a.Provider, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: inFlight}}
}
