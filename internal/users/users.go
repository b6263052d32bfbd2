// Package users owns a site's meeting users: accounts created just in time
// from the identity provider's attributes, kept up to date when the site asks
// for it, and the sign-in that turns an accepted assertion into a session.
package users

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
)

var (
	// ErrNotFound means no such account on this site.
	ErrNotFound = errors.New("user not found")
	// ErrNoAccount refuses a sign-in when the account does not exist and the
	// site does not create accounts automatically.
	ErrNoAccount = errors.New("no account on this site and Auto Account Creation is off")
	// ErrDeactivated refuses a deactivated account.
	ErrDeactivated = errors.New("account is deactivated")
	// ErrIdentityChanged refuses a sign-in whose uid belongs to an account
	// linked to another IdP object ID: the e-mail address was given to
	// someone else, who must not inherit the old owner's account.
	ErrIdentityChanged = errors.New("account identity changed")
	// ErrLookAlike refuses creating an account whose uid only looks like
	// an existing account's (b.sİmon@ beside b.simon@): whoever signs in as
	// it would pass for that person in every list and invitation.
	ErrLookAlike = errors.New("uid looks like another account's")
)

// ConflictError is a sign-in refused because of an existing account:
// Err is ErrIdentityChanged or ErrLookAlike, Account the account in the
// way, which the admin's re-link page shows beside the refused identity.
type ConflictError struct {
	Err     error
	Account User
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%v: account %s (id %d)", e.Err, e.Account.UID, e.Account.ID)
}
func (e *ConflictError) Unwrap() error { return e.Err }

// MissingAttributesError refuses creating an account without the attributes
// it needs; Names are the attribute names to add in the IdP.
type MissingAttributesError struct{ Names []string }

func (e *MissingAttributesError) Error() string {
	return "missing attributes: " + strings.Join(e.Names, ", ")
}

