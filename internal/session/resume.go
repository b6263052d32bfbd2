package session

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/seal"
)

// ResumeFor is how long a person has to sign in again and get back to
// where their session expired.
const ResumeFor = 30 * time.Minute

// MaxResumedForm bounds the posted form kept for a resume (encoded): the
// longest admin form of text, not a metadata upload.
const MaxResumedForm = 64 << 10

// Resume is where a person was when their session expired: the page to
// return to after signing in again and, when they had posted a form, the
// form (FormPath is where it was posted).
type Resume struct {
	ReturnPath string
	FormPath   string
	Form       url.Values
}

// Resumes keeps Resume rows in PostgreSQL, keyed by a random token that the
// browser holds in a cookie: nothing a link or another site can set. The
// form is sealed (it may hold what an admin typed into a setting).
type Resumes struct {
	pool *pgxpool.Pool
	box  *seal.Box
	now  func() time.Time
}

// NewResumes returns a Resumes; box seals the forms.
func NewResumes(pool *pgxpool.Pool, box *seal.Box, now func() time.Time) *Resumes {
	return &Resumes{pool: pool, box: box, now: now}
}

// sealContext binds a sealed form to its purpose and site.
func sealContext(siteID int64) string { return fmt.Sprintf("session-resume form site %d", siteID) }

// SafeReturnPath reports whether p is a path on this host and nothing
// else: it starts with one "/", is not "//host" or "/\host" (which
// browsers read as another host), and has no scheme, host, or control
// characters. Only such a path is ever redirected to after a sign-in.
func SafeReturnPath(p string) bool {
	if p == "" || p[0] != '/' || len(p) > 2048 {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	// Control characters (a tab or newline is dropped by browsers, turning
	// "/\t/evil" into "//evil") and backslashes anywhere are refused.
	if strings.ContainsAny(p, "\\") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && strings.HasPrefix(u.Path, "/")
}

// ErrUnsafeReturn: the return path is not a local path.
var ErrUnsafeReturn = errors.New("return path is not a local path")

// maxResumesPerSite bounds the resumes a site keeps: a site has a few
// admins, and requests with made-up cookies must not fill the table (at
// most this many forms of MaxResumedForm a site). Past it the oldest go,
// so that such requests cannot stop a real admin's resume from being kept
// — the admin signs in again within moments of keeping it.
const maxResumesPerSite = 200

// Save keeps r for kind on a site and returns the token for the browser.
// A form larger than MaxResumedForm is not kept (the return path is).
func (s *Resumes) Save(ctx context.Context, siteID int64, kind Kind, r Resume) (string, error) {
	if !SafeReturnPath(r.ReturnPath) {
		return "", ErrUnsafeReturn
	}
	token, err := NewToken()
	if err != nil {
		return "", err
	}
	var sealed []byte
	if encoded := r.Form.Encode(); len(r.Form) > 0 && len(encoded) <= MaxResumedForm {
		if sealed, err = s.box.Seal([]byte(encoded), sealContext(siteID)); err != nil {
			return "", fmt.Errorf("seal resumed form: %w", err)
		}
	} else {
		r.FormPath = ""
	}
	now := s.now()
	if _, err := s.pool.Exec(ctx, `WITH evicted AS (
  DELETE FROM session_resumes WHERE site_id = $1 AND token_hash IN (
    SELECT token_hash FROM session_resumes WHERE site_id = $1 ORDER BY created_at DESC, token_hash OFFSET $9::int - 1))
INSERT INTO session_resumes (site_id, token_hash, kind, return_path, form_path, form, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		siteID, hashToken(token), kind, r.ReturnPath, r.FormPath, sealed, now, now.Add(ResumeFor), maxResumesPerSite); err != nil {
		return "", fmt.Errorf("save resume: %w", err)
	}
	return token, nil
}

// Claim is the sign-in of subjectID finding the resume of token: it
// returns where to go, and keeps the form for that account alone. ok is
// false for an unknown, expired or already claimed token.
func (s *Resumes) Claim(ctx context.Context, siteID int64, kind Kind, token string, subjectID int64) (returnPath string, ok bool, err error) {
	if token == "" {
		return "", false, nil
	}
	err = s.pool.QueryRow(ctx, `UPDATE session_resumes SET subject_id = $4
WHERE site_id = $1 AND token_hash = $2 AND kind = $3 AND subject_id IS NULL AND expires_at > $5
RETURNING return_path`, siteID, hashToken(token), kind, subjectID, s.now()).Scan(&returnPath)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("claim resume: %w", err)
	}
	// Checked again on the way out: the row was written by Save, which
	// checks, but a redirect target is worth the second look.
	if !SafeReturnPath(returnPath) {
		return "", false, nil
	}
	return returnPath, true, nil
}

// TakeForm gives the form posted to formPath back to the account that
// claimed the resume of token, once: the row is deleted. ok is false when
// there is none for that path and account.
func (s *Resumes) TakeForm(ctx context.Context, siteID int64, kind Kind, token string, subjectID int64, formPath string) (url.Values, bool, error) {
	if token == "" {
		return nil, false, nil
	}
	var sealed []byte
	err := s.pool.QueryRow(ctx, `DELETE FROM session_resumes
WHERE site_id = $1 AND token_hash = $2 AND kind = $3 AND subject_id = $4 AND form_path = $5 AND form IS NOT NULL AND expires_at > $6
RETURNING form`, siteID, hashToken(token), kind, subjectID, formPath, s.now()).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("take resumed form: %w", err)
	}
	plain, err := s.box.Open(sealed, sealContext(siteID))
	if err != nil {
		return nil, false, fmt.Errorf("open resumed form: %w", err)
	}
	form, err := url.ParseQuery(string(plain))
	if err != nil {
		return nil, false, fmt.Errorf("read resumed form: %w", err)
	}
	return form, true, nil
}

// DeleteExpired removes at most limit expired resumes (housekeeping).
func (s *Resumes) DeleteExpired(ctx context.Context, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM session_resumes WHERE ctid IN (
  SELECT ctid FROM session_resumes WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.now(), limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired resumes: %w", err)
	}
	return tag.RowsAffected(), nil
}
