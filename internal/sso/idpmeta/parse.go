// Package idpmeta reads an identity provider's SAML 2.0 metadata — Azure AD's
// (Entra ID's) Federation Metadata XML or any other IdP's — into the few
// values the portal's service provider needs, and downloads it from a URL
// without letting that URL reach the portal's own network (SSRF).
//
// It is shared by `portal sso import` and the admin SSO Configuration page,
// so every refusal is an *Error whose Message an administrator can act on.
//
// The signature on the metadata document (Azure signs its Federation
// Metadata XML) is deliberately not verified: the administrator uploads, or
// names the address of, the file they trust, and the portal has no key to
// check it against before this very import. What protects sign-ins is that
// the certificates imported here are the only ones later accepted on SAML
// responses.
package idpmeta

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// MaxBytes is the largest metadata document accepted, uploaded or fetched.
// Azure's Federation Metadata XML is about 20 KiB; 1 MiB leaves room for
// any single IdP while stopping a federation-wide aggregate or a memory
// exhaustion attempt.
const MaxBytes = 1 << 20

const (
	// maxDepth bounds element nesting. Azure's document is 7 levels deep;
	// deep nesting only serves to exhaust the parser's stack and memory.
	maxDepth = 64

	// maxEntityIDLength is the limit saml-metadata-2.0-os §2.3.2 puts on
	// entityID.
	maxEntityIDLength = 1024

	// maxListedEntities is how many entity IDs an error message names.
	maxListedEntities = 3

	metadataNamespace  = "urn:oasis:names:tc:SAML:2.0:metadata"
	xmldsigNamespace   = "http://www.w3.org/2000/09/xmldsig#"
	saml2Protocol      = "urn:oasis:names:tc:SAML:2.0:protocol"
	redirectBinding    = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	postBinding        = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	utf8ByteOrderMark  = "\xef\xbb\xbf"
	xmlWhitespaceChars = " \t\r\n"
)

// IdP is what the portal keeps of an identity provider's metadata.
type IdP struct {
	// EntityID is the IdP's entityID, which SAML responses carry as their
	// Issuer (Azure: https://sts.windows.net/<tenant-id>/, trailing slash
	// included).
	EntityID string

	// SSOURL is the SingleSignOnService location with the HTTP-Redirect
	// binding, the binding the portal sends AuthnRequests with. Metadata
	// without one is refused rather than falling back to HTTP-POST.
	SSOURL string

	// SLOURL is the SingleLogoutService location, HTTP-Redirect preferred,
	// else HTTP-POST; empty when the IdP lists neither.
	SLOURL string

	// SLOBinding is the binding of SLOURL (HTTP-Redirect or HTTP-POST URN),
	// empty when SLOURL is.
	SLOBinding string

	// Certificates are the IdP's signing certificates, in document order,
	// without duplicates. During a rollover Azure lists the old and the new
	// one side by side, and a response signed by either must be accepted.
	Certificates []*x509.Certificate
}

// Parse reads an IdP's SAML 2.0 metadata. data may be an EntityDescriptor
// or an EntitiesDescriptor holding exactly one identity provider, with or
// without a UTF-8 byte-order mark. Every refusal is an *Error.
func Parse(data []byte) (*IdP, error) {
	if len(data) > MaxBytes {
		return nil, refuse(ReasonTooLarge, "The file is larger than 1 MiB.")
	}
	// Azure's downloaded file may start with a byte-order mark, which is
	// not XML; encoding/xml would reject it as text before the root.
	data = bytes.TrimPrefix(data, []byte(utf8ByteOrderMark))

	if err := screenXML(data); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, refuseWithCause(ReasonNotXML, "This file is not XML.", err)
	}
	entity, err := selectEntity(doc.Root())
	if err != nil {
		return nil, err
	}
	return readEntity(entity)
}

