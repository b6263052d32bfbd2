package sso

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// SPCertificate describes one of a site's SP certificates for the admin.
type SPCertificate struct {
	ID       int64
	State    string // active (signs), next (published, not yet signing), previous (published after a switch)
	NotAfter time.Time
	SHA256   string
}

// SPCertificates lists a site's SP certificates, active first.
func (s *Service) SPCertificates(ctx context.Context, site sites.Site) ([]SPCertificate, error) {
	keys, err := s.spKeys(ctx, site.ID, site.Name)
	if err != nil {
		return nil, err
	}
	out := make([]SPCertificate, len(keys))
	for i, k := range keys {
		out[i] = SPCertificate{ID: k.id, State: k.state, NotAfter: k.cert.NotAfter, SHA256: idpmeta.Describe(k.cert).SHA256}
	}
	return out, nil
}

// ErrRollover refuses a rollover step out of order.
var ErrRollover = errors.New("certificate rollover")

// CreateNextSPKey makes the next SP key pair. It is published in the
// metadata beside the active one at once, so the admin can upload the new
// metadata to the IdP before switching.
func (s *Service) CreateNextSPKey(ctx context.Context, site sites.Site) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sp_keys WHERE site_id = $1 AND state = 'next')`, site.ID).Scan(&exists); err != nil {
		return fmt.Errorf("look up next SP key: %w", err)
	}
	if exists {
		return fmt.Errorf("%w: a next certificate already exists; activate or remove it first", ErrRollover)
	}
	return s.createSPKey(ctx, site.ID, site.Name, "next")
}

// ActivateNextSPKey makes the next key sign; the old active one stays
// published as "previous" until RemoveSPKey.
func (s *Service) ActivateNextSPKey(ctx context.Context, siteID int64) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("activate SP key: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var next int64
	if err := tx.QueryRow(ctx, `SELECT id FROM sp_keys WHERE site_id = $1 AND state = 'next' FOR UPDATE`, siteID).Scan(&next); err != nil {
		return fmt.Errorf("%w: there is no next certificate to activate", ErrRollover)
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
	return tx.Commit(ctx)
}

// RemoveSPKey removes a next or previous key; the active one cannot be.
func (s *Service) RemoveSPKey(ctx context.Context, siteID, keyID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sp_keys WHERE site_id = $1 AND id = $2 AND state <> 'active'`, siteID, keyID)
	if err != nil {
		return fmt.Errorf("remove SP key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: only a next or previous certificate can be removed", ErrRollover)
	}
	return nil
}
