// Package mail sends the portal's e-mail — meeting invitations with their
// calendar parts — through an outbox table in PostgreSQL. A message is
// enqueued in the same transaction as the change it reports, so it is sent
// if and only if the change is committed; a worker in any portal process
// sends it later, retrying with backoff, so a slow or unreachable mail
// server never slows or fails the page that scheduled the meeting, and a
// restart loses nothing.
//
// Libraries: MIME is built with github.com/emersion/go-message, which
// writes exactly the tree calendar clients recognise as an invitation —
// multipart/alternative of text/plain, text/html and "text/calendar;
// method=REQUEST" (the method parameter is what Outlook and Gmail key on),
// plus the same object as an invite.ics attachment, the layout Google
// Calendar itself sends — and reads it back in tests.
// github.com/wneessen/go-mail was the alternative: it bundles sending, but
// has no way to put a method parameter on a text/calendar alternative.
// Sending uses the standard library's net/smtp: it upgrades one connection
// with STARTTLS when the server offers it (go-smtp's client can only insist
// on STARTTLS or do without), refuses to send a password in the clear, and
// reports the server's reply codes, which tell a 4xx worth retrying from a
// permanent 5xx. The tests receive mail with github.com/emersion/go-smtp's
// server.
package mail

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Message is one e-mail to one recipient.
type Message struct {
	SiteID    int64
	MeetingID int64 // the meeting it is about, 0 if none
	To        string
	Subject   string
	Text      string // text/plain body
	HTML      string // text/html body, optional
	// Calendar is an iCalendar object sent as text/calendar with
	// CalendarMethod (REQUEST or CANCEL) and as an invite.ics attachment.
	Calendar       []byte
	CalendarMethod string
}

// States of an outbox row.
const (
	StateQueued = "queued" // waiting for its next attempt
	StateSent   = "sent"
	StateFailed = "failed" // given up: refused for good, or out of attempts
	StateKept   = "kept"   // no SMTP server configured: kept for the development mail page
)

// Entry is an outbox row, for the host's meeting page and the development
// mail page.
type Entry struct {
	SiteID         int64      `db:"site_id"`
	ID             int64      `db:"id"`
	MeetingID      *int64     `db:"meeting_id"`
	Recipient      string     `db:"recipient"`
	Subject        string     `db:"subject"`
	TextBody       string     `db:"text_body"`
	HTMLBody       string     `db:"html_body"`
	Calendar       []byte     `db:"calendar"`
	CalendarMethod string     `db:"calendar_method"`
	State          string     `db:"state"`
	Attempts       int        `db:"attempts"`
	NextAttemptAt  time.Time  `db:"next_attempt_at"`
	LastError      string     `db:"last_error"`
	CreatedAt      time.Time  `db:"created_at"`
	SentAt         *time.Time `db:"sent_at"`
}

// Querier is a pool or a transaction: Enqueue runs in the caller's.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Outbox writes and reads the outbox.
type Outbox struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	deliver bool
}

// NewOutbox returns an Outbox. With deliver false (no PORTAL_SMTP_URL),
// messages are kept for the development mail page instead of queued.
func NewOutbox(pool *pgxpool.Pool, now func() time.Time, deliver bool) *Outbox {
	return &Outbox{pool: pool, now: now, deliver: deliver}
}

// Delivers reports whether messages are sent (an SMTP server is configured);
// without one, pages offer the invitation text to copy instead.
func (o *Outbox) Delivers() bool { return o.deliver }

// wakeChannel is NOTIFYed by Enqueue so that an idle worker in any process
// sends at once rather than at its next poll.
const wakeChannel = "mail_outbox"

const insertMessage = `
INSERT INTO mail_outbox (site_id, meeting_id, recipient, subject, text_body, html_body, calendar, calendar_method, state, next_attempt_at, created_at)
VALUES ($1, NULLIF($2, 0), $3, $4, $5, $6, $7, $8, $9, $10, $10)`

// Enqueue adds messages to the outbox through q, normally the transaction
// that makes the change they announce.
func (o *Outbox) Enqueue(ctx context.Context, q Querier, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	state := StateKept
	if o.deliver {
		state = StateQueued
	}
	now := o.now()
	for _, m := range msgs {
		if m.To == "" {
			return errors.New("enqueue mail: no recipient")
		}
		if _, err := q.Exec(ctx, insertMessage, m.SiteID, m.MeetingID, m.To, m.Subject, m.Text, m.HTML, m.Calendar, m.CalendarMethod, state, now); err != nil {
			return fmt.Errorf("enqueue mail to %s: %w", m.To, err)
		}
	}
	if o.deliver {
		if _, err := q.Exec(ctx, `SELECT pg_notify($1, '')`, wakeChannel); err != nil {
			return fmt.Errorf("enqueue mail: wake sender: %w", err)
		}
	}
	return nil
}

const entryColumns = `site_id, id, meeting_id, recipient, subject, text_body, html_body, calendar, calendar_method, state, attempts, next_attempt_at, last_error, created_at, sent_at`

// Recent lists a site's latest messages, newest first: the development mail
// catcher when no SMTP server is configured.
func (o *Outbox) Recent(ctx context.Context, siteID int64, limit int) ([]Entry, error) {
	rows, err := o.pool.Query(ctx, `SELECT `+entryColumns+` FROM mail_outbox WHERE site_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, siteID, limit)
	if err != nil {
		return nil, fmt.Errorf("recent mail: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByName[Entry])
	if err != nil {
		return nil, fmt.Errorf("recent mail: %w", err)
	}
	return entries, nil
}

// Problems lists the messages about a meeting that have failed at least
// once and are not delivered (still retrying, or given up), newest first:
// what the host sees on the meeting page.
func (o *Outbox) Problems(ctx context.Context, siteID, meetingID int64) ([]Entry, error) {
	rows, err := o.pool.Query(ctx, `
SELECT `+entryColumns+` FROM mail_outbox
WHERE site_id = $1 AND meeting_id = $2 AND state IN ('queued', 'failed') AND last_error <> ''
ORDER BY created_at DESC, id DESC`, siteID, meetingID)
	if err != nil {
		return nil, fmt.Errorf("mail problems of meeting %d: %w", meetingID, err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByName[Entry])
	if err != nil {
		return nil, fmt.Errorf("mail problems of meeting %d: %w", meetingID, err)
	}
	return entries, nil
}