// User is a site's meeting user.
type User struct {
	SiteID       int64      `db:"site_id"`
	ID           int64      `db:"id"`
	UID          string     `db:"uid"`
	Email        string     `db:"email"`
	FirstName    string     `db:"first_name"`
	LastName     string     `db:"last_name"`
	ObjectID     string     `db:"object_id"`
	Role         string     `db:"role"`
	CreatedBy    string     `db:"created_by"`
	Active       bool       `db:"active"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	LastSignInAt *time.Time `db:"last_sign_in_at"`
}

// DisplayName is "First Last", or the e-mail when the names are unknown.
func (u User) DisplayName() string {
	if n := strings.TrimSpace(u.FirstName + " " + u.LastName); n != "" {
		return n
	}
	return u.Email
}

// Summary describes the account for the audit log.
func (u User) Summary() string {
	return fmt.Sprintf("%s (e-mail %s, name %q, role %s, id %d)", u.UID, u.Email, strings.TrimSpace(u.FirstName+" "+u.LastName), u.Role, u.ID)
}

// Store reads and writes users.
type Store struct {
	pool     *pgxpool.Pool
	sessions *session.Store
	now      func() time.Time
}

// NewStore returns a Store; sessions are created through sessions.
func NewStore(pool *pgxpool.Pool, sessions *session.Store, now func() time.Time) *Store {
	return &Store{pool: pool, sessions: sessions, now: now}
}

// Policy is the site's account settings for a sign-in.
type Policy struct {
	AutoCreate bool
	AutoUpdate bool
	Role       string // role of created accounts: "host" or "attendee"
}

const userColumns = `site_id, id, uid, email, first_name, last_name, object_id, role, created_by, active, created_at, updated_at, last_sign_in_at`

const selectForSignIn = `SELECT ` + userColumns + ` FROM users WHERE site_id = $1 AND uid = $2 FOR UPDATE`

const insertJIT = `
INSERT INTO users (site_id, uid, email, first_name, last_name, object_id, role, created_by, created_at, updated_at, last_sign_in_at, uid_skeleton)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'jit', $8, $8, $8, $9)
ON CONFLICT (site_id, uid) DO NOTHING
RETURNING ` + userColumns

// setOnSignIn is what a sign-in writes to an account: $3 Auto Account
// Update, $4–$7 the claims (e-mail, first and last name, object ID), $8
// now, $9 the uid's skeleton, $10 the role the user's groups give ("" for
// none: the role stays).
const setOnSignIn = `
UPDATE users SET
  email      = CASE WHEN $3 AND $4 <> '' THEN $4 ELSE email END,
  first_name = CASE WHEN $3 AND $5 <> '' THEN $5 ELSE first_name END,
  last_name  = CASE WHEN $3 AND $6 <> '' THEN $6 ELSE last_name END,
  object_id  = CASE WHEN object_id = '' THEN $7 ELSE object_id END,
  role       = CASE WHEN $3 AND $10 <> '' THEN $10 ELSE role END,
  updated_at = CASE WHEN $3 THEN $8 ELSE updated_at END,
  last_sign_in_at = $8,
  uid_skeleton = $9`

// updateOnSignIn updates account $2 found by the long way.
const updateOnSignIn = setOnSignIn + `
WHERE site_id = $1 AND id = $2
RETURNING ` + userColumns

// updateKnownOnSignIn is the common sign-in in one statement: an active
// account with exactly uid $2 whose object ID agrees with the claim is
// updated (and locked, as SELECT … FOR UPDATE would). No row means the long
// way, which tells the other cases apart.
const updateKnownOnSignIn = setOnSignIn + `
WHERE site_id = $1 AND uid = $2 AND active AND (object_id = '' OR $7 = '' OR object_id = $7)
RETURNING ` + userColumns

// SignIn finds or creates the account for id and starts a user session
// that records no origin, in one transaction: two first sign-ins of one new
// user at the same moment give one account and two sessions. It returns the
// account and the session token.
func (s *Store) SignIn(ctx context.Context, siteID int64, id Identity, p Policy) (User, string, error) {
	var user User
	var token string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		user, token, err = s.SignInTx(ctx, tx, siteID, id, p, session.Origin{})
		return err
	})
	if err != nil {
		return User{}, "", err
	}
	return user, token, nil
}

// SignInTx is SignIn inside the caller's transaction, so that the sign-in
// commits (or not) with whatever else the caller writes: the ACS commits the
// assertion's replay entry, the answered request, the account, the session
// and the success event together. On an error the caller rolls back. The
// session records origin: the browser, and the identity provider's names for
// the sign-in that Single Logout uses.
func (s *Store) SignInTx(ctx context.Context, tx pgx.Tx, siteID int64, id Identity, p Policy, origin session.Origin) (User, string, error) {
	if id.UID == "" {
		return User{}, "", &MissingAttributesError{Names: []string{"uid"}}
	}
	if p.Role == "" {
		p.Role = "host"
	}
	if id.Role == "" && id.RoleFromGroups {
		id.Role = p.Role
	}
	now := s.now()
	skeleton := identifier.Skeleton(id.UID)
	user, err := collectOne(tx.Query(ctx, updateKnownOnSignIn, siteID, id.UID, p.AutoUpdate, id.Email, id.FirstName, id.LastName, id.ObjectID, now, skeleton, id.Role))
	if err == nil {
		return s.startSession(ctx, tx, siteID, user, origin)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return User{}, "", fmt.Errorf("update account %s: %w", id.UID, err)
	}
	existing, created, err := s.findOrCreate(ctx, tx, siteID, id, p, now, skeleton)
	if err != nil {
		var conflict *ConflictError
		var missing *MissingAttributesError
		if errors.As(err, &conflict) || errors.As(err, &missing) || errors.Is(err, ErrNoAccount) {
			return User{}, "", err
		}
		return User{}, "", fmt.Errorf("find account %s: %w", id.UID, err)
	}
	if !existing.Active {
		return User{}, "", ErrDeactivated
	}
	if existing.ObjectID != "" && id.ObjectID != "" && existing.ObjectID != id.ObjectID {
		return User{}, "", &ConflictError{Err: ErrIdentityChanged, Account: existing}
	}
	user = existing
	// An account just created holds the claims already: no update. With
	// Auto Account Update, a role the groups give is kept current too: a
	// user moved out of the hosts' group is an attendee at the next
	// sign-in.
	if !created {
		if user, err = collectOne(tx.Query(ctx, updateOnSignIn, siteID, existing.ID, p.AutoUpdate, id.Email, id.FirstName, id.LastName, id.ObjectID, now, skeleton, id.Role)); err != nil {
			return User{}, "", fmt.Errorf("update account %s: %w", id.UID, err)
		}
	}
	return s.startSession(ctx, tx, siteID, user, origin)
}

// startSession starts the user session of a sign-in, in its transaction.
func (s *Store) startSession(ctx context.Context, tx pgx.Tx, siteID int64, user User, origin session.Origin) (User, string, error) {
	token, err := s.sessions.CreateFrom(ctx, tx, siteID, session.User, user.ID, session.UserPolicy, origin)
	if err != nil {
		return User{}, "", err
	}
	return user, token, nil
}

// lockSkeleton serialises, per site and skeleton, the sign-ins that may
// create an account, so that two look-alike uids signing in for the first
// time at the same moment cannot both be created.
const lockSkeleton = `SELECT pg_advisory_xact_lock(hashtextextended($1::bigint::text || '|' || $2::text, 0))`

// candidatesWhere selects the accounts that may stand in the way of
// creating uid $2 with skeleton $3: the one with that uid, those whose uid
// may look like it (its skeleton), and those whose skeleton is not known
// yet.
const candidatesWhere = `site_id = $1 AND (uid = $2 OR uid_skeleton = $3 OR uid_skeleton IS NULL)`

const selectCandidates = `SELECT ` + userColumns + `, uid_skeleton FROM users WHERE ` + candidatesWhere + ` FOR UPDATE`

// insertJITAlone creates the account when no account is there that may
// stand in its way: a user's first sign-in, sent with the lock. Its
// snapshot is taken after the lock is held, so it sees every account that
// a sign-in which held the lock before us created.
const insertJITAlone = `
INSERT INTO users (site_id, uid, email, first_name, last_name, object_id, role, created_by, created_at, updated_at, last_sign_in_at, uid_skeleton)
SELECT $1::bigint, $2::text, $4::text, $5::text, $6::text, $7::text, $8::text, 'jit', $9::timestamptz, $9, $9, $3::text
WHERE NOT EXISTS (SELECT FROM users WHERE ` + candidatesWhere + `)
ON CONFLICT (site_id, uid) DO NOTHING
RETURNING ` + userColumns

// findOrCreate finds the account of a sign-in that the one-statement
// update did not: an account with exactly the uid (deactivated, or linked
// to another object ID: the caller refuses it), the account that has the
// uid stored in an older form (re-keyed to uid), or, when the site creates
// accounts, a new one. An account whose uid only looks like uid is a
// *ConflictError with ErrLookAlike. created says the account is new.
//
// The common case, a first sign-in with no account of the site anywhere
// near the uid, is one round trip: the skeleton's lock and the insert are
// sent together. Only when something may be in the way are the candidates
// read, judged, and the account created after if none stands in the way.
func (s *Store) findOrCreate(ctx context.Context, tx pgx.Tx, siteID int64, id Identity, p Policy, now time.Time, skeleton string) (User, bool, error) {
	missing := id.Missing()
	role := p.Role
	if id.Role != "" {
		role = id.Role // the user's groups decide (ClaimMapping)
	}
	var candidates []candidate
	if p.AutoCreate && len(missing) == 0 {
		user, err := createAlone(ctx, tx, siteID, id, role, now, skeleton)
		if err == nil {
			return user, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return User{}, false, err
		}
		rows, err := tx.Query(ctx, selectCandidates, siteID, id.UID, skeleton)
		if candidates, err = collectCandidates(rows, err); err != nil {
			return User{}, false, err
		}
	} else {
		var err error
		if candidates, err = lockedCandidates(ctx, tx, siteID, id.UID, skeleton); err != nil {
			return User{}, false, err
		}
	}
	user, err := s.sameOrLookAlike(ctx, tx, siteID, id.UID, candidates)
	if !errors.Is(err, pgx.ErrNoRows) {
		return user, false, err
	}
	if !p.AutoCreate {
		return User{}, false, ErrNoAccount
	}
	if len(missing) > 0 {
		return User{}, false, &MissingAttributesError{Names: missing}
	}
	user, err = collectOne(tx.Query(ctx, insertJIT, siteID, id.UID, id.Email, id.FirstName, id.LastName, id.ObjectID, role, now, skeleton))
	if errors.Is(err, pgx.ErrNoRows) {
		// Another sign-in, or an admin, created it after our candidates
		// were read; the INSERT waited for that transaction, so it is
		// visible now.
		user, err = collectOne(tx.Query(ctx, selectForSignIn, siteID, id.UID))
		return user, false, err
	}
	return user, err == nil, err
}

// createAlone takes the skeleton's lock and creates the account unless an
// account may stand in its way (pgx.ErrNoRows), in one round trip.
func createAlone(ctx context.Context, tx pgx.Tx, siteID int64, id Identity, role string, now time.Time, skeleton string) (User, error) {
	batch := &pgx.Batch{}
	batch.Queue(lockSkeleton, siteID, skeleton)
	batch.Queue(insertJITAlone, siteID, id.UID, skeleton, id.Email, id.FirstName, id.LastName, id.ObjectID, role, now)
	results := tx.SendBatch(ctx, batch)
	defer results.Close()
	if _, err := results.Exec(); err != nil {
		return User{}, fmt.Errorf("lock skeleton: %w", err)
	}
	user, err := collectOne(results.Query())
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("create account: %w", err)
	}
	if closeErr := results.Close(); closeErr != nil {
		return User{}, fmt.Errorf("create account: %w", closeErr)
	}
	return user, err
}

// candidate is an account that may stand in the way of a new uid.
type candidate struct {
	User
	Skeleton *string `db:"uid_skeleton"`
}

// lockedCandidates takes the skeleton's lock and reads the accounts that
// may stand in the way of uid, in one round trip.
func lockedCandidates(ctx context.Context, tx pgx.Tx, siteID int64, uid, skeleton string) ([]candidate, error) {
	batch := &pgx.Batch{}
	batch.Queue(lockSkeleton, siteID, skeleton)
	batch.Queue(selectCandidates, siteID, uid, skeleton)
	results := tx.SendBatch(ctx, batch)
	defer results.Close()
	if _, err := results.Exec(); err != nil {
		return nil, fmt.Errorf("lock skeleton: %w", err)
	}
	candidates, err := collectCandidates(results.Query())
	if err != nil {
		return nil, err
	}
	return candidates, results.Close()
}

func collectCandidates(rows pgx.Rows, err error) ([]candidate, error) {
	if err != nil {
		return nil, fmt.Errorf("find accounts in the way: %w", err)
	}
	candidates, err := pgx.CollectRows(rows, pgx.RowToStructByName[candidate])
	if err != nil {
		return nil, fmt.Errorf("find accounts in the way: %w", err)
	}
	return candidates, nil
}

// sameOrLookAlike decides, among the candidates, the account of uid: the
// one with exactly uid, the one that has the same identifier stored in an
// older form (a uid lower-cased before PRECIS, whose normalised form is
// uid: it is re-keyed to uid), a *ConflictError with ErrLookAlike for an
// account whose uid only looks like uid, or pgx.ErrNoRows. Skeletons not
// known yet are computed and stored on the way.
func (s *Store) sameOrLookAlike(ctx context.Context, tx pgx.Tx, siteID int64, uid string, candidates []candidate) (User, error) {
	for _, c := range candidates {
		if c.UID == uid {
			return c.User, nil
		}
	}
	for _, c := range candidates {
		stored := c.UID
		if normalised, err := identifier.Normalize(c.UID); err == nil {
			stored = normalised
		}
		if c.Skeleton == nil {
			if _, err := tx.Exec(ctx, `UPDATE users SET uid_skeleton = $3 WHERE site_id = $1 AND id = $2`,
				siteID, c.ID, identifier.Skeleton(stored)); err != nil {
				return User{}, fmt.Errorf("store skeleton of account %d: %w", c.ID, err)
			}
		}
		switch {
		case stored == uid:
			if _, err := tx.Exec(ctx, `UPDATE users SET uid = $3 WHERE site_id = $1 AND id = $2`, siteID, c.ID, uid); err != nil {
				return User{}, fmt.Errorf("re-key account %d to %s: %w", c.ID, uid, err)
			}
			return collectOne(tx.Query(ctx, selectForSignIn, siteID, uid))
		case identifier.LookAlike(stored, uid):
			return User{}, &ConflictError{Err: ErrLookAlike, Account: c.User}
		}
	}
	return User{}, pgx.ErrNoRows
}

func collectOne(rows pgx.Rows, err error) (User, error) {
	if err != nil {
		return User{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
}

// ByID returns one account of a site.
func (s *Store) ByID(ctx context.Context, siteID, id int64) (User, error) {
	u, err := collectOne(s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE site_id = $1 AND id = $2`, siteID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("look up user %d: %w", id, err)
	}
	return u, nil
}

