package sso

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/users"
)

// NameID formats a site may ask for in NameIDPolicy: the ones Azure AD
// accepts.
const (
	NameIDEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
)

// DefaultMFAContexts are AuthnContextClassRefs that other IdPs use to say
// the user passed MFA; the admin can change the list.
var DefaultMFAContexts = []string{
	"https://refeds.org/profile/mfa",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
}

// Settings are one site's SSO configuration: a row of sso_settings, read
// with pgx.RowToStructByName, so a new option is a column and a field here.
type Settings struct {
	SiteID       int64    `db:"site_id"`
	IdPEntityID  string   `db:"idp_entity_id"`
	SSOURL       string   `db:"idp_sso_url"`
	SLOURL       string   `db:"idp_slo_url"`
	Enabled      bool     `db:"enabled"`
	AutoCreate   bool     `db:"auto_create"`
	AutoUpdate   bool     `db:"auto_update"`
	IdPInitiated bool     `db:"idp_initiated"`
	AuthnContext []string `db:"authn_context"`
	NameIDFormat string   `db:"nameid_format"`
	SignRequests bool     `db:"sign_requests"`
	NewUserRole  string   `db:"new_user_role"` // "host" or "attendee" (Webex's isattendeerole)
	// DefaultTarget is where users land when they asked for no page.
	DefaultTarget string `db:"default_target"`
	// ErrorPageURL, when set, receives refused users instead of the
	// portal's error page, with ?reference=…&reason=….
	ErrorPageURL string   `db:"error_page_url"`
	RequireMFA   bool     `db:"require_mfa"`
	MFAContexts  []string `db:"mfa_contexts"`
	// SLOEnabled is Single Logout: signing out of the site also signs out
	// at the identity provider (SLOURL), with a LogoutRequest.
	SLOEnabled bool `db:"slo_enabled"`
	// RequireEncryption refuses assertions that are not encrypted to the
	// site's SP key (Azure's token encryption).
	RequireEncryption bool `db:"require_encrypted_assertions"`
	// The claims each attribute of a just-in-time account is read from,
	// in order, and the group claim and values that give a role
	// (users.ClaimMapping).
	AttrUID        []string  `db:"attr_uid"`
	AttrEmail      []string  `db:"attr_email"`
	AttrFirstName  []string  `db:"attr_first_name"`
	AttrLastName   []string  `db:"attr_last_name"`
	GroupClaim     string    `db:"group_claim"`
	HostGroups     []string  `db:"host_groups"`
	AttendeeGroups []string  `db:"attendee_groups"`
	UpdatedAt      time.Time `db:"updated_at"`
	// Revision counts the changes to what the SSO Configuration page shows
	// (options, identity provider, its certificates, metadata URL): a form
	// carries the revision it was built from, so that a save on top of
	// someone else's newer change is noticed instead of undoing it.
	Revision int64 `db:"revision"`

	// The metadata URL and its refresh state.
	MetadataURL       string     `db:"metadata_url"`
	MetadataFetchedAt *time.Time `db:"metadata_fetched_at"`
	RefreshError      string     `db:"metadata_refresh_error"`
	RefreshFailedAt   *time.Time `db:"metadata_refresh_failed_at"`
	// Proposed* hold an entity ID or endpoints a refresh found changed,
	// waiting for the admin to accept them.
	ProposedEntityID     string   `db:"proposed_entity_id"`
	ProposedSSOURL       string   `db:"proposed_sso_url"`
	ProposedSLOURL       string   `db:"proposed_slo_url"`
	ProposedCertificates [][]byte `db:"proposed_certificates"`

	// Pending* are an identity provider staged while SSO is on, waiting
	// to be tested and activated (pending.go).
	PendingEntityID        string              `db:"pending_entity_id"`
	PendingSSOURL          string              `db:"pending_sso_url"`
	PendingSLOURL          string              `db:"pending_slo_url"`
	PendingCertificatesDER [][]byte            `db:"pending_certificates"`
	PendingCertificates    []*x509.Certificate `db:"-"`
	PendingMetadataURL     string              `db:"pending_metadata_url"`
	PendingSince           *time.Time          `db:"pending_since"`
	PendingBy              string              `db:"pending_by"`

	// CertificatesDER are the IdP's signing certificates as stored;
	// Certificates the same, parsed.
	CertificatesDER [][]byte            `db:"certificates"`
	Certificates    []*x509.Certificate `db:"-"`
}

