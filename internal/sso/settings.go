package sso

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"sort"
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

// AzureMFAMethod is the value Azure AD puts in the authnmethodsreferences
// claim when the user passed multi-factor authentication.
const (
	ClaimAuthnMethods = "http://schemas.microsoft.com/claims/authnmethodsreferences"
	AzureMFAMethod    = "http://schemas.microsoft.com/claims/multipleauthn"
)

// DefaultMFAContexts are AuthnContextClassRefs that other IdPs use to say
// the user passed MFA; the admin can change the list.
var DefaultMFAContexts = []string{
	"https://refeds.org/profile/mfa",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
}

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
	SignRequests bool
	NewUserRole  string // "host" or "attendee" (Webex's isattendeerole)
	// DefaultTarget is where users land when they asked for no page.
	DefaultTarget string
	// ErrorPageURL, when set, receives refused users instead of the
	// portal's error page, with ?reference=…&reason=….
	ErrorPageURL string
	RequireMFA   bool
	MFAContexts  []string
	UpdatedAt    time.Time

	// The metadata URL and its refresh state.
	MetadataURL       string
	MetadataFetchedAt *time.Time
	RefreshError      string
	RefreshFailedAt   *time.Time
	// Proposed* hold an entity ID or endpoints a refresh found changed,
	// waiting for the admin to accept them.
	ProposedEntityID string
	ProposedSSOURL   string
	ProposedSLOURL   string
}

// Configured reports whether an identity provider has been set up.
func (s Settings) Configured() bool {
	return s.IdPEntityID != "" && s.SSOURL != "" && len(s.Certificates) > 0
}

// HasProposal reports whether a metadata refresh is waiting for the admin.
func (s Settings) HasProposal() bool {
	return s.ProposedEntityID != "" || s.ProposedSSOURL != ""
}

// defaults are the settings of a site nobody has configured: SSO off,
// just-in-time accounts on (as the tutorial says Webex does by default),
// IdP-initiated sign-in allowed (the Azure My Apps tile), requests signed.
func defaults(siteID int64) Settings {
	return Settings{
		SiteID: siteID, AutoCreate: true, IdPInitiated: true, NameIDFormat: NameIDEmail,
		SignRequests: true, NewUserRole: "host", DefaultTarget: "/",
		MFAContexts: append([]string(nil), DefaultMFAContexts...),
	}
}

const selectSettings = `
SELECT idp_entity_id, idp_sso_url, idp_slo_url, enabled, auto_create, auto_update, idp_initiated,
       authn_context, nameid_format, sign_requests, new_user_role, default_target, error_page_url,
       require_mfa, mfa_contexts, updated_at, metadata_url, metadata_fetched_at, metadata_refresh_error,
       metadata_refresh_failed_at, proposed_entity_id, proposed_sso_url, proposed_slo_url,
       coalesce((SELECT array_agg(c.certificate ORDER BY c.position) FROM idp_certificates c
                 WHERE c.site_id = sso_settings.site_id), '{}')
FROM sso_settings WHERE site_id = $1`

func scanSettings(row pgx.Row, set *Settings) error {
	var ders [][]byte
	err := row.Scan(&set.IdPEntityID, &set.SSOURL, &set.SLOURL, &set.Enabled, &set.AutoCreate, &set.AutoUpdate,
		&set.IdPInitiated, &set.AuthnContext, &set.NameIDFormat, &set.SignRequests, &set.NewUserRole,
		&set.DefaultTarget, &set.ErrorPageURL, &set.RequireMFA, &set.MFAContexts, &set.UpdatedAt,
		&set.MetadataURL, &set.MetadataFetchedAt, &set.RefreshError, &set.RefreshFailedAt,
		&set.ProposedEntityID, &set.ProposedSSOURL, &set.ProposedSLOURL, &ders)
	if err != nil {
		return err
	}
	set.Certificates = nil
	for _, der := range ders {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("parse stored IdP certificate: %w", err)
		}
		set.Certificates = append(set.Certificates, c)
	}
	return nil
}

// ensureSettingsRow makes the site's settings row, with the defaults, if it
// does not exist yet.
const ensureSettingsRow = `INSERT INTO sso_settings (site_id, mfa_contexts) VALUES ($1, $2) ON CONFLICT DO NOTHING`