// screenXML refuses, before any tree is built, what must never be parsed:
// a DOCTYPE (external entities are an XXE vector and internal ones a
// billion-laughs one; no metadata needs a DTD), encodings other than UTF-8,
// excessive nesting, and anything that is not one well-formed XML element.
func screenXML(data []byte) error {
	var declaredCharset string
	decoder := xml.NewDecoder(bytes.NewReader(data))
	decoder.Strict = true
	decoder.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "us-ascii") {
			return input, nil // a subset of UTF-8
		}
		declaredCharset = charset
		return nil, fmt.Errorf("unsupported charset %q", charset)
	}
	depth, roots := 0, 0
	for {
		token, err := decoder.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if declaredCharset != "" {
				return refuseWithCause(ReasonEncoding, fmt.Sprintf(
					"This file is encoded as %s; only UTF-8 metadata can be imported.", showURL(declaredCharset)), err)
			}
			return refuseWithCause(ReasonNotXML, "This file is not XML.", err)
		}
		switch t := token.(type) {
		case xml.Directive:
			return refuse(ReasonDoctype, "This file contains a DOCTYPE (a DTD or entity declarations), "+
				"which is refused for security reasons. Download the metadata again from your identity provider.")
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return refuse(ReasonNotXML, "This file is not XML: it has more than one top-level element.")
				}
			}
			depth++
			if depth > maxDepth {
				return refuse(ReasonTooDeep, fmt.Sprintf(
					"This file nests elements more than %d levels deep, which metadata never does.", maxDepth))
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.Trim(t, xmlWhitespaceChars)) > 0 {
				return refuse(ReasonNotXML, "This file is not XML.")
			}
		}
	}
	if roots == 0 {
		return refuse(ReasonNotXML, "This file is not XML.")
	}
	return nil
}

// selectEntity returns the EntityDescriptor to import: the root itself, or
// the single identity provider of an EntitiesDescriptor.
func selectEntity(root *etree.Element) (*etree.Element, error) {
	if isMetadataElement(root, "EntityDescriptor") {
		return root, nil
	}
	if !isMetadataElement(root, "EntitiesDescriptor") {
		return nil, refuse(ReasonNotMetadata, fmt.Sprintf(
			"This file is XML but not SAML metadata: its top-level element is %s, not a SAML 2.0 EntityDescriptor or EntitiesDescriptor.",
			showURL(root.FullTag())))
	}
	var entities, idps []*etree.Element
	collectEntities(root, &entities)
	for _, entity := range entities {
		if saml2IdPDescriptor(entity) != nil {
			idps = append(idps, entity)
		}
	}
	switch len(idps) {
	case 0:
		listed := fmt.Sprintf("It lists %d entities, none of them an identity provider.", len(entities))
		if len(entities) == 1 {
			listed = "It lists one entity, which is not an identity provider."
		}
		return nil, refuse(ReasonNoIdP, "This file has no IDPSSODescriptor for SAML 2.0. "+listed)
	case 1:
		return idps[0], nil
	}
	var names []string
	for _, idp := range idps[:min(len(idps), maxListedEntities)] {
		names = append(names, showURL(strings.Trim(idp.SelectAttrValue("entityID", ""), xmlWhitespaceChars)))
	}
	if len(idps) > maxListedEntities {
		names = append(names, "…")
	}
	return nil, refuse(ReasonSeveralIdPs, fmt.Sprintf(
		"This file describes %d identity providers (%s). Import the metadata of your own identity provider on its own: "+
			"download it from that identity provider's SAML settings.", len(idps), strings.Join(names, ", ")))
}

// collectEntities appends the EntityDescriptors of an EntitiesDescriptor,
// including those of nested EntitiesDescriptors (saml-metadata-2.0-os §2.3.1).
func collectEntities(group *etree.Element, entities *[]*etree.Element) {
	for _, child := range group.ChildElements() {
		switch {
		case isMetadataElement(child, "EntityDescriptor"):
			*entities = append(*entities, child)
		case isMetadataElement(child, "EntitiesDescriptor"):
			collectEntities(child, entities)
		}
	}
}