// Configured reports whether an identity provider has been set up.
func (s Settings) Configured() bool {
	return s.IdPEntityID != "" && s.SSOURL != "" && len(s.CertificatesDER) > 0
}

// HasProposal reports whether a metadata refresh is waiting for the admin.
func (s Settings) HasProposal() bool {
	return s.ProposedEntityID != "" || s.ProposedSSOURL != ""
}

// defaults are the settings of a site nobody has configured: SSO off,
// just-in-time accounts on (as the tutorial says Webex does by default),
// IdP-initiated sign-in allowed (the Azure My Apps tile), requests signed.
// They are the table's column defaults, for a site with no row yet.
func defaults(siteID int64) Settings {
	mapping := users.DefaultClaimMapping()
	return Settings{
		SiteID: siteID, AutoCreate: true, IdPInitiated: true, NameIDFormat: NameIDEmail,
		SignRequests: true, NewUserRole: "host", DefaultTarget: "/",
		// Revision 0: nothing saved yet; the row, once written, is 1 or more.
		AuthnContext: []string{}, MFAContexts: append([]string(nil), DefaultMFAContexts...), Revision: 0,
		AttrUID: mapping.UID, AttrEmail: mapping.Email, AttrFirstName: mapping.FirstName, AttrLastName: mapping.LastName,
		GroupClaim: mapping.GroupClaim, HostGroups: []string{}, AttendeeGroups: []string{},
	}
}

// Mapping is the site's users.ClaimMapping.
func (s Settings) Mapping() users.ClaimMapping {
	return users.ClaimMapping{
		UID: s.AttrUID, Email: s.AttrEmail, FirstName: s.AttrFirstName, LastName: s.AttrLastName,
		GroupClaim: s.GroupClaim, HostGroups: s.HostGroups, AttendeeGroups: s.AttendeeGroups,
	}
}

// settingsWithCertificates is a settings row with its IdP certificates in
// order.
const settingsWithCertificates = `
SELECT s.*, coalesce((SELECT array_agg(c.certificate ORDER BY c.position) FROM idp_certificates c
                      WHERE c.site_id = s.site_id), '{}') AS certificates
FROM sso_settings s`

const selectSettings = settingsWithCertificates + ` WHERE s.site_id = $1`

// selectAllSettings is the first $1 sites' (PreloadSettings).
const selectAllSettings = settingsWithCertificates + ` ORDER BY s.site_id LIMIT $1`

func collectSettings(rows pgx.Rows, err error) (Settings, error) {
	if err != nil {
		return Settings{}, err
	}
	set, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Settings])
	if err != nil {
		return Settings{}, err
	}
	return set, parseCertificates(&set)
}

// signingCertificates are the IdP's certificates, parsed: Certificates, or
// from CertificatesDER when they came as stored (storedSettings).
func (s Settings) signingCertificates() ([]*x509.Certificate, error) {
	if s.Certificates == nil {
		if err := parseCertificates(&s); err != nil {
			return nil, err // names the certificate that does not parse
		}
	}
	return s.Certificates, nil
}

// parseCertificates sets Certificates and PendingCertificates from their
// DER.
func parseCertificates(set *Settings) error {
	set.Certificates, set.PendingCertificates = nil, nil
	for _, der := range set.CertificatesDER {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("parse stored IdP certificate: %w", err)
		}
		set.Certificates = append(set.Certificates, c)
	}
	for _, der := range set.PendingCertificatesDER {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("parse staged IdP certificate: %w", err)
		}
		set.PendingCertificates = append(set.PendingCertificates, c)
	}
	return nil
}

// ensureSettingsRow makes the site's settings row, with the defaults, if it
// does not exist yet.
const ensureSettingsRow = `INSERT INTO sso_settings (site_id, mfa_contexts) VALUES ($1, $2) ON CONFLICT DO NOTHING`

