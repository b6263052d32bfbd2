// Package session keeps server-side sessions in PostgreSQL, for site
// administrators and for signed-in users alike (separate kinds, separate
// cookies, separate timeouts). The browser holds only a random 256-bit token;
// the table holds its SHA-256, so any portal process can serve any request.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Kind separates admin sessions from user sessions: a token of one kind is
// never accepted as the other.
type Kind string

const (
	Admin Kind = "admin"
	User  Kind = "user"
)

// Policy bounds a session's life.
type Policy struct {
	Idle     time.Duration // since the last request
	Absolute time.Duration // since sign-in, whatever the activity
}

// AdminPolicy and UserPolicy are the defaults the issues fix.
var (
	AdminPolicy = Policy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}
	UserPolicy  = Policy{Idle: 8 * time.Hour, Absolute: 24 * time.Hour}
)

// ErrNotFound means no live session matches the token on this site.
var ErrNotFound = errors.New("session not found or expired")

// Session is a live session.
type Session struct {
	SiteID    int64     `db:"site_id"`
	ID        int64     `db:"id"`
	Kind      Kind      `db:"kind"`
	SubjectID int64     `db:"subject_id"`
	CreatedAt time.Time `db:"created_at"`
	// LastSeenAt moves at most once a minute (touchEvery).
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	Origin
}

// Origin is what a session records of the sign-in that started it.
type Origin struct {
	// UserAgent and ClientIP are the browser and address it signed in
	// from, shown to its user ("Signed in on") and to the site's admins.
	UserAgent string `db:"user_agent"`
	ClientIP  string `db:"client_ip"`
	// The identity provider's names for the sign-in, empty for a session
	// that did not come from SAML: the NameID exactly as the assertion gave
	// it, with its format and qualifiers, and the AuthnStatement's
	// SessionIndex. A LogoutRequest names the session with them, both ways
	// (saml-core §3.7.1).
	NameID          string `db:"name_id"`
	NameIDFormat    string `db:"name_id_format"`
	NameQualifier   string `db:"name_qualifier"`
	SPNameQualifier string `db:"sp_name_qualifier"`
	SessionIndex    string `db:"session_index"`
}

// maxUserAgent bounds the User-Agent kept: more than any real browser's.
const maxUserAgent = 512

// sessionColumns are the columns of a Session.
const sessionColumns = `site_id, id, kind, subject_id, created_at, last_seen_at, expires_at,
  user_agent, client_ip, name_id, name_id_format, name_qualifier, sp_name_qualifier, session_index`

// Store reads and writes sessions.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewStore returns a Store; now is the clock (time.Now outside tests).
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store {
	return &Store{pool: pool, now: now}
}

// NewToken returns a fresh random 256-bit token, URL-safe.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

