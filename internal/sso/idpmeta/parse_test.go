package idpmeta

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	azureTenantID = "8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e"
	azureEntityID = "https://sts.windows.net/" + azureTenantID + "/"
	azureSAML2URL = "https://login.microsoftonline.com/" + azureTenantID + "/saml2"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return data
}

func testCertificate(t *testing.T, n string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, "azure-signing-"+n+".crt.pem"))
	if block == nil {
		t.Fatalf("azure-signing-%s.crt.pem holds no PEM block", n)
	}
	certificate, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse test certificate: %v", err)
	}
	return certificate
}

// idpMetadata returns an EntityDescriptor whose IDPSSODescriptor holds
// inner; {{CERT1}} and {{CERT2}} in inner become the test certificates.
func idpMetadata(t *testing.T, inner string) []byte {
	t.Helper()
	inner = strings.NewReplacer(
		"{{CERT1}}", base64.StdEncoding.EncodeToString(testCertificate(t, "1").Raw),
		"{{CERT2}}", base64.StdEncoding.EncodeToString(testCertificate(t, "2").Raw),
	).Replace(inner)
	return []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example.org/saml">` +
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + inner + `</IDPSSODescriptor></EntityDescriptor>`)
}

func signingKey(certificate string) string {
	return `<KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + certificate +
		`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`
}

const redirectSSO = `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/>`

func TestParseAcceptsAzureFederationMetadataWithTwoCertificates(t *testing.T) {
	for _, fixture := range []string{"azure-federation-metadata.xml", "azure-federation-metadata-bom.xml"} {
		t.Run(fixture, func(t *testing.T) {
			idp, err := Parse(readTestdata(t, fixture))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if idp.EntityID != azureEntityID {
				t.Errorf("EntityID = %q, want %q", idp.EntityID, azureEntityID)
			}
			if idp.SSOURL != azureSAML2URL {
				t.Errorf("SSOURL = %q, want %q", idp.SSOURL, azureSAML2URL)
			}
			if idp.SLOURL != azureSAML2URL || idp.SLOBinding != redirectBinding {
				t.Errorf("SLO = %q %q, want %q with the Redirect binding", idp.SLOURL, idp.SLOBinding, azureSAML2URL)
			}
			want := []*x509.Certificate{testCertificate(t, "1"), testCertificate(t, "2")}
			if len(idp.Certificates) != len(want) {
				t.Fatalf("got %d certificates, want %d", len(idp.Certificates), len(want))
			}
			for i := range want {
				if !idp.Certificates[i].Equal(want[i]) {
					t.Errorf("certificate %d is not azure-signing-%d", i, i+1)
				}
			}
		})
	}
}

func TestParseAcceptsEntitiesDescriptorWithOneIdentityProvider(t *testing.T) {
	idp, err := Parse(readTestdata(t, "entities-sp-and-idp.xml"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := IdP{
		EntityID:   "https://idp.example.org/idp/shibboleth",
		SSOURL:     "https://idp.example.org/idp/profile/SAML2/Redirect/SSO", // the Redirect one, trimmed, not the POST one listed first
		SLOURL:     "https://idp.example.org/idp/profile/SAML2/POST/SLO",     // the only one: POST
		SLOBinding: postBinding,
	}
	if idp.EntityID != want.EntityID || idp.SSOURL != want.SSOURL || idp.SLOURL != want.SLOURL || idp.SLOBinding != want.SLOBinding {
		t.Errorf("got %+v, want %+v", *idp, want)
	}
	// The KeyDescriptor without use counts as signing; the use="encryption"
	// one does not. The certificate is wrapped over indented lines.
	if len(idp.Certificates) != 1 || !idp.Certificates[0].Equal(testCertificate(t, "2")) {
		t.Errorf("got %d certificates, want only azure-signing-2", len(idp.Certificates))
	}
}

func TestParseKeepsCertificateOrderWithoutDuplicates(t *testing.T) {
	data := idpMetadata(t, signingKey("{{CERT2}}")+
		`<KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{{CERT1}}</ds:X509Certificate><ds:X509Certificate>{{CERT2}}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`+
		signingKey("{{CERT1}}")+redirectSSO)
	idp, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(idp.Certificates) != 2 || !idp.Certificates[0].Equal(testCertificate(t, "2")) || !idp.Certificates[1].Equal(testCertificate(t, "1")) {
		t.Errorf("got %d certificates, want azure-signing-2 then azure-signing-1", len(idp.Certificates))
	}
	if idp.SLOURL != "" || idp.SLOBinding != "" {
		t.Errorf("SLO = %q %q, want none", idp.SLOURL, idp.SLOBinding)
	}
}

func TestParseIgnoresRoleDescriptorsOfUnknownType(t *testing.T) {
	// An xsi:type whose prefix is not even declared, with content no schema
	// describes, before the IDPSSODescriptor as Azure places its own.
	data := []byte(strings.Replace(string(idpMetadata(t, signingKey("{{CERT1}}")+redirectSSO)), "<IDPSSODescriptor",
		`<RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="undeclared:Thing" protocolSupportEnumeration="urn:example">`+
			`<KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>not a certificate</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>`+
			`<x:Anything xmlns:x="urn:example"><x:Deeper a="b">text</x:Deeper></x:Anything></RoleDescriptor><IDPSSODescriptor`, 1))
	idp, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(idp.Certificates) != 1 || idp.SSOURL != "https://idp.example.org/sso" {
		t.Errorf("got %+v", *idp)
	}
}

func TestParseAcceptsLoopbackHTTPEndpointsForDevelopment(t *testing.T) {
	for _, location := range []string{"http://idp.localhost:8080/saml/sso", "http://127.0.0.1:8080/sso", "http://[::1]/sso", "http://localhost/sso"} {
		t.Run(location, func(t *testing.T) {
			idp, err := Parse(idpMetadata(t, signingKey("{{CERT1}}")+
				`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="`+location+`"/>`))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if idp.SSOURL != location {
				t.Errorf("SSOURL = %q, want %q", idp.SSOURL, location)
			}
		})
	}
}

func TestParseRefusesBadMetadata(t *testing.T) {
	validAzure := readTestdata(t, "azure-federation-metadata.xml")
	oversized := append(bytes.Clone(validAzure[:len(validAzure)-len("</EntityDescriptor>")]),
		[]byte("<!--"+strings.Repeat("x", MaxBytes)+"--></EntityDescriptor>")...)

	tests := []struct {
		name    string
		data    []byte
		reason  string
		message string
	}{
		{"oversized", oversized, ReasonTooLarge, "The file is larger than 1 MiB."},
		{"doctype with entities", readTestdata(t, "doctype.xml"), ReasonDoctype,
			"This file contains a DOCTYPE (a DTD or entity declarations), which is refused for security reasons. Download the metadata again from your identity provider."},
		{"bare doctype", []byte(`<!DOCTYPE x><EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`), ReasonDoctype,
			"This file contains a DOCTYPE (a DTD or entity declarations), which is refused for security reasons. Download the metadata again from your identity provider."},
		{"plain text", []byte("This is not metadata."), ReasonNotXML, "This file is not XML."},
		{"empty", nil, ReasonNotXML, "This file is not XML."},
		{"JSON", []byte(`{"entityID": "https://idp.example.org"}`), ReasonNotXML, "This file is not XML."},
		{"unclosed element", validAzure[:len(validAzure)-10], ReasonNotXML, "This file is not XML."},
		{"undefined entity", []byte(`<EntityDescriptor entityID="&xxe;"/>`), ReasonNotXML, "This file is not XML."},
		{"text after the root", append(bytes.Clone(validAzure), "trailing"...), ReasonNotXML, "This file is not XML."},
		{"two roots", []byte(`<a/><b/>`), ReasonNotXML, "This file is not XML: it has more than one top-level element."},
		{"UTF-16 declared", []byte(`<?xml version="1.0" encoding="UTF-16"?><a/>`), ReasonEncoding,
			"This file is encoded as UTF-16; only UTF-8 metadata can be imported."},
		{"deep nesting", []byte(strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)), ReasonTooDeep,
			"This file nests elements more than 64 levels deep, which metadata never does."},
		{"HTML", []byte(`<html><body>Sign in</body></html>`), ReasonNotMetadata,
			"This file is XML but not SAML metadata: its top-level element is html, not a SAML 2.0 EntityDescriptor or EntitiesDescriptor."},
		{"EntityDescriptor outside the SAML namespace", []byte(`<EntityDescriptor entityID="x"/>`), ReasonNotMetadata,
			"This file is XML but not SAML metadata: its top-level element is EntityDescriptor, not a SAML 2.0 EntityDescriptor or EntitiesDescriptor."},
		{"service provider metadata", readTestdata(t, "no-idpssodescriptor.xml"), ReasonNoIdP,
			"This file has no IDPSSODescriptor for SAML 2.0. It describes a service provider, not an identity provider: import your identity provider's metadata, not this portal's."},
		{"WS-Federation only", readTestdata(t, "wsfed-only.xml"), ReasonNoIdP,
			"This file has no IDPSSODescriptor for SAML 2.0. It describes only WS-Federation or an older SAML version; in Azure, download the Federation Metadata XML from the application's Single sign-on (SAML) page."},
		{"SAML 1.1 only", []byte(strings.Replace(string(idpMetadata(t, signingKey("{{CERT1}}")+redirectSSO)),
			"urn:oasis:names:tc:SAML:2.0:protocol", "urn:oasis:names:tc:SAML:1.1:protocol", 1)), ReasonNoIdP,
			"This file has no IDPSSODescriptor for SAML 2.0. It describes only WS-Federation or an older SAML version; in Azure, download the Federation Metadata XML from the application's Single sign-on (SAML) page."},
		{"empty EntityDescriptor", []byte(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org"/>`), ReasonNoIdP,
			"This file has no IDPSSODescriptor for SAML 2.0."},
		{"EntitiesDescriptor without an IdP", []byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` +
			string(readTestdata(t, "no-idpssodescriptor.xml")[len(`<?xml version="1.0" encoding="UTF-8"?>`):]) + `</EntitiesDescriptor>`), ReasonNoIdP,
			"This file has no IDPSSODescriptor for SAML 2.0. It lists one entity, which is not an identity provider."},
		{"EntitiesDescriptor with two IdPs", readTestdata(t, "entities-two-idps.xml"), ReasonSeveralIdPs,
			"This file describes 2 identity providers (https://idp-one.example.org/saml, https://idp-two.example.org/saml). " +
				"Import the metadata of your own identity provider on its own: download it from that identity provider's SAML settings."},
		{"no entityID", []byte(strings.Replace(string(idpMetadata(t, signingKey("{{CERT1}}")+redirectSSO)),
			`entityID="https://idp.example.org/saml"`, `entityID="  "`, 1)), ReasonNoEntityID,
			"This file has no entityID for the identity provider."},
		{"entityID too long", []byte(strings.Replace(string(idpMetadata(t, signingKey("{{CERT1}}")+redirectSSO)),
			`entityID="https://idp.example.org/saml"`, `entityID="https://idp.example.org/`+strings.Repeat("a", 1024)+`"`, 1)), ReasonNoEntityID,
			"The entityID in this file is longer than 1024 characters, the limit of the SAML metadata specification."},
		{"encryption certificate only", readTestdata(t, "no-certificate.xml"), ReasonNoCertificate,
			`This file has no signing certificate for the identity provider (a KeyDescriptor with use="signing" and an X509Certificate in the IDPSSODescriptor).`},
		{"no KeyDescriptor", idpMetadata(t, redirectSSO), ReasonNoCertificate,
			`This file has no signing certificate for the identity provider (a KeyDescriptor with use="signing" and an X509Certificate in the IDPSSODescriptor).`},
		{"certificate not base64", idpMetadata(t, signingKey("{{CERT1}}")+signingKey("not base64!")+redirectSSO), ReasonBadCertificate,
			"Signing certificate number 2 of the identity provider is not a valid X.509 certificate."},
		{"certificate not DER", idpMetadata(t, signingKey(base64.StdEncoding.EncodeToString([]byte("hello")))+redirectSSO), ReasonBadCertificate,
			"Signing certificate number 1 of the identity provider is not a valid X.509 certificate."},
		{"empty certificate", idpMetadata(t, signingKey(" \n ")+redirectSSO), ReasonBadCertificate,
			"Signing certificate number 1 of the identity provider is not a valid X.509 certificate."},
		{"HTTP-POST SSO only", readTestdata(t, "post-only-sso.xml"), ReasonNoRedirectSSO,
			"The identity provider has no SingleSignOnService with the HTTP-Redirect binding, which this portal uses to send sign-in requests."},
		{"javascript: SSO URL", readTestdata(t, "javascript-sso-url.xml"), ReasonBadSSOURL,
			"The SSO URL javascript:alert(1) is not an https address."},
		{"plain http SSO URL", idpMetadata(t, signingKey("{{CERT1}}")+
			`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://idp.example.org/sso"/>`), ReasonBadSSOURL,
			"The SSO URL http://idp.example.org/sso is not an https address (plain http is accepted only for this computer, such as localhost, during development)."},
		{"relative SSO URL", idpMetadata(t, signingKey("{{CERT1}}")+
			`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="/saml2"/>`), ReasonBadSSOURL,
			"The SSO URL /saml2 is not a complete address: it must start with https://."},
		{"data: SLO URL", idpMetadata(t, signingKey("{{CERT1}}")+redirectSSO+
			`<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="data:text/html,hi"/>`), ReasonBadSLOURL,
			"The SLO URL data:text/html,hi is not an https address."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp, err := Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", *idp)
			}
			var refusal *Error
			if !errors.As(err, &refusal) {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			if refusal.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q (message %q)", refusal.Reason, tt.reason, refusal.Message)
			}
			if refusal.Message != tt.message {
				t.Errorf("Message = %q\nwant      %q", refusal.Message, tt.message)
			}
		})
	}
}

