// Package audit records who changed what on a site, and when: every change
// an admin makes on the admin pages, an operator makes on the command line,
// or the portal makes by itself (the daily metadata refresh), listed on the
// Admin audit page; and every failed admin sign-in.
package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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
	Action     string    `db:"action"` // e.g. "sso.import-metadata"; see Words
	Details    Details   `db:"details"`
}

// Words is the entry's action in words.
func (e Entry) Words() string { return Words(e.Action) }

// Field is one named value of an entry's details: "Certificate SHA-256" and
// its fingerprint. A value without a name is a sentence of its own.
type Field struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}

// Details are an entry's fields, in the order they were recorded.
type Details []Field

// String is the details as one line, the way ParseDetail reads them back.
func (d Details) String() string {
	parts := make([]string, 0, len(d))
	for _, f := range d {
		if f.Name == "" {
			parts = append(parts, f.Value)
		} else {
			parts = append(parts, f.Name+": "+f.Value)
		}
	}
	return strings.Join(parts, "; ")
}

// ParseDetail reads a detail written as one line of text — items separated
// by "; ", each "name: value" when a short name comes first — into Details.
// Migration 0045 converted the rows written before Details existed by the
// same rule.
func ParseDetail(line string) Details {
	var d Details
	for _, item := range strings.Split(line, "; ") {
		if item == "" {
			continue
		}
		if i := strings.Index(item, ": "); i >= 1 && i <= maxFieldName && !strings.Contains(item[:i], "://") {
			d = append(d, Field{Name: item[:i], Value: item[i+2:]})
			continue
		}
		d = append(d, Field{Value: item})
	}
	return d
}

// maxFieldName is the longest text before ": " read as a name (in bytes, as
// PostgreSQL counts characters of ASCII names): longer, it is a sentence.
const maxFieldName = 40

// Log writes and reads a site's audit log.
type Log struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// New returns a Log.
func New(pool *pgxpool.Pool, now func() time.Time) *Log {
	return &Log{pool: pool, now: now}
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Record adds an entry on its own, its details written as one line (see
// ParseDetail).
func (l *Log) Record(ctx context.Context, siteID int64, actor, action, detail string) error {
	_, err := l.record(ctx, l.pool, siteID, actor, action, ParseDetail(detail))
	return err
}

// RecordIn adds an entry inside the transaction that makes the change it
// describes: the entry exists if and only if the change was committed.
func (l *Log) RecordIn(ctx context.Context, tx pgx.Tx, siteID int64, actor, action, detail string) error {
	_, err := l.record(ctx, tx, siteID, actor, action, ParseDetail(detail))
	return err
}

// RecordDetails adds an entry on its own, with its details as fields, and
// returns its id (for a banner that names what the change affected).
func (l *Log) RecordDetails(ctx context.Context, siteID int64, actor, action string, details Details) (int64, error) {
	return l.record(ctx, l.pool, siteID, actor, action, details)
}

// RecordDetailsIn is RecordIn with the details as fields.
func (l *Log) RecordDetailsIn(ctx context.Context, tx pgx.Tx, siteID int64, actor, action string, details Details) error {
	_, err := l.record(ctx, tx, siteID, actor, action, details)
	return err
}

func (l *Log) record(ctx context.Context, q querier, siteID int64, actor, action string, details Details) (int64, error) {
	if details == nil {
		details = Details{}
	}
	var id int64
	if err := q.QueryRow(ctx, `INSERT INTO admin_audit (site_id, occurred_at, actor, action, detail, details) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		siteID, l.now(), actor, action, details.String(), details).Scan(&id); err != nil {
		return 0, fmt.Errorf("record audit entry %s: %w", action, err)
	}
	return id, nil
}

// ErrNotFound: no such entry on the site.
var ErrNotFound = errors.New("audit entry not found")

// Entry returns one entry of a site's log.
func (l *Log) Entry(ctx context.Context, siteID, id int64) (Entry, error) {
	rows, err := l.pool.Query(ctx, `SELECT site_id, id, occurred_at, actor, action, details FROM admin_audit WHERE site_id = $1 AND id = $2`, siteID, id)
	if err != nil {
		return Entry{}, fmt.Errorf("audit entry %d: %w", id, err)
	}
	e, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Entry])
	if errors.Is(err, pgx.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("audit entry %d: %w", id, err)
	}
	return e, nil
}

// Value is the value of the entry's field named name, or "".
func (e Entry) Value(name string) string {
	for _, f := range e.Details {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Filter selects entries of a site's log. Zero fields select everything.
type Filter struct {
	Action string // exactly this action code
	Actor  string // this actor, in any case
	Limit  int
	Offset int
}

// Recent lists a site's entries, newest first.
func (l *Log) Recent(ctx context.Context, siteID int64, limit, offset int) ([]Entry, error) {
	return l.List(ctx, siteID, Filter{Limit: limit, Offset: offset})
}

// List lists a site's entries that match f, newest first.
func (l *Log) List(ctx context.Context, siteID int64, f Filter) ([]Entry, error) {
	rows, err := l.pool.Query(ctx, `SELECT site_id, id, occurred_at, actor, action, details FROM admin_audit
WHERE site_id = $1 AND ($2 = '' OR action = $2) AND ($3 = '' OR lower(actor) = lower($3))
ORDER BY occurred_at DESC, id DESC LIMIT $4 OFFSET $5`, siteID, f.Action, f.Actor, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByName[Entry])
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return entries, nil
}
