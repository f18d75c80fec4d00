package accounting

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/inspector-gadget/gadget/internal/errcode"
)

// DefaultReportDays is the report range when none is given.
const DefaultReportDays = 30

// Service answers usage reports and audit-log listings.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service; now may be nil.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Range turns optional from/to into a half-open UTC range of whole days:
// [start of from's day, start of the day after to's day). Defaults: to is
// today, from is DefaultReportDays days before to's day.
func (s *Service) Range(from, to *time.Time) (time.Time, time.Time, error) {
	end := day(s.now())
	if to != nil {
		end = day(*to)
	}
	end = end.AddDate(0, 0, 1)
	start := end.AddDate(0, 0, -DefaultReportDays)
	if from != nil {
		start = day(*from)
	}
	if !start.Before(end) {
		return time.Time{}, time.Time{}, errcode.Field("from", "from must not be after to")
	}
	if end.Sub(start) > 3*366*24*time.Hour {
		return time.Time{}, time.Time{}, errcode.Field("from", "a report covers at most three years")
	}
	return start, end, nil
}

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Report returns usage grouped by user and api; username "" means everyone.
func (s *Service) Report(ctx context.Context, from, to *time.Time, username string) (*Report, error) {
	start, end, err := s.Range(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := s.store.UsageRows(ctx, start, end, username)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	r := &Report{From: start, To: end, Rows: rows, Username: username}
	for _, row := range rows {
		r.TotalCalls += row.Calls
		r.TotalBytes += row.Bytes
	}
	return r, nil
}

// MaxPage is the largest audit-log page.
const MaxPage = 500

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Records   []Record
	HasNext   bool
	EndCursor string
}

// Audit lists usage records newest first, after the opaque cursor after.
func (s *Service) Audit(ctx context.Context, f AuditFilter, first int, after string) (*AuditPage, error) {
	if first <= 0 {
		first = 50
	}
	if first > MaxPage {
		return nil, errcode.Field("first", "first must be at most 500")
	}
	var cur *Cursor
	if after != "" {
		c, err := DecodeCursor(after)
		if err != nil {
			return nil, errcode.Field("after", "invalid cursor")
		}
		cur = c
	}
	recs, err := s.store.AuditLog(ctx, f, first+1, cur)
	if err != nil {
		return nil, errcode.Wrap(err)
	}
	p := &AuditPage{Records: recs}
	if len(recs) > first {
		p.Records, p.HasNext = recs[:first], true
	}
	if n := len(p.Records); n > 0 {
		p.EndCursor = EncodeCursor(Cursor{At: p.Records[n-1].At, ID: p.Records[n-1].ID})
	}
	return p, nil
}

// EncodeCursor makes an opaque cursor.
func EncodeCursor(c Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.At.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// DecodeCursor reads an opaque cursor.
func DecodeCursor(s string) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	ts, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return nil, errcode.Field("after", "invalid cursor")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, err
	}
	return &Cursor{At: t, ID: id}, nil
}
