package sso

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// SPCertificate describes one of a site's SP certificates for the admin.
type SPCertificate struct {
	ID       int64
	State    string // KeyActive, KeyNext or KeyPrevious
	NotAfter time.Time
	SHA256   string
	// Unreadable: its private key does not open under the current
	// PORTAL_SECRET_KEY (SPCertificates only).
	Unreadable bool
}

// SPCertificates lists a site's SP certificates, active first, and whether
// each one's private key opens under the current PORTAL_SECRET_KEY, as
// CheckSPKeys does, in the same read: only the seal is opened, the key is
// not parsed.
func (s *Service) SPCertificates(ctx context.Context, siteID int64) ([]SPCertificate, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, state, certificate, sealed_key FROM sp_keys
WHERE site_id = $1 ORDER BY state = 'active' DESC, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("list SP certificates: %w", err)
	}
	var out []SPCertificate
	var c SPCertificate
	var der, sealed []byte
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.State, &der, &sealed}, func() error {
		if err := describeSPCertificate(&c, der); err != nil {
			return err
		}
		_, openErr := s.box.Open(sealed, sealContext(siteID))
		c.Unreadable = openErr != nil
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list SP certificates: %w", err)
	}
	return out, nil
}

// collectSPCertificates reads rows of id, state and certificate.
func collectSPCertificates(rows pgx.Rows, err error) ([]SPCertificate, error) {
	if err != nil {
		return nil, err
	}
	var out []SPCertificate
	var c SPCertificate
	var der []byte
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.State, &der}, func() error {
		if err := describeSPCertificate(&c, der); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// describeSPCertificate fills c's expiry and fingerprint from its DER.
func describeSPCertificate(c *SPCertificate, der []byte) error {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse SP certificate %d: %w", c.ID, err)
	}
	c.NotAfter, c.SHA256 = cert.NotAfter, idpmeta.Fingerprint(der)
	return nil
}

// RolloverError refuses a step of the SP certificate rollover taken out of
// order; Problem says why, in words for the admin.
type RolloverError struct {
	Problem string
}

func (e *RolloverError) Error() string { return "certificate rollover: " + e.Problem }

// ErrSPKeyGone means the SP certificate is not (any more) one of the site's:
// it was removed already.
var ErrSPKeyGone = errors.New("this SP certificate is no longer published")

// CreateNextSPKey makes the next SP key pair for actor. It is published in
// the metadata beside the active one at once, so the admin can upload the
// new metadata to the IdP before switching. newest is the newest SP key the
// admin's page listed: a next key newer than that was made by this same
// press sent twice (a double click) or by another admin pressing at the same
// moment, so the request is done and nothing is made or recorded again
// (changed false). A next key the page already listed is a RolloverError.
func (s *Service) CreateNextSPKey(ctx context.Context, site sites.Site, newest int64, actor string) (changed bool, err error) {
	// RSA takes a moment: before the transaction.
	key, err := s.NewSPKey(site.Name)
	if err != nil {
		return false, err
	}
	err = s.changeConfig(ctx, site.ID, func(tx pgx.Tx) error {
		// The partial unique index allows one next key per site: a second
		// INSERT waits for the first transaction, then does nothing.
		stored, err := s.storeSPKey(ctx, tx, site.ID, key, KeyNext)
		if err != nil {
			return err
		}
		if stored {
			changed = true
			return s.audit.RecordIn(ctx, tx, site.ID, actor, "sso.sp-key-create",
				"next SP certificate created, published in the SP metadata beside the active one (SHA-256 "+Fingerprints([]*x509.Certificate{key.cert})+")")
		}
		var next int64
		if err := tx.QueryRow(ctx, `SELECT id FROM sp_keys WHERE site_id = $1 AND state = 'next'`, site.ID).Scan(&next); err != nil {
			return fmt.Errorf("create next SP key: %w", err)
		}
		if next > newest {
			return nil
		}
		return &RolloverError{Problem: "a next certificate already exists; activate or remove it first"}
	})
	return changed, err
}

