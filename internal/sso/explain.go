package sso

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// Received is what a response says, read WITHOUT verifying it: for
// explaining a refusal to an admin and for the Test SSO page, never for
// signing anyone in.
type Received struct {
	Issuer       string
	Destination  string
	NameID       string
	Recipient    string
	Audiences    []string
	NotBefore    time.Time
	NotOnOrAfter time.Time
	AuthnContext []string
	Attributes   []ReceivedAttribute
}

// ReceivedAttribute is one attribute and its values, in document order.
type ReceivedAttribute struct {
	Name   string
	Values []string
}

// Peek reads a decoded response that passed xmlguard (or nil).
func Peek(decoded []byte) Received {
	var r Received
	if len(decoded) == 0 {
		return r
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(decoded); err != nil || doc.Root() == nil {
		return r
	}
	root := doc.Root()
	r.Destination = root.SelectAttrValue("Destination", "")
	if el := root.FindElement("./Issuer"); el != nil {
		r.Issuer = strings.TrimSpace(el.Text())
	}
	a := root.FindElement("./Assertion")
	if a == nil {
		return r
	}
	if el := a.FindElement("./Issuer"); el != nil {
		r.Issuer = strings.TrimSpace(el.Text())
	}
	if el := a.FindElement("./Subject/NameID"); el != nil {
		r.NameID = strings.TrimSpace(el.Text())
	}
	if el := a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData"); el != nil {
		r.Recipient = el.SelectAttrValue("Recipient", "")
	}
	if c := a.FindElement("./Conditions"); c != nil {
		r.NotBefore, _ = time.Parse(time.RFC3339Nano, c.SelectAttrValue("NotBefore", ""))
		r.NotOnOrAfter, _ = time.Parse(time.RFC3339Nano, c.SelectAttrValue("NotOnOrAfter", ""))
		for _, aud := range c.FindElements("./AudienceRestriction/Audience") {
			r.Audiences = append(r.Audiences, strings.TrimSpace(aud.Text()))
		}
	}
	for _, ref := range a.FindElements("./AuthnStatement/AuthnContext/AuthnContextClassRef") {
		r.AuthnContext = append(r.AuthnContext, strings.TrimSpace(ref.Text()))
	}
	for _, attr := range a.FindElements("./AttributeStatement/Attribute") {
		ra := ReceivedAttribute{Name: attr.SelectAttrValue("Name", "")}
		for _, v := range attr.SelectElements("AttributeValue") {
			ra.Values = append(ra.Values, v.Text())
		}
		r.Attributes = append(r.Attributes, ra)
	}
	return r
}

// explain rewrites a refusal's Detail into what the site admin can do about
// it, using what the response said and what the site expects. The result
// is stored in the sign-in event and shown on the events and Test SSO pages.
func (s *Service) explain(refusal *RefusalError, set Settings, siteName string, decoded []byte) *RefusalError {
	got := Peek(decoded)
	now := s.now()
	var text string
	switch refusal.Reason {
	case ReasonSignatureInvalid, xmlguard.ReasonUnsigned:
		var fps []string
		for _, c := range set.Certificates {
			fps = append(fps, idpmeta.Describe(c).SHA256)
		}
		text = fmt.Sprintf("The signature did not verify with the configured certificates (fingerprints %s). "+
			"The IdP may have rolled over its certificate: re-import the metadata.", strings.Join(fps, ", "))
	case ReasonIdPCertExpired:
		text = "The IdP's signing certificate configured for this site has expired or is not valid yet. Import the IdP's current metadata."
	case ReasonIssuerMismatch:
		text = fmt.Sprintf("The response comes from issuer %s, but this site trusts %s. Import the metadata of the identity provider you use.", quote(got.Issuer), set.IdPEntityID)
	case ReasonAudienceMismatch:
		text = fmt.Sprintf("Audience %s does not match this site's entity ID %s. Set the Identifier (Entity ID) in the IdP to %s.",
			quote(strings.Join(got.Audiences, ", ")), s.EntityID(siteName), s.EntityID(siteName))
	case ReasonDestinationMismatch:
		addressed := got.Recipient
		if got.Destination != "" && got.Destination != s.ACSURL(siteName) {
			addressed = got.Destination
		}
		text = fmt.Sprintf("The response was addressed to %s, but this site's Reply URL (ACS) is %s. Set the Reply URL in the IdP to %s.",
			quote(addressed), s.ACSURL(siteName), s.ACSURL(siteName))
	case ReasonNotYetValid:
		if !got.NotBefore.IsZero() {
			text = fmt.Sprintf("The assertion is not valid until %s; the clocks differ by %s. Check the time on the IdP and on the portal servers.",
				got.NotBefore.UTC().Format("15:04:05 UTC"), got.NotBefore.Sub(now).Round(time.Second))
		}
	case ReasonExpired:
		if !got.NotOnOrAfter.IsZero() && !now.Before(got.NotOnOrAfter) {
			text = fmt.Sprintf("The assertion expired at %s, %s ago. If the user did not simply take too long, check the clocks.",
				got.NotOnOrAfter.UTC().Format("15:04:05 UTC"), now.Sub(got.NotOnOrAfter).Round(time.Second))
		}
	case xmlguard.ReasonSHA1:
		text = "The IdP signed with SHA-1, which this portal refuses. Set the signing algorithm to SHA-256 in the IdP (in Azure: SAML Signing Certificate › Signing Algorithm)."
	case ReasonUnknownRequest:
		text = "The response answers a sign-in this site did not start (or started on another site). If users start from the IdP, allow IdP-initiated sign-in."
	case ReasonRequestExpired:
		text = fmt.Sprintf("The user took longer than %s at the IdP. Signing in again works.", PendingRequestLifetime)
	case ReasonRelayStateMismatch:
		text = "The response came back with another RelayState than the sign-in request it answers. If the IdP rewrites RelayState, configure it to return it unchanged."
	case ReasonRequestUsed, ReasonReplayed:
		text = "This response was already used to sign in once; a response is accepted only once (the browser's back button or a replay)."
	case ReasonUnsolicited:
		text = "The IdP started this sign-in (IdP-initiated, such as the Azure My Apps tile), and this site allows only SP-initiated sign-in. Allow IdP-initiated sign-in, or set the Sign on URL in Azure to the site's sign-on URL."
	}
	if text == "" {
		return refusal
	}
	out := *refusal
	out.Detail = text + " (" + refusal.Detail + ")"
	return &out
}

func quote(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
