package sso

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// RefreshInterval is how often a metadata URL is fetched again.
const RefreshInterval = 24 * time.Hour

// refreshRetry is how long a failed refresh waits before the next try.
const refreshRetry = time.Hour

// Fetcher fetches metadata from a URL (idpmeta.Fetch with the operator's
// SSRF settings).
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// Refresh fetches a site's metadata URL again for actor (an admin's
// e-mail for Refresh now, audit.Portal for the daily job). The signing
// certificates become exactly those the fresh metadata lists, so an Azure
// rollover (old and new side by side, then only the new) is followed. A
// changed entity ID or SSO URL is not applied: it is kept as a proposal for
// the admin to accept. A failure keeps the old configuration and records
// the error and its time.
//
// What a refresh changes is in the audit log, written in the transaction
// that changes it: new certificates, a new proposal, a failure. An admin's
// Refresh now is recorded even when nothing changed (they asked); the daily
// job only when something did, and a failure only when it starts or its
// error changes — a URL that stays broken is retried every hour and would
// otherwise bury every other entry.
func (s *Service) Refresh(ctx context.Context, siteID int64, actor string, fetch Fetcher) error {
	set, err := s.Settings(ctx, siteID)
	if err != nil {
		return err
	}
	if set.MetadataURL == "" {
		return errors.New("this site has no metadata URL to refresh")
	}
	// The fetch takes up to 10 seconds: outside the transaction, which then
	// compares with the configuration as it is when the result is written.
	idp, fetchErr := s.fetchAndParse(ctx, set.MetadataURL, fetch)
	err = s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		current, err := s.lockSettings(ctx, tx, siteID)
		if err != nil {
			return fmt.Errorf("record metadata refresh: %w", err)
		}
		if current.MetadataURL != set.MetadataURL {
			// Someone imported other metadata meanwhile: this result is
			// about a URL no longer in use.
			return nil
		}
		if fetchErr != nil {
			return s.recordRefreshFailure(ctx, tx, current, actor, fetchErr)
		}
		detail, err := s.applyRefresh(ctx, tx, current, idp)
		if err != nil {
			return err
		}
		if detail == "" {
			if actor == audit.Portal {
				return nil
			}
			detail = "fetched " + current.MetadataURL + ": nothing changed"
		}
		return s.audit.RecordIn(ctx, tx, siteID, actor, "sso.refresh-metadata", detail)
	})
	if err != nil {
		return errors.Join(fetchErr, err)
	}
	return fetchErr
}

func (s *Service) recordRefreshFailure(ctx context.Context, tx pgx.Tx, current Settings, actor string, fetchErr error) error {
	message := refreshMessage(fetchErr)
	if _, err := tx.Exec(ctx, `UPDATE sso_settings SET metadata_refresh_error = $2, metadata_refresh_failed_at = $3
WHERE site_id = $1`, current.SiteID, message, s.now()); err != nil {
		return fmt.Errorf("record metadata refresh: %w", err)
	}
	if actor == audit.Portal && current.RefreshError == message {
		return nil
	}
	return s.audit.RecordDetailsIn(ctx, tx, current.SiteID, actor, "sso.refresh-metadata", audit.Details{
		{Name: "Metadata URL", Value: current.MetadataURL},
		{Name: "Failed", Value: message},
		{Value: "The configuration in use has not changed."},
	})
}