// readEntity extracts the IdP from one EntityDescriptor. Only the
// IDPSSODescriptor is read: Azure's WS-Federation RoleDescriptors
// (xsi:type fed:SecurityTokenServiceType and fed:ApplicationServiceType,
// which come first and repeat the same certificates) and any other role
// are skipped whatever their type, so an unknown xsi:type cannot break the
// import.
func readEntity(entity *etree.Element) (*IdP, error) {
	entityID := strings.Trim(entity.SelectAttrValue("entityID", ""), xmlWhitespaceChars)
	if entityID == "" {
		return nil, refuse(ReasonNoEntityID, "This file has no entityID for the identity provider.")
	}
	if len(entityID) > maxEntityIDLength {
		return nil, refuse(ReasonNoEntityID, fmt.Sprintf(
			"The entityID in this file is longer than %d characters, the limit of the SAML metadata specification.", maxEntityIDLength))
	}
	descriptor := saml2IdPDescriptor(entity)
	if descriptor == nil {
		return nil, noIdPError(entity)
	}
	certificates, err := signingCertificates(descriptor)
	if err != nil {
		return nil, err
	}

	ssoURL := endpointLocation(descriptor, "SingleSignOnService", redirectBinding)
	if ssoURL == "" {
		return nil, refuse(ReasonNoRedirectSSO, "The identity provider has no SingleSignOnService with the HTTP-Redirect binding, "+
			"which this portal uses to send sign-in requests.")
	}
	if _, problem := checkURL("The SSO URL", ssoURL, isLoopbackHost); problem != nil {
		return nil, refuseWithCause(ReasonBadSSOURL, problem.Message, problem.cause)
	}

	sloURL, sloBinding := endpointLocation(descriptor, "SingleLogoutService", redirectBinding), redirectBinding
	if sloURL == "" {
		sloURL, sloBinding = endpointLocation(descriptor, "SingleLogoutService", postBinding), postBinding
	}
	if sloURL == "" {
		sloBinding = ""
	} else if _, problem := checkURL("The SLO URL", sloURL, isLoopbackHost); problem != nil {
		return nil, refuseWithCause(ReasonBadSLOURL, problem.Message, problem.cause)
	}

	return &IdP{
		EntityID:     entityID,
		SSOURL:       ssoURL,
		SLOURL:       sloURL,
		SLOBinding:   sloBinding,
		Certificates: certificates,
	}, nil
}

// noIdPError explains a missing IDPSSODescriptor, with a hint for the two
// usual mistakes: uploading a service provider's metadata (this portal's
// own export, say) or a WS-Federation-only document.
func noIdPError(entity *etree.Element) *Error {
	message := "This file has no IDPSSODescriptor for SAML 2.0."
	hasSP, hasOtherRole := false, false
	for _, child := range entity.ChildElements() {
		switch {
		case isMetadataElement(child, "SPSSODescriptor"):
			hasSP = true
		case isMetadataElement(child, "RoleDescriptor"), isMetadataElement(child, "IDPSSODescriptor"):
			hasOtherRole = true
		}
	}
	switch {
	case hasSP:
		message += " It describes a service provider, not an identity provider: import your identity provider's metadata, not this portal's."
	case hasOtherRole:
		message += " It describes only WS-Federation or an older SAML version; in Azure, download the Federation Metadata XML from the application's Single sign-on (SAML) page."
	}
	return refuse(ReasonNoIdP, message)
}

// saml2IdPDescriptor returns the first IDPSSODescriptor of entity whose
// protocolSupportEnumeration (a space-separated list of URIs) includes
// SAML 2.0, or nil.
func saml2IdPDescriptor(entity *etree.Element) *etree.Element {
	for _, child := range entity.ChildElements() {
		if !isMetadataElement(child, "IDPSSODescriptor") {
			continue
		}
		for _, protocol := range strings.Fields(child.SelectAttrValue("protocolSupportEnumeration", "")) {
			if protocol == saml2Protocol {
				return child
			}
		}
	}
	return nil
}

