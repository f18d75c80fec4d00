package provider

import "time"

// SetRDAPClock sets the clock an RDAP provider built from its descriptor uses
// to judge a domain's age. Tests only.
func SetRDAPClock(p Provider, now func() time.Time) {
	p.(*rdap).now = now
}