// List returns a site's accounts by uid.
func (s *Store) List(ctx context.Context, siteID int64) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE site_id = $1 ORDER BY uid`, siteID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[User])
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list, nil
}

// Filter selects a site's accounts for the Users page and its export.
type Filter struct {
	// Query is text the uid, e-mail address or name contains, as typed
	// (any case; % and _ are plain characters). "" selects every account.
	Query  string
	Limit  int // 0: no limit (the export)
	Offset int
}

// searchUsers is the accounts of a site a Filter selects, by uid. The
// filter is a substring search; a site's accounts number in the
// thousands, which a scan of the site's rows serves in milliseconds.
const searchUsers = `SELECT ` + userColumns + ` FROM users
WHERE site_id = $1 AND ($2 = '' OR uid ILIKE '%' || $2 || '%' OR email ILIKE '%' || $2 || '%'
  OR (first_name || ' ' || last_name) ILIKE '%' || $2 || '%')
ORDER BY uid LIMIT $3 OFFSET $4`

// Search lists the accounts of a site that f selects, by uid.
func (s *Store) Search(ctx context.Context, siteID int64, f Filter) ([]User, error) {
	var list []User
	err := s.EachUser(ctx, siteID, f, func(u User) error {
		list = append(list, u)
		return nil
	})
	return list, err
}

// EachUser calls fn with each account f selects, by uid, as they are read.
func (s *Store) EachUser(ctx context.Context, siteID int64, f Filter, fn func(User) error) error {
	limit := any(nil) // LIMIT NULL: all
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := s.pool.Query(ctx, searchUsers, siteID, database.LikeLiteral(strings.TrimSpace(f.Query)), limit, f.Offset)
	if err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := pgx.RowToStructByName[User](rows)
		if err != nil {
			return fmt.Errorf("search users: %w", err)
		}
		if err := fn(u); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search users: %w", err)
	}
	return nil
}

// SetActive deactivates or reactivates an account; deactivating ends its
// sessions at once. It reports whether the account changed: pressed twice,
// the second press changes nothing.
func (s *Store) SetActive(ctx context.Context, siteID, id int64, active bool) (changed bool, err error) {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET active = $3, updated_at = $4 WHERE site_id = $1 AND id = $2 AND active <> $3`,
		siteID, id, active, s.now())
	if err != nil {
		return false, fmt.Errorf("set user %d active=%v: %w", id, active, err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.ByID(ctx, siteID, id); err != nil {
			return false, err
		}
	}
	if !active {
		// Again even when it was deactivated already: no session of a
		// deactivated account may remain.
		if err := s.sessions.DeleteForSubject(ctx, siteID, session.User, id); err != nil {
			return false, err
		}
	}
	return tag.RowsAffected() == 1, nil
}

