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
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// spKeys returns the site's SP key pairs, opened, the active one first. Only
// signing and the metadata need them.
func (s *Service) spKeys(ctx context.Context, siteID int64) ([]spKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, sealed_key, certificate, state FROM sp_keys
WHERE site_id = $1 ORDER BY state = 'active' DESC, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("load SP keys: %w", err)
	}
	var keys []spKey
	var id int64
	var sealed, der []byte
	var state string
	_, err = pgx.ForEachRow(rows, []any{&id, &sealed, &der, &state}, func() error {
		k, err := s.openSPKey(siteID, id, sealed, der, state)
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
