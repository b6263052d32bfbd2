package admin

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
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
	// SingleLogout and RequireEncryption are sso.Settings' SLOEnabled and
	// RequireEncryption.
	SingleLogout      bool
	RequireEncryption bool
	Enabled           bool
	// Attributes and roles (sso.Settings' Attr*, GroupClaim, *Groups):
	// lists as typed, one value per line.
	AttrUID, AttrEmail, AttrFirstName, AttrLastName string
	GroupClaim                                      string
	HostGroups, AttendeeGroups                      string

	// Section is which form of the page was posted (formSections): a Save
	// changes that form's settings and leaves every other one as it is.
	Section string

	version // of the settings the page was built from
}

// The forms of the SSO Configuration page that save settings, each
// named by its hidden "section" input.
const (
	sectionOptions = "options" // 3. Sign-in options
	sectionStatus  = "status"  // 4. Status: SSO on or off
	sectionMapping = "mapping" // 3. Sign-in options: attributes and roles
)

// formSections are the inputs each settings form of the page owns. A form
// posts only its own inputs, so a Save reads and writes exactly those:
// the admin who saves one section never resets another they did not see.
var formSections = map[string][]string{
	sectionOptions: {"profile", "nameid_format", "authn_context", "require_mfa", "mfa_contexts", "sign_requests",
		"auto_create", "auto_update", "attendee", "default_target", "error_page_url", "slo_enabled", "require_encryption"},
	sectionStatus:  {"enabled"},
	sectionMapping: {"attr_uid", "attr_email", "attr_first_name", "attr_last_name", "group_claim", "host_groups", "attendee_groups"},
}

// optionsFormFrom shows the saved settings in the form (withVersion adds
// the version they are).
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
		SingleLogout: set.SLOEnabled, RequireEncryption: set.RequireEncryption,
		AttrUID: strings.Join(set.AttrUID, ";"), AttrEmail: strings.Join(set.AttrEmail, ";"),
		AttrFirstName: strings.Join(set.AttrFirstName, ";"), AttrLastName: strings.Join(set.AttrLastName, ";"),
		GroupClaim: set.GroupClaim, HostGroups: strings.Join(set.HostGroups, ";"), AttendeeGroups: strings.Join(set.AttendeeGroups, ";"),
	}
}

// newOptionsForm reads the posted options. A checkbox that is not ticked is
// not posted at all, so the page always posts the whole form and every
// switch is read.
func newOptionsForm(r *http.Request) optionsForm {
	f := optionsFormFromValues(postForm(r))
	f.Protocol = r.PostFormValue("protocol")
	f.Section = r.PostFormValue("section")
	f.version = formVersion(r)
	return f
}

// optionsFormFromValues reads the options from form values by input name.
func optionsFormFromValues(v url.Values) optionsForm {
	checked := func(name string) bool { return v.Get(name) == "on" }
	return optionsForm{
		Profile:           v.Get("profile"),
		NameIDFormat:      v.Get("nameid_format"),
		AuthnContext:      v.Get("authn_context"),
		RequireMFA:        checked("require_mfa"),
		MFAContexts:       v.Get("mfa_contexts"),
		SignRequests:      checked("sign_requests"),
		AutoCreate:        checked("auto_create"),
		AutoUpdate:        checked("auto_update"),
		Attendee:          checked("attendee"),
		DefaultTarget:     strings.TrimSpace(v.Get("default_target")),
		ErrorPageURL:      strings.TrimSpace(v.Get("error_page_url")),
		SingleLogout:      checked("slo_enabled"),
		RequireEncryption: checked("require_encryption"),
		Enabled:           checked("enabled"),
		AttrUID:           v.Get("attr_uid"),
		AttrEmail:         v.Get("attr_email"),
		AttrFirstName:     v.Get("attr_first_name"),
		AttrLastName:      v.Get("attr_last_name"),
		GroupClaim:        strings.TrimSpace(v.Get("group_claim")),
		HostGroups:        v.Get("host_groups"),
		AttendeeGroups:    v.Get("attendee_groups"),
	}
}

// values is the form as it posts itself: input name → value, "on" or ""
// for a checkbox.
func (f optionsForm) values() url.Values {
	on := func(b bool) string {
		if b {
			return "on"
		}
		return ""
	}
	return url.Values{
		"profile": {f.Profile}, "nameid_format": {f.NameIDFormat}, "authn_context": {f.AuthnContext},
		"require_mfa": {on(f.RequireMFA)}, "mfa_contexts": {f.MFAContexts}, "sign_requests": {on(f.SignRequests)},
		"auto_create": {on(f.AutoCreate)}, "auto_update": {on(f.AutoUpdate)}, "attendee": {on(f.Attendee)},
		"default_target": {f.DefaultTarget}, "error_page_url": {f.ErrorPageURL}, "enabled": {on(f.Enabled)},
		"slo_enabled": {on(f.SingleLogout)}, "require_encryption": {on(f.RequireEncryption)},
		"attr_uid": {f.AttrUID}, "attr_email": {f.AttrEmail}, "attr_first_name": {f.AttrFirstName},
		"attr_last_name": {f.AttrLastName}, "group_claim": {f.GroupClaim}, "host_groups": {f.HostGroups},
		"attendee_groups": {f.AttendeeGroups},
	}
}

// Lines is a list of the form as its text area shows it: one per line.
func (f optionsForm) Lines(list string) string { return asLines(list) }