// Settings loads a site's configuration, certificates included and parsed,
// in one query; the defaults if there is none.
func (s *Service) Settings(ctx context.Context, siteID int64) (Settings, error) {
	set, err := s.storedSettings(ctx, siteID)
	if err != nil {
		return Settings{}, err // storedSettings says what it was loading
	}
	if set.Certificates == nil {
		if err := parseCertificates(&set); err != nil {
			return Settings{}, fmt.Errorf("load SSO settings: %w", err)
		}
	}
	return set, nil
}

// storedSettings is Settings for the service provider (every sign-in),
// which needs the IdP certificates as stored (CertificatesDER) only: a
// site's settings kept by the process come without parsed Certificates,
// and are not parsed again for it (6 µs a certificate, each sign-in).
func (s *Service) storedSettings(ctx context.Context, siteID int64) (Settings, error) {
	set, epoch, ok := s.cache.settings.Get(siteID)
	if ok {
		return copySettings(set), nil
	}
	set, err := collectSettings(s.pool.Query(ctx, selectSettings, siteID))
	if errors.Is(err, pgx.ErrNoRows) {
		set, err = defaults(siteID), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("load SSO settings: %w", err)
	}
	s.cache.settings.Put(siteID, epoch, kept(set))
	return set, nil
}

// changeConfig runs change in a transaction that changes site siteID's
// configuration. This process forgets what it kept of it as soon as the
// transaction ends; the other processes hear of it on portal_config.
func (s *Service) changeConfig(ctx context.Context, siteID int64, change func(pgx.Tx) error) error {
	defer s.Forget(siteID)
	return pgx.BeginFunc(ctx, s.pool, change)
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
	if err := validateIdP(idp); err != nil {
		return nil, err
	}
	err = s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		_, err := s.saveIdP(ctx, tx, siteID, idp, sourceURL)
		return err
	})
	if err != nil {
		return nil, err
	}
	return idp, nil
}

const upsertIdP = `
INSERT INTO sso_settings (site_id, idp_entity_id, idp_sso_url, idp_slo_url, updated_at, mfa_contexts)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (site_id) DO UPDATE SET
  idp_entity_id = excluded.idp_entity_id, idp_sso_url = excluded.idp_sso_url,
  idp_slo_url = excluded.idp_slo_url, updated_at = excluded.updated_at, revision = sso_settings.revision + 1,
  proposed_entity_id = '', proposed_sso_url = '', proposed_slo_url = '', proposed_certificates = '{}'`

// SaveIdP replaces the site's identity provider: entity ID, endpoints and
// exactly the given signing certificates (manual entry; no metadata URL).
func (s *Service) SaveIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP) error {
	_, err := s.ReplaceIdP(ctx, siteID, idp, nil)
	return err
}

// ReplaceIdP is SaveIdP for a form: check, when not nil, sees the current
// settings (locked until the transaction ends) and refuses the change by
// returning an error, which ReplaceIdP returns. Saving the identity
// provider already in use changes nothing (a form sent twice) and reports
// changed false.
func (s *Service) ReplaceIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP, check func(current Settings) error) (changed bool, err error) {
	changed, _, err = s.replaceIdP(ctx, siteID, idp, "", check)
	return changed, err
}

// ReplaceOrStageIdP is ReplaceIdP for the admin page: while single sign-on
// is on, idp is staged for actor (pending.go) instead of replacing the
// identity provider in use, and staged is true. Staging again what is
// staged already changes nothing.
func (s *Service) ReplaceOrStageIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP, actor string, check func(current Settings) error) (changed, staged bool, err error) {
	return s.replaceIdP(ctx, siteID, idp, actor, check)
}

// replaceIdP is ReplaceIdP, staging when stageFor names an actor and SSO
// is on.
func (s *Service) replaceIdP(ctx context.Context, siteID int64, idp *idpmeta.IdP, stageFor string, check func(current Settings) error) (changed, staged bool, err error) {
	if err := validateIdP(idp); err != nil {
		return false, false, err
	}
	err = s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		current, err := s.lockSettings(ctx, tx, siteID)
		if err != nil {
			return fmt.Errorf("save IdP: %w", err)
		}
		if check != nil {
			if err := check(current); err != nil {
				return err
			}
		}
		if stageFor != "" && current.stagesChanges() {
			staged = true
			if current.PendingMetadataURL == "" && current.withPending().hasIdP(idp) {
				return nil
			}
			changed = true
			return s.stageIdP(ctx, tx, siteID, idp, "", stageFor, "entered by hand")
		}
		if current.MetadataURL == "" && current.hasIdP(idp) {
			return nil
		}
		changed, err = s.saveIdP(ctx, tx, siteID, idp, "")
		return err
	})
	return changed, staged, err
}

