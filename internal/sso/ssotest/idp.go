// Package ssotest is a test identity provider: it builds SAML 2.0 Responses
// shaped the way Azure AD (Entra ID) sends them, signs them with goxmldsig,
// and turns them into the classic attacks on a SAML service provider.
//
// It is for tests only: it imports testing, so no production package can
// import it without pulling testing into the binary, and it takes shortcuts
// (fatal on any error) that only a test may take.
package ssotest

import (
	"bytes"
	"cmp"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// Namespaces and URIs Azure AD uses in its responses.
const (
	ProtocolNS  = xmlguard.ProtocolNS
	AssertionNS = xmlguard.AssertionNS
	DSigNS      = xmlguard.DSigNS

	StatusSuccess      = "urn:oasis:names:tc:SAML:2.0:status:Success"
	NameIDEmailAddress = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	BearerMethod       = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	PasswordProtected  = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
)

// Azure AD's default claim types, and the four custom claims the tutorial
// adds (azure-ad-webex-sso-tutorial.md, "Attributes & Claims").
const (
	ClaimTenantID         = "http://schemas.microsoft.com/identity/claims/tenantid"
	ClaimObjectID         = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	ClaimDisplayName      = "http://schemas.microsoft.com/identity/claims/displayname"
	ClaimIdentityProvider = "http://schemas.microsoft.com/identity/claims/identityprovider"
	ClaimAuthnMethods     = "http://schemas.microsoft.com/claims/authnmethodsreferences"
	ClaimGivenName        = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
	ClaimSurname          = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
	ClaimEmailAddress     = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	ClaimName             = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
)

// IdP is one test identity provider: an Azure-style tenant with its signing
// key.
type IdP struct {
	TenantID string
	EntityID string // https://sts.windows.net/<tenant-id>/
	SSOURL   string // https://login.microsoftonline.com/<tenant-id>/saml2
	Key      *rsa.PrivateKey
	Cert     *x509.Certificate
}

// SelfSign makes a self-signed certificate for key from template, choosing
// a random serial number when the template has none.
func SelfSign(t testing.TB, key crypto.Signer, template *x509.Certificate) *x509.Certificate {
	t.Helper()
	if template.SerialNumber == nil {
		serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
		if err != nil {
			t.Fatalf("ssotest: serial: %v", err)
		}
		template.SerialNumber = serial
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		t.Fatalf("ssotest: self-signing certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("ssotest: parsing certificate: %v", err)
	}
	return cert
}

// NewIdP returns an IdP with a fresh tenant ID, a fresh 2048-bit RSA key and
// a self-signed certificate, as Azure's "SAML Signing Certificate" is
// (CN=Microsoft Azure Federated SSO Certificate, three years).
func NewIdP(t testing.TB) *IdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("ssotest: generating IdP key: %v", err)
	}
	cert := SelfSign(t, key, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "Microsoft Azure Federated SSO Certificate"},
		NotBefore:             time.Now().Add(-24 * time.Hour),
		NotAfter:              time.Now().Add(3 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	})
	tenant := NewGUID(t)
	return &IdP{
		TenantID: tenant,
		EntityID: "https://sts.windows.net/" + tenant + "/",
		SSOURL:   "https://login.microsoftonline.com/" + tenant + "/saml2",
		Key:      key,
		Cert:     cert,
	}
}

// Impostor returns an IdP with the same tenant and entity ID but its own,
// untrusted key: what an attacker who knows the tenant can build.
func (idp *IdP) Impostor(t testing.TB) *IdP {
	t.Helper()
	other := NewIdP(t)
	other.TenantID, other.EntityID, other.SSOURL = idp.TenantID, idp.EntityID, idp.SSOURL
	return other
}

