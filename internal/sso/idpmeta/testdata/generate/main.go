// Command generate writes the test fixtures of package idpmeta: two
// long-lived test signing certificates with their keys (test-only, never
// trust them anywhere) and metadata documents shaped like Azure AD's
// Federation Metadata XML and like other IdPs' SAML metadata.
//
// Run it from the repository root:
//
//	go run ./internal/sso/idpmeta/testdata/generate
//
// Re-running it makes new keys, so the fingerprints in the tests change too.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

const (
	outDir   = "internal/sso/idpmeta/testdata"
	tenantID = "8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e"

	// Azure names every SAML signing certificate it creates this way.
	azureCertificateName = "Microsoft Azure Federated SSO Certificate"
)

type signer struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func main() {
	// Azure's certificates last three years; these last thirty so that
	// the tests do not start failing one day. Dates are whole seconds
	// so that the tests can state them.
	first := newSigner("azure-signing-1",
		time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC), time.Date(2054, 1, 15, 9, 30, 0, 0, time.UTC))
	second := newSigner("azure-signing-2",
		time.Date(2025, 11, 20, 14, 0, 0, 0, time.UTC), time.Date(2055, 11, 20, 14, 0, 0, 0, time.UTC))
	both := []*x509.Certificate{first.cert, second.cert}
	saml2 := "https://login.microsoftonline.com/" + tenantID + "/saml2"

	azure := azureDocument(both, saml2, true)
	write("azure-federation-metadata.xml", signed(azure, first))
	write("azure-federation-metadata-bom.xml", "\xef\xbb\xbf"+signed(azureDocument(both, saml2, true), first))
	write("wsfed-only.xml", signed(azureDocument(both, saml2, false), first))
	write("javascript-sso-url.xml", unsigned(azureDocument([]*x509.Certificate{first.cert}, "javascript:alert(1)", true)))

	replacer := strings.NewReplacer(
		"{{CERT1}}", wrapped(first.cert, "            "),
		"{{CERT2}}", wrapped(second.cert, "            "),
		"{{CERT1_LINE}}", base64.StdEncoding.EncodeToString(first.cert.Raw),
	)
	for name, text := range map[string]string{
		"entities-sp-and-idp.xml": entitiesSPAndIdP,
		"entities-two-idps.xml":   entitiesTwoIdPs,
		"doctype.xml":             doctype,
		"no-idpssodescriptor.xml": spOnly,
		"no-certificate.xml":      noCertificate,
		"post-only-sso.xml":       postOnly,
	} {
		write(name, replacer.Replace(text))
	}
}

func newSigner(name string, notBefore, notAfter time.Time) signer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	check(err)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	check(err)
	// Like Azure's: self-signed, no extensions, RSA 2048 with SHA-256.
	template := &x509.Certificate{
		SerialNumber:       serial,
		Subject:            pkix.Name{CommonName: azureCertificateName},
		NotBefore:          notBefore,
		NotAfter:           notAfter,
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	check(err)
	cert, err := x509.ParseCertificate(der)
	check(err)
	write(name+".crt.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(name+".key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})))
	return signer{key: key, cert: cert}
}

