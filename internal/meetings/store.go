package meetings

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/mail"
)

var (
	// ErrNotFound means no such meeting (or room) on this site.
	ErrNotFound = errors.New("meeting not found")
	// ErrNotHost refuses a change by someone other than the host.
	ErrNotHost = errors.New("only the host can do this")
	// ErrCancelled refuses a change to a cancelled meeting.
	ErrCancelled = errors.New("the meeting is cancelled")
	// ErrCannotSchedule refuses scheduling by a user the site does not let
	// host (an attendee when only the host role may host).
	ErrCannotSchedule = errors.New("this account cannot schedule meetings on this site")
	// ErrNotAnOccurrence refuses an occurrence edit naming a start where
	// the series has no occurrence.
	ErrNotAnOccurrence = errors.New("the meeting has no occurrence at that time")
)

// Site is the site a request is for, as the handler knows it.
type Site struct {
	ID  int64
	URL string // canonical site URL without a trailing slash: join links and iCalendar UIDs
}

// Meeting is a scheduled meeting: a one-off or a series.
type Meeting struct {
	SiteID          int64      `db:"site_id"`
	ID              int64      `db:"id"`
	Number          string     `db:"number"`
	HostUserID      int64      `db:"host_user_id"`
	HostName        string     `db:"host_name"`
	HostEmail       string     `db:"host_email"`
	Topic           string     `db:"topic"`
	Agenda          string     `db:"agenda"`
	StartUTC        time.Time  `db:"start_utc"` // the first occurrence
	TimeZone        string     `db:"time_zone"` // IANA name the host entered it in
	DurationMinutes int        `db:"duration_minutes"`
	RRule           string     `db:"rrule"`    // RFC 5545 RRULE value, "" when it does not repeat
	EndsUTC         time.Time  `db:"ends_utc"` // end of the last occurrence
	GuestsAllowed   bool       `db:"guests_allowed"`
	CancelledAt     *time.Time `db:"cancelled_at"`
	Sequence        int        `db:"sequence"` // iCalendar SEQUENCE
	CreatedAt       time.Time  `db:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at"`
	Invitees        []string   `db:"invitees"` // lower-case addresses, sorted
	Overrides       []Override `db:"-"`        // occurrences changed or cancelled one by one
}

// Override is one occurrence of a series changed or cancelled on its own.
type Override struct {
	OriginalStartUTC time.Time `db:"original_start_utc"` // its RECURRENCE-ID
	Cancelled        bool      `db:"cancelled"`
	StartUTC         time.Time `db:"start_utc"`
	DurationMinutes  int       `db:"duration_minutes"`
	Topic            string    `db:"topic"`
	Agenda           string    `db:"agenda"`
}

// Zone is the meeting's time zone.
func (m Meeting) Zone() *time.Location { return mustZone(m.TimeZone) }

// Duration is how long each occurrence lasts unless changed on its own.
func (m Meeting) Duration() time.Duration { return time.Duration(m.DurationMinutes) * time.Minute }

// JoinURL is <site URL>/j/<number>.
func (m Meeting) JoinURL(site Site) string { return site.URL + "/j/" + m.Number }

// Recurrence is the meeting's repeat rule in the terms of the form.
func (m Meeting) Recurrence() Recurrence {
	r, err := ParseRRule(m.RRule, m.Zone())
	if err != nil {
		return Recurrence{Repeat: RepeatNone}
	}
	return r
}

// RecurrenceText is the repeat rule in words for the meeting page.
func (m Meeting) RecurrenceText() string {
	return m.Recurrence().DescribeFor(m.StartUTC.In(m.Zone()))
}

// Cancelled reports whether the whole meeting is cancelled.
func (m Meeting) Cancelled() bool { return m.CancelledAt != nil }

// IsInvited reports whether email is among the invitees, compared in the
// RFC 8265 form account addresses have (case-insensitive, look-alikes apart).
func (m Meeting) IsInvited(email string) bool {
	return email != "" && slices.Contains(m.Invitees, addressKey(email))
}

