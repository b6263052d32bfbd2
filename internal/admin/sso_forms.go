package admin

import (
	"crypto/x509"
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
// entered it, so that a refused Save shows back exactly what was typed.
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

// parseOptionsForm reads the posted options. A checkbox that is not ticked
// is not posted at all, so every switch is set: the page always posts the
// whole form. Errors are keyed like sso.FieldErrors (Options field names).
func parseOptionsForm(r *http.Request) (optionsForm, sso.Options, sso.FieldErrors) {
	checked := func(name string) bool { return r.PostFormValue(name) == "on" }
	f := optionsForm{
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
	errs := sso.FieldErrors{}
	if f.Protocol != protocolSAML2 {
		errs["Protocol"] = "Choose SAML 2.0."
	}
	idpInitiated := f.Profile == profileBoth
	if f.Profile != profileSPInitiated && f.Profile != profileBoth {
		errs["IdPInitiated"] = "Choose SP-initiated, or SP- and IdP-initiated."
	}
	authnContext, err := sso.ParseAuthnContext(f.AuthnContext)
	if err != nil {
		errs["AuthnContext"] = err.Error()
	}
	mfaContexts, err := sso.ParseAuthnContext(f.MFAContexts)
	if err != nil {
		errs["MFAContexts"] = err.Error()
	}
	role := "host"
	if f.Attendee {
		role = "attendee"
	}
	o := sso.Options{
		Enabled: &f.Enabled, AutoCreate: &f.AutoCreate, AutoUpdate: &f.AutoUpdate, IdPInitiated: &idpInitiated,
		AuthnContext: &authnContext, NameIDFormat: &f.NameIDFormat, SignRequests: &f.SignRequests,
		NewUserRole: &role, DefaultTarget: &f.DefaultTarget, ErrorPageURL: &f.ErrorPageURL,
		RequireMFA: &f.RequireMFA, MFAContexts: &mfaContexts,
	}
	// The service's own checks, so that every mistake shows at once
	// rather than one per Save.
	for field, msg := range o.Validate() {
		if _, ok := errs[field]; !ok {
			errs[field] = msg
		}
	}
	if len(errs) == 0 {
		return f, o, nil
	}
	return f, o, errs
}

// optionsSummary is the audit entry's detail for a Save.
func optionsSummary(f optionsForm) string {
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
// field: EntityID, SSOURL, SLOURL, Certificates.
func parseManualForm(r *http.Request) (manualForm, *idpmeta.IdP, map[string]string) {
	f := manualForm{
		EntityID:     strings.TrimSpace(r.PostFormValue("entity_id")),
		SSOURL:       strings.TrimSpace(r.PostFormValue("sso_url")),
		SLOURL:       strings.TrimSpace(r.PostFormValue("slo_url")),
		Certificates: r.PostFormValue("certificates"),
	}
	errs := map[string]string{}
	if f.EntityID == "" {
		errs["EntityID"] = "Enter the identity provider's entity ID (Azure: the Azure AD Identifier, https://sts.windows.net/<tenant-id>/)."
	}
	if err := idpmeta.ValidateEndpoint(f.SSOURL); err != nil {
		errs["SSOURL"], _ = adminMessage(err)
	}
	if f.SLOURL != "" {
		if err := idpmeta.ValidateEndpoint(f.SLOURL); err != nil {
			errs["SLOURL"], _ = adminMessage(err)
		}
	}
	certs, err := parseCertificatesPEM(f.Certificates)
	if err != nil {
		errs["Certificates"] = err.Error()
	}
	if len(errs) > 0 {
		return f, nil, errs
	}
	return f, &idpmeta.IdP{EntityID: f.EntityID, SSOURL: f.SSOURL, SLOURL: f.SLOURL, Certificates: certs}, nil
}

// parseCertificatesPEM reads one or more PEM certificates (several during
// an IdP's certificate rollover). Anything else in the text is refused
// rather than ignored: a pasted private key must not be kept by accident.
func parseCertificatesPEM(text string) ([]*x509.Certificate, error) {
	rest := []byte(strings.TrimSpace(text))
	if len(rest) == 0 {
		return nil, fmt.Errorf("paste the identity provider's signing certificate: the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
	}
	var certs []*x509.Certificate
	for n := 1; len(rest) > 0; n++ {
		block, next := pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("certificate %d is not PEM text: each certificate must start with -----BEGIN CERTIFICATE----- and end with -----END CERTIFICATE-----", n)
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("block %d is a %q, not a CERTIFICATE: paste only the identity provider's certificates", n, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d could not be read as an X.509 certificate", n)
		}
		certs = append(certs, c)
		rest = []byte(strings.TrimSpace(string(next)))
	}
	return certs, nil
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
