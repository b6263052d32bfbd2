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
	SiteID    int64
	Kind      Kind
	SubjectID int64
	CreatedAt time.Time
}

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
INSERT INTO sessions (site_id, token_hash, kind, subject_id, created_at, last_seen_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $5, $6)`

// Create starts a session and returns its token. Callers replace any token
// the browser brought, so a planted token never becomes a session (fixation).
func (s *Store) Create(ctx context.Context, q Querier, siteID int64, kind Kind, subjectID int64, p Policy) (string, error) {
	token, err := NewToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	if q == nil {
		q = s.pool
	}
	if _, err := q.Exec(ctx, insertSession, siteID, hashToken(token), kind, subjectID, now, now.Add(p.Absolute)); err != nil {
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

const lookupSession = `
UPDATE sessions
SET last_seen_at = CASE WHEN last_seen_at < $5 - $6::interval THEN $5 ELSE last_seen_at END
WHERE site_id = $1 AND token_hash = $2 AND kind = $3
  AND expires_at > $5 AND last_seen_at > $5 - $4::interval
RETURNING site_id, kind, subject_id, created_at`

// Lookup returns the live session for token on siteID and records the
// activity. An expired session is ErrNotFound.
func (s *Store) Lookup(ctx context.Context, siteID int64, kind Kind, token string, p Policy) (Session, error) {
	if token == "" {
		return Session{}, ErrNotFound
	}
	var sess Session
	err := s.pool.QueryRow(ctx, lookupSession, siteID, hashToken(token), kind, p.Idle, s.now(), touchEvery).
		Scan(&sess.SiteID, &sess.Kind, &sess.SubjectID, &sess.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up %s session: %w", kind, err)
	}
	return sess, nil
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