func (m Meeting) series() series {
	return series{start: m.StartUTC, loc: m.Zone(), rule: m.RRule}
}

// Occurrence is one meeting of a series, or the only one.
type Occurrence struct {
	Meeting       Meeting
	Start, End    time.Time // as instants; show them with .In(viewer's zone)
	OriginalStart time.Time // where the rule puts it: its RECURRENCE-ID
	Topic, Agenda string    // the occurrence's own, when changed
	Changed       bool
}

// Occurrences lists the occurrences not yet over at from and starting before
// to, changes and cancellations of single occurrences applied, in order.
func (m Meeting) Occurrences(from, to time.Time) ([]Occurrence, error) {
	if m.Cancelled() {
		return nil, nil
	}
	starts, err := m.series().between(from.Add(-m.Duration()), to)
	if err != nil {
		return nil, err
	}
	var out []Occurrence
	overridden := func(start time.Time) bool {
		return slices.ContainsFunc(m.Overrides, func(o Override) bool { return o.OriginalStartUTC.Equal(start) })
	}
	for _, start := range starts {
		if !overridden(start) && start.Add(m.Duration()).After(from) {
			out = append(out, Occurrence{Meeting: m, Start: start, End: start.Add(m.Duration()), OriginalStart: start, Topic: m.Topic, Agenda: m.Agenda})
		}
	}
	for _, o := range m.Overrides {
		end := o.StartUTC.Add(time.Duration(o.DurationMinutes) * time.Minute)
		if !o.Cancelled && end.After(from) && o.StartUTC.Before(to) {
			out = append(out, Occurrence{Meeting: m, Start: o.StartUTC, End: end, OriginalStart: o.OriginalStartUTC, Topic: o.Topic, Agenda: o.Agenda, Changed: true})
		}
	}
	slices.SortFunc(out, func(a, b Occurrence) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// OccurrenceAt is the occurrence the rule puts at originalStart (its
// RECURRENCE-ID), with its own changes; false when the series has none
// there or it was cancelled.
func (m Meeting) OccurrenceAt(originalStart time.Time) (Occurrence, bool) {
	starts, err := m.series().all()
	if err != nil || m.Cancelled() || !slices.ContainsFunc(starts, originalStart.Equal) {
		return Occurrence{}, false
	}
	for _, o := range m.Overrides {
		if o.OriginalStartUTC.Equal(originalStart) {
			if o.Cancelled {
				return Occurrence{}, false
			}
			return Occurrence{Meeting: m, Start: o.StartUTC, End: o.StartUTC.Add(time.Duration(o.DurationMinutes) * time.Minute),
				OriginalStart: originalStart, Topic: o.Topic, Agenda: o.Agenda, Changed: true}, true
		}
	}
	return Occurrence{Meeting: m, Start: originalStart, End: originalStart.Add(m.Duration()), OriginalStart: originalStart,
		Topic: m.Topic, Agenda: m.Agenda}, true
}

// Next is the first occurrence not over at now; false when none is left.
func (m Meeting) Next(now time.Time) (Occurrence, bool) {
	occ, err := m.Occurrences(now, m.EndsUTC.Add(time.Minute))
	if err != nil || len(occ) == 0 {
		return Occurrence{}, false
	}
	return occ[0], true
}

// lastEnd is when the last occurrence ends, single changes included.
func lastEnd(s series, duration time.Duration, overrides []Override) (time.Time, error) {
	starts, err := s.all()
	if err != nil {
		return time.Time{}, err
	}
	var end time.Time
	for _, start := range starts {
		skip := slices.ContainsFunc(overrides, func(o Override) bool { return o.OriginalStartUTC.Equal(start) })
		if !skip && start.Add(duration).After(end) {
			end = start.Add(duration)
		}
	}
	for _, o := range overrides {
		if e := o.StartUTC.Add(time.Duration(o.DurationMinutes) * time.Minute); !o.Cancelled && e.After(end) {
			end = e
		}
	}
	if end.IsZero() { // every occurrence cancelled: keep the series' own end
		end = starts[len(starts)-1].Add(duration)
	}
	return end, nil
}

// Mailer queues e-mail in the caller's transaction (mail.Outbox).
type Mailer interface {
	Enqueue(ctx context.Context, q mail.Querier, msgs ...mail.Message) error
}

// Store reads and writes meetings, personal rooms, preferences and the
// site's meeting settings. Every change that invitees must hear about
// queues its invitations in the same transaction.
type Store struct {
	pool   *pgxpool.Pool
	mailer Mailer
	now    func() time.Time
	// newNumber draws a meeting number; tests replace it to force
	// collisions.
	newNumber func() (string, error)
}

// NewStore returns a Store; now is the clock (time.Now outside tests).
func NewStore(pool *pgxpool.Pool, mailer Mailer, now func() time.Time) *Store {
	return &Store{pool: pool, mailer: mailer, now: now, newNumber: randomNumber}
}

// Meeting numbers are drawn uniformly from the 9- to 11-digit numbers, so
// one number says nothing about the next and guessing one that exists is a
// one-in-a-hundred-million affair even on a busy site.
const (
	minNumber = 100_000_000
	maxNumber = 99_999_999_999
)

func randomNumber() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(maxNumber-minNumber+1))
	if err != nil {
		return "", fmt.Errorf("meeting number: %w", err)
	}
	return strconv.FormatInt(n.Int64()+minNumber, 10), nil
}