// signingCertificates returns the certificates of the KeyDescriptors with
// use="signing" or no use (which means both signing and encryption,
// saml-metadata-2.0-os §2.4.1.1), de-duplicated, in document order.
func signingCertificates(descriptor *etree.Element) ([]*x509.Certificate, error) {
	var certificates []*x509.Certificate
	seen := map[string]bool{}
	number := 0
	for _, keyDescriptor := range descriptor.ChildElements() {
		if !isMetadataElement(keyDescriptor, "KeyDescriptor") {
			continue
		}
		if use := strings.Trim(keyDescriptor.SelectAttrValue("use", ""), xmlWhitespaceChars); use != "" && use != "signing" {
			continue
		}
		for _, encoded := range x509CertificateTexts(keyDescriptor) {
			number++
			certificate, err := decodeCertificate(encoded)
			if err != nil {
				return nil, refuseWithCause(ReasonBadCertificate, fmt.Sprintf(
					"Signing certificate number %d of the identity provider is not a valid X.509 certificate.", number), err)
			}
			if seen[string(certificate.Raw)] {
				continue
			}
			seen[string(certificate.Raw)] = true
			certificates = append(certificates, certificate)
		}
	}
	if len(certificates) == 0 {
		return nil, refuse(ReasonNoCertificate, "This file has no signing certificate for the identity provider "+
			"(a KeyDescriptor with use=\"signing\" and an X509Certificate in the IDPSSODescriptor).")
	}
	return certificates, nil
}

// x509CertificateTexts returns the text of every
// KeyDescriptor/ds:KeyInfo/ds:X509Data/ds:X509Certificate.
func x509CertificateTexts(keyDescriptor *etree.Element) []string {
	var texts []string
	for _, keyInfo := range childElements(keyDescriptor, xmldsigNamespace, "KeyInfo") {
		for _, x509Data := range childElements(keyInfo, xmldsigNamespace, "X509Data") {
			for _, certificate := range childElements(x509Data, xmldsigNamespace, "X509Certificate") {
				texts = append(texts, allText(certificate))
			}
		}
	}
	return texts
}

// decodeCertificate decodes base64 DER that metadata often wraps over
// several indented lines.
func decodeCertificate(encoded string) (*x509.Certificate, error) {
	compact := strings.Map(func(r rune) rune {
		if strings.ContainsRune(xmlWhitespaceChars, r) {
			return -1
		}
		return r
	}, encoded)
	if compact == "" {
		return nil, errors.New("empty X509Certificate element")
	}
	der, err := base64.StdEncoding.DecodeString(compact)
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	certificate, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return certificate, nil
}

// endpointLocation returns the trimmed Location of the first endpoint
// element called name with the given binding (both are xs:anyURI, whose
// surrounding whitespace is not significant), or "".
func endpointLocation(descriptor *etree.Element, name, binding string) string {
	for _, endpoint := range childElements(descriptor, metadataNamespace, name) {
		if strings.Trim(endpoint.SelectAttrValue("Binding", ""), xmlWhitespaceChars) == binding {
			if location := strings.Trim(endpoint.SelectAttrValue("Location", ""), xmlWhitespaceChars); location != "" {
				return location
			}
		}
	}
	return ""
}

func isMetadataElement(el *etree.Element, local string) bool {
	return el.Tag == local && el.NamespaceURI() == metadataNamespace
}

func childElements(parent *etree.Element, namespace, local string) []*etree.Element {
	var matches []*etree.Element
	for _, child := range parent.ChildElements() {
		if child.Tag == local && child.NamespaceURI() == namespace {
			matches = append(matches, child)
		}
	}
	return matches
}

// allText concatenates every text node of el (etree's Text stops at the
// first comment or child).
func allText(el *etree.Element) string {
	var text strings.Builder
	for _, token := range el.Child {
		if data, ok := token.(*etree.CharData); ok {
			text.WriteString(data.Data)
		}
	}
	return text.String()
}
