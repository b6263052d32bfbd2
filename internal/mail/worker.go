package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/meetings-portal/portal/internal/pgnotify"
)

// Worker sends the outbox. Run one in every portal process: rows are
// claimed with FOR UPDATE SKIP LOCKED, so workers never send the same
// message twice at once, and a message claimed by a process that died is
// taken again when its lease runs out.
type Worker struct {
	Pool *pgxpool.Pool
	// Listen is where the worker LISTENs for new mail: straight to
	// PostgreSQL, not through a transaction-pooling proxy; nil means the
	// pool's server.
	Listen *pgx.ConnConfig
	Sender Sender
	From   *mail.Address // PORTAL_MAIL_FROM
	Now    func() time.Time
	Log    *slog.Logger

	Poll        time.Duration // longest sleep between looks at the outbox; 0 means 30 s
	MaxAttempts int           // attempts before giving up; 0 means 10
	FirstRetry  time.Duration // delay after the first failure, doubled each time; 0 means 30 s
	MaxRetry    time.Duration // cap on that delay; 0 means 1 hour
	// Lease is how long a claimed message is left to its worker before
	// another may take it: longer than any send (the SMTP sender times
	// out after a minute). 0 means 5 minutes.
	Lease time.Duration
	Batch int // messages claimed per query; 0 means 20
}

func (w *Worker) poll() time.Duration       { return orDefault(w.Poll, 30*time.Second) }
func (w *Worker) firstRetry() time.Duration { return orDefault(w.FirstRetry, 30*time.Second) }
func (w *Worker) maxRetry() time.Duration   { return orDefault(w.MaxRetry, time.Hour) }
func (w *Worker) lease() time.Duration      { return orDefault(w.Lease, 5*time.Minute) }

func (w *Worker) maxAttempts() int {
	if w.MaxAttempts == 0 {
		return 10
	}
	return w.MaxAttempts
}

func (w *Worker) batch() int {
	if w.Batch == 0 {
		return 20
	}
	return w.Batch
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Backoff is the delay before the attempt after the given number of failed
// ones: FirstRetry, doubled per failure, capped at MaxRetry.
func (w *Worker) Backoff(failures int) time.Duration {
	d := w.firstRetry()
	for i := 1; i < failures && d < w.maxRetry(); i++ {
		d *= 2
	}
	return min(d, w.maxRetry())
}

// listenConfig is where the worker listens: Listen, else the pool's server.
func (w *Worker) listenConfig() *pgx.ConnConfig {
	if w.Listen != nil {
		return w.Listen.Copy()
	}
	return w.Pool.Config().ConnConfig.Copy()
}

// Run sends due messages until ctx ends, woken by Enqueue's NOTIFY and
// otherwise every Poll. It listens on a connection of its own rather than
// one of the pool's, which serve requests.
func (w *Worker) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	nudge := func() {
		select {
		case wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	listener := pgnotify.Listener{
		Config: w.listenConfig(), Channels: []string{wakeChannel}, Log: w.Log, Retry: 5 * time.Second,
		// A message queued while nobody listened is found by the send
		// that follows the reconnection (or the next Poll).
		Connected: nudge,
		Notified:  func(*pgconn.Notification) { nudge() },
	}
	go listener.Run(ctx)
	poll := time.NewTicker(w.poll())
	defer poll.Stop()
	for {
		if _, err := w.SendDue(ctx); err != nil && ctx.Err() == nil {
			w.Log.WarnContext(ctx, "mail worker: sending failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		}
	}
}

// The sender serves every site, so its claim is the one query here not
// filtered by site_id; each claimed row carries its site_id, and every write
// back names (site_id, id).
const claimDue = `
UPDATE mail_outbox o
SET attempts = o.attempts + 1, next_attempt_at = $1 + $2::interval
FROM (
    SELECT site_id, id FROM mail_outbox
    WHERE state = 'queued' AND next_attempt_at <= $1
    ORDER BY next_attempt_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
) due
WHERE o.site_id = due.site_id AND o.id = due.id
RETURNING o.site_id, o.id, o.meeting_id, o.recipient, o.subject, o.text_body, o.html_body, o.calendar,
          o.calendar_method, o.state, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at`

// SendDue sends every message that is due now, batch after batch, and
// reports how many were delivered.
func (w *Worker) SendDue(ctx context.Context) (int, error) {
	sent := 0
	for {
		rows, err := w.Pool.Query(ctx, claimDue, w.Now(), w.lease(), w.batch())
		if err != nil {
			return sent, fmt.Errorf("claim mail: %w", err)
		}
		due, err := pgx.CollectRows(rows, pgx.RowToStructByName[Entry])
		if err != nil {
			return sent, fmt.Errorf("claim mail: %w", err)
		}
		if len(due) == 0 {
			return sent, nil
		}
		for _, e := range due {
			ok, err := w.send(ctx, e)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
}

// send makes one attempt and records its outcome; it returns an error only
// when the outcome could not be recorded.
func (w *Worker) send(ctx context.Context, e Entry) (bool, error) {
	msg := Message{
		SiteID: e.SiteID, To: e.Recipient, Subject: e.Subject, Text: e.TextBody, HTML: e.HTMLBody,
		Calendar: e.Calendar, CalendarMethod: e.CalendarMethod,
	}
	raw, err := Compose(w.From, msg, w.Now())
	if err == nil {
		err = w.Sender.Send(ctx, w.From.Address, []string{e.Recipient}, raw)
	}
	now := w.Now()
	if err == nil {
		if _, err := w.Pool.Exec(ctx, `UPDATE mail_outbox SET state = 'sent', sent_at = $3, last_error = '' WHERE site_id = $1 AND id = $2`, e.SiteID, e.ID, now); err != nil {
			return true, fmt.Errorf("record mail %d sent: %w", e.ID, err)
		}
		return true, nil
	}
	if ctx.Err() != nil {
		// Shutting down: the lease returns the message to the queue.
		return false, ctx.Err()
	}
	state, next := StateQueued, now.Add(w.Backoff(e.Attempts))
	if Permanent(err) || e.Attempts >= w.maxAttempts() {
		state = StateFailed
	}
	w.Log.WarnContext(ctx, "mail not sent", "site_id", e.SiteID, "mail_id", e.ID, "attempt", e.Attempts, "state", state, "error", err.Error())
	if _, dbErr := w.Pool.Exec(ctx, `UPDATE mail_outbox SET state = $3, next_attempt_at = $4, last_error = $5 WHERE site_id = $1 AND id = $2`,
		e.SiteID, e.ID, state, next, truncate(err.Error(), 1000)); dbErr != nil {
		return false, fmt.Errorf("record mail %d failure: %w", e.ID, dbErr)
	}
	return false, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