const insertSession = `
INSERT INTO sessions (site_id, token_hash, kind, subject_id, created_at, last_seen_at, expires_at,
  user_agent, client_ip, name_id, name_id_format, name_qualifier, sp_name_qualifier, session_index)
VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

// Create starts a session that records no origin and returns its token.
func (s *Store) Create(ctx context.Context, q Querier, siteID int64, kind Kind, subjectID int64, p Policy) (string, error) {
	return s.CreateFrom(ctx, q, siteID, kind, subjectID, p, Origin{})
}

// CreateFrom starts a session that records origin and returns its token.
// Callers replace any token the browser brought, so a planted token never
// becomes a session (fixation).
func (s *Store) CreateFrom(ctx context.Context, q Querier, siteID int64, kind Kind, subjectID int64, p Policy, origin Origin) (string, error) {
	token, err := NewToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	if q == nil {
		q = s.pool
	}
	// Whatever the browser sent becomes a bounded, valid string: pages show it.
	ua := strings.ToValidUTF8(origin.UserAgent, "")
	if len(ua) > maxUserAgent {
		ua = strings.ToValidUTF8(ua[:maxUserAgent], "")
	}
	if _, err := q.Exec(ctx, insertSession, siteID, hashToken(token), kind, subjectID, now, now.Add(p.Absolute),
		ua, origin.ClientIP, origin.NameID, origin.NameIDFormat, origin.NameQualifier, origin.SPNameQualifier, origin.SessionIndex); err != nil {
		return "", fmt.Errorf("create %s session: %w", kind, err)
	}
	return token, nil
}

// Querier is a pool or a transaction, so a session can be created in the
// same transaction as the account it belongs to.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// touchEvery limits writes: last_seen_at moves at most once a minute per
// session, which is far finer than any idle timeout.
const touchEvery = time.Minute

// lookupSession reads the session and writes only when last_seen_at is to
// move: an UPDATE that sets a column to its own value still writes a new
// row version and makes the request wait for the WAL to reach the disk,
// which every page view would pay. When it writes, the row is checked again
// as it is then (a sign-out that deleted it meanwhile, or another request
// that moved it, wins), as the plain UPDATE did.
const lookupSession = lookupLive + `SELECT * FROM live`

// lookupLive is lookupSession as a WITH clause naming its row "live", for
// the statements that read more with it (NewSubject): a WITH holding an
// UPDATE must be the statement's own.
const lookupLive = `
WITH found AS (
  SELECT ` + sessionColumns + ` FROM sessions
  WHERE site_id = $1 AND token_hash = $2 AND kind = $3
    AND expires_at > $5 AND last_seen_at > $5 - $4::interval
), touched AS (
  UPDATE sessions s
  SET last_seen_at = CASE WHEN s.last_seen_at < $5 - $6::interval THEN $5 ELSE s.last_seen_at END
  FROM found f
  WHERE f.last_seen_at < $5 - $6::interval
    AND s.site_id = $1 AND s.token_hash = $2 AND s.kind = $3
    AND s.expires_at > $5 AND s.last_seen_at > $5 - $4::interval
  RETURNING s.*
), live AS (
  SELECT ` + sessionColumns + ` FROM touched
  UNION ALL
  SELECT ` + sessionColumns + ` FROM found WHERE last_seen_at >= $5 - $6::interval
)
`

// Subject is the table of the accounts a kind of session is of (users,
// site_admins), and the account's Go type A, for LookupWith. Make one with
// NewSubject.
type Subject[A any] struct {
	lookup string // lookupSession joined with the table
	// The fields the row is scanned into, by index, in the order of its
	// columns: the session's, then the account's.
	sessionFields, accountFields [][]int
}

// NewSubject describes table, keyed by (site_id, id) where a session's
// subject_id is the id, whose rows A holds: its columns are A's fields' db
// tags, in the order of the fields (embedded structs' in place), so that
// the row scanned by position cannot put a column in another field. It
// panics when an exported field of A has no db tag: a programming error,
// found when the package is loaded.
func NewSubject[A any](table string) Subject[A] {
	columns, accountFields := dbColumns(reflect.TypeFor[A]())
	for i, c := range columns {
		columns[i] = "t." + c
	}
	_, sessionFields := dbColumns(reflect.TypeFor[Session]())
	return Subject[A]{lookup: lookupLive + `SELECT live.*, ` + strings.Join(columns, ", ") + ` FROM live