// Relink forgets the IdP object ID stored with an account, so that the next
// sign-in with its uid links the account to whoever that is now. It is the
// admin's answer to an account-identity-changed refusal, after checking that
// the new person is meant to have the account (the e-mail address was given
// to a successor, or the IdP tenant was migrated). The account's sessions end
// at once: they belong to the person it is being taken from. An account
// linked to no object (re-linked already) is not changed (changed false).
func (s *Store) Relink(ctx context.Context, siteID, id int64) (changed bool, err error) {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET object_id = '', updated_at = $3 WHERE site_id = $1 AND id = $2 AND object_id <> ''`,
		siteID, id, s.now())
	if err != nil {
		return false, fmt.Errorf("re-link user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		_, err := s.ByID(ctx, siteID, id)
		return false, err
	}
	return true, s.sessions.DeleteForSubject(ctx, siteID, session.User, id)
}

// ErrExists refuses an account whose uid the site already has.
var ErrExists = errors.New("an account with this uid already exists on this site")

// NewAccount is an account made by an admin before its user first signs
// in: the way in for a site whose Auto Account Creation is off.
type NewAccount struct {
	Email     string
	UID       string // "" for the e-mail address, which is what Azure sends as uid by default
	FirstName string
	LastName  string
	Role      string // "host" (the default) or "attendee"
}

// AccountErrors maps a field of a NewAccount, by its input name on the
// Users page (email, uid, first_name, last_name, role), to what is wrong
// with it, in words for the admin.
type AccountErrors map[string]string

func (e AccountErrors) Error() string {
	keys := slices.Sorted(maps.Keys(e))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e[k]
	}
	return "invalid account: " + strings.Join(parts, "; ")
}

// maxNameLength bounds a first or last name.
const maxNameLength = 200

// normalize checks a and returns it as stored: the e-mail address and uid
// trimmed and lower-cased (an account is found by its lower-cased uid),
// the names trimmed, the role defaulted.
func (a NewAccount) normalize() (NewAccount, AccountErrors) {
	errs := AccountErrors{}
	email, err := sites.NormalizeEmail(a.Email)
	if err != nil {
		errs["email"] = "Enter an e-mail address such as b.simon@example.com."
	}
	a.Email = email
	a.UID = strings.TrimSpace(a.UID)
	if a.UID == "" {
		a.UID = email
	}
	// The same rules as an identity provider's uid at sign-in (RFC 8265),
	// so the account is found by the uid the IdP will send.
	if uid, err := identifier.Normalize(a.UID); err != nil {
		errs["uid"] = "Enter the uid the identity provider sends (Azure: the user principal name, such as b.simon@example.com), or leave it empty to use the e-mail address."
	} else {
		a.UID = uid
	}
	a.FirstName, a.LastName = strings.TrimSpace(a.FirstName), strings.TrimSpace(a.LastName)
	for field, name := range map[string]string{"first_name": a.FirstName, "last_name": a.LastName} {
		if utf8.RuneCountInString(name) > maxNameLength {
			errs[field] = fmt.Sprintf("At most %d characters.", maxNameLength)
		}
	}
	switch a.Role {
	case "":
		a.Role = "host"
	case "host", "attendee":
	default:
		errs["role"] = "Choose host or attendee."
	}
	if len(errs) > 0 {
		return a, errs
	}
	return a, nil
}

const insertByAdmin = `
INSERT INTO users (site_id, uid, email, first_name, last_name, role, created_by, created_at, updated_at, uid_skeleton)
VALUES ($1, $2, $3, $4, $5, $6, 'admin', $7, $7, $8)
ON CONFLICT (site_id, uid) DO NOTHING
RETURNING ` + userColumns

// Create makes an account before its user's first sign-in (created by
// "admin"): at that sign-in the account is found by its uid whether or not
// the site creates accounts automatically, and linked to the identity
// provider's object ID. Bad input is AccountErrors, an existing uid
// ErrExists. inTx, when not nil, runs in the same transaction with the new
// account: the caller's audit entry is written with it or not at all.
func (s *Store) Create(ctx context.Context, siteID int64, a NewAccount, inTx func(context.Context, pgx.Tx, User) error) (User, error) {
	a, errs := a.normalize()
	if errs != nil {
		return User{}, errs
	}
	var user User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		skeleton := identifier.Skeleton(a.UID)
		// An account whose uid only looks like this one's would let one
		// person sign in as the other: refused as a sign-in would be.
		candidates, err := lockedCandidates(ctx, tx, siteID, a.UID, skeleton)
		if err != nil {
			return err
		}
		existing, err := s.sameOrLookAlike(ctx, tx, siteID, a.UID, candidates)
		if err == nil {
			return fmt.Errorf("uid %s: %w", existing.UID, ErrExists)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		user, err = collectOne(tx.Query(ctx, insertByAdmin, siteID, a.UID, a.Email, a.FirstName, a.LastName, a.Role, s.now(), skeleton))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("uid %s: %w", a.UID, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("create account %s: %w", a.UID, err)
		}
		if inTx != nil {
			return inTx(ctx, tx, user)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return user, nil
}