// azureDocument builds an EntityDescriptor the way Azure AD emits an
// application's Federation Metadata XML: default namespaces only, the
// WS-Federation RoleDescriptors first, each descriptor repeating the
// signing certificates, SingleLogoutService before SingleSignOnService.
func azureDocument(certs []*x509.Certificate, ssoURL string, withIDPSSO bool) *etree.Element {
	const (
		wsfed = "http://docs.oasis-open.org/wsfed/federation/200706"
		xsi   = "http://www.w3.org/2001/XMLSchema-instance"
		wsa   = "http://www.w3.org/2005/08/addressing"
		auth  = "http://docs.oasis-open.org/wsfed/authorization/200706"
	)
	root := etree.NewElement("EntityDescriptor")
	root.CreateAttr("ID", "_"+uuid())
	root.CreateAttr("entityID", "https://sts.windows.net/"+tenantID+"/")
	root.CreateAttr("xmlns", "urn:oasis:names:tc:SAML:2.0:metadata")

	keyDescriptors := func(parent *etree.Element) {
		for _, cert := range certs {
			kd := parent.CreateElement("KeyDescriptor")
			kd.CreateAttr("use", "signing")
			ki := kd.CreateElement("KeyInfo")
			ki.CreateAttr("xmlns", "http://www.w3.org/2000/09/xmldsig#")
			ki.CreateElement("X509Data").CreateElement("X509Certificate").SetText(base64.StdEncoding.EncodeToString(cert.Raw))
		}
	}
	endpointReference := func(parent *etree.Element, tag, address string) {
		ref := parent.CreateElement(tag).CreateElement("wsa:EndpointReference")
		ref.CreateAttr("xmlns:wsa", wsa)
		ref.CreateElement("wsa:Address").SetText(address)
	}
	wsfedURL := "https://login.microsoftonline.com/" + tenantID + "/wsfed"

	sts := root.CreateElement("RoleDescriptor")
	sts.CreateAttr("xsi:type", "fed:SecurityTokenServiceType")
	sts.CreateAttr("protocolSupportEnumeration", wsfed)
	sts.CreateAttr("xmlns:xsi", xsi)
	sts.CreateAttr("xmlns:fed", wsfed)
	keyDescriptors(sts)
	claims := sts.CreateElement("fed:ClaimTypesOffered")
	for _, claim := range [][3]string{
		{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "Name", "The mutable display name of the user."},
		{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "Subject", "An immutable, globally unique, non-reusable identifier of the user that is unique to the application for which a token is issued."},
		{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Given Name", "First name of the user."},
		{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Surname", "Last name of the user."},
		{"http://schemas.microsoft.com/identity/claims/objectidentifier", "ObjectIdentifier", "Primary identifier for the user in the directory. Immutable, globally unique, non-reusable."},
		{"http://schemas.microsoft.com/identity/claims/tenantid", "TenantId", "Identifier for the user's tenant."},
		{"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "Email", "Email address of the user."},
	} {
		ct := claims.CreateElement("auth:ClaimType")
		ct.CreateAttr("Uri", claim[0])
		ct.CreateAttr("xmlns:auth", auth)
		ct.CreateElement("auth:DisplayName").SetText(claim[1])
		ct.CreateElement("auth:Description").SetText(claim[2])
	}
	endpointReference(sts, "fed:SecurityTokenServiceEndpoint", wsfedURL)
	endpointReference(sts, "fed:PassiveRequestorEndpoint", wsfedURL)

	app := root.CreateElement("RoleDescriptor")
	app.CreateAttr("xsi:type", "fed:ApplicationServiceType")
	app.CreateAttr("protocolSupportEnumeration", wsfed)
	app.CreateAttr("xmlns:xsi", xsi)
	app.CreateAttr("xmlns:fed", wsfed)
	keyDescriptors(app)
	endpointReference(app, "fed:TargetScopes", "https://sts.windows.net/"+tenantID+"/")
	endpointReference(app, "fed:ApplicationServiceEndpoint", wsfedURL)
	endpointReference(app, "fed:PassiveRequestorEndpoint", wsfedURL)

	if withIDPSSO {
		idp := root.CreateElement("IDPSSODescriptor")
		idp.CreateAttr("protocolSupportEnumeration", "urn:oasis:names:tc:SAML:2.0:protocol")
		keyDescriptors(idp)
		for _, endpoint := range [][3]string{
			{"SingleLogoutService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", "https://login.microsoftonline.com/" + tenantID + "/saml2"},
			{"SingleSignOnService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", ssoURL},
			{"SingleSignOnService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", ssoURL},
		} {
			el := idp.CreateElement(endpoint[0])
			el.CreateAttr("Binding", endpoint[1])
			el.CreateAttr("Location", endpoint[2])
		}
	}
	return root
}

// signed returns the document with an enveloped signature as the first
// child of EntityDescriptor, as Azure signs it: exclusive c14n, RSA-SHA256,
// an unprefixed Signature element declaring its own default namespace.
func signed(root *etree.Element, by signer) string {
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{
		Certificate: [][]byte{by.cert.Raw},
		PrivateKey:  by.key,
	}))
	ctx.Prefix = ""
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	check(ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod))
	signature, err := ctx.ConstructSignature(root, true)
	check(err)
	root.InsertChildAt(0, signature)
	return unsigned(root)
}

func unsigned(root *etree.Element) string {
	doc := etree.NewDocument()
	doc.SetRoot(root)
	text, err := doc.WriteToString()
	check(err)
	return `<?xml version="1.0" encoding="utf-8"?>` + text
}