// ActivateSPKey makes the next key keyID sign, for actor. The active one
// becomes "previous" and stays published until RemoveSPKey; an earlier
// previous one is deleted, and the audit entry says so. Activating the key
// that is already active changes nothing (changed false): the same press
// sent twice, or two admins.
func (s *Service) ActivateSPKey(ctx context.Context, siteID, keyID int64, actor string) (changed bool, err error) {
	err = s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		// Every key of the site, locked: a concurrent activation waits here
		// and then sees this one's result.
		list, err := collectSPCertificates(tx.Query(ctx, `SELECT id, state, certificate FROM sp_keys
WHERE site_id = $1 ORDER BY id FOR UPDATE`, siteID))
		if err != nil {
			return fmt.Errorf("activate SP key: %w", err)
		}
		keys := map[string]SPCertificate{}
		var target SPCertificate
		for _, c := range list {
			keys[c.State] = c
			if c.ID == keyID {
				target = c
			}
		}
		switch target.State {
		case KeyActive:
			return nil
		case KeyNext:
		case "":
			return &RolloverError{Problem: "this certificate is no longer there; reload the page"}
		default:
			return &RolloverError{Problem: "only the next certificate can be activated"}
		}
		active, ok := keys[KeyActive]
		if !ok {
			return ErrNoSPKey
		}
		type step struct {
			sql string
			id  int64
		}
		var steps []step
		detail := "SP certificate SHA-256 " + target.SHA256 + " activated: it signs from now on; SHA-256 " +
			active.SHA256 + " is now the previous one, still published"
		if previous, ok := keys[KeyPrevious]; ok {
			// One previous certificate at a time: the older one leaves the
			// metadata, which the admin must be told (an IdP still holding
			// only it can no longer check this site's signatures).
			steps = append(steps, step{`DELETE FROM sp_keys WHERE site_id = $1 AND id = $2 AND state = 'previous'`, previous.ID})
			detail += "; the earlier previous SP certificate SHA-256 " + previous.SHA256 + " was deleted from the SP metadata"
		}
		steps = append(steps,
			step{`UPDATE sp_keys SET state = 'previous' WHERE site_id = $1 AND id = $2 AND state = 'active'`, active.ID},
			step{`UPDATE sp_keys SET state = 'active' WHERE site_id = $1 AND id = $2 AND state = 'next'`, target.ID})
		for _, st := range steps {
			tag, err := tx.Exec(ctx, st.sql, siteID, st.id)
			if err != nil {
				return fmt.Errorf("activate SP key: %w", err)
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("activate SP key: %q changed %d rows, want 1", st.sql, tag.RowsAffected())
			}
		}
		changed = true
		return s.audit.RecordIn(ctx, tx, siteID, actor, "sso.sp-key-activate", detail)
	})
	return changed, err
}

// RemoveSPKey removes a next or previous key for actor, and returns what it
// removed; the active one cannot be (RolloverError). A key that is not
// there (removed already: the same press sent twice) is ErrSPKeyGone.
func (s *Service) RemoveSPKey(ctx context.Context, siteID, keyID int64, actor string) (SPCertificate, error) {
	removed := SPCertificate{ID: keyID}
	err := s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		var der []byte
		err := tx.QueryRow(ctx, `DELETE FROM sp_keys WHERE site_id = $1 AND id = $2 AND state <> 'active'
RETURNING state, certificate`, siteID, keyID).Scan(&removed.State, &der)
		if errors.Is(err, pgx.ErrNoRows) {
			var active bool
			err := tx.QueryRow(ctx, `SELECT true FROM sp_keys WHERE site_id = $1 AND id = $2`, siteID, keyID).Scan(&active)
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrSPKeyGone
			}
			if err != nil {
				return fmt.Errorf("remove SP key: %w", err)
			}
			return &RolloverError{Problem: "the active certificate signs this site's requests and cannot be removed; only a next or previous certificate can be"}
		}
		if err != nil {
			return fmt.Errorf("remove SP key: %w", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("remove SP key: %w", err)
		}
		removed.NotAfter, removed.SHA256 = cert.NotAfter, idpmeta.Describe(cert).SHA256
		return s.audit.RecordIn(ctx, tx, siteID, actor, "sso.sp-key-remove",
			fmt.Sprintf("%s SP certificate removed from the SP metadata (SHA-256 %s)", removed.State, removed.SHA256))
	})
	if err != nil {
		return SPCertificate{}, err
	}
	return removed, nil
}

// ActiveSPCertificatePEM is the certificate that signs the site's requests
// now, PEM-encoded: the admin page's Download certificate, for identity
// providers that take a certificate rather than metadata (Azure's token
// encryption, Verification certificates). It never opens the private key.
func (s *Service) ActiveSPCertificatePEM(ctx context.Context, siteID int64) ([]byte, error) {
	var der []byte
	err := s.pool.QueryRow(ctx, `SELECT certificate FROM sp_keys WHERE site_id = $1 AND state = 'active'`, siteID).Scan(&der)
	if err != nil {
		return nil, fmt.Errorf("read the active SP certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