// Settings loads a site's configuration, certificates included, in one
// query (it runs on every sign-in); the defaults if there is none.
func (s *Service) Settings(ctx context.Context, siteID int64) (Settings, error) {
	set := defaults(siteID)
	if err := scanSettings(s.pool.QueryRow(ctx, selectSettings, siteID), &set); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Settings{}, fmt.Errorf("load SSO settings: %w", err)
	}
	return set, nil
}

// ImportMetadata parses IdP metadata and, if it is good, replaces the site's
// IdP in one transaction. Bad metadata leaves the old configuration as it
// was; the error is an *idpmeta.Error an admin can read. sourceURL is the
// metadata URL it came from ("" for a file), kept for the daily refresh.
func (s *Service) ImportMetadata(ctx context.Context, siteID int64, data []byte, sourceURL string) (*idpmeta.IdP, error) {
	idp, err := idpmeta.Parse(data)
	if err != nil {
		return nil, err
	}
	if err := s.saveIdP(ctx, siteID, idp, &sourceURL); err != nil {
		return nil, err
	}
	return idp, nil
}

const upsertIdP = `
INSERT INTO sso_settings (site_id, idp_entity_id, idp_sso_url, idp_slo_url, updated_at, mfa_contexts)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (site_id) DO UPDATE SET
  idp_entity_id = excluded.idp_entity_id, idp_sso_url = excluded.idp_sso_url,
  idp_slo_url = excluded.idp_slo_url, updated_at = excluded.updated_at,
  proposed_entity_id = '', proposed_sso_url = '', proposed_slo_url = ''`

// SaveIdP replaces the site's identity provider: entity ID, endpoints and
// exactly the given signing certificates (manual entry; no metadata URL).
func (s *Service) SaveIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP) error {
	empty := ""
	return s.saveIdP(ctx, siteID, idp, &empty)
}

func (s *Service) saveIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP, sourceURL *string) error {
	if strings.TrimSpace(idp.EntityID) == "" || len(idp.Certificates) == 0 {
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
		now := s.now()
		if _, err := tx.Exec(ctx, upsertIdP, siteID, idp.EntityID, idp.SSOURL, idp.SLOURL, now, DefaultMFAContexts); err != nil {
			return fmt.Errorf("save IdP: %w", err)
		}
		if sourceURL != nil {
			var fetched *time.Time
			if *sourceURL != "" {
				fetched = &now
			}
			if _, err := tx.Exec(ctx, `UPDATE sso_settings SET metadata_url = $2, metadata_fetched_at = $3,
metadata_refresh_error = '', metadata_refresh_failed_at = NULL WHERE site_id = $1`, siteID, *sourceURL, fetched); err != nil {
				return fmt.Errorf("save metadata URL: %w", err)
			}
		}
		return replaceCertificates(ctx, tx, siteID, idp.Certificates)
	})
}

func replaceCertificates(ctx context.Context, tx pgx.Tx, siteID int64, certs []*x509.Certificate) error {
	if _, err := tx.Exec(ctx, `DELETE FROM idp_certificates WHERE site_id = $1`, siteID); err != nil {
		return fmt.Errorf("save IdP certificates: %w", err)
	}
	for i, c := range certs {
		sum := sha256.Sum256(c.Raw)
		if _, err := tx.Exec(ctx, `INSERT INTO idp_certificates (site_id, sha256, certificate, position) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING`, siteID, sum[:], c.Raw, i); err != nil {
			return fmt.Errorf("save IdP certificate: %w", err)
		}
	}
	return nil
}

// Options changes some of a site's switches; nil fields stay as they are.
type Options struct {
	Enabled       *bool
	AutoCreate    *bool
	AutoUpdate    *bool
	IdPInitiated  *bool
	AuthnContext  *[]string
	NameIDFormat  *string
	SignRequests  *bool
	NewUserRole   *string
	DefaultTarget *string
	ErrorPageURL  *string
	RequireMFA    *bool
	MFAContexts   *[]string
}

// ErrNotConfigured refuses enabling SSO before an IdP is set up.
var ErrNotConfigured = errors.New("no identity provider is configured for this site: import its metadata first")

