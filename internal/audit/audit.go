// Package audit records who changed what on a site, and when: every change
// an admin makes on the admin pages, an operator makes on the command line,
// or the portal makes by itself (the daily metadata refresh), listed on the
// Admin audit page.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Actors that are not an admin (an admin is named by their e-mail address).
const (
	// Portal is the portal itself: the daily metadata refresh.
	Portal = "portal"
	// CommandLine is an operator running `portal …`.
	CommandLine = "command line"
)

// Entry is one recorded change.
type Entry struct {
	SiteID     int64     `db:"site_id"`
	ID         int64     `db:"id"`
	OccurredAt time.Time `db:"occurred_at"`
	Actor      string    `db:"actor"`  // the admin's e-mail, CommandLine or Portal
	Action     string    `db:"action"` // e.g. "sso.import-metadata"
	Detail     string    `db:"detail"`
}

// Log writes and reads a site's audit log.
type Log struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// New returns a Log.
func New(pool *pgxpool.Pool, now func() time.Time) *Log {
	return &Log{pool: pool, now: now}
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Record adds an entry on its own.
func (l *Log) Record(ctx context.Context, siteID int64, actor, action, detail string) error {
	return l.record(ctx, l.pool, siteID, actor, action, detail)
}

// RecordIn adds an entry inside the transaction that makes the change it
// describes: the entry exists if and only if the change was committed.
func (l *Log) RecordIn(ctx context.Context, tx pgx.Tx, siteID int64, actor, action, detail string) error {
	return l.record(ctx, tx, siteID, actor, action, detail)
}

func (l *Log) record(ctx context.Context, q execer, siteID int64, actor, action, detail string) error {
	if _, err := q.Exec(ctx, `INSERT INTO admin_audit (site_id, occurred_at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)`,
		siteID, l.now(), actor, action, detail); err != nil {
		return fmt.Errorf("record audit entry %s: %w", action, err)
	}
	return nil
}

// Recent lists a site's entries, newest first.
func (l *Log) Recent(ctx context.Context, siteID int64, limit, offset int) ([]Entry, error) {
	rows, err := l.pool.Query(ctx, `SELECT site_id, id, occurred_at, actor, action, detail FROM admin_audit
WHERE site_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2 OFFSET $3`, siteID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByName[Entry])
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return entries, nil
}