// applyRefresh writes a good fetch into current's site and says what it
// changed, "" for nothing.
func (s *Service) applyRefresh(ctx context.Context, tx pgx.Tx, current Settings, idp *idpmeta.IdP) (string, error) {
	siteID := current.SiteID
	if idp.EntityID != current.IdPEntityID || idp.SSOURL != current.SSOURL || idp.SLOURL != current.SLOURL {
		// Another IdP, or the same one moved: the document may now be
		// someone else's, so neither its endpoints nor its certificates are
		// trusted until the admin accepts them.
		ders := make([][]byte, len(idp.Certificates))
		for i, c := range idp.Certificates {
			ders[i] = c.Raw
		}
		_, err := tx.Exec(ctx, `UPDATE sso_settings SET metadata_fetched_at = $2, metadata_refresh_error = '',
metadata_refresh_failed_at = NULL, proposed_entity_id = $3, proposed_sso_url = $4, proposed_slo_url = $5,
proposed_certificates = $6 WHERE site_id = $1`, siteID, s.now(), idp.EntityID, idp.SSOURL, idp.SLOURL, ders)
		if err != nil {
			return "", fmt.Errorf("record metadata refresh: %w", err)
		}
		if current.HasProposal() && current.ProposalID() == proposalID(idp.EntityID, idp.SSOURL, idp.SLOURL, ders) {
			return "", nil
		}
		return fmt.Sprintf("the metadata now names entity ID %s, SSO URL %s, SLO URL %s: proposed, waiting for an admin to accept it (still in use: %s, %s)",
			idp.EntityID, idp.SSOURL, orNone(idp.SLOURL), current.IdPEntityID, current.SSOURL), nil
	}
	_, err := tx.Exec(ctx, `UPDATE sso_settings SET metadata_fetched_at = $2, metadata_refresh_error = '',
metadata_refresh_failed_at = NULL, proposed_entity_id = '', proposed_sso_url = '', proposed_slo_url = '',
proposed_certificates = '{}' WHERE site_id = $1`, siteID, s.now())
	if err != nil {
		return "", fmt.Errorf("record metadata refresh: %w", err)
	}
	if sameCertificates(current.Certificates, idp.Certificates) {
		return "", nil
	}
	if err := s.bumpRevision(ctx, tx, siteID); err != nil {
		return "", err
	}
	if err := replaceCertificates(ctx, tx, siteID, idp.Certificates); err != nil {
		return "", err
	}
	return "IdP signing certificates are now " + Fingerprints(idp.Certificates) + certificateChanges(current.Certificates, idp.Certificates), nil
}

