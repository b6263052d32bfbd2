package sites

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/identifier"
)

// The per-account limit on admin sign-in. The per-address rate limit
// (PORTAL's 10 a minute per client and site) does nothing against guesses
// spread over many addresses; this one counts failures per site and
// account, whatever address they come from: FreeFailures in a row are
// allowed, then each further failure locks the account for twice as long
// as the one before, from FirstLockout up to MaxLockout. It applies to
// e-mail addresses that have no account in the same way, so its answers
// reveal nothing about which accounts exist. A lockout that someone else
// can cause is also a way to keep the real admin out for a while: the
// back-off is capped, and the command line's reset-password still works.
const (
	FreeFailures = 5
	FirstLockout = time.Minute
	MaxLockout   = 15 * time.Minute
	// ForgetFailures is how long after the last failure the count starts
	// again.
	ForgetFailures = 24 * time.Hour
	// maxAddresses bounds the distinct addresses kept per account.
	maxAddresses = 16
)

// Lockouts counts failed admin sign-ins per site and account in
// PostgreSQL, so that the limit holds across portal processes.
type Lockouts struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewLockouts returns the admin sign-in limit over pool, on the portal's
// clock.
func NewLockouts(pool *pgxpool.Pool, now func() time.Time) *Lockouts {
	return &Lockouts{pool: pool, now: now}
}

// accountKey is what is stored of the typed e-mail address: the SHA-256 of
// its normalised form (identifier.NormalizeEmail, which Authenticate looks
// accounts up by, so that no spelling of an address gets a count of its
// own), or of the trimmed, lower-cased text when it is no address at all.
func accountKey(email string) []byte {
	key, err := identifier.NormalizeEmail(email)
	if err != nil {
		key = "invalid:" + strings.ToLower(strings.TrimSpace(email))
	}
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// LockedFor is how long sign-ins to the account stay refused, 0 if they
// are not.
func (l *Lockouts) LockedFor(ctx context.Context, siteID int64, email string) (time.Duration, error) {
	var until *time.Time
	err := l.pool.QueryRow(ctx, `SELECT locked_until FROM admin_signin_failures WHERE site_id = $1 AND account_key = $2`,
		siteID, accountKey(email)).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && until == nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("admin sign-in lockout: %w", err)
	}
	return max(until.Sub(l.now()), 0), nil
}

// Failure is the account's state after a failed sign-in.
type Failure struct {
	Failures  int           // in a row, since the count last started
	Addresses int           // distinct client addresses they came from
	LockedFor time.Duration // the lockout this failure started, 0 if none
}

// Failed records a failed sign-in from clientIP and locks the account when
// it has failed FreeFailures times or more.
func (l *Lockouts) Failed(ctx context.Context, siteID int64, email, clientIP string) (Failure, error) {
	now := l.now()
	var f Failure
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO admin_signin_failures AS f (site_id, account_key, failures, addresses, first_failed_at, last_failed_at)
VALUES ($1, $2, 1, ARRAY[$3::text], $4, $4)
ON CONFLICT (site_id, account_key) DO UPDATE SET
  failures = CASE WHEN f.last_failed_at < $5 THEN 1 ELSE f.failures + 1 END,
  addresses = CASE
    WHEN f.last_failed_at < $5 THEN ARRAY[$3::text]
    WHEN $3 = ANY (f.addresses) OR cardinality(f.addresses) >= $6 THEN f.addresses
    ELSE f.addresses || $3::text END,
  first_failed_at = CASE WHEN f.last_failed_at < $5 THEN $4 ELSE f.first_failed_at END,
  last_failed_at = $4
RETURNING failures, cardinality(addresses)`,
			siteID, accountKey(email), clientIP, now, now.Add(-ForgetFailures), maxAddresses).Scan(&f.Failures, &f.Addresses)
		if err != nil {
			return err
		}
		if f.Failures < FreeFailures {
			return nil
		}
		f.LockedFor = min(FirstLockout<<min(f.Failures-FreeFailures, 16), MaxLockout)
		_, err = tx.Exec(ctx, `UPDATE admin_signin_failures SET locked_until = $3 WHERE site_id = $1 AND account_key = $2`,
			siteID, accountKey(email), now.Add(f.LockedFor))
		return err
	})
	if err != nil {
		return Failure{}, fmt.Errorf("record failed admin sign-in: %w", err)
	}
	return f, nil
}

// Succeeded forgets the account's failures.
func (l *Lockouts) Succeeded(ctx context.Context, siteID int64, email string) error {
	if _, err := l.pool.Exec(ctx, `DELETE FROM admin_signin_failures WHERE site_id = $1 AND account_key = $2`, siteID, accountKey(email)); err != nil {
		return fmt.Errorf("clear failed admin sign-ins: %w", err)
	}
	return nil
}

// DeleteForgotten removes at most limit counts whose last failure is older
// than ForgetFailures and whose lockout is over, for the housekeeping job.
func (l *Lockouts) DeleteForgotten(ctx context.Context, limit int) (int64, error) {
	now := l.now()
	tag, err := l.pool.Exec(ctx, `DELETE FROM admin_signin_failures WHERE ctid IN (
  SELECT ctid FROM admin_signin_failures
  WHERE last_failed_at < $1 AND (locked_until IS NULL OR locked_until < $2) LIMIT $3 FOR UPDATE SKIP LOCKED)`,
		now.Add(-ForgetFailures), now, limit)
	if err != nil {
		return 0, fmt.Errorf("delete forgotten admin sign-in failures: %w", err)
	}
	return tag.RowsAffected(), nil
}
