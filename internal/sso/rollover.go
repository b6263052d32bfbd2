package sso

import (
	"context"
	"crypto/x509"
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
}

// SPCertificates lists a site's SP certificates, active first. It reads the
// certificates only: listing them never opens a private key.
func (s *Service) SPCertificates(ctx context.Context, siteID int64) ([]SPCertificate, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, state, certificate FROM sp_keys
WHERE site_id = $1 ORDER BY state = 'active' DESC, id`, siteID)
	if err != nil {
		return nil, fmt.Errorf("list SP certificates: %w", err)
	}
	var out []SPCertificate
	var c SPCertificate
	var der []byte
	_, err = pgx.ForEachRow(rows, []any{&c.ID, &c.State, &der}, func() error {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("parse SP certificate %d: %w", c.ID, err)
		}
		c.NotAfter, c.SHA256 = cert.NotAfter, idpmeta.Describe(cert).SHA256
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list SP certificates: %w", err)
	}
	return out, nil
}

// RolloverError refuses a step of the SP certificate rollover taken out of
// order; Problem says why, in words for the admin.
type RolloverError struct {
	Problem string
}

func (e *RolloverError) Error() string { return "certificate rollover: " + e.Problem }

// CreateNextSPKey makes the next SP key pair. It is published in the
// metadata beside the active one at once, so the admin can upload the new
// metadata to the IdP before switching.
func (s *Service) CreateNextSPKey(ctx context.Context, site sites.Site) error {
	key, err := s.NewSPKey(site.Name)
	if err != nil {
		return err
	}
	stored, err := s.storeSPKey(ctx, s.pool, site.ID, key, KeyNext)
	if err != nil {
		return err
	}
	if !stored {
		return &RolloverError{Problem: "a next certificate already exists; activate or remove it first"}
	}
	return nil
}

// ActivateNextSPKey makes the next key sign; the old active one stays
// published as "previous" until RemoveSPKey.
func (s *Service) ActivateNextSPKey(ctx context.Context, siteID int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var next int64
		err := tx.QueryRow(ctx, `SELECT id FROM sp_keys WHERE site_id = $1 AND state = 'next' FOR UPDATE`, siteID).Scan(&next)
		if errors.Is(err, pgx.ErrNoRows) {
			return &RolloverError{Problem: "there is no next certificate to activate"}
		}
		if err != nil {
			return fmt.Errorf("activate SP key: %w", err)
		}
		steps := []string{
			`DELETE FROM sp_keys WHERE site_id = $1 AND state = 'previous'`,
			`UPDATE sp_keys SET state = 'previous' WHERE site_id = $1 AND state = 'active'`,
			`UPDATE sp_keys SET state = 'active' WHERE site_id = $1 AND state = 'next'`,
		}
		for _, q := range steps {
			if _, err := tx.Exec(ctx, q, siteID); err != nil {
				return fmt.Errorf("activate SP key: %w", err)
			}
		}
		return nil
	})
}

// RemoveSPKey removes a next or previous key, and returns what it removed;
// the active one cannot be.
func (s *Service) RemoveSPKey(ctx context.Context, siteID, keyID int64) (SPCertificate, error) {
	removed := SPCertificate{ID: keyID}
	var der []byte
	err := s.pool.QueryRow(ctx, `DELETE FROM sp_keys WHERE site_id = $1 AND id = $2 AND state <> 'active'
RETURNING state, certificate`, siteID, keyID).Scan(&removed.State, &der)
	if errors.Is(err, pgx.ErrNoRows) {
		return SPCertificate{}, &RolloverError{Problem: "only a next or previous certificate can be removed"}
	}
	if err != nil {
		return SPCertificate{}, fmt.Errorf("remove SP key: %w", err)
	}
	if cert, err := x509.ParseCertificate(der); err == nil {
		removed.NotAfter, removed.SHA256 = cert.NotAfter, idpmeta.Describe(cert).SHA256
	}
	return removed, nil
}
