package sso

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// NameID formats a site may ask for in NameIDPolicy: the ones Azure AD
// accepts.
const (
	NameIDEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
)

// Settings are one site's SSO configuration.
type Settings struct {
	SiteID       int64
	IdPEntityID  string
	SSOURL       string
	SLOURL       string
	Certificates []*x509.Certificate
	Enabled      bool
	AutoCreate   bool
	AutoUpdate   bool
	IdPInitiated bool
	AuthnContext []string
	NameIDFormat string
	UpdatedAt    time.Time
}

// Configured reports whether an identity provider has been set up.
func (s Settings) Configured() bool {
	return s.IdPEntityID != "" && s.SSOURL != "" && len(s.Certificates) > 0
}

// defaults are the settings of a site nobody has configured: SSO off,
// just-in-time accounts on (as the tutorial says Webex does by default),
// IdP-initiated sign-in allowed (the Azure My Apps tile).
func defaults(siteID int64) Settings {
	return Settings{SiteID: siteID, AutoCreate: true, IdPInitiated: true, NameIDFormat: NameIDEmail}
}

const selectSettings = `
SELECT idp_entity_id, idp_sso_url, idp_slo_url, enabled, auto_create, auto_update, idp_initiated,
       authn_context, nameid_format, updated_at
FROM sso_settings WHERE site_id = $1`

// Settings loads a site's configuration (the defaults if there is none).
func (s *Service) Settings(ctx context.Context, siteID int64) (Settings, error) {
	set := defaults(siteID)
	err := s.pool.QueryRow(ctx, selectSettings, siteID).Scan(&set.IdPEntityID, &set.SSOURL, &set.SLOURL,
		&set.Enabled, &set.AutoCreate, &set.AutoUpdate, &set.IdPInitiated, &set.AuthnContext, &set.NameIDFormat, &set.UpdatedAt)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Settings{}, fmt.Errorf("load SSO settings: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT certificate FROM idp_certificates WHERE site_id = $1 ORDER BY position`, siteID)
	if err != nil {
		return Settings{}, fmt.Errorf("load IdP certificates: %w", err)
	}
	ders, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return Settings{}, fmt.Errorf("load IdP certificates: %w", err)
	}
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return Settings{}, fmt.Errorf("parse stored IdP certificate: %w", err)
		}
		set.Certificates = append(set.Certificates, c)
	}
	return set, nil
}

// ImportMetadata parses IdP metadata and, if it is good, replaces the site's
// IdP in one transaction. Bad metadata leaves the old configuration as it
// was; the error is an *idpmeta.Error an admin can read.
func (s *Service) ImportMetadata(ctx context.Context, siteID int64, data []byte) (*idpmeta.IdP, error) {
	idp, err := idpmeta.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := s.SaveIdP(ctx, siteID, idp); err != nil {
		return nil, err
	}
	return idp, nil
}

const upsertIdP = `
INSERT INTO sso_settings (site_id, idp_entity_id, idp_sso_url, idp_slo_url, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (site_id) DO UPDATE SET
  idp_entity_id = excluded.idp_entity_id, idp_sso_url = excluded.idp_sso_url,
  idp_slo_url = excluded.idp_slo_url, updated_at = excluded.updated_at`

// SaveIdP replaces the site's identity provider: entity ID, endpoints and
// exactly the given signing certificates.
func (s *Service) SaveIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP) error {
	if idp.EntityID == "" || len(idp.Certificates) == 0 {
		return errors.New("save IdP: entity ID and at least one certificate are required")
	}
	if err := idpmeta.ValidateEndpoint(idp.SSOURL); err != nil {
		return err
	}
	if idp.SLOURL != "" {
		if err := idpmeta.ValidateEndpoint(idp.SLOURL); err != nil {
			return err
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, upsertIdP, siteID, idp.EntityID, idp.SSOURL, idp.SLOURL, s.now()); err != nil {
			return fmt.Errorf("save IdP: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM idp_certificates WHERE site_id = $1`, siteID); err != nil {
			return fmt.Errorf("save IdP certificates: %w", err)
		}
		for i, c := range idp.Certificates {
			sum := sha256.Sum256(c.Raw)
			if _, err := tx.Exec(ctx, `INSERT INTO idp_certificates (site_id, sha256, certificate, position) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`, siteID, sum[:], c.Raw, i); err != nil {
				return fmt.Errorf("save IdP certificate: %w", err)
			}
		}
		return nil
	})
}

