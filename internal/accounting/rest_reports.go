package accounting

import (
	"context"
	"fmt"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// MaxListing is the largest page of a REST report or log listing (the
// original's LIMIT 100).
const MaxListing = 100

// LogPager is the storage the offset-paged log listing needs.
type LogPager interface {
	UsageLogPage(ctx context.Context, username string, offset, limit int) ([]Record, error)
}

// Listings answers the REST layer's offset-paged reports and log listings.
type Listings struct {
	svc   *Service
	pager LogPager
}

// NewListings returns Listings over the report service and a log pager.
func NewListings(svc *Service, pager LogPager) *Listings { return &Listings{svc: svc, pager: pager} }

// ReportPage is one page of a usage report.
type ReportPage struct {
	From, To time.Time // [From, To): whole UTC days
	Total    int       // rows in the whole report
	Rows     []Row     // ordered by username, then api
}

// Page checks an offset and a limit (0: MaxListing).
func Page(offset, limit int) (int, int, error) {
	if offset < 0 {
		return 0, 0, errcode.Field("offset", "offset must not be negative")
	}
	if limit < 0 || limit > MaxListing {
		return 0, 0, errcode.Field("limit", fmt.Sprintf("limit must be between 1 and %d", MaxListing))
	}
	if limit == 0 {
		limit = MaxListing
	}
	return offset, limit, nil
}

// Report returns rows [offset, offset+limit) of the usage report over the
// whole days from..to (to included; defaults as Service.Range), for
// username or everyone.
func (l *Listings) Report(ctx context.Context, from, to *time.Time, username string, offset, limit int) (*ReportPage, error) {
	offset, limit, err := Page(offset, limit)
	if err != nil {
		return nil, err
	}
	rep, err := l.svc.Report(ctx, from, to, username)
	if err != nil {
		return nil, err
	}
	p := &ReportPage{From: rep.From, To: rep.To, Total: len(rep.Rows), Rows: []Row{}}
	if offset < len(rep.Rows) {
		p.Rows = rep.Rows[offset:min(offset+limit, len(rep.Rows))]
	}
	return p, nil
}

// Logs returns username's usage records (everyone's when empty), newest
// first.
func (l *Listings) Logs(ctx context.Context, username string, offset, limit int) ([]Record, error) {
	offset, limit, err := Page(offset, limit)
	if err != nil {
		return nil, err
	}
	recs, err := l.pager.UsageLogPage(ctx, username, offset, limit)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	return recs, nil
}