// wrapped returns the certificate in base64 wrapped at 64 columns and
// indented, as many IdPs (Shibboleth, Keycloak, ADFS exports) write it.
func wrapped(cert *x509.Certificate, indent string) string {
	encoded := base64.StdEncoding.EncodeToString(cert.Raw)
	var lines []string
	for len(encoded) > 64 {
		lines = append(lines, encoded[:64])
		encoded = encoded[64:]
	}
	lines = append(lines, encoded)
	return "\n" + indent + strings.Join(lines, "\n"+indent) + "\n" + indent[:len(indent)-2]
}

func uuid() string {
	b := make([]byte, 16)
	_, err := rand.Read(b)
	check(err)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func write(name, content string) {
	check(os.WriteFile(filepath.Join(outDir, name), []byte(content), 0o644))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

const entitiesSPAndIdP = `<?xml version="1.0" encoding="UTF-8"?>
<!-- A small federation file: one service provider and one identity provider. -->
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    Name="urn:example:federation">
  <md:EntityDescriptor entityID="https://sp.example.org/shibboleth">
    <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:KeyDescriptor use="signing">
        <ds:KeyInfo>
          <ds:X509Data>
            <ds:X509Certificate>{{CERT1}}</ds:X509Certificate>
          </ds:X509Data>
        </ds:KeyInfo>
      </md:KeyDescriptor>
      <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
          Location="https://sp.example.org/Shibboleth.sso/SAML2/POST" index="1"/>
    </md:SPSSODescriptor>
  </md:EntityDescriptor>
  <md:EntityDescriptor entityID="https://idp.example.org/idp/shibboleth">
    <md:RoleDescriptor xsi:type="ext:SomethingNobodyKnows" xmlns:ext="urn:example:unknown"
        protocolSupportEnumeration="urn:example:unknown-protocol">
      <ext:Whatever>ignored</ext:Whatever>
    </md:RoleDescriptor>
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol">
      <md:KeyDescriptor use="encryption">
        <ds:KeyInfo>
          <ds:X509Data>
            <ds:X509Certificate>{{CERT1}}</ds:X509Certificate>
          </ds:X509Data>
        </ds:KeyInfo>
      </md:KeyDescriptor>
      <md:KeyDescriptor>
        <ds:KeyInfo>
          <ds:X509Data>
            <ds:X509Certificate>{{CERT2}}</ds:X509Certificate>
          </ds:X509Data>
        </ds:KeyInfo>
      </md:KeyDescriptor>
      <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
          Location="https://idp.example.org/idp/profile/SAML2/POST/SLO"/>
      <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
          Location="https://idp.example.org/idp/profile/SAML2/POST/SSO"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
          Location="
            https://idp.example.org/idp/profile/SAML2/Redirect/SSO
          "/>
    </md:IDPSSODescriptor>
  </md:EntityDescriptor>
</md:EntitiesDescriptor>
`

const entitiesTwoIdPs = `<?xml version="1.0" encoding="UTF-8"?>
<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <EntityDescriptor entityID="https://idp-one.example.org/saml">
    <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{{CERT1_LINE}}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>
      <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp-one.example.org/sso"/>
    </IDPSSODescriptor>
  </EntityDescriptor>
  <EntitiesDescriptor Name="nested">
    <EntityDescriptor entityID="https://idp-two.example.org/saml">
      <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{{CERT1_LINE}}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>
        <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp-two.example.org/sso"/>
      </IDPSSODescriptor>
    </EntityDescriptor>
  </EntitiesDescriptor>
</EntitiesDescriptor>
`

// doctype is a billion-laughs document around otherwise valid metadata.
const doctype = `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE EntityDescriptor [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org/&lol2;&xxe;">
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{{CERT1_LINE}}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/>
  </IDPSSODescriptor>
</EntityDescriptor>
`

// spOnly is service provider metadata, such as the portal's own export,
// uploaded by mistake.
const spOnly = `<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://acme.portal.example/saml/metadata">
  <SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{{CERT1_LINE}}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>
    <AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://acme.portal.example/saml/acs" index="1"/>
  </SPSSODescriptor>
</EntityDescriptor>
`

// noCertificate has an encryption certificate only, which must not be
// taken for a signing one.
const noCertificate = `<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org/saml">
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{{CERT1_LINE}}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/>
  </IDPSSODescriptor>
</EntityDescriptor>
`

const postOnly = `<?xml version="1.0" encoding="UTF-8"?>
<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org/saml">
  <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{{CERT1_LINE}}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.org/sso"/>
  </IDPSSODescriptor>
</EntityDescriptor>
`