// numberAttempts bounds the retries on a number already taken; with random
// draws a second attempt is already rare.
const numberAttempts = 20

const meetingColumns = `m.site_id, m.id, m.number, m.host_user_id, m.host_name, m.host_email, m.topic, m.agenda,
m.start_utc, m.time_zone, m.duration_minutes, m.rrule, m.ends_utc, m.guests_allowed, m.cancelled_at, m.sequence,
m.created_at, m.updated_at,
ARRAY(SELECT i.email FROM meeting_invitees i WHERE i.site_id = m.site_id AND i.meeting_id = m.id ORDER BY i.email) AS invitees`

const insertMeeting = `
INSERT INTO meetings AS m (site_id, number, host_user_id, host_name, host_email, topic, agenda, start_utc, time_zone,
                           duration_minutes, rrule, ends_utc, guests_allowed, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
ON CONFLICT (site_id, number) DO NOTHING
RETURNING ` + meetingColumns

const insertInvitees = `
INSERT INTO meeting_invitees (site_id, meeting_id, email)
SELECT $1, $2, unnest($3::text[])
ON CONFLICT DO NOTHING`

// Schedule creates a meeting hosted by host and queues its invitations (to
// each invitee and to the host) in the same transaction: the meeting and
// its invitations exist together or not at all.
func (s *Store) Schedule(ctx context.Context, site Site, host Viewer, d Details) (Meeting, error) {
	if host.SiteID != site.ID || !host.SignedIn() {
		return Meeting{}, ErrCannotSchedule
	}
	loc, err := LoadZone(d.TimeZone())
	if err != nil {
		return Meeting{}, err
	}
	sr := series{start: d.Start, loc: loc, rule: d.Recurrence.RRule(loc)}
	ends, err := lastEnd(sr, d.Duration, nil)
	if err != nil {
		return Meeting{}, err
	}
	var m Meeting
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		settings, err := s.settings(ctx, tx, site.ID)
		if err != nil {
			return err
		}
		if !CanSchedule(settings, host) {
			return ErrCannotSchedule
		}
		now := s.now()
		for attempt := 0; ; attempt++ {
			if attempt == numberAttempts {
				return errors.New("schedule: no free meeting number found")
			}
			number, err := s.newNumber()
			if err != nil {
				return err
			}
			m, err = collectMeeting(tx.Query(ctx, insertMeeting, site.ID, number, host.UserID, host.Name, addressKey(host.Email),
				d.Topic, d.Agenda, d.Start.UTC(), loc.String(), int(d.Duration/time.Minute), sr.rule, ends, d.GuestsAllowed, now))
			if errors.Is(err, pgx.ErrNoRows) {
				continue // number taken: ON CONFLICT DO NOTHING kept the transaction usable
			}
			if err != nil {
				return fmt.Errorf("schedule: insert meeting: %w", err)
			}
			break
		}
		if _, err := tx.Exec(ctx, insertInvitees, site.ID, m.ID, d.Invitees); err != nil {
			return fmt.Errorf("schedule: invitees: %w", err)
		}
		m.Invitees = slices.Sorted(slices.Values(d.Invitees))
		return s.mailer.Enqueue(ctx, tx, invitations(site, m, kindNew, now, recipients(m))...)
	})
	if err != nil {
		return Meeting{}, fmt.Errorf("schedule %q: %w", d.Topic, err)
	}
	return m, nil
}

