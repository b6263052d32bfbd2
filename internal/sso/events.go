package sso

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/users"
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
	// Who the response said signed in, when it got that far: for the
	// admin's re-link page, beside the account it was refused for
	// (UserID).
	ClaimedUID      string `db:"claimed_uid"`
	ClaimedEmail    string `db:"claimed_email"`
	ClaimedName     string `db:"claimed_name"`
	ClaimedObjectID string `db:"claimed_object_id"`
	// Claims are the attributes the verified assertion carried, by name,
	// and its AuthnContextClassRef; empty when the response was refused
	// before its signature was verified (nothing in it can be believed).
	Claims map[string][]string `db:"claims"`
}

// Claimed fills the event's claimed identity.
func (e *Event) Claimed(id users.Identity) {
	e.ClaimedUID, e.ClaimedEmail, e.ClaimedName, e.ClaimedObjectID = id.UID, id.Email, id.DisplayName(), id.ObjectID
}

// Event results.
const (
	ResultSuccess = "success"
	ResultRefused = "refused"
	ResultTest    = "test"
)

// RecordEvent stores a sign-in event; OccurredAt defaults to now.
func (s *Service) RecordEvent(ctx context.Context, e Event) error {
	return s.recordEvent(ctx, s.pool, e)
}

func (s *Service) recordEvent(ctx context.Context, db execer, e Event) error {
	if _, err := db.Exec(ctx, insertEvent, s.eventArgs(e)...); err != nil {
		return fmt.Errorf("record sign-in event: %w", err)
	}
	return nil
}

const insertEvent = `INSERT INTO signin_events (site_id, occurred_at, reference, flow, result, reason, detail, name_id, user_id, client_ip,
  claimed_uid, claimed_email, claimed_name, claimed_object_id, claims)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`

// eventArgs are insertEvent's arguments for e, its values bounded.
func (s *Service) eventArgs(e Event) []any {
	if e.OccurredAt.IsZero() {
		e.OccurredAt = s.now()
	}
	if e.Flow == "" {
		e.Flow = FlowUnknown
	}
	if e.Claims == nil {
		e.Claims = map[string][]string{}
	}
	return []any{e.SiteID, e.OccurredAt, e.Reference, e.Flow, e.Result, e.Reason, web.Shorten(e.Detail, 2000), web.Shorten(e.NameID, 512), e.UserID, e.ClientIP,
		web.Shorten(e.ClaimedUID, 512), web.Shorten(e.ClaimedEmail, 512), web.Shorten(e.ClaimedName, 600), web.Shorten(e.ClaimedObjectID, 128), e.Claims}
}

const eventColumns = listedColumns + `, claims`

// listedColumns are eventColumns without the claims (up to 64 KB of JSON
// an event, decoded into a map): one event's page shows them, the list of
// 50 and the export of up to 100,000 do not.
const listedColumns = `site_id, id, occurred_at, reference, flow, result, reason, detail, name_id, user_id, client_ip,
  claimed_uid, claimed_email, claimed_name, claimed_object_id`

// ErrEventNotFound: the site has no such sign-in event.
var ErrEventNotFound = errors.New("sign-in event not found")

