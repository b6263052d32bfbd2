package admin

import (
	"crypto/x509"
	"fmt"
	"strings"
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
	SP              spDetails

	Options      optionsForm
	OptionErrors sso.FieldErrors

	Manual       manualForm
	ManualErrors map[string]string

	ImportError    string
	ImportURL      string
	ImportURLError string

	// Choices of the selects.
	Protocol               string
	ProfileSP, ProfileBoth string
	NameIDFormats          []choice
}

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
	EntityID, ACSURL, SignOnURL string
	ExportName                  string
	Certificates                []sso.SPCertificate
	ActiveExpires               time.Time
	HasNext                     bool
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
	Changes    []change
	Added      []certificateView
	Removed    []certificateView
}

type change struct{ What, From, To string }

func newReviewPage(d sso.Draft, current sso.Settings, now time.Time) reviewPage {
	p := reviewPage{DraftID: d.ID, SourceURL: d.SourceURL, IdP: d.IdP, Configured: current.IdPEntityID != ""}
	for _, c := range d.IdP.Certificates {
		p.Certificates = append(p.Certificates, describeCertificate(idpmeta.Describe(c), now))
	}
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
	p.Added = certificatesNotIn(d.IdP.Certificates, current.Certificates, now)
	p.Removed = certificatesNotIn(current.Certificates, d.IdP.Certificates, now)
	return p
}

// certificatesNotIn lists the certificates of a that b lacks.
func certificatesNotIn(a, b []*x509.Certificate, now time.Time) []certificateView {
	in := map[string]bool{}
	for _, c := range b {
		in[string(c.Raw)] = true
	}
	var out []certificateView
	for _, c := range a {
		if !in[string(c.Raw)] {
			out = append(out, describeCertificate(idpmeta.Describe(c), now))
		}
	}
	return out
}

// fingerprints lists certificates' SHA-256 fingerprints for the audit log.
func fingerprints(certs []*x509.Certificate) string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = idpmeta.Describe(c).SHA256
	}
	return strings.Join(out, ", ")
}
