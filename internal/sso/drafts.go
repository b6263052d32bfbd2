package sso

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// draftLifetime bounds how long uploaded metadata waits for the admin's
// confirmation.
const draftLifetime = time.Hour

// Draft is IdP metadata parsed and waiting for the admin to confirm the
// import: Webex shows what will change before it overwrites a certificate.
type Draft struct {
	ID        string
	IdP       *idpmeta.IdP
	SourceURL string // the metadata URL it was fetched from, "" for a file
}

// ErrDraftNotFound means the draft expired (or never was).
var ErrDraftNotFound = errors.New("this metadata is no longer waiting for confirmation: upload it again")

// ErrDraftApplied means the draft was imported already: Import pressed
// twice, or in two tabs.
var ErrDraftApplied = errors.New("this metadata has been imported already")

// CreateDraft parses metadata and keeps it for review. Bad metadata is an
// *idpmeta.Error and keeps nothing.
func (s *Service) CreateDraft(ctx context.Context, siteID int64, data []byte, sourceURL string) (Draft, error) {
	idp, err := idpmeta.Parse(data)
	if err != nil {
		return Draft{}, err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return Draft{}, fmt.Errorf("draft id: %w", err)
	}
	d := Draft{ID: hex.EncodeToString(b), IdP: idp, SourceURL: sourceURL}
	if _, err := s.pool.Exec(ctx, `INSERT INTO metadata_drafts (site_id, id, document, source_url, created_at) VALUES ($1, $2, $3, $4, $5)`,
		siteID, d.ID, data, sourceURL, s.now()); err != nil {
		return Draft{}, fmt.Errorf("keep metadata for review: %w", err)
	}
	return d, nil
}

// Draft returns a draft of the site that has not expired.
func (s *Service) Draft(ctx context.Context, siteID int64, id string) (Draft, []byte, error) {
	var data []byte
	d := Draft{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT document, source_url FROM metadata_drafts
WHERE site_id = $1 AND id = $2 AND created_at > $3 AND applied_at IS NULL`,
		siteID, id, s.now().Add(-draftLifetime)).Scan(&data, &d.SourceURL)
	if errors.Is(err, pgx.ErrNoRows) {
		return Draft{}, nil, ErrDraftNotFound
	}
	if err != nil {
		return Draft{}, nil, fmt.Errorf("load metadata draft: %w", err)
	}
	if d.IdP, err = idpmeta.Parse(data); err != nil {
		return Draft{}, nil, err
	}
	return d, data, nil
}

// ApplyDraft imports a reviewed draft for actor, marks it used and records
// the import, in one transaction: pressed twice, the second press waits for
// the first and gets ErrDraftApplied, having changed and recorded nothing.
// While single sign-on is on the import is staged (pending.go), not live,
// and staged is true.
func (s *Service) ApplyDraft(ctx context.Context, siteID int64, id, actor string) (idp *idpmeta.IdP, staged bool, err error) {
	err = s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		// Locked, without making the row: a site with none has SSO off,
		// and its first import writes the row (revision 1).
		current, err := collectSettings(tx.Query(ctx, selectSettings+` FOR UPDATE OF s`, siteID))
		if errors.Is(err, pgx.ErrNoRows) {
			current, err = defaults(siteID), nil
		}
		if err != nil {
			return fmt.Errorf("apply metadata draft: %w", err)
		}
		var data []byte
		var sourceURL string
		err = tx.QueryRow(ctx, `UPDATE metadata_drafts SET applied_at = $4
WHERE site_id = $1 AND id = $2 AND created_at > $3 AND applied_at IS NULL
RETURNING document, source_url`, siteID, id, s.now().Add(-draftLifetime), s.now()).Scan(&data, &sourceURL)
		if errors.Is(err, pgx.ErrNoRows) {
			var applied bool
			err := tx.QueryRow(ctx, `SELECT applied_at IS NOT NULL FROM metadata_drafts WHERE site_id = $1 AND id = $2`, siteID, id).Scan(&applied)
			if err == nil && applied {
				return ErrDraftApplied
			}
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("load metadata draft: %w", err)
			}
			return ErrDraftNotFound
		}
		if err != nil {
			return fmt.Errorf("load metadata draft: %w", err)
		}
		if idp, err = idpmeta.Parse(data); err != nil {
			return err
		}
		if err := validateIdP(idp); err != nil {
			return err
		}
		if current.stagesChanges() {
			staged = true
			return s.stageIdP(ctx, tx, siteID, idp, sourceURL, actor, "imported metadata")
		}
		if _, err := s.saveIdP(ctx, tx, siteID, idp, sourceURL); err != nil {
			return err
		}
		return s.audit.RecordDetailsIn(ctx, tx, siteID, actor, "sso.import-metadata",
			idpDetails(idp.EntityID, idp.SSOURL, idp.Certificates, sourceURL))
	})
	if err != nil {
		return nil, false, err
	}
	return idp, staged, nil
}

// DeleteExpiredDrafts is a housekeeping job.
func (s *Service) DeleteExpiredDrafts(ctx context.Context, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM metadata_drafts WHERE ctid IN (
  SELECT ctid FROM metadata_drafts WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`, s.now().Add(-draftLifetime), limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired metadata drafts: %w", err)
	}
	return tag.RowsAffected(), nil
}