func (s *Service) bumpRevision(ctx context.Context, tx pgx.Tx, siteID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE sso_settings SET revision = revision + 1, updated_at = $2 WHERE site_id = $1`, siteID, s.now()); err != nil {
		return fmt.Errorf("update SSO settings revision: %w", err)
	}
	return nil
}

func sameCertificates(a, b []*x509.Certificate) bool {
	return slices.EqualFunc(a, b, func(x, y *x509.Certificate) bool { return x.Equal(y) })
}

// certificateChanges says which certificates came and went, for the audit
// log: " (added …; removed …)".
func certificateChanges(before, after []*x509.Certificate) string {
	var parts []string
	if added := CertificatesNotIn(after, before); len(added) > 0 {
		parts = append(parts, "added "+Fingerprints(added))
	}
	if removed := CertificatesNotIn(before, after); len(removed) > 0 {
		parts = append(parts, "removed "+Fingerprints(removed))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// CertificatesNotIn lists the certificates of a that b lacks.
func CertificatesNotIn(a, b []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range a {
		if !slices.ContainsFunc(b, c.Equal) {
			out = append(out, c)
		}
	}
	return out
}

// idpDetails are an audit entry's fields for an identity provider: its
// entity ID, SSO URL, signing certificates and, when it came from one,
// its metadata URL.
func idpDetails(entityID, ssoURL string, certs []*x509.Certificate, sourceURL string) audit.Details {
	d := audit.Details{
		{Name: "Entity ID", Value: entityID},
		{Name: "SSO URL", Value: ssoURL},
		{Name: "Signing certificates", Value: fmt.Sprintf("%d (SHA-256 %s)", len(certs), Fingerprints(certs))},
	}
	if sourceURL != "" {
		d = append(d, audit.Field{Name: "Metadata URL", Value: sourceURL})
	}
	return d
}

// Fingerprints lists certificates' SHA-256 fingerprints, for the audit log
// and the pages.
func Fingerprints(certs []*x509.Certificate) string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = idpmeta.Describe(c).SHA256
	}
	return strings.Join(out, ", ")
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

// ErrProposalChanged refuses accepting a proposal that is not the one the
// admin saw: a later refresh replaced it.
var ErrProposalChanged = errors.New("the proposed identity provider changed since this page was opened")

// ProposalID names the waiting proposal, "" when there is none: the Accept
// button carries it, so that what is accepted is what the admin saw.
func (s Settings) ProposalID() string {
	if !s.HasProposal() {
		return ""
	}
	return proposalID(s.ProposedEntityID, s.ProposedSSOURL, s.ProposedSLOURL, s.ProposedCertificates)
}

// idpID is ProposalID of the identity provider in use: after an Accept, the
// two are equal.
func (s Settings) idpID() string {
	ders := make([][]byte, len(s.Certificates))
	for i, c := range s.Certificates {
		ders[i] = c.Raw
	}
	return proposalID(s.IdPEntityID, s.SSOURL, s.SLOURL, ders)
}

func proposalID(entityID, ssoURL, sloURL string, ders [][]byte) string {
	h := sha256.New()
	for _, part := range append([][]byte{[]byte(entityID), []byte(ssoURL), []byte(sloURL)}, ders...) {
		// Length-prefixed, so that no two different proposals give the
		// same bytes.
		fmt.Fprintf(h, "%d:", len(part))
		h.Write(part)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// AcceptProposal applies the entity ID, endpoints and certificates a
// refresh found, if they are still the proposal named proposal (what the
// admin saw). Accepting what was accepted already changes nothing and
// reports changed false (a double click, two admins); another proposal is
// ErrProposalChanged, none at all ErrNoProposal.
func (s *Service) AcceptProposal(ctx context.Context, siteID int64, proposal, actor string) (changed bool, err error) {
	err = s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		current, err := s.lockSettings(ctx, tx, siteID)
		if err != nil {
			return fmt.Errorf("accept refreshed metadata: %w", err)
		}
		switch {
		case !current.HasProposal() && proposal != "" && current.idpID() == proposal:
			return nil
		case !current.HasProposal():
			return ErrNoProposal
		case current.ProposalID() != proposal:
			return ErrProposalChanged
		}
		certs := make([]*x509.Certificate, 0, len(current.ProposedCertificates))
		for _, der := range current.ProposedCertificates {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return fmt.Errorf("accept refreshed metadata: %w", err)
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return errors.New("accept refreshed metadata: the proposal has no signing certificate")
		}
		tag, err := tx.Exec(ctx, `UPDATE sso_settings SET idp_entity_id = proposed_entity_id, idp_sso_url = proposed_sso_url,
idp_slo_url = proposed_slo_url, proposed_entity_id = '', proposed_sso_url = '', proposed_slo_url = '',
proposed_certificates = '{}', updated_at = $2, revision = revision + 1
WHERE site_id = $1`, siteID, s.now())
		if err != nil {
			return fmt.Errorf("accept refreshed metadata: %w", err)
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("accept refreshed metadata: %d settings rows updated, want 1", tag.RowsAffected())
		}
		if err := replaceCertificates(ctx, tx, siteID, certs); err != nil {
			return err
		}
		changed = true
		return s.audit.RecordDetailsIn(ctx, tx, siteID, actor, "sso.accept-refresh", audit.Details{
			{Name: "Entity ID", Value: current.IdPEntityID + " → " + current.ProposedEntityID},
			{Name: "SSO URL", Value: current.SSOURL + " → " + current.ProposedSSOURL},
			{Name: "SLO URL", Value: orNone(current.SLOURL) + " → " + orNone(current.ProposedSLOURL)},
			{Name: "Signing certificates", Value: "SHA-256 " + Fingerprints(certs)},
		})
	})
	return changed, err
}

// RefreshDue refreshes at most limit sites whose metadata URL was last
// fetched more than RefreshInterval ago (a failed one is retried after an
// hour), as audit.Portal. It runs inside the housekeeping round, which one
// process at a time holds, so two processes never fetch for the same site
// at once. It reports how many sites it fetched successfully.
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
		if err := s.Refresh(ctx, siteID, audit.Portal, fetch); err != nil {
			s.log.WarnContext(ctx, "metadata refresh failed; the old configuration stays", "site_id", siteID, "error", err.Error())
			continue
		}
		done++
	}
	return done, nil
}
