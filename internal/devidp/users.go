package devidp

import (
	"fmt"
	"strings"

	"github.com/crewjam/saml"
)

// demoUser is one account of the development IdP, shaped like the Azure AD
// test user of the tutorial (B.Simon@contoso.com).
type demoUser struct {
	Username    string // what is typed in the sign-in form
	DisplayName string
	GivenName   string
	Surname     string
	Email       string // also the UPN, the NameID and the uid, as in the tutorial
	ObjectID    string // Azure's stable per-user GUID (objectidentifier claim)
}

// demoTenantID stands in for the Azure AD tenant (directory) ID.
const demoTenantID = "8f3b1c2e-6d4a-4e7b-9c1d-2a5e7f9b0c31"

func demoUsers() []demoUser {
	return []demoUser{
		{
			Username:    "b.simon",
			DisplayName: "B Simon",
			GivenName:   "B",
			Surname:     "Simon",
			Email:       "B.Simon@contoso.com",
			ObjectID:    "5d0a3f4e-2b8c-4a61-9f27-1c6e8b3d7a90",
		},
		{
			Username:    "a.lee",
			DisplayName: "Alice Lee",
			GivenName:   "Alice",
			Surname:     "Lee",
			Email:       "alice.lee@contoso.com",
			ObjectID:    "c41e9b72-7a3d-4f05-8e6b-93d2a1f5c8e4",
		},
	}
}

// Claim names Azure AD sends by default (its "User Attributes & Claims"),
// before the ones an administrator adds.
const (
	claimTenantID       = "http://schemas.microsoft.com/identity/claims/tenantid"
	claimObjectID       = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimDisplayName    = "http://schemas.microsoft.com/identity/claims/displayname"
	claimAuthnMethods   = "http://schemas.microsoft.com/claims/authnmethodsreferences"
	claimGivenName      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
	claimSurname        = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
	claimEmailAddress   = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	claimName           = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	authnMethodPassword = "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"
)

// claims are the attributes of the user's assertion in the order Azure AD
// sends them: its default claims, then the four the tutorial adds
// (firstname = user.givenname, lastname = user.surname, email = user.mail,
// uid = user.mail). Azure gives attribute values no xsi:type and attributes
// no NameFormat, so neither do these.
func (u demoUser) claims() []saml.Attribute {
	attr := func(name, value string) saml.Attribute {
		return saml.Attribute{Name: name, Values: []saml.AttributeValue{{Value: value}}}
	}
	return []saml.Attribute{
		attr(claimTenantID, demoTenantID),
		attr(claimObjectID, u.ObjectID),
		attr(claimDisplayName, u.DisplayName),
		attr(claimAuthnMethods, authnMethodPassword),
		attr(claimGivenName, u.GivenName),
		attr(claimSurname, u.Surname),
		attr(claimEmailAddress, u.Email),
		attr(claimName, u.Email),
		attr("firstname", u.GivenName),
		attr("lastname", u.Surname),
		attr("email", u.Email),
		attr("uid", u.Email),
	}
}

// canonicalUsername maps what someone typed in the sign-in form to the
// stored username: Azure accepts the UPN (B.Simon@contoso.com) in any case,
// and the short names b.simon / a.lee are easier to type.
func canonicalUsername(users []demoUser, typed string) string {
	typed = strings.TrimSpace(typed)
	for _, u := range users {
		if strings.EqualFold(typed, u.Username) || strings.EqualFold(typed, u.Email) {
			return u.Username
		}
	}
	return typed
}

// azureAssertionMaker lets crewjam build the assertion (subject, NameID,
// conditions, audience, AuthnStatement) and replaces its attributes:
// saml.DefaultAssertionMaker sends urn:oid: names (eduPerson, X.500), which
// Azure AD never sends and the portal's just-in-time account creation does
// not read.
type azureAssertionMaker struct {
	users map[string]demoUser // by Username
}

// MakeAssertion implements saml.AssertionMaker.
func (m azureAssertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	user, ok := m.users[session.UserName]
	if !ok {
		return fmt.Errorf("devidp: session for unknown user %q", session.UserName)
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	req.Assertion.AttributeStatements = []saml.AttributeStatement{{Attributes: user.claims()}}
	return nil
}