// Options changes some of a site's switches; nil fields stay as they are.
type Options struct {
	Enabled      *bool
	AutoCreate   *bool
	AutoUpdate   *bool
	IdPInitiated *bool
	AuthnContext *[]string
	NameIDFormat *string
}

// ErrNotConfigured refuses enabling SSO before an IdP is set up.
var ErrNotConfigured = errors.New("no identity provider is configured for this site: import its metadata first")

// ErrNotEnabled means the site has an IdP but single sign-on is switched off.
var ErrNotEnabled = errors.New("single sign-on is not enabled for this site")

// SetOptions applies o in one transaction.
func (s *Service) SetOptions(ctx context.Context, siteID int64, o Options) error {
	if o.NameIDFormat != nil {
		switch *o.NameIDFormat {
		case NameIDEmail, NameIDUnspecified, NameIDPersistent:
		default:
			return fmt.Errorf("NameID format %q is not one of emailAddress, unspecified, persistent", *o.NameIDFormat)
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sso_settings (site_id) VALUES ($1) ON CONFLICT DO NOTHING`, siteID); err != nil {
			return fmt.Errorf("set SSO options: %w", err)
		}
		set := defaults(siteID)
		if err := tx.QueryRow(ctx, selectSettings+` FOR UPDATE`, siteID).Scan(&set.IdPEntityID, &set.SSOURL, &set.SLOURL,
			&set.Enabled, &set.AutoCreate, &set.AutoUpdate, &set.IdPInitiated, &set.AuthnContext, &set.NameIDFormat, &set.UpdatedAt); err != nil {
			return fmt.Errorf("set SSO options: %w", err)
		}
		apply := func(dst *bool, src *bool) {
			if src != nil {
				*dst = *src
			}
		}
		apply(&set.Enabled, o.Enabled)
		apply(&set.AutoCreate, o.AutoCreate)
		apply(&set.AutoUpdate, o.AutoUpdate)
		apply(&set.IdPInitiated, o.IdPInitiated)
		if o.AuthnContext != nil {
			set.AuthnContext = *o.AuthnContext
		}
		if o.NameIDFormat != nil {
			set.NameIDFormat = *o.NameIDFormat
		}
		if set.Enabled && (set.IdPEntityID == "" || set.SSOURL == "") {
			return ErrNotConfigured
		}
		_, err := tx.Exec(ctx, `UPDATE sso_settings SET enabled = $2, auto_create = $3, auto_update = $4, idp_initiated = $5,
authn_context = $6, nameid_format = $7, updated_at = $8 WHERE site_id = $1`,
			siteID, set.Enabled, set.AutoCreate, set.AutoUpdate, set.IdPInitiated, set.AuthnContext, set.NameIDFormat, s.now())
		if err != nil {
			return fmt.Errorf("set SSO options: %w", err)
		}
		return nil
	})
}

// ParseAuthnContext reads the AuthnContextClassRef box: semicolon-separated
// absolute URIs, trimmed; empty means none is requested.
func ParseAuthnContext(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil || u.Scheme == "" || (u.Opaque == "" && u.Host == "") || strings.ContainsAny(part, " \t\r\n<>\"") {
			return nil, fmt.Errorf("%q is not an absolute URI (for example urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport)", part)
		}
		out = append(out, part)
	}
	return out, nil
}