// MetadataXML returns plain SAML metadata for the IdP: an EntityDescriptor
// with one IDPSSODescriptor holding the signing certificate, the
// emailAddress NameID format and the HTTP-Redirect SSO URL. (Azure's
// Federation Metadata XML, with its WS-Federation roles, is built
// elsewhere.)
func (idp *IdP) MetadataXML() []byte {
	doc := etree.NewDocument()
	ed := doc.CreateElement("EntityDescriptor")
	ed.CreateAttr("xmlns", "urn:oasis:names:tc:SAML:2.0:metadata")
	ed.CreateAttr("entityID", idp.EntityID)
	ed.CreateAttr("ID", "_"+guid(rand.Reader))
	role := ed.CreateElement("IDPSSODescriptor")
	role.CreateAttr("protocolSupportEnumeration", ProtocolNS)
	keyDescriptor := role.CreateElement("KeyDescriptor")
	keyDescriptor.CreateAttr("use", "signing")
	keyInfo := keyDescriptor.CreateElement("KeyInfo")
	keyInfo.CreateAttr("xmlns", DSigNS)
	keyInfo.CreateElement("X509Data").CreateElement("X509Certificate").SetText(base64.StdEncoding.EncodeToString(idp.Cert.Raw))
	role.CreateElement("NameIDFormat").SetText(NameIDEmailAddress)
	sso := role.CreateElement("SingleSignOnService")
	sso.CreateAttr("Binding", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect")
	sso.CreateAttr("Location", idp.SSOURL)
	out, err := doc.WriteToBytes()
	if err != nil {
		panic(err) // writing to memory cannot fail
	}
	return out
}

// Signing says which elements are signed, as Azure's "Signing Option" does.
type Signing int

const (
	// SignAssertion is Azure's default, "Sign SAML assertion".
	SignAssertion Signing = iota
	// SignResponse is "Sign SAML response".
	SignResponse
	// SignBoth is "Sign SAML response and assertion".
	SignBoth
	// SignNothing leaves the response unsigned, which Azure never does.
	SignNothing
)

// Options shape one Response. Zero values give Azure's defaults.
type Options struct {
	ACS          string // Destination and Recipient
	Audience     string // the SP entity ID
	InResponseTo string // empty: IdP-initiated (the My Apps tile)
	NameID       string // default b.simon@contoso.com
	// Attributes replaces the claims; nil means AzureClaims for the NameID.
	Attributes map[string][]string
	Now        time.Time // default time.Now()

	Signing Signing
	// SHA1 signs with rsa-sha1 and sha1 digests, as Azure could until
	// Microsoft retired the option.
	SHA1 bool
	// Canonicalizer replaces exclusive c14n, for attacks that need another
	// canonicalization; nil means exclusive c14n without comments.
	Canonicalizer dsig.Canonicalizer
	// SignWith signs with another key and certificate (embedded in
	// KeyInfo); nil means the IdP's own.
	SignWith *IdP

	// EditAssertion, if set, changes the Assertion before it is signed.
	EditAssertion func(assertion *etree.Element)
	// EditResponse, if set, changes the Response after the Assertion is
	// signed (and encrypted) and before the Response is.
	EditResponse func(response *etree.Element)

	// EncryptTo, if set, encrypts the Assertion, once signed, to this SP
	// certificate, as Azure's token encryption does: an EncryptedAssertion
	// whose EncryptedData holds the key, wrapped with RSA-OAEP (MGF1 with
	// SHA-1, SHA-256 digest), in its KeyInfo.
	EncryptTo *x509.Certificate
	// Cipher is the content encryption; nil means AES-256-GCM.
	Cipher xmlenc.BlockCipher
	// KeyTransport replaces RSA-OAEP-MGF1P: xmlenc.PKCS1v15() for RSA 1.5,
	// xmlenc.OAEP_SHA256() for XML Encryption 1.1's RSA-OAEP.
	KeyTransport *xmlenc.RSA
}

// AzureClaims returns the claims Azure AD sends by default for a user whose
// UPN and e-mail address are email, plus the tutorial's custom claims
// firstname, lastname, email and uid.
func (idp *IdP) AzureClaims(email, givenName, surname, objectID string) map[string][]string {
	return map[string][]string{
		ClaimTenantID:         {idp.TenantID},
		ClaimObjectID:         {objectID},
		ClaimDisplayName:      {givenName + " " + surname},
		ClaimIdentityProvider: {idp.EntityID},
		ClaimAuthnMethods:     {"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"},
		ClaimGivenName:        {givenName},
		ClaimSurname:          {surname},
		ClaimEmailAddress:     {email},
		ClaimName:             {email},
		"firstname":           {givenName},
		"lastname":            {surname},
		"email":               {email},
		"uid":                 {email},
	}
}

// DefaultNameID is B.Simon, the tutorial's test user.
const DefaultNameID = "B.Simon@contoso.com"

// DefaultObjectID is B.Simon's Azure object ID in the default claims.
const DefaultObjectID = "8f1c2a4e-5b6d-4e7f-9a0b-1c2d3e4f5a6b"

// Response builds and signs a Response as Azure AD does.
func (idp *IdP) Response(t testing.TB, o Options) *etree.Document {
	t.Helper()
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	nameID := o.NameID
	if nameID == "" {
		nameID = DefaultNameID
	}
	attributes := o.Attributes
	if attributes == nil {
		attributes = idp.AzureClaims(nameID, "B", "Simon", DefaultObjectID)
	}
	signer := idp
	if o.SignWith != nil {
		signer = o.SignWith
	}

	doc := etree.NewDocument()
	response := doc.CreateElement("samlp:Response")
	response.CreateAttr("ID", "_"+NewGUID(t))
	response.CreateAttr("Version", "2.0")
	response.CreateAttr("IssueInstant", instant(now))
	response.CreateAttr("Destination", o.ACS)
	if o.InResponseTo != "" {
		response.CreateAttr("InResponseTo", o.InResponseTo)
	}
	response.CreateAttr("xmlns:samlp", ProtocolNS)
	issuer := response.CreateElement("Issuer")
	issuer.CreateAttr("xmlns", AssertionNS)
	issuer.SetText(idp.EntityID)
	response.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", StatusSuccess)

	assertion := response.CreateElement("Assertion")
	assertion.CreateAttr("ID", "_"+NewGUID(t))
	assertion.CreateAttr("IssueInstant", instant(now))
	assertion.CreateAttr("Version", "2.0")
	assertion.CreateAttr("xmlns", AssertionNS)
	assertion.CreateElement("Issuer").SetText(idp.EntityID)
	subject := assertion.CreateElement("Subject")
	nameIDEl := subject.CreateElement("NameID")
	nameIDEl.CreateAttr("Format", NameIDEmailAddress)
	nameIDEl.SetText(nameID)
	confirmation := subject.CreateElement("SubjectConfirmation")
	confirmation.CreateAttr("Method", BearerMethod)
	data := confirmation.CreateElement("SubjectConfirmationData")
	if o.InResponseTo != "" {
		data.CreateAttr("InResponseTo", o.InResponseTo)
	}
	data.CreateAttr("NotOnOrAfter", instant(now.Add(5*time.Minute)))
	data.CreateAttr("Recipient", o.ACS)
	conditions := assertion.CreateElement("Conditions")
	conditions.CreateAttr("NotBefore", instant(now.Add(-5*time.Minute)))
	conditions.CreateAttr("NotOnOrAfter", instant(now.Add(time.Hour)))
	conditions.CreateElement("AudienceRestriction").CreateElement("Audience").SetText(o.Audience)
	statement := assertion.CreateElement("AttributeStatement")
	for _, name := range claimOrder(attributes) {
		attribute := statement.CreateElement("Attribute")
		attribute.CreateAttr("Name", name)
		for _, value := range attributes[name] {
			attribute.CreateElement("AttributeValue").SetText(value)
		}
	}
	authn := assertion.CreateElement("AuthnStatement")
	authn.CreateAttr("AuthnInstant", instant(now.Add(-time.Second)))
	authn.CreateAttr("SessionIndex", "_"+NewGUID(t))
	authn.CreateElement("AuthnContext").CreateElement("AuthnContextClassRef").SetText(PasswordProtected)

	if o.EditAssertion != nil {
		o.EditAssertion(assertion)
	}
	if o.Signing == SignAssertion || o.Signing == SignBoth {
		signer.sign(t, assertion, o)
	}
	if o.EncryptTo != nil {
		encrypted := Encrypt(t, assertion, o)
		response.InsertChildAt(assertion.Index(), encrypted)
		response.RemoveChild(assertion)
	}
	if o.EditResponse != nil {
		o.EditResponse(response)
	}
	if o.Signing == SignResponse || o.Signing == SignBoth {
		signer.sign(t, response, o)
	}
	return doc
}

// Encrypt returns the EncryptedAssertion of assertion (self-contained: it
// declares its own namespaces) encrypted as o says.
func Encrypt(t testing.TB, assertion *etree.Element, o Options) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(assertion.Copy())
	plaintext, err := doc.WriteToBytes()
	if err != nil {
		t.Fatalf("ssotest: serialising the assertion: %v", err)
	}
	transport := xmlenc.OAEP()
	if o.KeyTransport != nil {
		transport = *o.KeyTransport
	}
	transport.BlockCipher = xmlenc.AES256GCM
	if o.Cipher != nil {
		transport.BlockCipher = o.Cipher
	}
	data, err := transport.Encrypt(o.EncryptTo, plaintext, nil)
	if err != nil {
		t.Fatalf("ssotest: encrypting the assertion: %v", err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	encrypted := etree.NewElement("saml:EncryptedAssertion")
	encrypted.CreateAttr("xmlns:saml", AssertionNS)
	encrypted.AddChild(data)
	return encrypted
}

// sign adds an enveloped signature to el, placed right after its Issuer
// where saml-core §5.4.1 and the schema put it, in Azure's style: default
// xmldsig namespace, exclusive c14n, one Reference, the certificate in
// KeyInfo.
func (idp *IdP) sign(t testing.TB, el *etree.Element, o Options) {
	t.Helper()
	ctx, err := dsig.NewSigningContext(idp.Key, [][]byte{idp.Cert.Raw})
	if err != nil {
		t.Fatalf("ssotest: signing context: %v", err)
	}
	ctx.Prefix = ""
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if o.Canonicalizer != nil {
		ctx.Canonicalizer = o.Canonicalizer
	}
	if o.SHA1 {
		ctx.Hash = crypto.SHA1
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		t.Fatalf("ssotest: signing %s: %v", el.Tag, err)
	}
	index := 0
	if issuer := el.SelectElement("Issuer"); issuer != nil {
		index = issuer.Index() + 1
	}
	el.InsertChildAt(index, sig)
}

// claimOrder returns the claim names in the order Azure AD emits its
// default claims, then the custom claims sorted.
func claimOrder(attributes map[string][]string) []string {
	azureOrder := []string{
		ClaimTenantID, ClaimObjectID, ClaimDisplayName, ClaimIdentityProvider, ClaimAuthnMethods,
		ClaimGivenName, ClaimSurname, ClaimEmailAddress, ClaimName,
	}
	var names []string
	seen := map[string]bool{}
	for _, name := range azureOrder {
		if _, ok := attributes[name]; ok {
			names = append(names, name)
			seen[name] = true
		}
	}
	var custom []string
	for name := range attributes {
		if !seen[name] {
			custom = append(custom, name)
		}
	}
	sort.Strings(custom)
	return append(names, custom...)
}

// instant formats t as Azure does: UTC, milliseconds, Z.
func instant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// NewGUID returns a random version 4 GUID, lower case, as Azure's IDs and
// tenant IDs are.
func NewGUID(t testing.TB) string {
	t.Helper()
	return guid(rand.Reader)
}

func guid(r interface{ Read([]byte) (int, error) }) string {
	var b [16]byte
	if _, err := r.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Bytes serialises doc as the IdP would send it.
func Bytes(t testing.TB, doc *etree.Document) []byte {
	t.Helper()
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatalf("ssotest: serialising: %v", err)
	}
	return out
}

// Encode returns the base64 SAMLResponse form value for doc (HTTP-POST
// binding, saml-bindings-2.0-os §3.5.4).
func Encode(doc *etree.Document) string {
	out, err := doc.WriteToBytes()
	if err != nil {
		panic(err) // writing to memory cannot fail
	}
	return EncodeBytes(out)
}

// EncodeBytes returns the base64 form value for raw XML, for attacks that
// are easier to write as bytes.
func EncodeBytes(xml []byte) string {
	return base64.StdEncoding.EncodeToString(xml)
}

// AuthnRequest decodes the AuthnRequest of an SP's redirect to the IdP
// (HTTP-Redirect binding, saml-bindings-2.0-os §3.4.4: deflated, base64 in
// SAMLRequest) and returns it with the RelayState.
func AuthnRequest(t testing.TB, location string) (*etree.Element, string) {
	t.Helper()
	loc, err := url.Parse(location)
	if err != nil {
		t.Fatalf("ssotest: redirect %q: %v", location, err)
	}
	return Inflate(t, loc.Query().Get("SAMLRequest")), loc.Query().Get("RelayState")
}

// Logout shapes one LogoutRequest or LogoutResponse of the IdP. Zero
// values give Azure AD's.
type Logout struct {
	ID          string // default a fresh one
	Destination string // the SP's single logout URL
	Issuer      string // default the IdP's entity ID
	Now         time.Time
	// LogoutRequest: whom to sign out.
	NameID         string // default DefaultNameID
	NameIDFormat   string // default emailAddress
	SessionIndexes []string
	// LogoutResponse: the request it answers and its status.
	InResponseTo string
	Status       string // default Success
	// SignWith signs with another key (for forgeries); nil means the IdP's.
	SignWith *IdP
}

// LogoutRequest builds a LogoutRequest (saml-core §3.7.1), unsigned: the
// binding signs it (RedirectQuery, PostForm).
func (idp *IdP) LogoutRequest(t testing.TB, o Logout) *etree.Document {
	t.Helper()
	doc, root := idp.logoutMessage(t, "samlp:LogoutRequest", o)
	nameID := root.CreateElement("NameID")
	nameID.CreateAttr("xmlns", AssertionNS)
	nameID.CreateAttr("Format", cmp.Or(o.NameIDFormat, NameIDEmailAddress))
	nameID.SetText(cmp.Or(o.NameID, DefaultNameID))
	for _, index := range o.SessionIndexes {
		root.CreateElement("samlp:SessionIndex").SetText(index)
	}
	return doc
}

// LogoutResponse builds a LogoutResponse (saml-core §3.7.2) to
// o.InResponseTo, unsigned.
func (idp *IdP) LogoutResponse(t testing.TB, o Logout) *etree.Document {
	t.Helper()
	doc, root := idp.logoutMessage(t, "samlp:LogoutResponse", o)
	if o.InResponseTo != "" {
		root.CreateAttr("InResponseTo", o.InResponseTo)
	}
	root.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", cmp.Or(o.Status, StatusSuccess))
	return doc
}

func (idp *IdP) logoutMessage(t testing.TB, tag string, o Logout) (*etree.Document, *etree.Element) {
	t.Helper()
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	doc := etree.NewDocument()
	root := doc.CreateElement(tag)
	root.CreateAttr("xmlns:samlp", ProtocolNS)
	root.CreateAttr("ID", cmp.Or(o.ID, "_"+NewGUID(t)))
	root.CreateAttr("Version", "2.0")
	root.CreateAttr("IssueInstant", instant(now))
	root.CreateAttr("Destination", o.Destination)
	issuer := root.CreateElement("Issuer")
	issuer.CreateAttr("xmlns", AssertionNS)
	issuer.SetText(cmp.Or(o.Issuer, idp.EntityID))
	return doc, root
}

// RedirectQuery is the query string that sends doc with the HTTP-Redirect
// binding (saml-bindings-2.0-os §3.4.4): param (SAMLRequest or
// SAMLResponse) deflated and base64-encoded, relayState, and, when signed,
// SigAlg and Signature, RSA-SHA256 over the query string as sent (§3.4.4.1)
// with the IdP's key (or signer's).
func (idp *IdP) RedirectQuery(t testing.TB, param string, doc *etree.Document, relayState string, signer *IdP) string {
	t.Helper()
	xml := Bytes(t, doc)
	var deflated bytes.Buffer
	w, err := flate.NewWriter(&deflated, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(xml); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	query := param + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(deflated.Bytes()))
	if relayState != "" {
		query += "&RelayState=" + url.QueryEscape(relayState)
	}
	if signer == nil {
		return query
	}
	query += "&SigAlg=" + url.QueryEscape(dsig.RSASHA256SignatureMethod)
	digest := sha256.Sum256([]byte(query))
	sig, err := rsa.SignPKCS1v15(rand.Reader, signer.Key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return query + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

// SignMessage adds the enveloped signature of the HTTP-POST binding to a
// logout message, after its Issuer, with the IdP's key (or signer's).
func (idp *IdP) SignMessage(t testing.TB, doc *etree.Document, signer *IdP) *etree.Document {
	t.Helper()
	if signer == nil {
		signer = idp
	}
	signer.sign(t, doc.Root(), Options{})
	return doc
}

// Inflate decodes the SAML message of an HTTP-Redirect binding query
// parameter (saml-bindings-2.0-os §3.4.4: base64 of the deflated XML) and
// returns its root.
func Inflate(t testing.TB, value string) *etree.Element {
	t.Helper()
	deflated, err := base64.StdEncoding.DecodeString(value)
	if err != nil {
		t.Fatalf("ssotest: the redirect message is not base64: %v", err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
	if err != nil {
		t.Fatalf("ssotest: the redirect message is not deflated: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatalf("ssotest: the redirect message is not XML: %v", err)
	}
	return doc.Root()
}