JOIN ` + table + ` t ON t.site_id = live.site_id AND t.id = live.subject_id`,
		sessionFields: sessionFields, accountFields: accountFields}
}

// dbColumns are the db tags of t's exported fields in order, embedded
// structs' in place, and the fields' indexes.
func dbColumns(t reflect.Type) (columns []string, fields [][]int) {
	eachColumn(t, nil, func(index []int, column string) {
		columns, fields = append(columns, column), append(fields, index)
	})
	return columns, fields
}

// scanTargets points at fields of the struct v points to.
func scanTargets(targets []any, v any, fields [][]int) []any {
	s := reflect.ValueOf(v).Elem()
	for _, index := range fields {
		targets = append(targets, s.FieldByIndex(index).Addr().Interface())
	}
	return targets
}

// eachColumn calls fn with the index and db tag of each exported field of
// t, embedded structs' in place; a field tagged "-" is not a column.
func eachColumn(t reflect.Type, index []int, fn func(index []int, column string)) {
	for f := range t.Fields() {
		at := append(slices.Clone(index), f.Index...)
		switch tag := f.Tag.Get("db"); {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			eachColumn(f.Type, at, fn)
		case !f.IsExported() || tag == "-":
		case tag == "":
			panic(fmt.Sprintf("session subject %s: field %s has no db tag", t, f.Name))
		default:
			fn(at, tag)
		}
	}
}

// Lookup returns the live session for token on siteID and records the
// activity. An expired session is ErrNotFound.
func (s *Store) Lookup(ctx context.Context, siteID int64, kind Kind, token string, p Policy) (Session, error) {
	if token == "" {
		return Session{}, ErrNotFound
	}
	sess, err := collectOne(s.pool.Query(ctx, lookupSession, siteID, hashToken(token), kind, p.Idle, s.now(), touchEvery))
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up %s session: %w", kind, err)
	}
	return sess, nil
}

// lookupWith is Lookup that reads the session's account from subject's
// table in the same statement: a signed-in page view makes one round trip
// to PostgreSQL for both, not two. A session whose account is gone is
// ErrNotFound, as an expired one.
func lookupWith[A any](ctx context.Context, s *Store, siteID int64, kind Kind, token string, p Policy, subject Subject[A]) (Session, A, error) {
	var account A
	if token == "" {
		return Session{}, account, ErrNotFound
	}
	rows, _ := s.pool.Query(ctx, subject.lookup, siteID, hashToken(token), kind, p.Idle, s.now(), touchEvery)
	var sess Session
	targets := make([]any, 0, len(subject.sessionFields)+len(subject.accountFields))
	targets = scanTargets(scanTargets(targets, &sess, subject.sessionFields), &account, subject.accountFields)
	_, err := pgx.ForEachRow(rows, targets, func() error { return nil })
	if err == nil && sess.ID == 0 {
		err = pgx.ErrNoRows
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, account, ErrNotFound
	}
	if err != nil {
		return Session{}, account, fmt.Errorf("look up %s session: %w", kind, err)
	}
	return sess, account, nil
}

// Delete ends one session (sign-out). Ending an unknown session is not an error.
func (s *Store) Delete(ctx context.Context, siteID int64, kind Kind, token string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1 AND token_hash = $2 AND kind = $3`, siteID, hashToken(token), kind); err != nil {
		return fmt.Errorf("delete %s session: %w", kind, err)
	}
	return nil
}

// DeleteForSubject ends every session of one account (deactivation, removal).
func (s *Store) DeleteForSubject(ctx context.Context, siteID int64, kind Kind, subjectID int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1 AND kind = $2 AND subject_id = $3`, siteID, kind, subjectID); err != nil {
		return fmt.Errorf("delete sessions of %s %d: %w", kind, subjectID, err)
	}
	return nil
}

// EndOthersIn ends, in tx, every session of one account but keep (the one
// the account is using): after a password change, a session opened with
// the old password stops working. It returns how many ended.
func (s *Store) EndOthersIn(ctx context.Context, tx pgx.Tx, siteID int64, kind Kind, subjectID, keep int64) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1 AND kind = $2 AND subject_id = $3 AND id <> $4`, siteID, kind, subjectID, keep)
	if err != nil {
		return 0, fmt.Errorf("end other sessions of %s %d: %w", kind, subjectID, err)
	}
	return tag.RowsAffected(), nil
}