// ErrNotEnabled means the site has an IdP but single sign-on is switched off.
var ErrNotEnabled = errors.New("single sign-on is not enabled for this site")

// FieldErrors maps an option's name (as in Options, e.g. "ErrorPageURL") to
// what is wrong with its value, in words for the admin.
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + f[k]
	}
	return "invalid SSO options: " + strings.Join(parts, "; ")
}

// Validate checks the values that are set.
func (o Options) Validate() FieldErrors {
	errs := FieldErrors{}
	if o.NameIDFormat != nil {
		switch *o.NameIDFormat {
		case NameIDEmail, NameIDUnspecified, NameIDPersistent:
		default:
			errs["NameIDFormat"] = "Choose emailAddress, unspecified or persistent."
		}
	}
	if o.NewUserRole != nil && *o.NewUserRole != "host" && *o.NewUserRole != "attendee" {
		errs["NewUserRole"] = "Choose host or attendee."
	}
	if o.DefaultTarget != nil && !SafeReturnPath(*o.DefaultTarget) {
		errs["DefaultTarget"] = "Enter a page of this site, starting with / (for example /)."
	}
	if o.ErrorPageURL != nil && *o.ErrorPageURL != "" {
		u, err := url.Parse(*o.ErrorPageURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			errs["ErrorPageURL"] = "Enter an https:// address, or leave it empty to use this site's error page."
		}
	}
	for name, list := range map[string]*[]string{"AuthnContext": o.AuthnContext, "MFAContexts": o.MFAContexts} {
		if list == nil {
			continue
		}
		for _, v := range *list {
			if _, err := ParseAuthnContext(v); err != nil {
				errs[name] = err.Error()
				break
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// SetOptions validates o and applies it in one transaction. Invalid values
// give FieldErrors and change nothing.
func (s *Service) SetOptions(ctx context.Context, siteID int64, o Options) error {
	if errs := o.Validate(); errs != nil {
		return errs
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, ensureSettingsRow, siteID, DefaultMFAContexts); err != nil {
			return fmt.Errorf("set SSO options: %w", err)
		}
		set := defaults(siteID)
		if err := scanSettings(tx.QueryRow(ctx, selectSettings+` FOR UPDATE`, siteID), &set); err != nil {
			return fmt.Errorf("set SSO options: %w", err)
		}
		setBool := func(dst, src *bool) {
			if src != nil {
				*dst = *src
			}
		}
		setString := func(dst, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		setBool(&set.Enabled, o.Enabled)
		setBool(&set.AutoCreate, o.AutoCreate)
		setBool(&set.AutoUpdate, o.AutoUpdate)
		setBool(&set.IdPInitiated, o.IdPInitiated)
		setBool(&set.SignRequests, o.SignRequests)
		setBool(&set.RequireMFA, o.RequireMFA)
		setString(&set.NameIDFormat, o.NameIDFormat)
		setString(&set.NewUserRole, o.NewUserRole)
		setString(&set.DefaultTarget, o.DefaultTarget)
		setString(&set.ErrorPageURL, o.ErrorPageURL)
		if o.AuthnContext != nil {
			set.AuthnContext = *o.AuthnContext
		}
		if o.MFAContexts != nil {
			set.MFAContexts = *o.MFAContexts
		}
		if set.Enabled && (set.IdPEntityID == "" || set.SSOURL == "") {
			return ErrNotConfigured
		}
		_, err := tx.Exec(ctx, `UPDATE sso_settings SET enabled = $2, auto_create = $3, auto_update = $4, idp_initiated = $5,
authn_context = $6, nameid_format = $7, sign_requests = $8, new_user_role = $9, default_target = $10,
error_page_url = $11, require_mfa = $12, mfa_contexts = $13, updated_at = $14 WHERE site_id = $1`,
			siteID, set.Enabled, set.AutoCreate, set.AutoUpdate, set.IdPInitiated, set.AuthnContext, set.NameIDFormat,
			set.SignRequests, set.NewUserRole, set.DefaultTarget, set.ErrorPageURL, set.RequireMFA, set.MFAContexts, s.now())
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
