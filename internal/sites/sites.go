// Package sites owns the customer sites (each served at <name>.<base host>)
// and their local administrator accounts, which keep working when SSO is
// broken.
package sites

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/cache"
	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/password"
)

var (
	// ErrInvalid wraps every refusal of bad input (name, e-mail, password).
	ErrInvalid = errors.New("invalid")
	// ErrExists means the site or admin already exists.
	ErrExists = errors.New("already exists")
	// ErrNotFound means no such site or admin.
	ErrNotFound = errors.New("not found")
	// ErrBadCredentials is the one answer for a wrong e-mail or a wrong
	// password, so sign-in does not reveal which accounts exist.
	ErrBadCredentials = errors.New("wrong e-mail address or password")
)

// Reserved names are hosts the portal itself uses or may use.
var reserved = map[string]bool{"www": true, "my": true, "admin": true, "api": true, "idp": true, "static": true}

var labelPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// invalidError is a refusal of bad input: its message names the problem on
// its own, and it matches ErrInvalid.
type invalidError struct{ msg string }

func (e invalidError) Error() string        { return e.msg }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return invalidError{msg: fmt.Sprintf(format, args...)}
}

// NormalizeName lower-cases name and checks it is a usable DNS label.
func NormalizeName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch {
	case n == "":
		return "", invalidf("site name is empty")
	case len(n) > 63:
		return "", invalidf("site name %q is longer than 63 characters", name)
	case !labelPattern.MatchString(n):
		return "", invalidf("site name %q must be letters a-z, digits and '-', not starting or ending with '-'", name)
	case reserved[n]:
		return "", invalidf("site name %q is reserved", name)
	}
	return n, nil
}

// NormalizeEmail normalises an admin's e-mail address as every account
// identifier is (identifier.NormalizeEmail: RFC 8265, so that no other
// spelling, such as one with U+0130, names the same admin) and checks its
// form.
func NormalizeEmail(email string) (string, error) {
	e, err := identifier.NormalizeEmail(email)
	if err != nil {
		return "", invalidf("%q is not an e-mail address", email)
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		return "", invalidf("%q is not an e-mail address", email)
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || !strings.Contains(e[at+1:], ".") {
		return "", invalidf("%q is not an e-mail address", email)
	}
	return e, nil
}

// Site is one customer site.
type Site struct {
	ID        int64     `db:"id"`
	Name      string    `db:"name"`
	CreatedAt time.Time `db:"created_at"`
}

// Admin is a site's local administrator.
type Admin struct {
	SiteID       int64     `db:"site_id"`
	ID           int64     `db:"id"`
	Email        string    `db:"email"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// Store reads and writes sites and their admins.
type Store struct {
	pool *pgxpool.Pool
	// dummyHash is verified against when the e-mail is unknown, so a wrong
	// e-mail costs the same time as a wrong password. It is made at the
	// first sign-in, not at start: hashing holds 64 MiB, which a process
	// that never signs an admin in (every command) should not pay.
	dummyHash func() (string, error)
	// verifySlots bounds concurrent password verifications (see ErrBusy).
	verifySlots chan struct{}
	// byName keeps the sites looked up by name (every request's host),
	// forgotten on any change to the sites table (see CacheOn).
	byName *cache.Cache[string, Site]
}

// cachedSites is how many sites a process keeps by name; a site of 10,000
// takes a few hundred bytes.
const cachedSites = 10000

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{
		pool: pool,
		dummyHash: sync.OnceValues(func() (string, error) {
			return password.Hash("not a real password, only for timing")
		}),
		verifySlots: make(chan struct{}, runtime.NumCPU()),
		byName:      cache.New[string, Site](cachedSites),
	}
}

// ErrBusy refuses a sign-in when every password-hashing slot stays taken:
// each argon2id verification holds 64 MiB, so their number is bounded per
// process rather than left to the number of attackers.
var ErrBusy = errors.New("too many sign-ins at once; try again in a moment")

// verify checks pw against hash in one of the bounded slots.
func (s *Store) verify(ctx context.Context, hash, pw string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	select {
	case s.verifySlots <- struct{}{}:
	case <-ctx.Done():
		return ErrBusy
	}
	defer func() { <-s.verifySlots }()
	return password.Verify(hash, pw)
}

const insertSite = `INSERT INTO sites (name) VALUES ($1) RETURNING id, name, created_at`

// Create makes a site and its first admin in one transaction; on any error
// nothing is written. setUp, when not nil, adds what else a site needs (its
// SP key) in the same transaction.
func (s *Store) Create(ctx context.Context, name, adminEmail, adminPassword string, setUp func(context.Context, pgx.Tx, Site) error) (Site, error) {
	name, err := NormalizeName(name)
	if err != nil {
		return Site{}, err
	}
	email, hash, err := prepareAdmin(adminEmail, adminPassword)
	if err != nil {
		return Site{}, err
	}
	var site Site
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, insertSite, name)
		site, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Site])
		if isUniqueViolation(err) {
			return fmt.Errorf("site %q %w", name, ErrExists)
		}
		if err != nil {
			return fmt.Errorf("insert site: %w", err)
		}
		_, err = tx.Exec(ctx, insertAdmin, site.ID, email, hash)
		if err != nil {
			return fmt.Errorf("insert admin: %w", err)
		}
		if setUp != nil {
			return setUp(ctx, tx, site)
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrExists) {
		return Site{}, fmt.Errorf("create site %q: %w", name, err)
	}
	return site, err
}

func prepareAdmin(email, pw string) (string, string, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return "", "", err
	}
	if err := password.Validate(pw); err != nil {
		return "", "", invalidf("%s", err)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return "", "", err
	}
	return email, hash, nil
}

// ByName returns the site called name (any case), or ErrNotFound.
func (s *Store) ByName(ctx context.Context, name string) (Site, error) {
	key := strings.ToLower(name)
	site, epoch, ok := s.byName.Get(key)
	if ok {
		return site, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, name, created_at FROM sites WHERE name = $1`, key)
	site, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Site])
	if errors.Is(err, pgx.ErrNoRows) {
		// Not kept: anyone can ask for any host, and the cache must not
		// fill with names that do not exist.
		return Site{}, fmt.Errorf("site %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Site{}, fmt.Errorf("look up site %q: %w", name, err)
	}
	s.byName.Put(key, epoch, site)
	return site, nil
}

