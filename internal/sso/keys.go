package sso

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// spKeyBits is the SP key size: RSA 2048 is what Azure AD and most IdPs
// expect for request signatures.
const spKeyBits = 2048

// spCertLifetime is long because the certificate is only a container for the
// public key in SAML metadata (SAML V2.0 Metadata Interoperability Profile);
// rollover is an explicit admin action, not an expiry.
const spCertLifetime = 10 * 365 * 24 * time.Hour

// The states of an SP key pair: the active one signs; a next one is
// published ahead of a rollover; the previous one stays published after it
// until an admin removes it.
const (
	KeyActive   = "active"
	KeyNext     = "next"
	KeyPrevious = "previous"
)

type spKey struct {
	id    int64
	key   *rsa.PrivateKey
	cert  *x509.Certificate
	state string
}

// SPKey is a freshly generated SP key pair, not stored yet.
type SPKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func sealContext(siteID int64) string { return "sp-key:site:" + strconv.FormatInt(siteID, 10) }

// NewSPKey generates an SP key pair and its self-signed certificate for the
// site named siteName. It takes a moment (RSA), so callers do it before
// opening the transaction that stores it.
func (s *Service) NewSPKey(siteName string) (SPKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, spKeyBits)
	if err != nil {
		return SPKey{}, fmt.Errorf("generate SP key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return SPKey{}, fmt.Errorf("generate SP certificate serial: %w", err)
	}
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: s.EntityID(siteName), Organization: []string{"Meetings portal site " + siteName}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(spCertLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return SPKey{}, fmt.Errorf("create SP certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return SPKey{}, fmt.Errorf("read SP certificate: %w", err)
	}
	return SPKey{key: key, cert: cert}, nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// StoreSPKey seals key under PORTAL_SECRET_KEY and stores it for the site
// in the given state, inside the caller's transaction.
func (s *Service) StoreSPKey(ctx context.Context, tx pgx.Tx, siteID int64, key SPKey, state string) error {
	_, err := s.storeSPKey(ctx, tx, siteID, key, state)
	return err
}

// storeSPKey reports whether the key was stored: the partial unique indexes
// allow one key per state, so a concurrent second one is a no-op.
func (s *Service) storeSPKey(ctx context.Context, q execer, siteID int64, key SPKey, state string) (bool, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key.key)
	if err != nil {
		return false, fmt.Errorf("encode SP key: %w", err)
	}
	sealed, err := s.box.Seal(pkcs8, sealContext(siteID))
	if err != nil {
		return false, err
	}
	tag, err := q.Exec(ctx, `INSERT INTO sp_keys (site_id, sealed_key, certificate, state, created_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, siteID, sealed, key.cert.Raw, state, s.now())
	if err != nil {
		return false, fmt.Errorf("store SP key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// BackfillSPKeys gives an SP key pair to every site that has no active one
// (sites created before keys were made with the site), so that no page has
// to create one on a GET. It runs when the portal starts and reports how
// many keys it made.
func (s *Service) BackfillSPKeys(ctx context.Context) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name FROM sites s
WHERE NOT EXISTS (SELECT 1 FROM sp_keys k WHERE k.site_id = s.id AND k.state = 'active') ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("find sites without an SP key: %w", err)
	}
	type keyless struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[keyless])
	if err != nil {
		return 0, fmt.Errorf("find sites without an SP key: %w", err)
	}
	made := 0
	for _, site := range list {
		key, err := s.NewSPKey(site.Name)
		if err != nil {
			return made, err
		}
		stored, err := s.storeSPKey(ctx, s.pool, site.ID, key, KeyActive)
		s.Forget(site.ID)
		if err != nil {
			return made, err
		}
		if stored {
			made++
		}
	}
	return made, nil
}

// ErrNoSPKey means a site has no active SP key pair: it was created outside
// App.CreateSite and BackfillSPKeys has not run since.
var ErrNoSPKey = errors.New("the site has no SP key pair: restart the portal to create it")

// SPKeyUnreadableError means a site's SP private key does not open under
// this portal's PORTAL_SECRET_KEY: it was sealed under another key —
// typically the built-in development key, when the site was created while
// PORTAL_SECRET_KEY was unset. Nothing that signs (sign-in, Test SSO) or
// publishes the key pair (the SP metadata) works until `portal sso rekey`
// makes a new one under the current key.
type SPKeyUnreadableError struct {
	Site  string
	KeyID int64
}

func (e *SPKeyUnreadableError) Error() string {
	return fmt.Sprintf("the SP private key %d of site %s does not open with this PORTAL_SECRET_KEY (it was sealed under another key, "+
		"such as the development key used while PORTAL_SECRET_KEY was unset): run `portal sso rekey --site %s`, "+
		"then upload the site's new SP metadata to the identity provider", e.KeyID, e.Site, e.Site)
}

// Unwrap is seal.ErrOpen, the failure underneath.
func (e *SPKeyUnreadableError) Unwrap() error { return seal.ErrOpen }

// Explain is what a user who reaches the site is told (web.ExplainedError):
// nothing they can fix, and no detail about keys; the admin's SSO page and
// the log say what to do.
func (e *SPKeyUnreadableError) Explain() (int, string, string) {
	return http.StatusServiceUnavailable, "Single sign-on is not available",
		"This site's single sign-on cannot be used at the moment because of a problem on the portal's side. " +
			"Its administrators have been told what to do. Please try again later."
}

// spKeys returns the site's SP key pairs, opened, the active one first. Only
// signing and the metadata need them.
func (s *Service) spKeys(ctx context.Context, site sites.Site) ([]spKey, error) {
	siteID := site.ID
	keys, epoch, ok := s.cache.keys.Get(siteID)
	if ok {
		return keys, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id, sealed_key, certificate, state FROM sp_keys
WHERE site_id = $1 ORDER BY state = 'active' DESC, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("load SP keys: %w", err)
	}
	keys = nil
	var id int64
	var sealed, der []byte
	var state string
	_, err = pgx.ForEachRow(rows, []any{&id, &sealed, &der, &state}, func() error {
		k, err := s.openSPKey(siteID, id, sealed, der, state)
		if errors.Is(err, seal.ErrOpen) {
			return &SPKeyUnreadableError{Site: site.Name, KeyID: id}
		}
		if err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || keys[0].state != KeyActive {
		return nil, ErrNoSPKey
	}
	// Opened keys are kept in memory (never written anywhere): opening
	// and parsing them is most of a sign-in start's own work.
	s.cache.keys.Put(siteID, epoch, keys)
	return keys, nil
}

func (s *Service) openSPKey(siteID, id int64, sealed, der []byte, state string) (spKey, error) {
	plain, err := s.box.Open(sealed, sealContext(siteID))
	if err != nil {
		return spKey{}, fmt.Errorf("open SP key %d of site %d: %w", id, siteID, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return spKey{}, fmt.Errorf("parse SP key %d: %w", id, err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return spKey{}, fmt.Errorf("SP key %d is not RSA", id)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return spKey{}, fmt.Errorf("parse SP certificate %d: %w", id, err)
	}
	return spKey{id: id, key: key, cert: cert, state: state}, nil
}

// CheckSPKeys returns a *SPKeyUnreadableError when one of the site's SP
// private keys does not open under the current PORTAL_SECRET_KEY, so the
// admin's page can say so before anything fails. Only the seal is opened:
// no RSA work.
func (s *Service) CheckSPKeys(ctx context.Context, site sites.Site) error {
	unreadable, err := s.unreadableSPKeys(ctx, `WHERE k.site_id = $1`, site.ID)
	if err != nil || len(unreadable) == 0 {
		return err
	}
	return &unreadable[0]
}

// UnreadableSPKeys lists, one per site, the SP keys that do not open under
// the current PORTAL_SECRET_KEY; `portal serve` logs them at start.
func (s *Service) UnreadableSPKeys(ctx context.Context) ([]SPKeyUnreadableError, error) {
	return s.unreadableSPKeys(ctx, "")
}

func (s *Service) unreadableSPKeys(ctx context.Context, where string, args ...any) ([]SPKeyUnreadableError, error) {
	rows, err := s.pool.Query(ctx, `SELECT k.site_id, t.name, k.id, k.sealed_key FROM sp_keys k JOIN sites t ON t.id = k.site_id `+
		where+` ORDER BY t.name, k.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read SP keys: %w", err)
	}
	var out []SPKeyUnreadableError
	var siteID, keyID int64
	var name string
	var sealed []byte
	_, err = pgx.ForEachRow(rows, []any{&siteID, &name, &keyID, &sealed}, func() error {
		if _, err := s.box.Open(sealed, sealContext(siteID)); err != nil &&
			(len(out) == 0 || out[len(out)-1].Site != name) {
			out = append(out, SPKeyUnreadableError{Site: name, KeyID: keyID})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read SP keys: %w", err)
	}
	return out, nil
}

// RekeySP replaces every SP key pair of the site (active, next, previous)
// by one new active pair sealed under the current PORTAL_SECRET_KEY, in one
// transaction, and returns its certificate. The identity provider trusts
// the old certificate until it gets the new metadata: `portal sso rekey`
// says so.
func (s *Service) RekeySP(ctx context.Context, site sites.Site) (SPCertificate, error) {
	key, err := s.NewSPKey(site.Name)
	if err != nil {
		return SPCertificate{}, err
	}
	err = s.changeConfig(ctx, site.ID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sp_keys WHERE site_id = $1`, site.ID); err != nil {
			return fmt.Errorf("remove the old SP keys: %w", err)
		}
		return s.StoreSPKey(ctx, tx, site.ID, key, KeyActive)
	})
	if err != nil {
		return SPCertificate{}, fmt.Errorf("rekey site %s: %w", site.Name, err)
	}
	return SPCertificate{State: KeyActive, NotAfter: key.cert.NotAfter, SHA256: idpmeta.Describe(key.cert).SHA256}, nil
}
