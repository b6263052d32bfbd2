package sso

import (
	"strings"
	"time"

	"github.com/beevik/etree"
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
