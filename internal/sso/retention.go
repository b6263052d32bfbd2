package sso

import (
	"context"
	"fmt"
	"time"
)

// DefaultEventRetention is how long sign-in events are kept when the
// operator does not set PORTAL_EVENT_RETENTION: 90 days, long enough to look
// into a complaint about last month's sign-ins.
const DefaultEventRetention = 90 * 24 * time.Hour

// DeleteOldEvents removes at most limit sign-in events older than retention,
// for the housekeeping job. SKIP LOCKED lets several portal processes share
// the work without waiting on each other's rows.
func (s *Service) DeleteOldEvents(ctx context.Context, limit int, retention time.Duration) (int64, error) {
	if retention <= 0 {
		return 0, fmt.Errorf("delete old sign-in events: retention %s is not positive", retention)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM signin_events WHERE ctid IN (
  SELECT ctid FROM signin_events WHERE occurred_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.now().Add(-retention), limit)
	if err != nil {
		return 0, fmt.Errorf("delete old sign-in events: %w", err)
	}
	return tag.RowsAffected(), nil
}
