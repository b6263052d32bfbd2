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
)

// spKeyBits is the SP key size: RSA 2048 is what Azure AD and most IdPs
// expect for request signatures.
const spKeyBits = 2048

// spCertLifetime is long because the certificate is only a container for the
// public key in SAML metadata (SAML V2.0 Metadata Interoperability Profile);
// rollover is an explicit admin action, not an expiry.
const spCertLifetime = 10 * 365 * 24 * time.Hour

type spKey struct {
	id    int64
	key   *rsa.PrivateKey
	cert  *x509.Certificate
	state string
}

func sealContext(siteID int64) string { return "sp-key:site:" + strconv.FormatInt(siteID, 10) }

// EnsureSPKey gives a site its SP key pair if it has none: at site creation,
// and on first use for a site created before SSO existed. Concurrent calls
// from several processes create one key.
func (s *Service) EnsureSPKey(ctx context.Context, siteID int64, siteName string) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sp_keys WHERE site_id = $1 AND state = 'active')`, siteID).Scan(&exists); err != nil {
		return fmt.Errorf("look up SP key: %w", err)
	}
	if exists {
		return nil
	}
	return s.createSPKey(ctx, siteID, siteName, "active")
}

func (s *Service) createSPKey(ctx context.Context, siteID int64, siteName, state string) error {
	key, err := rsa.GenerateKey(rand.Reader, spKeyBits)
	if err != nil {
		return fmt.Errorf("generate SP key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("generate SP certificate serial: %w", err)
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
		return fmt.Errorf("create SP certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode SP key: %w", err)
	}
	sealed, err := s.box.Seal(pkcs8, sealContext(siteID))
	if err != nil {
		return err
	}
	// The partial unique index on (site_id) WHERE state = ... makes a
	// concurrent second key a no-op.
	_, err = s.pool.Exec(ctx, `INSERT INTO sp_keys (site_id, sealed_key, certificate, state, created_at)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, siteID, sealed, der, state, now)
	if err != nil {
		return fmt.Errorf("store SP key: %w", err)
	}
	return nil
}

// spKeys returns the site's SP keys, the active one first, creating the
// active one if the site has none yet.
func (s *Service) spKeys(ctx context.Context, siteID int64, siteName string) ([]spKey, error) {
	for attempt := 0; attempt < 2; attempt++ {
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
		if len(keys) > 0 && keys[0].state == "active" {
			return keys, nil
		}
		if err := s.EnsureSPKey(ctx, siteID, siteName); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("load SP keys: no active key after creating one")
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
