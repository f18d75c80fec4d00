package store

import (
	"context"

	"github.com/inspector-gadget/gadget/ent"
	"github.com/inspector-gadget/gadget/ent/usagelog"
	"github.com/inspector-gadget/gadget/internal/accounting"
)

var _ accounting.LogPager = (*Store)(nil)

// UsageLogPage lists username's usage records (everyone's when empty),
// newest first, skipping offset and returning at most limit.
func (s *Store) UsageLogPage(ctx context.Context, username string, offset, limit int) ([]accounting.Record, error) {
	q := s.client.UsageLog.Query()
	if username != "" {
		q = q.Where(usagelog.Username(username))
	}
	logs, err := q.Order(ent.Desc(usagelog.FieldQueryDate), ent.Desc(usagelog.FieldID)).
		Offset(offset).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	return toRecords(logs), nil
}
