package admin

import (
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// protocolSAML2 is the only Federation Protocol the portal speaks; the
// select exists because Webex's page has it and the tutorial says to pick it.
const protocolSAML2 = "SAML 2.0"

// SSO profiles, as the SSO Profile select names them.
const (
	profileSPInitiated = "sp"
	profileBoth        = "sp-idp"
)

// optionsForm is the options part of the SSO Configuration page as the admin
// entered it, so that a refused Save shows back exactly what was typed. Its
// field errors are keyed by input name, as sso.FieldErrors are.
type optionsForm struct {
	Protocol      string
	Profile       string
	NameIDFormat  string
	AuthnContext  string
	RequireMFA    bool
	MFAContexts   string
	SignRequests  bool
	AutoCreate    bool
	AutoUpdate    bool
	Attendee      bool
	DefaultTarget string
	ErrorPageURL  string
	Enabled       bool
}

// optionsFormFrom shows the saved settings in the form.
func optionsFormFrom(set sso.Settings) optionsForm {
	profile := profileSPInitiated
	if set.IdPInitiated {
		profile = profileBoth
	}
	return optionsForm{
		Protocol: protocolSAML2, Profile: profile, NameIDFormat: set.NameIDFormat,
		AuthnContext: strings.Join(set.AuthnContext, ";"), RequireMFA: set.RequireMFA,
		MFAContexts: strings.Join(set.MFAContexts, ";"), SignRequests: set.SignRequests,
		AutoCreate: set.AutoCreate, AutoUpdate: set.AutoUpdate, Attendee: set.NewUserRole == "attendee",
		DefaultTarget: set.DefaultTarget, ErrorPageURL: set.ErrorPageURL, Enabled: set.Enabled,
	}
}

// newOptionsForm reads the posted options. A checkbox that is not ticked is
// not posted at all, so the page always posts the whole form and every
// switch is read.
func newOptionsForm(r *http.Request) optionsForm {
	checked := func(name string) bool { return r.PostFormValue(name) == "on" }
	return optionsForm{
		Protocol:      r.PostFormValue("protocol"),
		Profile:       r.PostFormValue("profile"),
		NameIDFormat:  r.PostFormValue("nameid_format"),
		AuthnContext:  r.PostFormValue("authn_context"),
		RequireMFA:    checked("require_mfa"),
		MFAContexts:   r.PostFormValue("mfa_contexts"),
		SignRequests:  checked("sign_requests"),
		AutoCreate:    checked("auto_create"),
		AutoUpdate:    checked("auto_update"),
		Attendee:      checked("attendee"),
		DefaultTarget: strings.TrimSpace(r.PostFormValue("default_target")),
		ErrorPageURL:  strings.TrimSpace(r.PostFormValue("error_page_url")),
		Enabled:       checked("enabled"),
	}
}

// Validate checks what only the form has: its two selects. The settings'
// values are checked by sso.Settings.Validate when they are saved.
func (f optionsForm) Validate() sso.FieldErrors {
	errs := sso.FieldErrors{}
	if f.Protocol != protocolSAML2 {
		errs["protocol"] = "Choose SAML 2.0."
	}
	if f.Profile != profileSPInitiated && f.Profile != profileBoth {
		errs["profile"] = "Choose SP-initiated, or SP- and IdP-initiated."
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Merge sets every option of the page into set.
func (f optionsForm) Merge(set *sso.Settings) {
	set.Enabled = f.Enabled
	set.IdPInitiated = f.Profile == profileBoth
	set.NameIDFormat = f.NameIDFormat
	set.AuthnContext = sso.SplitAuthnContext(f.AuthnContext)
	set.RequireMFA = f.RequireMFA
	set.MFAContexts = sso.SplitAuthnContext(f.MFAContexts)
	set.SignRequests = f.SignRequests
	set.AutoCreate = f.AutoCreate
	set.AutoUpdate = f.AutoUpdate
	set.NewUserRole = "host"
	if f.Attendee {
		set.NewUserRole = "attendee"
	}
	set.DefaultTarget = f.DefaultTarget
	set.ErrorPageURL = f.ErrorPageURL
}

// summary is the audit entry's detail for a Save.
func (f optionsForm) summary() string {
	return fmt.Sprintf("enabled=%t profile=%s nameid=%s authn_context=%q require_mfa=%t mfa_contexts=%q sign_requests=%t auto_create=%t auto_update=%t attendee=%t default_target=%q error_page_url=%q",
		f.Enabled, f.Profile, f.NameIDFormat, f.AuthnContext, f.RequireMFA, f.MFAContexts, f.SignRequests,
		f.AutoCreate, f.AutoUpdate, f.Attendee, f.DefaultTarget, f.ErrorPageURL)
}

// manualForm is the identity provider typed in by hand, for an IdP that
// publishes no metadata.
type manualForm struct {
	EntityID     string
	SSOURL       string
	SLOURL       string
	Certificates string // PEM, one or more CERTIFICATE blocks
}

// manualFormFrom shows the configured identity provider in the manual fields.
func manualFormFrom(set sso.Settings) manualForm {
	var pemText strings.Builder
	for _, c := range set.Certificates {
		_ = pem.Encode(&pemText, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return manualForm{EntityID: set.IdPEntityID, SSOURL: set.SSOURL, SLOURL: set.SLOURL, Certificates: pemText.String()}
}

// parseManualForm reads and checks the manual fields. Errors are keyed by
// input name: entity_id, sso_url, slo_url, certificates.
func parseManualForm(r *http.Request) (manualForm, *idpmeta.IdP, map[string]string) {
	f := manualForm{
		EntityID:     strings.TrimSpace(r.PostFormValue("entity_id")),
		SSOURL:       strings.TrimSpace(r.PostFormValue("sso_url")),
		SLOURL:       strings.TrimSpace(r.PostFormValue("slo_url")),
		Certificates: r.PostFormValue("certificates"),
	}
	errs := map[string]string{}
	if f.EntityID == "" {
		errs["entity_id"] = "Enter the identity provider's entity ID (Azure: the Azure AD Identifier, https://sts.windows.net/<tenant-id>/)."
	}
	if err := idpmeta.ValidateEndpoint(f.SSOURL); err != nil {
		errs["sso_url"], _ = adminMessage(err)
	}
	if f.SLOURL != "" {
		if err := idpmeta.ValidateEndpoint(f.SLOURL); err != nil {
			errs["slo_url"], _ = adminMessage(err)
		}
	}
	certs, err := idpmeta.ParseCertificatesPEM(f.Certificates)
	if err != nil {
		errs["certificates"] = err.Error()
	}
	if len(errs) > 0 {
		return f, nil, errs
	}
	return f, &idpmeta.IdP{EntityID: f.EntityID, SSOURL: f.SSOURL, SLOURL: f.SLOURL, Certificates: certs}, nil
}

// adminMessage is the sentence to show an admin for a refused import, fetch
// or address: idpmeta's Message, never the technical cause. ok is false for
// any other error, which is the portal's fault and goes to the error page.
func adminMessage(err error) (message string, ok bool) {
	var metaErr *idpmeta.Error
	if errors.As(err, &metaErr) {
		return metaErr.Message, true
	}
	return "", false
}
