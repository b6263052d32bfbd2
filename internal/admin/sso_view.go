package admin

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
)

// expiryWarning is how far ahead a certificate's expiry is announced.
const expiryWarning = 30 * 24 * time.Hour

// ssoPage is what admin_sso.html shows.
type ssoPage struct {
	Notice  string // success banner after a change
	Problem string // error banner

	Settings        sso.Settings
	IdPCertificates []certificateView
	// PendingCertificates are the staged identity provider's.
	PendingCertificates []certificateView
	SP                  spDetails

	Options      optionsForm
	OptionErrors sso.FieldErrors
	// Conflict lists what someone else changed since the admin opened the
	// page, after a save refused for it.
	Conflict []settingChange

	Manual       manualForm
	ManualErrors map[string]string
	// ManualOpen shows the manual entry unfolded: the admin asked to edit
	// the identity provider by hand (?edit=idp, then prefilled with it),
	// or a manual save was refused.
	ManualOpen bool

	// LastSuccess and LastFailure are the latest accepted and refused
	// sign-ins, for Status (nil: none yet).
	LastSuccess, LastFailure *sso.Event
	// SPWarning announces the expiry of the SP certificate in use.
	SPWarning string

	ImportError    string
	ImportURL      string
	ImportURLError string

	// Choices of the selects.
	Protocol               string
	ProfileSP, ProfileBoth string
	NameIDFormats          []choice
	// TutorialAuthnContext is what the Azure tutorial enters as
	// AuthnContextClassRef, offered as a preset.
	TutorialAuthnContext string
}

// tutorialAuthnContext is the Azure tutorial's AuthnContextClassRef, one
// URI per line as the page's text area has it.
const tutorialAuthnContext = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport\nurn:oasis:names:tc:SAML:2.0:ac:classes:X509"

type choice struct{ Value, Label string }

// nameIDChoices are the NameID formats Azure AD accepts in NameIDPolicy.
var nameIDChoices = []choice{
	{sso.NameIDEmail, "emailAddress"},
	{sso.NameIDUnspecified, "unspecified"},
	{sso.NameIDPersistent, "persistent"},
}

// spDetails are this site's service-provider values, shown read-only beside
// Export for the admin to compare with what Azure shows.
type spDetails struct {
	EntityID, ACSURL, SLOURL, SignOnURL string
	ExportName                          string
	Certificates                        []sso.SPCertificate
	ActiveExpires                       time.Time
	HasNext                             bool
	// Newest is the newest SP key listed: Create next carries it, so that
	// the same press sent twice makes one key.
	Newest int64
	// KeyUnreadable: the SP private key does not open under the portal's
	// PORTAL_SECRET_KEY (sso.SPKeyUnreadableError).
	KeyUnreadable bool
}

// certificateView is an IdP signing certificate with a warning when it has
// expired, is about to, or is not valid yet.
type certificateView struct {
	idpmeta.CertificateInfo
	Warning string
}

func describeCertificate(info idpmeta.CertificateInfo, now time.Time) certificateView {
	v := certificateView{CertificateInfo: info}
	day := info.NotAfter.Format("2006-01-02")
	switch {
	case !now.Before(info.NotAfter):
		v.Warning = "Expired on " + day + ": responses signed with it are refused. Ask the identity provider for its current certificate."
	case info.NotAfter.Sub(now) <= expiryWarning:
		days := int(info.NotAfter.Sub(now).Hours()/24) + 1
		v.Warning = fmt.Sprintf("Expires on %s, in %d day(s): make sure the identity provider rolls over to a new certificate and import its metadata again.", day, days)
	case now.Before(info.NotBefore):
		v.Warning = "Not valid until " + info.NotBefore.Format("2006-01-02") + "."
	}
	return v
}

// reviewPage is what admin_sso_review.html shows before an import replaces
// anything: what the metadata says and, for a site already configured,
// what will change.
type reviewPage struct {
	DraftID      string
	SourceURL    string
	IdP          *idpmeta.IdP
	Certificates []certificateView

	Configured bool
	// Staged: SSO is on, so importing stages the change instead of
	// putting it in use (sso/pending.go).
	Staged  bool
	Changes []change
	Added   []certificateView
	Removed []certificateView
}

type change struct{ What, From, To string }

func newReviewPage(d sso.Draft, current sso.Settings, now time.Time) reviewPage {
	p := reviewPage{DraftID: d.ID, SourceURL: d.SourceURL, IdP: d.IdP, Configured: current.IdPEntityID != "",
		Staged: current.StagesChanges(), Certificates: describeCertificates(d.IdP.Certificates, now)}
	if !p.Configured {
		return p
	}
	for _, c := range []change{
		{"Entity ID", current.IdPEntityID, d.IdP.EntityID},
		{"SSO URL", current.SSOURL, d.IdP.SSOURL},
		{"SLO URL", current.SLOURL, d.IdP.SLOURL},
	} {
		if c.From != c.To {
			p.Changes = append(p.Changes, c)
		}
	}
	p.Added = describeCertificates(sso.CertificatesNotIn(d.IdP.Certificates, current.Certificates), now)
	p.Removed = describeCertificates(sso.CertificatesNotIn(current.Certificates, d.IdP.Certificates), now)
	return p
}

func describeCertificates(certs []*x509.Certificate, now time.Time) []certificateView {
	var out []certificateView
	for _, c := range certs {
		out = append(out, describeCertificate(idpmeta.Describe(c), now))
	}
	return out
}
