package jobs

import (
	"encoding/json"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/inspector-gadget/gadget/internal/lookup"
)

// notifyLimit keeps a NOTIFY payload under PostgreSQL's 8000-byte cap; a
// larger answer is read from the job's recorded output instead.
const notifyLimit = 7000

// Notice is what a worker tells the waiters of a job, through pg_notify,
// and records as the job's output when it completes.
type Notice struct {
	JobID int64 `json:"id"`
	// Final: the job is done (completed, cancelled or out of attempts).
	// Otherwise it will run again at RetryAt (a snooze or a retry).
	Final   bool      `json:"f,omitempty"`
	RetryAt time.Time `json:"at,omitzero"`
	// Key is the answer's cache key: waiters wait on it (registered before
	// the insert, whatever job id the insert returns), and listeners with
	// no waiter may fill their cache with the answer.
	Key string `json:"k"`
	// Result is the answer (lookup.Codec); empty when too large for
	// a notification: read the job's output.
	Result json.RawMessage `json:"r,omitempty"`
	// row, set by the dispatcher's sweep instead of the fields above, is
	// the job as read from the database.
	row *rivertype.JobRow
}

// decode returns the notice's result, or nil when it must be read elsewhere.
func (n *Notice) decode() *lookup.Result {
	if len(n.Result) == 0 {
		return nil
	}
	r, err := lookup.Codec{}.Decode(n.Result)
	if err != nil {
		return nil
	}
	r.JobID = n.JobID
	return r
}
