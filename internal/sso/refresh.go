package sso

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// RefreshInterval is how often a metadata URL is fetched again.
const RefreshInterval = 24 * time.Hour

// refreshRetry is how long a failed refresh waits before the next try.
const refreshRetry = time.Hour

// Fetcher fetches metadata from a URL (idpmeta.Fetch with the operator's
// SSRF settings).
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// Refresh fetches a site's metadata URL again. The signing certificates
// become exactly those the fresh metadata lists, so an Azure rollover (old
// and new side by side, then only the new) is followed. A changed entity ID
// or SSO URL is not applied: it is kept as a proposal for the admin to
// accept. A failure keeps the old configuration and records the error and
// its time.
func (s *Service) Refresh(ctx context.Context, siteID int64, fetch Fetcher) error {
	set, err := s.Settings(ctx, siteID)
	if err != nil {
		return err
	}
	if set.MetadataURL == "" {
		return errors.New("this site has no metadata URL to refresh")
	}
	idp, err := s.fetchAndParse(ctx, set.MetadataURL, fetch)
	if err != nil {
		now := s.now()
		if _, dbErr := s.pool.Exec(ctx, `UPDATE sso_settings SET metadata_refresh_error = $2, metadata_refresh_failed_at = $3
WHERE site_id = $1`, siteID, refreshMessage(err), now); dbErr != nil {
			return errors.Join(err, dbErr)
		}
		return err
	}
	if idp.EntityID != set.IdPEntityID || idp.SSOURL != set.SSOURL || idp.SLOURL != set.SLOURL {
		// Another IdP, or the same one moved: the document may now be
		// someone else's, so neither its endpoints nor its certificates are
		// trusted until the admin accepts them.
		ders := make([][]byte, len(idp.Certificates))
		for i, c := range idp.Certificates {
			ders[i] = c.Raw
		}
		_, err := s.pool.Exec(ctx, `UPDATE sso_settings SET metadata_fetched_at = $2, metadata_refresh_error = '',
metadata_refresh_failed_at = NULL, proposed_entity_id = $3, proposed_sso_url = $4, proposed_slo_url = $5,
proposed_certificates = $6 WHERE site_id = $1`, siteID, s.now(), idp.EntityID, idp.SSOURL, idp.SLOURL, ders)
		if err != nil {
			return fmt.Errorf("record metadata refresh: %w", err)
		}
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sso_settings SET metadata_fetched_at = $2, metadata_refresh_error = '',
metadata_refresh_failed_at = NULL, proposed_entity_id = '', proposed_sso_url = '', proposed_slo_url = '',
proposed_certificates = '{}' WHERE site_id = $1`, siteID, s.now()); err != nil {
			return fmt.Errorf("record metadata refresh: %w", err)
		}
		return replaceCertificates(ctx, tx, siteID, idp.Certificates)
	})
}

func (s *Service) fetchAndParse(ctx context.Context, url string, fetch Fetcher) (*idpmeta.IdP, error) {
	data, err := fetch(ctx, url)
	if err != nil {
		return nil, err
	}
	return idpmeta.Parse(data)
}

// refreshMessage is the error an admin sees on the page.
func refreshMessage(err error) string {
	var metaErr *idpmeta.Error
	if errors.As(err, &metaErr) {
		return metaErr.Message
	}
	return err.Error()
}

// ErrNoProposal means no metadata refresh is waiting to be accepted (it was
// accepted already, or a later refresh found the configuration unchanged).
var ErrNoProposal = errors.New("there is no change waiting to be accepted")

// AcceptProposal applies the entity ID, endpoints and certificates a
// refresh found.
func (s *Service) AcceptProposal(ctx context.Context, siteID int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var ders [][]byte
		err := tx.QueryRow(ctx, `UPDATE sso_settings SET idp_entity_id = proposed_entity_id, idp_sso_url = proposed_sso_url,
idp_slo_url = proposed_slo_url, proposed_entity_id = '', proposed_sso_url = '', proposed_slo_url = '',
proposed_certificates = '{}', updated_at = $2
WHERE site_id = $1 AND proposed_entity_id <> ''
RETURNING (SELECT proposed_certificates FROM sso_settings WHERE site_id = $1)`, siteID, s.now()).Scan(&ders)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoProposal
		}
		if err != nil {
			return fmt.Errorf("accept refreshed metadata: %w", err)
		}
		certs := make([]*x509.Certificate, 0, len(ders))
		for _, der := range ders {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return fmt.Errorf("accept refreshed metadata: %w", err)
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return errors.New("accept refreshed metadata: the proposal has no signing certificate")
		}
		return replaceCertificates(ctx, tx, siteID, certs)
	})
}

// RefreshDue refreshes at most limit sites whose metadata URL was last
// fetched more than RefreshInterval ago (a failed one is retried after an
// hour). It runs inside the housekeeping round, which one process at a
// time holds, so two processes never fetch for the same site at once.
func (s *Service) RefreshDue(ctx context.Context, limit int, fetch Fetcher) (int64, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `SELECT site_id FROM sso_settings
WHERE metadata_url <> '' AND (metadata_fetched_at IS NULL OR metadata_fetched_at <= $1)
  AND (metadata_refresh_failed_at IS NULL OR metadata_refresh_failed_at <= $2)
ORDER BY metadata_fetched_at NULLS FIRST LIMIT $3`, now.Add(-RefreshInterval), now.Add(-refreshRetry), limit)
	if err != nil {
		return 0, fmt.Errorf("find metadata to refresh: %w", err)
	}
	due, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("find metadata to refresh: %w", err)
	}
	var done int64
	for _, siteID := range due {
		if err := s.Refresh(ctx, siteID, fetch); err != nil {
			s.log.WarnContext(ctx, "metadata refresh failed; the old configuration stays", "site_id", siteID, "error", err.Error())
			continue
		}
		done++
	}
	return done, nil
}