// CacheOn starts keeping sites by name: the process now hears every change
// to the sites table (portal_config).
func (s *Store) CacheOn() { s.byName.Reset(true) }

// Preload reads up to the cache's size of sites in one query and keeps
// them, so that the first request of each site after a start or a full
// refresh does not pay a lookup of its own: with 10,000 sites that was
// nearly every request for minutes. A change heard while it reads wins.
func (s *Store) Preload(ctx context.Context) error {
	if !s.byName.On() {
		return nil
	}
	epoch := s.byName.Epoch()
	rows, _ := s.pool.Query(ctx, `SELECT id, name, created_at FROM sites ORDER BY id LIMIT $1`, cachedSites)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Site])
	if err != nil {
		return fmt.Errorf("preload sites: %w", err)
	}
	for _, site := range list {
		s.byName.Put(site.Name, epoch, site)
	}
	return nil
}

// CacheOff stops keeping sites: changes may go unheard.
func (s *Store) CacheOff() { s.byName.Reset(false) }

// Forget drops every site kept, after a change to the sites table.
func (s *Store) Forget() { s.byName.ForgetAll() }

// Summary is a row of `portal site list`.
type Summary struct {
	Site
	Admins int `db:"admins"`
}

// List returns every site with its admin count, by name.
func (s *Store) List(ctx context.Context) ([]Summary, error) {
	rows, _ := s.pool.Query(ctx, `
SELECT s.id, s.name, s.created_at, count(a.id)::int AS admins
FROM sites s LEFT JOIN site_admins a ON a.site_id = s.id
GROUP BY s.id ORDER BY s.name`)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Summary])
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return list, nil
}

const insertAdmin = `INSERT INTO site_admins (site_id, email, password_hash) VALUES ($1, $2, $3)`

// CreateAdmin adds an administrator to a site.
func (s *Store) CreateAdmin(ctx context.Context, siteID int64, email, pw string) error {
	email, hash, err := prepareAdmin(email, pw)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, insertAdmin, siteID, email, hash)
	if isUniqueViolation(err) {
		return fmt.Errorf("admin %s %w", email, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create admin %s: %w", email, err)
	}
	return nil
}

// SetAdminPassword replaces an admin's password (reset-password).
func (s *Store) SetAdminPassword(ctx context.Context, siteID int64, email, pw string) (Admin, error) {
	email, hash, err := prepareAdmin(email, pw)
	if err != nil {
		return Admin{}, err
	}
	rows, _ := s.pool.Query(ctx, `UPDATE site_admins SET password_hash = $3 WHERE site_id = $1 AND email = $2
RETURNING site_id, id, email, password_hash, created_at`, siteID, email, hash)
	admin, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Admin])
	if errors.Is(err, pgx.ErrNoRows) {
		return Admin{}, fmt.Errorf("admin %s: %w", email, ErrNotFound)
	}
	if err != nil {
		return Admin{}, fmt.Errorf("set password of %s: %w", email, err)
	}
	return admin, nil
}