// lockSettings reads a site's settings, making the row with the defaults
// first if there is none, and locks it until the transaction ends.
func (s *Service) lockSettings(ctx context.Context, tx pgx.Tx, siteID int64) (Settings, error) {
	if _, err := tx.Exec(ctx, ensureSettingsRow, siteID, DefaultMFAContexts); err != nil {
		return Settings{}, err
	}
	return collectSettings(tx.Query(ctx, selectSettings+` FOR UPDATE OF s`, siteID))
}

// hasIdP reports whether idp is exactly the identity provider in use:
// entity ID, endpoints and signing certificates in the same order.
func (s Settings) hasIdP(idp *idpmeta.IdP) bool {
	return s.IdPEntityID == idp.EntityID && s.SSOURL == idp.SSOURL && s.SLOURL == idp.SLOURL &&
		sameCertificates(s.Certificates, idp.Certificates)
}

func validateIdP(idp *idpmeta.IdP) error {
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
	return nil
}

// saveIdP replaces the identity provider inside tx and keeps sourceURL as
// the metadata URL ("" stops the daily refresh). It reports true: the
// callers have decided there is something to change.
func (s *Service) saveIdP(ctx context.Context, tx pgx.Tx, siteID int64, idp *idpmeta.IdP, sourceURL string) (bool, error) {
	now := s.now()
	if _, err := tx.Exec(ctx, upsertIdP, siteID, idp.EntityID, idp.SSOURL, idp.SLOURL, now, DefaultMFAContexts); err != nil {
		return false, fmt.Errorf("save IdP: %w", err)
	}
	var fetched *time.Time
	if sourceURL != "" {
		fetched = &now
	}
	if _, err := tx.Exec(ctx, `UPDATE sso_settings SET metadata_url = $2, metadata_fetched_at = $3,
metadata_refresh_error = '', metadata_refresh_failed_at = NULL WHERE site_id = $1`, siteID, sourceURL, fetched); err != nil {
		return false, fmt.Errorf("save metadata URL: %w", err)
	}
	return true, replaceCertificates(ctx, tx, siteID, idp.Certificates)
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

// ErrNotEnabled means the site has an IdP but single sign-on is switched off.
var ErrNotEnabled = errors.New("single sign-on is not enabled for this site")

// ErrNotConfigured means no identity provider is set up for the site yet.
var ErrNotConfigured = errors.New("no identity provider is configured for this site: import its metadata first")

// FieldErrors maps a setting, by the name of its input on the SSO
// Configuration page (e.g. "error_page_url"), to what is wrong with its
// value, in words for the admin.
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
	return "invalid SSO settings: " + strings.Join(parts, "; ")
}

