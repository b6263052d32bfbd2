package sso

import (
	"strings"
	"time"

	"github.com/beevik/etree"

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

// Peek reads a decoded response that passed xmlguard (or nil). Like every
// unverified read, it finds only SAML 2.0 elements of the right parent: the
// Response's Issuer and its one saml:Assertion, never an element of another
// namespace that happens to share a local name (a SAML 1.1 Assertion beside
// the signed one must not be what the admin is shown).
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
	if root.Tag != "Response" || root.NamespaceURI() != xmlguard.ProtocolNS {
		return r
	}
	r.Destination = root.SelectAttrValue("Destination", "")
	if el := xmlguard.Child(root, nameIssuer); el != nil {
		r.Issuer = strings.TrimSpace(el.Text())
	}
	a := xmlguard.Child(root, nameAssertion)
	if a == nil {
		return r
	}
	if el := xmlguard.Child(a, nameIssuer); el != nil {
		r.Issuer = strings.TrimSpace(el.Text())
	}
	if el := xmlguard.Child(a, saml2("Subject"), saml2("NameID")); el != nil {
		r.NameID = strings.TrimSpace(el.Text())
	}
	if el := xmlguard.Child(a, saml2("Subject"), saml2("SubjectConfirmation"), saml2("SubjectConfirmationData")); el != nil {
		r.Recipient = el.SelectAttrValue("Recipient", "")
	}
	if c := xmlguard.Child(a, saml2("Conditions")); c != nil {
		r.NotBefore, _ = time.Parse(time.RFC3339Nano, c.SelectAttrValue("NotBefore", ""))
		r.NotOnOrAfter, _ = time.Parse(time.RFC3339Nano, c.SelectAttrValue("NotOnOrAfter", ""))
		for _, restriction := range xmlguard.Children(c, saml2("AudienceRestriction")) {
			for _, aud := range xmlguard.Children(restriction, saml2("Audience")) {
				r.Audiences = append(r.Audiences, strings.TrimSpace(aud.Text()))
			}
		}
	}
	for _, st := range xmlguard.Children(a, saml2("AuthnStatement")) {
		if ref := xmlguard.Child(st, saml2("AuthnContext"), saml2("AuthnContextClassRef")); ref != nil {
			r.AuthnContext = append(r.AuthnContext, strings.TrimSpace(ref.Text()))
		}
	}
	for _, st := range xmlguard.Children(a, saml2("AttributeStatement")) {
		for _, attr := range xmlguard.Children(st, saml2("Attribute")) {
			ra := ReceivedAttribute{Name: attr.SelectAttrValue("Name", "")}
			for _, v := range xmlguard.Children(attr, saml2("AttributeValue")) {
				ra.Values = append(ra.Values, v.Text())
			}
			r.Attributes = append(r.Attributes, ra)
		}
	}
	return r
}

// saml2 names an element of the SAML 2.0 assertion namespace.
func saml2(local string) xmlguard.Name {
	return xmlguard.Name{Space: xmlguard.AssertionNS, Local: local}
}