// AuthnContextLines and MFAContextLines are the lists as the page's
// text areas show them: one URI per line (SplitAuthnContext reads lines
// and the semicolons of the Webex page alike).
func (f optionsForm) AuthnContextLines() string { return asLines(f.AuthnContext) }
func (f optionsForm) MFAContextLines() string   { return asLines(f.MFAContexts) }

func asLines(list string) string {
	return strings.Join(sso.SplitAuthnContext(list), "\n")
}

// withVersion is f showing that it was built from set.
func (f optionsForm) withVersion(set sso.Settings) optionsForm {
	f.version = versionOf(set)
	return f
}

// postForm is the request's posted form. CheckInput has parsed and checked
// it already; parsing again is a no-op, and what cannot be parsed reads as
// empty, as with PostFormValue.
func postForm(r *http.Request) url.Values {
	_ = r.ParseForm()
	return r.PostForm
}

// Validate checks what only the form has: which section it is, and the
// options section's two selects. The settings' values are checked by
// sso.Settings.Validate when they are saved.
func (f optionsForm) Validate() sso.FieldErrors {
	errs := sso.FieldErrors{}
	if _, ok := formSections[f.Section]; !ok {
		errs["section"] = "This form is out of date: reload the page and make the change again."
		return errs
	}
	if f.Section != sectionOptions {
		return nil
	}
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

// sectionValues is values reduced to the inputs of f's section.
func (f optionsForm) sectionValues(values url.Values) url.Values {
	out := url.Values{}
	for _, key := range formSections[f.Section] {
		out[key] = values[key]
	}
	return out
}

// over is the whole options form as it would be with f's section as
// posted on top of set: the other sections keep set's values.
func (f optionsForm) over(set sso.Settings) optionsForm {
	v := optionsFormFrom(set).values()
	for key, value := range f.sectionValues(f.values()) {
		v[key] = value
	}
	merged := optionsFormFromValues(v)
	merged.Protocol, merged.Section, merged.version = protocolSAML2, f.Section, f.version
	if f.Section == sectionOptions {
		merged.Protocol = f.Protocol
	}
	return merged
}

// MergeSection sets the options of f's section into set and leaves every
// other option as it was.
func (f optionsForm) MergeSection(set *sso.Settings) {
	f.over(*set).Merge(set)
}

// Merge sets every option of the page into set. The settings are checked,
// and empty values given their meaning, when they are saved
// (sso.Settings.Normalize, Validate).
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
	set.SLOEnabled = f.SingleLogout
	set.RequireEncryption = f.RequireEncryption
	set.AttrUID = sso.SplitLines(f.AttrUID)
	set.AttrEmail = sso.SplitLines(f.AttrEmail)
	set.AttrFirstName = sso.SplitLines(f.AttrFirstName)
	set.AttrLastName = sso.SplitLines(f.AttrLastName)
	set.GroupClaim = f.GroupClaim
	set.HostGroups = sso.SplitLines(f.HostGroups)
	set.AttendeeGroups = sso.SplitLines(f.AttendeeGroups)
}

// manualForm is the identity provider typed in by hand, for an IdP that
// publishes no metadata.
type manualForm struct {
	EntityID     string
	SSOURL       string
	SLOURL       string
	Certificates string // PEM, one or more CERTIFICATE blocks

	version // of the settings the page was built from
}

// manualFormFrom shows the configured identity provider in the manual
// fields (withVersion adds the version it is).
func manualFormFrom(set sso.Settings) manualForm {
	var pemText strings.Builder
	for _, c := range set.Certificates {
		_ = pem.Encode(&pemText, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return manualForm{EntityID: set.IdPEntityID, SSOURL: set.SSOURL, SLOURL: set.SLOURL, Certificates: pemText.String()}
}

// withVersion is f showing that it was built from set.
func (f manualForm) withVersion(set sso.Settings) manualForm {
	f.version = versionOf(set)
	return f
}

// values is the form as it posts itself.
func (f manualForm) values() url.Values {
	return url.Values{"entity_id": {f.EntityID}, "sso_url": {f.SSOURL}, "slo_url": {f.SLOURL}, "certificates": {f.Certificates}}
}

// manualFormFromValues reads the manual fields from form values.
func manualFormFromValues(v url.Values) manualForm {
	return manualForm{
		EntityID:     strings.TrimSpace(v.Get("entity_id")),
		SSOURL:       strings.TrimSpace(v.Get("sso_url")),
		SLOURL:       strings.TrimSpace(v.Get("slo_url")),
		Certificates: v.Get("certificates"),
	}
}

// wanted is what saving idp makes of the page's settings, as pageState
// has them: a manual identity provider has no metadata URL.
func (f manualForm) wanted(idp *idpmeta.IdP) url.Values {
	return url.Values{"entity_id": {idp.EntityID}, "sso_url": {idp.SSOURL}, "slo_url": {idp.SLOURL},
		"certificates": {sso.Fingerprints(idp.Certificates)}, "metadata_url": {""}}
}

// parseManualForm reads and checks the manual fields. Errors are keyed by
// input name: entity_id, sso_url, slo_url, certificates.
func parseManualForm(r *http.Request) (manualForm, *idpmeta.IdP, map[string]string) {
	f := manualFormFromValues(postForm(r))
	f.version = formVersion(r)
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
