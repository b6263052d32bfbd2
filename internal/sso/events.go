package sso

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/web"
)

// Event is one sign-in attempt, accepted or refused.
type Event struct {
	SiteID     int64     `db:"site_id"`
	ID         int64     `db:"id"`
	OccurredAt time.Time `db:"occurred_at"`
	Reference  string    `db:"reference"`
	Flow       Flow      `db:"flow"`
	Result     string    `db:"result"` // success, refused or test
	Reason     string    `db:"reason"`
	Detail     string    `db:"detail"`
	NameID     string    `db:"name_id"`
	UserID     *int64    `db:"user_id"`
	ClientIP   string    `db:"client_ip"`
}

// Event results.
const (
	ResultSuccess = "success"
	ResultRefused = "refused"
	ResultTest    = "test"
)

// RecordEvent stores a sign-in event; OccurredAt defaults to now.
func (s *Service) RecordEvent(ctx context.Context, e Event) error {
	if e.OccurredAt.IsZero() {
		e.OccurredAt = s.now()
	}
	if e.Flow == "" {
		e.Flow = FlowUnknown
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO signin_events (site_id, occurred_at, reference, flow, result, reason, detail, name_id, user_id, client_ip)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.SiteID, e.OccurredAt, e.Reference, e.Flow, e.Result, e.Reason, web.Shorten(e.Detail, 2000), web.Shorten(e.NameID, 512), e.UserID, e.ClientIP)
	if err != nil {
		return fmt.Errorf("record sign-in event: %w", err)
	}
	return nil
}

// EventFilter narrows RecentEvents.
type EventFilter struct {
	Result    string // "" for all
	User      string // substring of the NameID, case-insensitive
	Reference string
	Limit     int
	Offset    int
}

// RecentEvents lists a site's sign-in events, newest first.
func (s *Service) RecentEvents(ctx context.Context, siteID int64, f EventFilter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.pool.Query(ctx, `SELECT site_id, id, occurred_at, reference, flow, result, reason, detail, name_id, user_id, client_ip
FROM signin_events
WHERE site_id = $1 AND ($2 = '' OR result = $2) AND ($3 = '' OR name_id ILIKE '%' || $3 || '%') AND ($4 = '' OR reference = $4)
ORDER BY occurred_at DESC, id DESC LIMIT $5 OFFSET $6`, siteID, f.Result, f.User, f.Reference, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("list sign-in events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByName[Event])
	if err != nil {
		return nil, fmt.Errorf("list sign-in events: %w", err)
	}
	return events, nil
}

// shorten quotes a value from outside (a claim, a RelayState) in a
// refusal's detail or a log line: never whole when it is long.
func shorten(s string) string { return web.Shorten(s, web.MaxQuoted) }
