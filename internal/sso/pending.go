package sso

// A configuration tested before it goes live. While single sign-on is on,
// an identity provider imported or entered on the admin page does not
// replace the one every user signs in with: it is staged (the pending_*
// columns of sso_settings, migration 0054). Test SSO can run against it —
// its AuthnRequest goes to the staged IdP and the answer is checked with
// the staged certificates — and the admin then activates it (it becomes
// the live IdP, audited, in one transaction) or discards it. With SSO off
// nobody signs in through the IdP, so a change goes live at once, as the
// first configuration always did.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

var (
	// ErrNoPending means there is no staged identity provider (it was
	// activated or discarded already).
	ErrNoPending = errors.New("no identity provider is staged")
	// ErrPendingChanged means the staged identity provider is not the
	// one the admin's page showed: someone staged another since.
	ErrPendingChanged = errors.New("the staged identity provider changed")
)

// HasPending reports whether an identity provider is staged.
func (s Settings) HasPending() bool { return s.PendingEntityID != "" }

// stagesChanges reports whether a new identity provider would be staged
// rather than go live: single sign-on is on with an IdP in use.
func (s Settings) stagesChanges() bool { return s.Enabled && s.Configured() }

// StagesChanges is stagesChanges for the admin pages: the review says
// whether an import goes live now or is staged.
func (s Settings) StagesChanges() bool { return s.stagesChanges() }

// PendingToken names the staged identity provider a page showed: Activate
// and Discard act only on that one.
func (s Settings) PendingToken() string {
	if s.PendingSince == nil {
		return ""
	}
	return s.PendingSince.UTC().Format(time.RFC3339Nano)
}

// PendingIdP is the staged identity provider (nil when none).
func (s Settings) PendingIdP() *idpmeta.IdP {
	if !s.HasPending() {
		return nil
	}
	return &idpmeta.IdP{EntityID: s.PendingEntityID, SSOURL: s.PendingSSOURL, SLOURL: s.PendingSLOURL, Certificates: s.PendingCertificates}
}

// withPending is s with the staged identity provider in place of the live
// one: what a test of the staged configuration is checked against.
func (s Settings) withPending() Settings {
	s = copySettings(s)
	s.IdPEntityID, s.SSOURL, s.SLOURL = s.PendingEntityID, s.PendingSSOURL, s.PendingSLOURL
	s.Certificates, s.CertificatesDER = s.PendingCertificates, s.PendingCertificatesDER
	s.MetadataURL = s.PendingMetadataURL
	return s
}

const stagePending = `UPDATE sso_settings SET pending_entity_id = $2, pending_sso_url = $3, pending_slo_url = $4,
  pending_certificates = $5, pending_metadata_url = $6, pending_since = $7, pending_by = $8
WHERE site_id = $1`

const clearPending = `UPDATE sso_settings SET pending_entity_id = '', pending_sso_url = '', pending_slo_url = '',
  pending_certificates = '{}', pending_metadata_url = '', pending_since = NULL, pending_by = ''
WHERE site_id = $1`

// stageIdP stages idp (from sourceURL, "" for a file or manual entry) for
// actor inside tx, replacing any staged before, and records it.
func (s *Service) stageIdP(ctx context.Context, tx pgx.Tx, siteID int64, idp *idpmeta.IdP, sourceURL, actor, how string) error {
	ders := make([][]byte, len(idp.Certificates))
	for i, c := range idp.Certificates {
		ders[i] = c.Raw
	}
	if _, err := tx.Exec(ctx, stagePending, siteID, idp.EntityID, idp.SSOURL, idp.SLOURL, ders, sourceURL, s.now(), actor); err != nil {
		return fmt.Errorf("stage the identity provider: %w", err)
	}
	details := append(audit.Details{{Value: how + ", staged while single sign-on is on"}},
		idpDetails(idp.EntityID, idp.SSOURL, idp.Certificates, sourceURL)...)
	return s.audit.RecordDetailsIn(ctx, tx, siteID, actor, "sso.stage-idp", details)
}

// ActivatePending makes the staged identity provider the live one for
// actor, clears it and records it, in one transaction. token is the
// PendingToken the admin's page showed: a different staged IdP is refused
// (ErrPendingChanged), none at all is ErrNoPending (pressed twice, the
// second press finds it activated).
func (s *Service) ActivatePending(ctx context.Context, siteID int64, token, actor string) (*idpmeta.IdP, error) {
	var idp *idpmeta.IdP
	err := s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		current, err := s.lockSettings(ctx, tx, siteID)
		if err != nil {
			return fmt.Errorf("activate the staged identity provider: %w", err)
		}
		switch {
		case !current.HasPending():
			return ErrNoPending
		case current.PendingToken() != token:
			return ErrPendingChanged
		}
		idp = current.PendingIdP()
		if err := validateIdP(idp); err != nil {
			return err
		}
		if _, err := s.saveIdP(ctx, tx, siteID, idp, current.PendingMetadataURL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, clearPending, siteID); err != nil {
			return fmt.Errorf("clear the staged identity provider: %w", err)
		}
		return s.audit.RecordDetailsIn(ctx, tx, siteID, actor, "sso.activate-idp", audit.Details{
			{Name: "Entity ID", Value: current.IdPEntityID + " → " + idp.EntityID},
			{Name: "SSO URL", Value: current.SSOURL + " → " + idp.SSOURL},
			{Name: "Signing certificates", Value: "SHA-256 " + Fingerprints(current.Certificates) + " → " + Fingerprints(idp.Certificates)},
		})
	})
	if err != nil {
		return nil, err
	}
	return idp, nil
}

// DiscardPending drops the staged identity provider the admin's page
// showed (token) for actor, and records it; the live one is untouched.
func (s *Service) DiscardPending(ctx context.Context, siteID int64, token, actor string) error {
	return s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		current, err := s.lockSettings(ctx, tx, siteID)
		if err != nil {
			return fmt.Errorf("discard the staged identity provider: %w", err)
		}
		switch {
		case !current.HasPending():
			return ErrNoPending
		case current.PendingToken() != token:
			return ErrPendingChanged
		}
		if _, err := tx.Exec(ctx, clearPending, siteID); err != nil {
			return fmt.Errorf("discard the staged identity provider: %w", err)
		}
		return s.audit.RecordDetailsIn(ctx, tx, siteID, actor, "sso.discard-idp",
			idpDetails(current.PendingEntityID, current.PendingSSOURL, current.PendingCertificates, ""))
	})
}
