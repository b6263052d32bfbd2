package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/seal"
)

// keySealContext binds the sealed private key to this purpose, so a sealed
// site SP key copied into this table does not open (see seal.Box.Seal).
const keySealContext = "devidp:key"

// keyPair is the IdP's signing key and its self-signed certificate.
type keyPair struct {
	key         *rsa.PrivateKey
	certificate *x509.Certificate
}

type keyRow struct {
	PrivateKeySealed []byte `db:"private_key_sealed"`
	CertificatePEM   string `db:"certificate_pem"`
}

const selectKey = `SELECT private_key_sealed, certificate_pem FROM devidp_key`

// ON CONFLICT DO NOTHING: when several portal processes start at once, each
// may generate a key, but only the first insert wins and every process then
// reads that one back.
const insertKey = `
INSERT INTO devidp_key (private_key_sealed, certificate_pem) VALUES ($1, $2)
ON CONFLICT (singleton) DO NOTHING`

// loadOrCreateKey returns the stored key pair, creating it first if there
// is none.
func loadOrCreateKey(ctx context.Context, pool *pgxpool.Pool, box *seal.Box, subject string) (*keyPair, error) {
	kp, err := loadKey(ctx, pool, box)
	if err == nil || !errors.Is(err, pgx.ErrNoRows) {
		return kp, err
	}
	sealed, certPEM, err := newSealedKey(box, subject)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, insertKey, sealed, certPEM); err != nil {
		return nil, fmt.Errorf("devidp: store key: %w", err)
	}
	return loadKey(ctx, pool, box)
}

// loadKey reads and opens the stored key pair; the error wraps
// pgx.ErrNoRows when there is none yet.
func loadKey(ctx context.Context, pool *pgxpool.Pool, box *seal.Box) (*keyPair, error) {
	rows, _ := pool.Query(ctx, selectKey)
	row, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[keyRow])
	if err != nil {
		return nil, fmt.Errorf("devidp: load key: %w", err)
	}
	der, err := box.Open(row.PrivateKeySealed, keySealContext)
	if err != nil {
		return nil, fmt.Errorf("devidp: open the stored IdP key (PORTAL_SECRET_KEY changed? delete the devidp_key row to get a new key): %w", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("devidp: parse stored key: %w", err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("devidp: stored key is a %T, want RSA", parsed)
	}
	block, _ := pem.Decode([]byte(row.CertificatePEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("devidp: stored certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("devidp: parse stored certificate: %w", err)
	}
	// A certificate that does not match the key would publish metadata that
	// no signature verifies against: fail at start-up, not at sign-in.
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("devidp: stored certificate does not match the stored key")
	}
	return &keyPair{key: key, certificate: cert}, nil
}

// newSealedKey generates an RSA key and a self-signed certificate, the way
// Azure AD gives each application a self-signed "Federated SSO Certificate".
func newSealedKey(box *seal.Box, subject string) (sealed []byte, certPEM string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, "", fmt.Errorf("devidp: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, "", fmt.Errorf("devidp: certificate serial: %w", err)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: subject},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), crypto.Signer(key))
	if err != nil {
		return nil, "", fmt.Errorf("devidp: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, "", fmt.Errorf("devidp: marshal key: %w", err)
	}
	sealed, err = box.Seal(keyDER, keySealContext)
	if err != nil {
		return nil, "", fmt.Errorf("devidp: seal key: %w", err)
	}
	return sealed, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}