// ChangeAdminPassword replaces the password of admin id after checking
// their current one (ErrBadCredentials when it is wrong; an invalid new
// one is an error of the kind CreateAdmin returns). inTx, when not nil,
// runs in the same transaction: the admin's other sessions end and the
// audit entry is written with the change or not at all.
func (s *Store) ChangeAdminPassword(ctx context.Context, siteID, id int64, current, next string, inTx func(context.Context, pgx.Tx, Admin) error) error {
	admin, err := s.AdminByID(ctx, siteID, id)
	if err != nil {
		return err
	}
	if err := s.verify(ctx, admin.PasswordHash, current); err != nil {
		if errors.Is(err, ErrBusy) {
			return err
		}
		return ErrBadCredentials
	}
	if err := password.Validate(next); err != nil {
		return invalidf("%s", err)
	}
	hash, err := password.Hash(next)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Only if the password is still the one checked: two changes at
		// once do not both succeed on the same current password.
		tag, err := tx.Exec(ctx, `UPDATE site_admins SET password_hash = $4 WHERE site_id = $1 AND id = $2 AND password_hash = $3`,
			siteID, id, admin.PasswordHash, hash)
		if err != nil {
			return fmt.Errorf("change password of admin %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrBadCredentials
		}
		if inTx != nil {
			return inTx(ctx, tx, admin)
		}
		return nil
	})
}

const selectAdmin = `SELECT site_id, id, email, password_hash, created_at FROM site_admins`

// Authenticate checks an admin's credentials on one site. A wrong e-mail and
// a wrong password both give ErrBadCredentials after the same work.
func (s *Store) Authenticate(ctx context.Context, siteID int64, email, pw string) (Admin, error) {
	// An address that does not normalise names no admin; it is looked up
	// all the same (as "") so that it costs what a wrong one does.
	normalised, _ := identifier.NormalizeEmail(email)
	rows, _ := s.pool.Query(ctx, selectAdmin+` WHERE site_id = $1 AND email = $2 AND $2 <> ''`, siteID, normalised)
	admin, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Admin])
	if errors.Is(err, pgx.ErrNoRows) {
		dummy, err := s.dummyHash()
		if err != nil {
			return Admin{}, fmt.Errorf("authenticate admin: %w", err)
		}
		if err := s.verify(ctx, dummy, pw); errors.Is(err, ErrBusy) {
			return Admin{}, err
		}
		return Admin{}, ErrBadCredentials
	}
	if err != nil {
		return Admin{}, fmt.Errorf("authenticate admin: %w", err)
	}
	if err := s.verify(ctx, admin.PasswordHash, pw); err != nil {
		if errors.Is(err, ErrBusy) {
			return Admin{}, err
		}
		return Admin{}, ErrBadCredentials
	}
	return admin, nil
}

// AdminByID returns one admin of a site.
func (s *Store) AdminByID(ctx context.Context, siteID, id int64) (Admin, error) {
	rows, _ := s.pool.Query(ctx, selectAdmin+` WHERE site_id = $1 AND id = $2`, siteID, id)
	admin, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Admin])
	if errors.Is(err, pgx.ErrNoRows) {
		return Admin{}, fmt.Errorf("admin %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Admin{}, fmt.Errorf("look up admin %d: %w", id, err)
	}
	return admin, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Refusals of RemoveAdmin: a site always keeps an admin who can sign in
// locally (the way back in when SSO is broken), and an admin does not lock
// themselves out by accident.
var (
	ErrLastAdmin  = errors.New("the last admin of a site cannot be removed")
	ErrRemoveSelf = errors.New("an admin cannot remove themselves")
)

// ListAdmins returns a site's admins by e-mail.
func (s *Store) ListAdmins(ctx context.Context, siteID int64) ([]Admin, error) {
	rows, _ := s.pool.Query(ctx, selectAdmin+` WHERE site_id = $1 ORDER BY email`, siteID)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Admin])
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return list, nil
}

// lockAdmins locks every admin row of a site, so two concurrent removals
// cannot each see the other's admin still there and remove the last two.
const lockAdmins = `SELECT id FROM site_admins WHERE site_id = $1 ORDER BY id FOR UPDATE`

// RemoveAdmin removes admin id of a site on behalf of admin actorID and
// returns the removed account. The caller ends the removed admin's sessions
// (which stop working anyway: a session is honoured only while its admin
// exists).
func (s *Store) RemoveAdmin(ctx context.Context, siteID, id, actorID int64) (Admin, error) {
	if id == actorID {
		return Admin{}, ErrRemoveSelf
	}
	var removed Admin
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, lockAdmins, siteID)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("lock admins: %w", err)
		}
		if !slices.Contains(ids, id) {
			return fmt.Errorf("admin %d: %w", id, ErrNotFound)
		}
		if len(ids) == 1 {
			return ErrLastAdmin
		}
		rows, _ = tx.Query(ctx, `DELETE FROM site_admins WHERE site_id = $1 AND id = $2
RETURNING site_id, id, email, password_hash, created_at`, siteID, id)
		removed, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Admin])
		if err != nil {
			return fmt.Errorf("remove admin %d: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Admin{}, err
	}
	return removed, nil
}