// EventByID is one sign-in event of a site; another site's id is
// ErrEventNotFound, like an id that does not exist.
func (s *Service) EventByID(ctx context.Context, siteID, id int64) (Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM signin_events WHERE site_id = $1 AND id = $2`, siteID, id)
	if err != nil {
		return Event{}, fmt.Errorf("sign-in event %d: %w", id, err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Event])
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, ErrEventNotFound
	}
	if err != nil {
		return Event{}, fmt.Errorf("sign-in event %d: %w", id, err)
	}
	return e, nil
}

// eventsWhere is what an EventFilter selects of a site's events ($1):
// the result ($2), a substring of the NameID ($3, LIKE-escaped), the
// reference ($4); "" selects all. The page and the export share it. A
// filter on refusals also names them in the statement, so that the index
// of refusals (migration 0056) applies: found along the primary key, they
// were a walk through every success of the site.
func eventsWhere(result string) string {
	const where = `
WHERE site_id = $1 AND ($2 = '' OR result = $2) AND ($3 = '' OR name_id ILIKE '%' || $3 || '%') AND ($4 = '' OR reference = $4)`
	if result == ResultRefused {
		return where + ` AND result = '` + ResultRefused + `'`
	}
	return where
}

// maxExported bounds one CSV export of events: the retention period's
// worth of a busy site, not an unbounded read.
const maxExported = 100000

// EachEvent calls fn with every event of a site that f selects (its Limit
// and Offset ignored), newest first, at most maxExported, reading them as
// they come rather than all at once: for the CSV export.
func (s *Service) EachEvent(ctx context.Context, siteID int64, f EventFilter, fn func(Event) error) error {
	rows, err := s.pool.Query(ctx, `SELECT `+listedColumns+`
FROM signin_events`+eventsWhere(f.Result)+`
ORDER BY id DESC LIMIT $5`, siteID, f.Result, database.LikeLiteral(f.User), f.Reference, maxExported)
	if err != nil {
		return fmt.Errorf("export sign-in events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := pgx.RowToStructByNameLax[Event](rows)
		if err != nil {
			return fmt.Errorf("export sign-in events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export sign-in events: %w", err)
	}
	return nil
}

// LatestConflict is the newest sign-in refused because of account userID
// (account-identity-changed or account-look-alike): whom the admin's
// re-link page shows beside the account. ok is false when there is none.
// It reads the account's own events (signin_events_user), in that index's
// order, not the site's newest first.
func (s *Service) LatestConflict(ctx context.Context, siteID, userID int64) (e Event, ok bool, err error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM signin_events
WHERE site_id = $1 AND user_id = $2 AND result = 'refused' AND reason = ANY($3)
ORDER BY occurred_at DESC, id DESC LIMIT 1`, siteID, userID, []string{ReasonIdentityChanged, ReasonLookAlike})
	if err != nil {
		return Event{}, false, fmt.Errorf("find the refused sign-in of user %d: %w", userID, err)
	}
	e, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Event])
	if errors.Is(err, pgx.ErrNoRows) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("find the refused sign-in of user %d: %w", userID, err)
	}
	return e, true, nil
}

// EventFilter narrows RecentEvents.
type EventFilter struct {
	Result    string // "" for all
	User      string // text the NameID contains, as typed (case-insensitive)
	Reference string
	Limit     int
	Offset    int
}

// RecentEvents lists a site's sign-in events, newest first, without their
// claims (EventByID has them).
//
// Newest first is the highest id first: events are numbered as they are
// recorded, and the primary key (site_id, id) read backwards serves the
// order (migration 0052). The User filter is a substring search on the
// NameID within the site: it walks the site's events newest first and
// stops when a page is full. Its cost grows
// with the site's own events, never with other sites': with 10,000 sites
// and 10 million events, about 10 ms (docs/PERFORMANCE.md). A trigram
// index over every site's events (migration 0026, dropped by 0048) made
// a substring that every site has read all of them (243 ms), and a GIN
// index on (site_id, name_id) read each trigram's whole posting list
// (120 ms). The price: in one very large site, a term that matches
// nothing reads all of that site's events (about 1.5 s for a million,
// within the statement timeout); a term that matches often is fast.
func (s *Service) RecentEvents(ctx context.Context, siteID int64, f EventFilter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	rows, err := s.pool.Query(ctx, `SELECT `+listedColumns+`
FROM signin_events`+eventsWhere(f.Result)+`
ORDER BY id DESC LIMIT $5 OFFSET $6`, siteID, f.Result, database.LikeLiteral(f.User), f.Reference, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("list sign-in events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[Event])
	if err != nil {
		return nil, fmt.Errorf("list sign-in events: %w", err)
	}
	return events, nil
}

// LatestOutcomes returns the site's newest successful sign-in and its
// newest refusal, nil when there is none, read in one statement (the SSO
// page shows both).
//
// The results are written in the statement, not passed as parameters: the
// newest refusal is found through the index of refusals alone (migration
// 0056), which a plan made for any result could not use.
func (s *Service) LatestOutcomes(ctx context.Context, siteID int64) (success, refused *Event, err error) {
	rows, err := s.pool.Query(ctx, `(SELECT `+listedColumns+` FROM signin_events
WHERE site_id = $1 AND result = '`+ResultSuccess+`' ORDER BY id DESC LIMIT 1)
UNION ALL
(SELECT `+listedColumns+` FROM signin_events
WHERE site_id = $1 AND result = '`+ResultRefused+`' ORDER BY id DESC LIMIT 1)`, siteID)
	if err != nil {
		return nil, nil, fmt.Errorf("read the latest sign-in events: %w", err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[Event])
	if err != nil {
		return nil, nil, fmt.Errorf("read the latest sign-in events: %w", err)
	}
	for i := range events {
		switch events[i].Result {
		case ResultSuccess:
			success = &events[i]
		case ResultRefused:
			refused = &events[i]
		}
	}
	return success, refused, nil
}

// shorten quotes a value from outside (a claim, a RelayState) in a
// refusal's detail or a log line: never whole when it is long.
func shorten(s string) string { return web.Shorten(s, web.MaxQuoted) }