func TestDescribeShowsWhatTheAdminComparesWithAzure(t *testing.T) {
	// Fingerprints computed independently with
	// openssl x509 -noout -fingerprint -sha256 -in testdata/azure-signing-N.crt.pem
	tests := []struct {
		certificate string
		want        CertificateInfo
	}{
		{"1", CertificateInfo{
			Subject:   "CN=Microsoft Azure Federated SSO Certificate",
			Issuer:    "CN=Microsoft Azure Federated SSO Certificate",
			NotBefore: time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC),
			NotAfter:  time.Date(2054, 1, 15, 9, 30, 0, 0, time.UTC),
			SHA256:    "4B:D7:93:2D:84:34:8C:23:51:44:10:F5:84:44:ED:A5:2A:9C:6E:D4:2C:E9:39:A4:82:85:3B:29:D8:28:D5:73",
		}},
		{"2", CertificateInfo{
			Subject:   "CN=Microsoft Azure Federated SSO Certificate",
			Issuer:    "CN=Microsoft Azure Federated SSO Certificate",
			NotBefore: time.Date(2025, 11, 20, 14, 0, 0, 0, time.UTC),
			NotAfter:  time.Date(2055, 11, 20, 14, 0, 0, 0, time.UTC),
			SHA256:    "0C:90:59:A3:83:78:7E:9C:54:73:DB:F5:4E:5D:BC:4F:5C:66:4D:7C:B5:16:BA:FA:B7:35:7D:5F:36:C4:29:99",
		}},
	}
	for _, tt := range tests {
		t.Run("azure-signing-"+tt.certificate, func(t *testing.T) {
			if got := Describe(testCertificate(t, tt.certificate)); got != tt.want {
				t.Errorf("Describe = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}