// DeleteExpired removes at most limit sessions past their absolute expiry or
// idle for longer than the longest idle timeout, and reports how many.
func (s *Store) DeleteExpired(ctx context.Context, limit int) (int64, error) {
	maxIdle := max(AdminPolicy.Idle, UserPolicy.Idle)
	tag, err := s.pool.Exec(ctx, `
DELETE FROM sessions WHERE ctid IN (
  SELECT ctid FROM sessions
  WHERE expires_at <= $1 OR last_seen_at <= $1 - $2::interval
  LIMIT $3 FOR UPDATE SKIP LOCKED)`, s.now(), maxIdle, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

func collectOne(rows pgx.Rows, err error) (Session, error) {
	if err != nil {
		return Session{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Session])
}

// Take ends the session of token (sign-out) and returns what it was, so
// that the sign-out can go on to the identity provider with the session's
// NameID and SessionIndex. ok is false when no session matched: it had
// ended already, or never existed.
func (s *Store) Take(ctx context.Context, siteID int64, kind Kind, token string) (sess Session, ok bool, err error) {
	if token == "" {
		return Session{}, false, nil
	}
	sess, err = collectOne(s.pool.Query(ctx, `DELETE FROM sessions WHERE site_id = $1 AND token_hash = $2 AND kind = $3
RETURNING `+sessionColumns, siteID, hashToken(token), kind))
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("end %s session: %w", kind, err)
	}
	return sess, true, nil
}

// live is the condition of a session that Lookup would still accept under
// policy ($3 the idle limit, $4 now).
const live = `expires_at > $4 AND last_seen_at > $4 - $3::interval`

// List returns the live sessions of one account, the newest first: what
// its user sees under "Signed in on".
func (s *Store) List(ctx context.Context, siteID int64, kind Kind, subjectID int64, p Policy) ([]Session, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
WHERE site_id = $1 AND kind = $2 AND subject_id = $5 AND `+live+`
ORDER BY created_at DESC, id DESC`, siteID, kind, p.Idle, s.now(), subjectID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s %d: %w", kind, subjectID, err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Session])
	if err != nil {
		return nil, fmt.Errorf("list sessions of %s %d: %w", kind, subjectID, err)
	}
	return list, nil
}

// ListOf returns the live sessions of one kind of the accounts subjectIDs
// on a site, by account, the newest first: what the admin's Users page
// shows beside the accounts it lists. Only those accounts' sessions are
// read: a large site at nine in the morning has tens of thousands.
func (s *Store) ListOf(ctx context.Context, siteID int64, kind Kind, subjectIDs []int64, p Policy) (map[int64][]Session, error) {
	bySubject := map[int64][]Session{}
	if len(subjectIDs) == 0 {
		return bySubject, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+sessionColumns+` FROM sessions
WHERE site_id = $1 AND kind = $2 AND subject_id = ANY($5) AND `+live+`
ORDER BY created_at DESC, id DESC`, siteID, kind, p.Idle, s.now(), subjectIDs)
	if err != nil {
		return nil, fmt.Errorf("list %s sessions: %w", kind, err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Session])
	if err != nil {
		return nil, fmt.Errorf("list %s sessions: %w", kind, err)
	}
	for _, sess := range list {
		bySubject[sess.SubjectID] = append(bySubject[sess.SubjectID], sess)
	}
	return bySubject, nil
}

// End ends sessions of one account in one transaction: the session id, or
// every one when id is 0. inTx, when not nil, runs in the same transaction
// with the number ended, so that an audit entry is written with the change
// or not at all. It reports how many sessions ended: pressed twice, the
// second press ends none.
func (s *Store) End(ctx context.Context, siteID int64, kind Kind, subjectID, id int64, inTx func(ctx context.Context, tx pgx.Tx, ended int64) error) (int64, error) {
	var ended int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1 AND kind = $2 AND subject_id = $3 AND ($4 = 0 OR id = $4)`,
			siteID, kind, subjectID, id)
		if err != nil {
			return fmt.Errorf("end sessions of %s %d: %w", kind, subjectID, err)
		}
		ended = tag.RowsAffected()
		if inTx != nil {
			return inTx(ctx, tx, ended)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return ended, nil
}

// unspecifiedFormat is the NameID format that says nothing, as if none
// were given (saml-core §8.3.1).
const unspecifiedFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

// EndNamed ends, inside the caller's transaction, the user sessions of a
// site that an identity provider's LogoutRequest names (saml-core §3.7.3.2):
// those whose NameID is nameID (and whose format is format, when both say
// one other than unspecified) and, when sessionIndexes are given, whose SessionIndex is one of
// them; with none given, every session of the accounts those NameIDs
// belong to, including the sessions that recorded no NameID. It returns
// the accounts it found and how many sessions ended.
func EndNamed(ctx context.Context, tx pgx.Tx, siteID int64, nameID, format string, sessionIndexes []string) (subjects []int64, ended int64, err error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT subject_id FROM sessions
WHERE site_id = $1 AND kind = 'user' AND name_id = $2 AND ($3 IN ('', $4) OR name_id_format IN ('', $3, $4))
ORDER BY subject_id`, siteID, nameID, format, unspecifiedFormat)
	if err != nil {
		return nil, 0, fmt.Errorf("find the sessions of NameID %s: %w", nameID, err)
	}
	subjects, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(subjects) == 0 {
		return nil, 0, err
	}
	var tag pgconn.CommandTag
	if len(sessionIndexes) == 0 {
		tag, err = tx.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1 AND kind = 'user' AND subject_id = ANY($2)`, siteID, subjects)
	} else {
		tag, err = tx.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1 AND kind = 'user' AND subject_id = ANY($2)
AND name_id = $3 AND session_index = ANY($4)`, siteID, subjects, nameID, sessionIndexes)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("end the sessions of NameID %s: %w", nameID, err)
	}
	return subjects, tag.RowsAffected(), nil
}