func collectMeeting(rows pgx.Rows, err error) (Meeting, error) {
	if err != nil {
		return Meeting{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Meeting])
}

// Get returns a site's meeting by number, with invitees and single-
// occurrence changes.
func (s *Store) Get(ctx context.Context, siteID int64, number string) (Meeting, error) {
	return s.get(ctx, s.pool, siteID, number, "")
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func (s *Store) get(ctx context.Context, q querier, siteID int64, number, lock string) (Meeting, error) {
	m, err := collectMeeting(q.Query(ctx, `SELECT `+meetingColumns+` FROM meetings m WHERE m.site_id = $1 AND m.number = $2 `+lock, siteID, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return Meeting{}, ErrNotFound
	}
	if err != nil {
		return Meeting{}, fmt.Errorf("meeting %s: %w", number, err)
	}
	overrides, err := s.overrides(ctx, q, siteID, []int64{m.ID})
	if err != nil {
		return Meeting{}, err
	}
	m.Overrides = overrides[m.ID]
	return m, nil
}

const selectOverrides = `
SELECT meeting_id, original_start_utc, cancelled, start_utc, duration_minutes, topic, agenda
FROM meeting_overrides WHERE site_id = $1 AND meeting_id = ANY($2) ORDER BY original_start_utc`

func (s *Store) overrides(ctx context.Context, q querier, siteID int64, meetingIDs []int64) (map[int64][]Override, error) {
	if len(meetingIDs) == 0 {
		return nil, nil // no round trip to read nothing (a home page without meetings)
	}
	rows, err := q.Query(ctx, selectOverrides, siteID, meetingIDs)
	if err != nil {
		return nil, fmt.Errorf("meeting overrides: %w", err)
	}
	type row struct {
		MeetingID int64 `db:"meeting_id"`
		Override
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
	if err != nil {
		return nil, fmt.Errorf("meeting overrides: %w", err)
	}
	out := map[int64][]Override{}
	for _, r := range list {
		out[r.MeetingID] = append(out[r.MeetingID], r.Override)
	}
	return out, nil
}

// change runs fn on the meeting locked for update, after checking that the
// editor is its host and that it is not cancelled.
func (s *Store) change(ctx context.Context, site Site, editor Viewer, number string, fn func(tx pgx.Tx, m Meeting, now time.Time) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		m, err := s.get(ctx, tx, site.ID, number, "FOR UPDATE")
		if err != nil {
			return err
		}
		if !MeetingAccess(m, editor).Control {
			return ErrNotHost
		}
		if m.Cancelled() {
			return ErrCancelled
		}
		return fn(tx, m, s.now())
	})
}

const updateSeries = `
UPDATE meetings AS m SET topic = $3, agenda = $4, start_utc = $5, time_zone = $6, duration_minutes = $7, rrule = $8,
    ends_utc = $9, guests_allowed = $10, host_name = $11, sequence = sequence + 1, updated_at = $12
WHERE m.site_id = $1 AND m.id = $2
RETURNING ` + meetingColumns

// Update changes the whole series and sends everyone the new version with a
// higher SEQUENCE; invitees taken off the list get a cancellation. When the
// timing changes (start, zone or rule), changes made to single occurrences
// are dropped: they were tied to occurrences that no longer exist.
func (s *Store) Update(ctx context.Context, site Site, editor Viewer, number string, d Details) (Meeting, error) {
	loc, err := LoadZone(d.TimeZone())
	if err != nil {
		return Meeting{}, err
	}
	var updated Meeting
	err = s.change(ctx, site, editor, number, func(tx pgx.Tx, old Meeting, now time.Time) error {
		sr := series{start: d.Start, loc: loc, rule: d.Recurrence.RRule(loc)}
		overrides := old.Overrides
		if !d.Start.Equal(old.StartUTC) || loc.String() != old.TimeZone || sr.rule != old.RRule {
			if _, err := tx.Exec(ctx, `DELETE FROM meeting_overrides WHERE site_id = $1 AND meeting_id = $2`, site.ID, old.ID); err != nil {
				return fmt.Errorf("drop overrides: %w", err)
			}
			overrides = nil
		}
		ends, err := lastEnd(sr, d.Duration, overrides)
		if err != nil {
			return err
		}
		updated, err = collectMeeting(tx.Query(ctx, updateSeries, site.ID, old.ID, d.Topic, d.Agenda, d.Start.UTC(), loc.String(),
			int(d.Duration/time.Minute), sr.rule, ends, d.GuestsAllowed, editor.Name, now))
		if err != nil {
			return fmt.Errorf("update meeting: %w", err)
		}
		var removed []string
		for _, email := range old.Invitees {
			if !slices.Contains(d.Invitees, email) {
				removed = append(removed, email)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meeting_invitees WHERE site_id = $1 AND meeting_id = $2 AND email = ANY($3)`, site.ID, old.ID, removed); err != nil {
			return fmt.Errorf("remove invitees: %w", err)
		}
		if _, err := tx.Exec(ctx, insertInvitees, site.ID, old.ID, d.Invitees); err != nil {
			return fmt.Errorf("add invitees: %w", err)
		}
		updated.Invitees = slices.Sorted(slices.Values(d.Invitees))
		updated.Overrides = overrides
		msgs := invitations(site, updated, kindChanged, now, recipients(updated))
		msgs = append(msgs, invitations(site, updated, kindUninvited, now, removed)...)
		return s.mailer.Enqueue(ctx, tx, msgs...)
	})
	if err != nil {
		return Meeting{}, fmt.Errorf("update meeting %s: %w", number, err)
	}
	return updated, nil
}

const upsertOverride = `
INSERT INTO meeting_overrides (site_id, meeting_id, original_start_utc, cancelled, start_utc, duration_minutes, topic, agenda, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (site_id, meeting_id, original_start_utc) DO UPDATE SET
    cancelled = EXCLUDED.cancelled, start_utc = EXCLUDED.start_utc, duration_minutes = EXCLUDED.duration_minutes,
    topic = EXCLUDED.topic, agenda = EXCLUDED.agenda, updated_at = EXCLUDED.updated_at`

const bumpSequence = `
UPDATE meetings AS m SET ends_utc = $3, sequence = sequence + 1, updated_at = $4
WHERE m.site_id = $1 AND m.id = $2
RETURNING ` + meetingColumns

// UpdateOccurrence changes one occurrence of a series ("this occurrence"),
// named by where the rule puts it (Occurrence.OriginalStart): its start,
// duration, topic and agenda come from d; invitees, guests and the rule stay
// the series'. Everyone gets the series with the change as a RECURRENCE-ID
// event.
func (s *Store) UpdateOccurrence(ctx context.Context, site Site, editor Viewer, number string, originalStart time.Time, d Details) (Meeting, error) {
	return s.override(ctx, site, editor, number, originalStart, Override{
		OriginalStartUTC: originalStart.UTC(), StartUTC: d.Start.UTC(), DurationMinutes: int(d.Duration / time.Minute),
		Topic: d.Topic, Agenda: d.Agenda,
	})
}

// CancelOccurrence cancels one occurrence of a series and sends everyone a
// CANCEL for it alone.
func (s *Store) CancelOccurrence(ctx context.Context, site Site, editor Viewer, number string, originalStart time.Time) (Meeting, error) {
	return s.override(ctx, site, editor, number, originalStart, Override{OriginalStartUTC: originalStart.UTC(), Cancelled: true})
}

func (s *Store) override(ctx context.Context, site Site, editor Viewer, number string, originalStart time.Time, o Override) (Meeting, error) {
	var updated Meeting
	err := s.change(ctx, site, editor, number, func(tx pgx.Tx, m Meeting, now time.Time) error {
		starts, err := m.series().all()
		if err != nil {
			return err
		}
		if m.RRule == "" || !slices.ContainsFunc(starts, originalStart.Equal) {
			return ErrNotAnOccurrence
		}
		if o.Cancelled { // keep the occurrence's timing: the CANCEL names it
			o.StartUTC, o.DurationMinutes, o.Topic, o.Agenda = o.OriginalStartUTC, m.DurationMinutes, m.Topic, m.Agenda
		}
		if _, err := tx.Exec(ctx, upsertOverride, site.ID, m.ID, o.OriginalStartUTC, o.Cancelled, o.StartUTC, o.DurationMinutes, o.Topic, o.Agenda, now); err != nil {
			return fmt.Errorf("save occurrence: %w", err)
		}
		overrides := slices.DeleteFunc(slices.Clone(m.Overrides), func(x Override) bool { return x.OriginalStartUTC.Equal(o.OriginalStartUTC) })
		overrides = append(overrides, o)
		slices.SortFunc(overrides, func(a, b Override) int { return a.OriginalStartUTC.Compare(b.OriginalStartUTC) })
		ends, err := lastEnd(m.series(), m.Duration(), overrides)
		if err != nil {
			return err
		}
		updated, err = collectMeeting(tx.Query(ctx, bumpSequence, site.ID, m.ID, ends, now))
		if err != nil {
			return fmt.Errorf("update meeting: %w", err)
		}
		updated.Overrides = overrides
		kind := kindChanged
		if o.Cancelled {
			kind = occurrenceCancelled(o.OriginalStartUTC)
		}
		return s.mailer.Enqueue(ctx, tx, invitations(site, updated, kind, now, recipients(updated))...)
	})
	if err != nil {
		return Meeting{}, fmt.Errorf("change occurrence of meeting %s: %w", number, err)
	}
	return updated, nil
}

const cancelMeeting = `
UPDATE meetings AS m SET cancelled_at = $3, sequence = sequence + 1, updated_at = $3
WHERE m.site_id = $1 AND m.id = $2
RETURNING ` + meetingColumns

// Cancel cancels the whole meeting and sends everyone a CANCEL.
func (s *Store) Cancel(ctx context.Context, site Site, editor Viewer, number string) (Meeting, error) {
	var cancelled Meeting
	err := s.change(ctx, site, editor, number, func(tx pgx.Tx, m Meeting, now time.Time) error {
		var err error
		cancelled, err = collectMeeting(tx.Query(ctx, cancelMeeting, site.ID, m.ID, now))
		if err != nil {
			return fmt.Errorf("cancel: %w", err)
		}
		cancelled.Overrides = m.Overrides
		return s.mailer.Enqueue(ctx, tx, invitations(site, cancelled, kindCancelled, now, recipients(cancelled))...)
	})
	if err != nil {
		return Meeting{}, fmt.Errorf("cancel meeting %s: %w", number, err)
	}
	return cancelled, nil
}

// UpcomingDays is how far ahead the home page looks.
const UpcomingDays = 14

const selectUpcoming = `
SELECT ` + meetingColumns + ` FROM meetings m
WHERE m.site_id = $1 AND m.cancelled_at IS NULL AND m.ends_utc > $4
  AND (m.start_utc < $5 OR EXISTS (SELECT 1 FROM meeting_overrides o
        WHERE o.site_id = m.site_id AND o.meeting_id = m.id AND NOT o.cancelled AND o.start_utc < $5))
  AND (m.host_user_id = $2 OR EXISTS (SELECT 1 FROM meeting_invitees i
        WHERE i.site_id = m.site_id AND i.meeting_id = m.id AND i.email = $3))`

// Upcoming lists the occurrences, from now for UpcomingDays, of the
// meetings v hosts or is invited to (by e-mail address), in order. One
// still in progress is included.
func (s *Store) Upcoming(ctx context.Context, v Viewer) ([]Occurrence, error) {
	from := s.now()
	to := from.AddDate(0, 0, UpcomingDays)
	rows, err := s.pool.Query(ctx, selectUpcoming, v.SiteID, v.UserID, addressKey(v.Email), from, to)
	if err != nil {
		return nil, fmt.Errorf("upcoming meetings: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Meeting])
	if err != nil {
		return nil, fmt.Errorf("upcoming meetings: %w", err)
	}
	ids := make([]int64, len(list))
	for i, m := range list {
		ids[i] = m.ID
	}
	overrides, err := s.overrides(ctx, s.pool, v.SiteID, ids)
	if err != nil {
		return nil, err
	}
	var out []Occurrence
	for _, m := range list {
		m.Overrides = overrides[m.ID]
		occ, err := m.Occurrences(from, to)
		if err != nil {
			return nil, fmt.Errorf("upcoming meetings: %w", err)
		}
		out = append(out, occ...)
	}
	slices.SortStableFunc(out, func(a, b Occurrence) int { return a.Start.Compare(b.Start) })
	return out, nil
}

const searchMeetings = `
SELECT ` + meetingColumns + ` FROM meetings m
WHERE m.site_id = $1
  AND ($2 = '' OR lower(m.topic) LIKE '%' || $2 || '%' OR m.number LIKE $2 || '%'
       OR m.host_email LIKE '%' || $2 || '%' OR lower(m.host_name) LIKE '%' || $2 || '%')
ORDER BY m.start_utc DESC, m.id DESC
LIMIT $3 OFFSET $4`

// Search lists a site's meetings for its admin, newest first, whose topic,
// host or number matches query (all of them for ""), a page at a time; more
// says whether another page follows.
func (s *Store) Search(ctx context.Context, siteID int64, query string, limit, offset int) (list []Meeting, more bool, err error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q != "" && strings.Trim(q, "0123456789 ") == "" {
		q = strings.ReplaceAll(q, " ", "") // a number as shown in groups: "123 456 789"
	}
	rows, err := s.pool.Query(ctx, searchMeetings, siteID, database.LikeLiteral(q), limit+1, offset)
	if err != nil {
		return nil, false, fmt.Errorf("search meetings: %w", err)
	}
	list, err = pgx.CollectRows(rows, pgx.RowToStructByName[Meeting])
	if err != nil {
		return nil, false, fmt.Errorf("search meetings: %w", err)
	}
	if len(list) > limit {
		return list[:limit], true, nil
	}
	return list, false, nil
}

// recipients of a meeting's invitations: every invitee and the host, whose
// calendar gets the event too.
func recipients(m Meeting) []string {
	out := slices.Clone(m.Invitees)
	if m.HostEmail != "" && !slices.Contains(out, m.HostEmail) {
		out = append(out, m.HostEmail)
	}
	return out
}