// Validate checks the settings an admin or operator can change, and is the
// only place that does: UpdateSettings calls it inside its transaction.
func (s Settings) Validate() FieldErrors {
	errs := FieldErrors{}
	switch s.NameIDFormat {
	case NameIDEmail, NameIDUnspecified, NameIDPersistent:
	default:
		errs["nameid_format"] = "Choose emailAddress, unspecified or persistent."
	}
	if s.NewUserRole != "host" && s.NewUserRole != "attendee" {
		errs["attendee"] = "New accounts are hosts or attendees."
	}
	if !session.SafeReturnPath(s.DefaultTarget) {
		errs["default_target"] = "Enter a page of this site, starting with / (for example /)."
	}
	if s.ErrorPageURL != "" {
		u, err := url.Parse(s.ErrorPageURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			errs["error_page_url"] = "Enter an https:// address, or leave it empty to use this site's error page."
		}
	}
	if err := validateAuthnContexts(s.AuthnContext); err != nil {
		errs["authn_context"] = err.Error()
	}
	if err := validateAuthnContexts(s.MFAContexts); err != nil {
		errs["mfa_contexts"] = err.Error()
	}
	if s.SLOEnabled && s.SLOURL == "" {
		errs["slo_enabled"] = "The identity provider has no logout URL (SLO URL) yet: import metadata that lists one, or enter it by hand under Identity provider (Azure: the Logout URL), then turn on Single Logout."
	}
	for _, m := range []struct {
		field string
		names []string
	}{{"attr_uid", s.AttrUID}, {"attr_email", s.AttrEmail}, {"attr_first_name", s.AttrFirstName}, {"attr_last_name", s.AttrLastName}} {
		if problem := badClaimNames(m.names, false); problem != "" {
			errs[m.field] = problem
		}
	}
	if problem := badClaimNames([]string{s.GroupClaim}, true); problem != "" {
		errs["group_claim"] = problem
	}
	if s.GroupClaim == "" && len(s.HostGroups)+len(s.AttendeeGroups) > 0 {
		errs["group_claim"] = "Enter the claim that carries the groups (Azure: http://schemas.microsoft.com/ws/2008/06/identity/claims/groups), or remove the groups below."
	}
	for field, groups := range map[string][]string{"host_groups": s.HostGroups, "attendee_groups": s.AttendeeGroups} {
		if problem := badClaimNames(groups, true); problem != "" {
			errs[field] = strings.Replace(problem, "a claim name", "a group value", 1)
		}
	}
	if s.Enabled && !s.Configured() {
		errs["enabled"] = "No identity provider is set up yet: import its metadata first (or enter it by hand), then enable SSO."
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// maxClaimNames bounds each list of claim names or group values.
const maxClaimNames = 200

// badClaimNames checks a list of claim names (or group values): each one
// line of printable text, at most 1024 octets; an empty list only when
// emptyOK (an attribute needs at least one claim). It returns what is
// wrong, for the admin, or "".
func badClaimNames(names []string, emptyOK bool) string {
	if len(names) == 0 && !emptyOK {
		return "Enter at least one claim name."
	}
	if len(names) > maxClaimNames {
		return fmt.Sprintf("At most %d values are accepted.", maxClaimNames)
	}
	for _, n := range names {
		if n == "" && emptyOK {
			continue
		}
		if strings.TrimSpace(n) != n || n == "" || len(n) > 1024 || !utf8.ValidString(n) || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return fmt.Sprintf("%q is not a claim name: one per line, without spaces around it.", shorten(n))
		}
	}
	return ""
}

// SplitLines reads a list typed one value per line (or separated by
// semicolons), trimmed, empty ones dropped.
func SplitLines(s string) []string { return SplitAuthnContext(s) }

const updateSettings = `
UPDATE sso_settings SET enabled = $2, auto_create = $3, auto_update = $4, idp_initiated = $5,
  authn_context = $6, nameid_format = $7, sign_requests = $8, new_user_role = $9, default_target = $10,
  error_page_url = $11, require_mfa = $12, mfa_contexts = $13, updated_at = $14, slo_enabled = $15,
  require_encrypted_assertions = $16, attr_uid = $17, attr_email = $18, attr_first_name = $19,
  attr_last_name = $20, group_claim = $21, host_groups = $22, attendee_groups = $23, revision = revision + 1
WHERE site_id = $1
RETURNING revision`

// UpdateSettings changes a site's settings in one transaction: change gets
// the current settings, locked until the transaction ends, and edits them
// (the admin page sets every option, `portal sso set` only the flags
// given) or refuses by returning an error, which UpdateSettings returns.
// Validate then checks the result. Invalid settings give FieldErrors and
// change nothing; settings that change nothing are not written (the
// revision stays). It returns the settings as saved.
func (s *Service) UpdateSettings(ctx context.Context, siteID int64, change func(*Settings) error) (Settings, error) {
	var saved Settings
	err := s.changeConfig(ctx, siteID, func(tx pgx.Tx) error {
		set, err := s.lockSettings(ctx, tx, siteID)
		if err != nil {
			return fmt.Errorf("update SSO settings: %w", err)
		}
		before := set.clone()
		if err := change(&set); err != nil {
			return err
		}
		set.Normalize()
		if errs := set.Validate(); errs != nil {
			return errs
		}
		if set.sameOptions(before) {
			saved = before
			return nil
		}
		set.UpdatedAt = s.now()
		err = tx.QueryRow(ctx, updateSettings, siteID, set.Enabled, set.AutoCreate, set.AutoUpdate, set.IdPInitiated,
			set.AuthnContext, set.NameIDFormat, set.SignRequests, set.NewUserRole, set.DefaultTarget,
			set.ErrorPageURL, set.RequireMFA, set.MFAContexts, set.UpdatedAt, set.SLOEnabled, set.RequireEncryption,
			set.AttrUID, set.AttrEmail, set.AttrFirstName, set.AttrLastName, set.GroupClaim, set.HostGroups, set.AttendeeGroups).Scan(&set.Revision)
		if err != nil {
			return fmt.Errorf("update SSO settings: %w", err)
		}
		saved = set
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	return saved, nil
}

// Normalize gives the empty value of each option its meaning: an empty
// list is stored as one (the columns are NOT NULL), an empty default target
// page is the meetings home. UpdateSettings normalizes what it saves.
func (s *Settings) Normalize() {
	if s.AuthnContext == nil {
		s.AuthnContext = []string{}
	}
	if s.MFAContexts == nil {
		s.MFAContexts = []string{}
	}
	if s.HostGroups == nil {
		s.HostGroups = []string{}
	}
	if s.AttendeeGroups == nil {
		s.AttendeeGroups = []string{}
	}
	if strings.TrimSpace(s.DefaultTarget) == "" {
		s.DefaultTarget = "/"
	}
}

// clone copies s, lists included, so that editing the copy leaves s as it was.
func (s Settings) clone() Settings {
	s.AuthnContext = slices.Clone(s.AuthnContext)
	s.MFAContexts = slices.Clone(s.MFAContexts)
	s.AttrUID, s.AttrEmail = slices.Clone(s.AttrUID), slices.Clone(s.AttrEmail)
	s.AttrFirstName, s.AttrLastName = slices.Clone(s.AttrFirstName), slices.Clone(s.AttrLastName)
	s.HostGroups, s.AttendeeGroups = slices.Clone(s.HostGroups), slices.Clone(s.AttendeeGroups)
	return s
}

// sameOptions reports whether s and o agree on every option UpdateSettings
// writes.
func (s Settings) sameOptions(o Settings) bool {
	return s.Enabled == o.Enabled && s.AutoCreate == o.AutoCreate && s.AutoUpdate == o.AutoUpdate &&
		s.IdPInitiated == o.IdPInitiated && slices.Equal(s.AuthnContext, o.AuthnContext) &&
		s.NameIDFormat == o.NameIDFormat && s.SignRequests == o.SignRequests && s.NewUserRole == o.NewUserRole &&
		s.DefaultTarget == o.DefaultTarget && s.ErrorPageURL == o.ErrorPageURL && s.RequireMFA == o.RequireMFA &&
		slices.Equal(s.MFAContexts, o.MFAContexts) && s.SLOEnabled == o.SLOEnabled && s.RequireEncryption == o.RequireEncryption &&
		slices.Equal(s.AttrUID, o.AttrUID) && slices.Equal(s.AttrEmail, o.AttrEmail) && slices.Equal(s.AttrFirstName, o.AttrFirstName) &&
		slices.Equal(s.AttrLastName, o.AttrLastName) && s.GroupClaim == o.GroupClaim &&
		slices.Equal(s.HostGroups, o.HostGroups) && slices.Equal(s.AttendeeGroups, o.AttendeeGroups)
}

// SplitAuthnContext reads an AuthnContextClassRef list as typed: URIs
// separated by semicolons (the Webex page's form) or new lines, trimmed,
// empty ones dropped. Settings.Validate checks each is a URI.
func SplitAuthnContext(s string) []string {
	out := []string{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '\r' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func validateAuthnContexts(refs []string) error {
	for _, ref := range refs {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || (u.Opaque == "" && u.Host == "") || strings.ContainsAny(ref, " \t\r\n<>\"") {
			return fmt.Errorf("%q is not an absolute URI (for example urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport)", ref)
		}
	}
	return nil
}
