// Package xmlguard is the portal's own structural check of a SAMLResponse,
// run on the form value posted to the ACS before the XML reaches
// crewjam/saml's ServiceProvider.ParseXMLResponse.
//
// crewjam/saml verifies the signature and the SAML conditions. It leaves to
// the application the checks below, or does them only in some
// configurations; doing them here, on the raw document, also shrinks the
// input that the signature code ever sees to the one shape Azure AD and
// every mainstream IdP send: one Response, one Assertion, enveloped
// RSA-SHA256 signatures over exclusive c14n with a single Reference to their
// parent.
//
// An EncryptedAssertion passes Check in one accepted shape only; once the
// ACS has decrypted it, CheckDecrypted runs every check again on the
// Response with the plaintext assertion in its place. CheckLogout is the
// same guard for the LogoutRequests and LogoutResponses of Single Logout.
//
// Every refusal is an *Error whose Reason is one of these stable codes,
// stored in sign-in events and shown to site administrators:
//
//	malformed-base64                 the form value is not base64
//	response-too-large               more than MaxResponseBytes once decoded (the
//	                                 encoded value is capped before decoding)
//	doctype-forbidden                a DOCTYPE, DTD or entity declaration anywhere
//	                                 (XXE, billion laughs, parser differentials)
//	processing-instruction-forbidden a processing instruction other than the XML
//	                                 declaration: no IdP sends one, and consumers
//	                                 (xml-stylesheet) may act on it
//	comment-forbidden                an XML comment anywhere: no IdP sends one, and a
//	                                 comment splitting a text node is the
//	                                 CVE-2017-11427 family of NameID truncation attacks
//	                                 (exclusive c14n drops comments, so the signature
//	                                 still verifies)
//	nesting-too-deep                 elements nested deeper than MaxDepth
//	malformed-xml                    not well-formed XML, an undeclared namespace
//	                                 prefix, a second root element or text outside
//	                                 the root
//	not-saml-response                the root is not samlp:Response (SAML 2.0 protocol)
//	assertion-count                  not exactly one Assertion or EncryptedAssertion in
//	                                 the whole document, or it is not a child of the
//	                                 Response: any extra one is a wrapping attempt
//	signature-placement              a ds:Signature whose parent is neither the
//	                                 Response nor its Assertion
//	signature-malformed              a ds:Signature without exactly one SignedInfo and
//	                                 SignatureValue, or with other children (ds:Object
//	                                 is where XSW6/XSW8 hide the signed assertion)
//	signature-transform              a CanonicalizationMethod or Transform other than
//	                                 exclusive c14n without comments and
//	                                 enveloped-signature (no XPath, XSLT, inclusive or
//	                                 with-comments c14n)
//	sha1-forbidden                   a SHA-1 SignatureMethod or DigestMethod
//	signature-reference              not exactly one Reference, or its URI is not "#"
//	                                 plus the ID of the Signature's parent, or that ID
//	                                 is not unique in the document
//	keyinfo-forbidden                a KeyInfo child that a verifier could dereference
//	                                 (RetrievalMethod, KeyInfoReference, ...); plain
//	                                 X509Data is allowed and is never trusted by the SP
//	unsigned                         no signature on the Response or the Assertion
//	encrypted-content                encrypted content other than the one
//	                                 EncryptedAssertion (EncryptedID, EncryptedAttribute,
//	                                 an encrypted key or data anywhere else, encryption
//	                                 inside a decrypted assertion), or in a logout message:
//	                                 the SP decrypts only an assertion, and runs these
//	                                 checks again on what it decrypted (CheckDecrypted)
//	encryption-malformed             an EncryptedAssertion not in the one shape accepted:
//	                                 one EncryptedData (EncryptionMethod, ds:KeyInfo with
//	                                 the key, CipherData with a CipherValue) and exactly
//	                                 one EncryptedKey, beside it or in its KeyInfo, with
//	                                 nothing to fetch (no CipherReference, RetrievalMethod)
//	encryption-algorithm             content encryption other than AES-128/256 in GCM or
//	                                 CBC mode, or key transport other than RSA-OAEP: RSA
//	                                 1.5 (Bleichenbacher's padding oracle), 3DES, ...
//	not-logout-message               (CheckLogout) the root is not samlp:LogoutRequest
//	                                 or samlp:LogoutResponse
//	unexpected-element               a child of samlp:Response or saml:Assertion that
//	                                 the SAML 2.0 schema does not allow there, or not
//	                                 in the schema's order (an element of another
//	                                 namespace, such as a SAML 1.1 Assertion beside the
//	                                 signed SAML 2.0 one)
//
// Passing these checks proves nothing about authenticity: the signature
// itself, the issuer, audience, times and replay are still for
// crewjam/saml and the portal's ACS to decide.
package xmlguard

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// MaxResponseBytes caps the decoded SAMLResponse. An Azure AD response with
// the default claims is about 5 KiB; even a user with hundreds of group
// claims stays far below this (Azure itself caps group claims at 150 in a
// SAML token and sends an overage claim beyond that).
const MaxResponseBytes = 256 << 10

// MaxDepth caps element nesting. A SAML response nests about 10 deep
// (Response/Assertion/Signature/SignedInfo/Reference/Transforms/Transform/
// InclusiveNamespaces is the deepest path); 32 leaves room for extension
// attributes with structured values.
const MaxDepth = 32

// maxEncodedBytes caps the form value before any decoding: the padded
// base64 length of MaxResponseBytes, plus room for a CRLF every 64
// characters (RFC 2045 style wrapping, as some IdPs post it).
const maxEncodedBytes = (MaxResponseBytes + 2) / 3 * 4 * 66 / 64

// The reason codes, exported in the package doc. They are constants here so
// that the checks and the tests cannot drift apart by a typo.
const (
	ReasonMalformedBase64       = "malformed-base64"
	ReasonTooLarge              = "response-too-large"
	ReasonDoctype               = "doctype-forbidden"
	ReasonProcessingInstruction = "processing-instruction-forbidden"
	ReasonComment               = "comment-forbidden"
	ReasonTooDeep               = "nesting-too-deep"
	ReasonMalformedXML          = "malformed-xml"
	ReasonNotSAMLResponse       = "not-saml-response"
	ReasonAssertionCount        = "assertion-count"
	ReasonSignaturePlacement    = "signature-placement"
	ReasonSignatureMalformed    = "signature-malformed"
	ReasonSignatureTransform    = "signature-transform"
	ReasonSHA1                  = "sha1-forbidden"
	ReasonSignatureReference    = "signature-reference"
	ReasonKeyInfo               = "keyinfo-forbidden"
	ReasonUnsigned              = "unsigned"
	ReasonEncrypted             = "encrypted-content"
	ReasonEncryptionMalformed   = "encryption-malformed"
	ReasonEncryptionAlgorithm   = "encryption-algorithm"
	ReasonUnexpectedElement     = "unexpected-element"
	ReasonNotLogoutMessage      = "not-logout-message"
)

// Reasons lists every reason code above, for those who count refusals by
// reason (a closed set of metric labels).
var Reasons = []string{
	ReasonMalformedBase64, ReasonTooLarge, ReasonDoctype, ReasonProcessingInstruction, ReasonComment,
	ReasonTooDeep, ReasonMalformedXML, ReasonNotSAMLResponse, ReasonAssertionCount, ReasonSignaturePlacement,
	ReasonSignatureMalformed, ReasonSignatureTransform, ReasonSHA1, ReasonSignatureReference, ReasonKeyInfo,
	ReasonUnsigned, ReasonEncrypted, ReasonEncryptionMalformed, ReasonEncryptionAlgorithm, ReasonUnexpectedElement,
	ReasonNotLogoutMessage,
}

// The namespaces of a SAML 2.0 response.
const (
	ProtocolNS  = "urn:oasis:names:tc:SAML:2.0:protocol"
	AssertionNS = "urn:oasis:names:tc:SAML:2.0:assertion"
	DSigNS      = "http://www.w3.org/2000/09/xmldsig#"
	XEncNS      = "http://www.w3.org/2001/04/xmlenc#"
	xenc11NS    = "http://www.w3.org/2009/xmlenc11#"

	excC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	envelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
)

// The XML Encryption algorithms an EncryptedAssertion may use: AES-GCM
// (XML Encryption 1.1) or AES-CBC content encryption with a 128 or 256-bit
// key, and RSA-OAEP key transport, in its 1.0 (MGF1 with SHA-1) and 1.1
// forms. The SP metadata offers these and nothing else.
const (
	AES128GCM    = xenc11NS + "aes128-gcm"
	AES256GCM    = xenc11NS + "aes256-gcm"
	AES128CBC    = XEncNS + "aes128-cbc"
	AES256CBC    = XEncNS + "aes256-cbc"
	RSAOAEPMGF1P = XEncNS + "rsa-oaep-mgf1p"
	RSAOAEP      = xenc11NS + "rsa-oaep"
	// rsa15 is named only to say why it is refused.
	rsa15 = XEncNS + "rsa-1_5"
)

// contentAlgorithms and keyTransports are the accepted algorithms.
var (
	contentAlgorithms = []string{AES128GCM, AES256GCM, AES128CBC, AES256CBC}
	keyTransports     = []string{RSAOAEPMGF1P, RSAOAEP}
)

// IsCBC reports whether a content encryption algorithm is a CBC mode, which
// authenticates nothing (see the ACS: accepted only in a signed Response).
func IsCBC(algorithm string) bool { return algorithm == AES128CBC || algorithm == AES256CBC }

// isSHA1 reports whether a SignatureMethod or DigestMethod identifier is
// SHA-1 based (XML Signature 1.1 §6; SHA-1 collisions: SHAttered, 2017).
func isSHA1(algorithm string) bool {
	switch algorithm {
	case "http://www.w3.org/2000/09/xmldsig#sha1",
		"http://www.w3.org/2000/09/xmldsig#rsa-sha1",
		"http://www.w3.org/2000/09/xmldsig#dsa-sha1",
		"http://www.w3.org/2000/09/xmldsig#hmac-sha1",
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
		"http://www.w3.org/2009/xmldsig11#dsa-sha1":
		return true
	}
	return false
}

// Error is every refusal of this package. Reason is a stable,
// machine-readable code (see the package doc); Detail is for logs and
// may change.
type Error struct {
	Reason string
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "saml response refused: " + e.Reason
	}
	return "saml response refused: " + e.Reason + ": " + e.Detail
}

func refuse(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Decode takes the SAMLResponse form value as posted (base64, possibly with
// line breaks/whitespace), and returns the decoded XML after all structural
// checks pass.
func Decode(formValue string) ([]byte, error) {
	doc, _, err := DecodeParsed(formValue)
	return doc, err
}

// DecodeParsed is Decode that also returns the document's root element as
// the checks parsed it: for the reads that route the response before its
// signature is checked, which need not parse it again.
func DecodeParsed(formValue string) ([]byte, *etree.Element, error) {
	// Cap before decoding, so that a huge POST costs no more than reading it.
	if len(formValue) > maxEncodedBytes {
		return nil, nil, refuse(ReasonTooLarge, "encoded form value is %d bytes", len(formValue))
	}
	compact := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, formValue)
	if compact == "" {
		return nil, nil, refuse(ReasonMalformedBase64, "empty form value")
	}
	// saml-bindings-2.0-os §3.5.4: the HTTP-POST value is plain base64
	// (RFC 2045 alphabet, padded); nothing else is accepted.
	doc, err := base64.StdEncoding.Strict().DecodeString(compact)
	if err != nil {
		return nil, nil, refuse(ReasonMalformedBase64, "%v", err)
	}
	root, err := check(doc, true)
	if err != nil {
		return nil, nil, err
	}
	return doc, root, nil
}

// Check runs the structural checks on already-decoded XML (Decode calls
// it). The Response's one assertion may be an EncryptedAssertion of the one
// accepted shape; its content is checked by CheckDecrypted once decrypted.
func Check(doc []byte) error {
	_, err := check(doc, true)
	return err
}

// CheckDecrypted runs every check of Check on a Response whose
// EncryptedAssertion has been decrypted and put in its place: nothing may
// be encrypted any more (an assertion decrypted to another encrypted one, or
// carrying an EncryptedID, is refused), and the assertion itself (its
// schema order, its one signature and its one Reference) is checked as a
// plain one is.
func CheckDecrypted(doc []byte) error {
	_, err := check(doc, false)
	return err
}

func check(doc []byte, allowEncrypted bool) (*etree.Element, error) {
	tree, err := parse(doc)
	if err != nil {
		return nil, err
	}
	root := tree.Root()
	if root == nil || root.Tag != "Response" || root.NamespaceURI() != ProtocolNS {
		return nil, refuse(ReasonNotSAMLResponse, "root element is not {%s}Response", ProtocolNS)
	}
	assertion, err := theAssertion(root)
	if err != nil {
		return nil, err
	}
	encrypted := assertion.Tag == "EncryptedAssertion"
	// Only the assertion may be encrypted, and only once: decrypted content
	// (an assertion, a NameID, an attribute) escapes every check that ran on
	// the document as received, so the ACS decrypts the assertion alone and
	// checks it again with CheckDecrypted.
	var mayBeEncrypted *etree.Element
	if encrypted && allowEncrypted {
		if err := checkEncryptedAssertion(assertion); err != nil {
			return nil, err
		}
		mayBeEncrypted = assertion
	}
	for _, name := range []Name{{XEncNS, "EncryptedData"}, {XEncNS, "EncryptedKey"}, {AssertionNS, "EncryptedAssertion"}} {
		for _, el := range Descendants(root, name) {
			if el != mayBeEncrypted && !isWithin(el, mayBeEncrypted) {
				return nil, refuse(ReasonEncrypted, "%s is encrypted; this service provider decrypts only the assertion, once", el.Parent().FullTag())
			}
		}
	}
	ids := countIDs(root)
	signed := false
	for _, sig := range Descendants(root, Name{DSigNS, "Signature"}) {
		parent := sig.Parent()
		// An encrypted assertion's own signature is inside the ciphertext,
		// checked once decrypted; outside it only the Response is signed.
		if parent != root && (parent != assertion || encrypted) {
			return nil, refuse(ReasonSignaturePlacement, "ds:Signature inside %s", parent.FullTag())
		}
		if err := checkSignature(sig, ids); err != nil {
			return nil, err
		}
		signed = true
	}
	if !signed && !encrypted {
		// crewjam/saml refuses this too; refusing here gives the sign-in
		// event a clear reason instead of a generic signature failure. An
		// encrypted assertion must be signed inside: CheckDecrypted says
		// so once it is decrypted.
		return nil, refuse(ReasonUnsigned, "neither the Response nor the Assertion carries a ds:Signature")
	}
	if err := checkChildren(root, responseContent); err != nil {
		return nil, err
	}
	if !encrypted {
		if err := checkChildren(assertion, assertionContent); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// parse runs the checks every SAML message gets before it is parsed into a
// tree (size, declarations, tokens) and parses it.
func parse(doc []byte) (*etree.Document, error) {
	if len(doc) > MaxResponseBytes {
		return nil, refuse(ReasonTooLarge, "decoded message is %d bytes, limit %d", len(doc), MaxResponseBytes)
	}
	if err := checkMarkupDeclarations(doc); err != nil {
		return nil, err
	}
	if err := checkTokens(doc); err != nil {
		return nil, err
	}
	tree := etree.NewDocument()
	if err := tree.ReadFromBytes(doc); err != nil {
		return nil, refuse(ReasonMalformedXML, "%v", err)
	}
	return tree, nil
}

// isWithin reports whether el is below ancestor (nil: never).
func isWithin(el, ancestor *etree.Element) bool {
	if ancestor == nil {
		return false
	}
	for p := el.Parent(); p != nil; p = p.Parent() {
		if p == ancestor {
			return true
		}
	}
	return false
}

// EncryptedAssertion returns the Response's EncryptedAssertion, or nil when
// its assertion is in the clear. Call it on a document Check accepted.
func EncryptedAssertion(root *etree.Element) *etree.Element {
	return Child(root, Name{AssertionNS, "EncryptedAssertion"})
}

// encryptedAssertionContent is saml:EncryptedElementType
// (saml-schema-assertion-2.0.xsd): xenc:EncryptedData, xenc:EncryptedKey*.
var encryptedAssertionContent = []slot{
	{Names: []Name{{XEncNS, "EncryptedData"}}, Min: 1, Max: 1},
	{Names: []Name{{XEncNS, "EncryptedKey"}}, Max: unbounded},
}

// encryptedDataContent is xenc:EncryptedType as accepted
// (xenc-schema.xsd): EncryptionMethod, ds:KeyInfo?, CipherData. The
// EncryptionMethod is optional in the schema, but without it the recipient
// would have to guess the algorithm; EncryptionProperties carry nothing
// the SP uses.
var encryptedDataContent = []slot{
	{Names: []Name{{XEncNS, "EncryptionMethod"}}, Min: 1, Max: 1},
	{Names: []Name{{DSigNS, "KeyInfo"}}, Max: 1},
	{Names: []Name{{XEncNS, "CipherData"}}, Min: 1, Max: 1},
}

// encryptedKeyContent is xenc:EncryptedKeyType as accepted:
// EncryptionMethod, ds:KeyInfo?, CipherData, ReferenceList?,
// CarriedKeyName?.
var encryptedKeyContent = []slot{
	{Names: []Name{{XEncNS, "EncryptionMethod"}}, Min: 1, Max: 1},
	{Names: []Name{{DSigNS, "KeyInfo"}}, Max: 1},
	{Names: []Name{{XEncNS, "CipherData"}}, Min: 1, Max: 1},
	{Names: []Name{{XEncNS, "ReferenceList"}}, Max: 1},
	{Names: []Name{{XEncNS, "CarriedKeyName"}}, Max: 1},
}

// checkEncryptedAssertion checks an EncryptedAssertion's shape and
// algorithms before anything is decrypted: one EncryptedData encrypted
// with an accepted cipher, and exactly one EncryptedKey (in its KeyInfo, as
// Azure AD and xmlsec put it, or beside it), wrapped with RSA-OAEP. Exactly
// one key: the SP decrypts with the one key it names, so what it checks and
// what it verifies cannot come from two different keys. Nothing to fetch: a
// CipherReference or RetrievalMethod would make the SP fetch what the
// sender chooses. The ciphertext itself is not looked at here: a
// malformed one fails decryption, with the same refusal as any other
// failure to decrypt.
func checkEncryptedAssertion(encrypted *etree.Element) error {
	if err := checkEncryptedChildren(encrypted, encryptedAssertionContent); err != nil {
		return err
	}
	data := Child(encrypted, Name{XEncNS, "EncryptedData"})
	if err := checkEncryptedChildren(data, encryptedDataContent); err != nil {
		return err
	}
	if t, ok := attrValue(data, "Type"); ok && t != XEncNS+"Element" {
		return refuse(ReasonEncryptionMalformed, "EncryptedData Type %q, want an encrypted element", t)
	}
	if err := checkAlgorithm(Child(data, Name{XEncNS, "EncryptionMethod"}), contentAlgorithms, "content encryption"); err != nil {
		return err
	}
	if err := checkCipherData(Child(data, Name{XEncNS, "CipherData"})); err != nil {
		return err
	}
	keys := Children(encrypted, Name{XEncNS, "EncryptedKey"})
	if keyInfo := Child(data, Name{DSigNS, "KeyInfo"}); keyInfo != nil {
		for _, child := range keyInfo.ChildElements() {
			if !(Name{XEncNS, "EncryptedKey"}).matches(child) {
				return refuse(ReasonEncryptionMalformed, "%s in the EncryptedData's KeyInfo: only the EncryptedKey is accepted there", child.FullTag())
			}
			keys = append(keys, child)
		}
	}
	if len(keys) != 1 {
		return refuse(ReasonEncryptionMalformed, "%d EncryptedKey elements, want exactly 1", len(keys))
	}
	key := keys[0]
	if err := checkEncryptedChildren(key, encryptedKeyContent); err != nil {
		return err
	}
	method := Child(key, Name{XEncNS, "EncryptionMethod"})
	if err := checkAlgorithm(method, keyTransports, "key transport"); err != nil {
		return err
	}
	for _, param := range method.ChildElements() {
		switch {
		case (Name{DSigNS, "DigestMethod"}).matches(param), (Name{xenc11NS, "MGF"}).matches(param), (Name{XEncNS, "OAEPparams"}).matches(param):
		default:
			return refuse(ReasonEncryptionMalformed, "%s in the key's EncryptionMethod", param.FullTag())
		}
	}
	if keyInfo := Child(key, Name{DSigNS, "KeyInfo"}); keyInfo != nil {
		// The key it names is only a hint: the SP tries its own keys.
		if err := checkKeyInfo(keyInfo); err != nil {
			return err
		}
	}
	return checkCipherData(Child(key, Name{XEncNS, "CipherData"}))
}

// checkEncryptedChildren is checkChildren with the encryption reason.
func checkEncryptedChildren(parent *etree.Element, content []slot) error {
	if err := checkChildren(parent, content); err != nil {
		var guard *Error
		if errors.As(err, &guard) {
			guard.Reason = ReasonEncryptionMalformed
		}
		return err
	}
	return nil
}

// checkAlgorithm checks that an EncryptionMethod names one of allowed.
func checkAlgorithm(method *etree.Element, allowed []string, what string) error {
	algorithm := method.SelectAttrValue("Algorithm", "")
	for _, a := range allowed {
		if algorithm == a {
			return nil
		}
	}
	if algorithm == rsa15 {
		// PKCS#1 v1.5 key transport is a padding oracle (Bleichenbacher
		// 1998; for XML Encryption, Jager, Schinzel and Somorovsky 2012):
		// refused before any private-key operation.
		return refuse(ReasonEncryptionAlgorithm, "RSA 1.5 key transport (rsa-1_5) is refused: use RSA-OAEP")
	}
	return refuse(ReasonEncryptionAlgorithm, "%s algorithm %q is not accepted", what, algorithm)
}

// checkCipherData accepts a CipherValue only: a CipherReference names a
// URI the recipient would fetch.
func checkCipherData(cipherData *etree.Element) error {
	children := cipherData.ChildElements()
	if len(children) != 1 || !(Name{XEncNS, "CipherValue"}).matches(children[0]) || len(children[0].ChildElements()) != 0 {
		return refuse(ReasonEncryptionMalformed, "CipherData must hold one CipherValue and nothing else")
	}
	return nil
}

// logoutRequestContent is samlp:LogoutRequestType
// (saml-schema-protocol-2.0.xsd, RequestAbstractType extended): Issuer?,
// ds:Signature?, Extensions?, (BaseID | NameID | EncryptedID),
// SessionIndex*.
var logoutRequestContent = []slot{
	{Names: []Name{{AssertionNS, "Issuer"}}, Max: 1},
	{Names: []Name{{DSigNS, "Signature"}}, Max: 1},
	{Names: []Name{{ProtocolNS, "Extensions"}}, Max: 1},
	{Names: []Name{{AssertionNS, "BaseID"}, {AssertionNS, "NameID"}, {AssertionNS, "EncryptedID"}}, Min: 1, Max: 1},
	{Names: []Name{{ProtocolNS, "SessionIndex"}}, Max: unbounded},
}

// logoutResponseContent is samlp:StatusResponseType: Issuer?,
// ds:Signature?, Extensions?, Status.
var logoutResponseContent = []slot{
	{Names: []Name{{AssertionNS, "Issuer"}}, Max: 1},
	{Names: []Name{{DSigNS, "Signature"}}, Max: 1},
	{Names: []Name{{ProtocolNS, "Extensions"}}, Max: 1},
	{Names: []Name{{ProtocolNS, "Status"}}, Min: 1, Max: 1},
}

// CheckLogout runs the structural checks on a decoded LogoutRequest or
// LogoutResponse before any signature code: the same refusals as a
// Response for what a message must never hold (DTD, comments, processing
// instructions, depth), its root one of the two, its children as the
// schema orders them, an enveloped signature (if any) on the root only and
// of the one accepted shape, and nothing encrypted (an EncryptedID is not
// accepted: the portal's LogoutRequests and Azure AD's carry a NameID). A
// message received with the HTTP-Redirect binding is signed over its
// query string (querySigned) rather than in the XML; any other must carry
// the enveloped signature. It returns the root.
func CheckLogout(doc []byte, querySigned bool) (*etree.Element, error) {
	tree, err := parse(doc)
	if err != nil {
		return nil, err
	}
	root := tree.Root()
	var content []slot
	switch {
	case root == nil || root.NamespaceURI() != ProtocolNS:
		return nil, refuse(ReasonNotLogoutMessage, "the root element is not a SAML 2.0 protocol message")
	case root.Tag == "LogoutRequest":
		content = logoutRequestContent
	case root.Tag == "LogoutResponse":
		content = logoutResponseContent
	default:
		return nil, refuse(ReasonNotLogoutMessage, "the root element is %s, not a LogoutRequest or LogoutResponse", root.FullTag())
	}
	for _, name := range []Name{{XEncNS, "EncryptedData"}, {XEncNS, "EncryptedKey"}, {AssertionNS, "Assertion"}, {AssertionNS, "EncryptedAssertion"}} {
		if found := Descendants(root, name); len(found) > 0 {
			return nil, refuse(ReasonEncrypted, "%s in a logout message", found[0].FullTag())
		}
	}
	ids := countIDs(root)
	signed := false
	for _, sig := range Descendants(root, Name{DSigNS, "Signature"}) {
		if sig.Parent() != root {
			return nil, refuse(ReasonSignaturePlacement, "ds:Signature inside %s", sig.Parent().FullTag())
		}
		if err := checkSignature(sig, ids); err != nil {
			return nil, err
		}
		signed = true
	}
	if !signed && !querySigned {
		return nil, refuse(ReasonUnsigned, "the %s carries no signature", root.Tag)
	}
	if err := checkChildren(root, content); err != nil {
		return nil, err
	}
	return root, nil
}

// slot is one particle of a schema content model: Min to Max elements, in a
// row, each named by one of Names.
type slot struct {
	Names    []Name
	Min, Max int // Max -1: unbounded
}

// unbounded is a slot's Max for maxOccurs="unbounded".
const unbounded = -1

// responseContent is samlp:ResponseType's content, in order
// (saml-schema-protocol-2.0.xsd, StatusResponseType extended by
// ResponseType): Issuer?, ds:Signature?, Extensions?, Status,
// (Assertion | EncryptedAssertion)*.
var responseContent = []slot{
	{Names: []Name{{AssertionNS, "Issuer"}}, Max: 1},
	{Names: []Name{{DSigNS, "Signature"}}, Max: 1},
	{Names: []Name{{ProtocolNS, "Extensions"}}, Max: 1},
	{Names: []Name{{ProtocolNS, "Status"}}, Min: 1, Max: 1},
	{Names: []Name{{AssertionNS, "Assertion"}, {AssertionNS, "EncryptedAssertion"}}, Max: unbounded},
}

// assertionContent is saml:AssertionType's content, in order
// (saml-schema-assertion-2.0.xsd): Issuer, ds:Signature?, Subject?,
// Conditions?, Advice?, (Statement | AuthnStatement |
// AuthzDecisionStatement | AttributeStatement)*.
var assertionContent = []slot{
	{Names: []Name{{AssertionNS, "Issuer"}}, Min: 1, Max: 1},
	{Names: []Name{{DSigNS, "Signature"}}, Max: 1},
	{Names: []Name{{AssertionNS, "Subject"}}, Max: 1},
	{Names: []Name{{AssertionNS, "Conditions"}}, Max: 1},
	{Names: []Name{{AssertionNS, "Advice"}}, Max: 1},
	{Names: []Name{{AssertionNS, "Statement"}, {AssertionNS, "AuthnStatement"}, {AssertionNS, "AuthzDecisionStatement"}, {AssertionNS, "AttributeStatement"}}, Max: unbounded},
}

// checkChildren refuses any child element of parent that its schema
// content model does not allow there, in that order. Counting assertions
// (theAssertion) stops a second SAML 2.0 assertion; this stops everything
// else a reader could mistake for part of the message: an Assertion of
// another namespace (SAML 1.1's, which code finding elements by local name
// would read), an unknown element, a second Subject or Conditions, or a
// Status after the assertion. Every unverified read of the response then
// finds only what the schema puts there (saml-core-2.0-os §2.3.3, §3.2.2).
func checkChildren(parent *etree.Element, content []slot) error {
	children := parent.ChildElements()
	i := 0
	for _, s := range content {
		n := 0
		for i < len(children) && (s.Max == unbounded || n < s.Max) && matchesAny(children[i], s.Names) {
			i++
			n++
		}
		if n < s.Min {
			return refuse(ReasonUnexpectedElement, "%s lacks {%s}%s", parent.FullTag(), s.Names[0].Space, s.Names[0].Local)
		}
	}
	if i < len(children) {
		child := children[i]
		return refuse(ReasonUnexpectedElement, "{%s}%s is not allowed there in %s (schema order)", child.NamespaceURI(), child.Tag, parent.FullTag())
	}
	return nil
}

func matchesAny(el *etree.Element, names []Name) bool {
	for _, n := range names {
		if n.matches(el) {
			return true
		}
	}
	return false
}

// checkMarkupDeclarations refuses any "<!" that does not start a comment or
// CDATA section, on the raw bytes, before any parser sees them: a DOCTYPE or
// entity declaration anywhere (even in a place a given parser would reject
// or ignore) is refused, so that no two parsers in the pipeline can read the
// document differently (XXE, billion laughs; CVE-2022-41912-style parser
// differentials). encoding/xml refuses encodings other than UTF-8 without a
// CharsetReader, so a UTF-16 DOCTYPE cannot slip past this byte scan.
func checkMarkupDeclarations(doc []byte) error {
	rest := doc
	for {
		i := bytes.Index(rest, []byte("<!"))
		if i < 0 {
			return nil
		}
		rest = rest[i+2:]
		if bytes.HasPrefix(rest, []byte("--")) || bytes.HasPrefix(rest, []byte("[CDATA[")) {
			continue
		}
		end := min(len(rest), 16)
		return refuse(ReasonDoctype, "markup declaration <!%s", rest[:end])
	}
}

// checkTokens is one streaming pass with encoding/xml: well-formedness,
// a single root element, nesting depth, comments and processing
// instructions. It runs before etree builds a tree, so a deeply nested
// document costs no more than reading it.
func checkTokens(doc []byte) error {
	decoder := xml.NewDecoder(bytes.NewReader(doc))
	decoder.Strict = true
	depth, roots := 0, 0
	first := true
	// declared[i] holds the prefixes declared on the open element at depth
	// i+1: every prefix used must be declared (Namespaces in XML 1.0 §5),
	// or each parser would resolve it its own way.
	var declared [][]string
	for {
		token, err := decoder.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return refuse(ReasonMalformedXML, "%v", err)
		}
		switch t := token.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return refuse(ReasonMalformedXML, "second root element <%s>", t.Name.Local)
				}
			}
			depth++
			if depth > MaxDepth {
				return refuse(ReasonTooDeep, "elements nested deeper than %d", MaxDepth)
			}
			var prefixes []string
			for _, attr := range t.Attr {
				if attr.Name.Space == "xmlns" {
					prefixes = append(prefixes, attr.Name.Local)
				}
			}
			declared = append(declared, prefixes)
			if !isDeclared(declared, t.Name.Space) {
				return refuse(ReasonMalformedXML, "undeclared namespace prefix %q", t.Name.Space)
			}
			for _, attr := range t.Attr {
				if attr.Name.Space != "xmlns" && !isDeclared(declared, attr.Name.Space) {
					return refuse(ReasonMalformedXML, "undeclared namespace prefix %q", attr.Name.Space)
				}
			}
		case xml.EndElement:
			depth--
			if len(declared) > 0 {
				declared = declared[:len(declared)-1]
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return refuse(ReasonMalformedXML, "text outside the root element")
			}
		case xml.ProcInst:
			// Only the XML declaration, and only as the very first thing
			// in the document (XML 1.0 §2.8).
			if t.Target != "xml" || !first {
				return refuse(ReasonProcessingInstruction, "processing instruction <?%s", t.Target)
			}
		case xml.Comment:
			return refuse(ReasonComment, "XML comment in the response")
		case xml.Directive:
			return refuse(ReasonDoctype, "markup declaration <!%s", truncate(t, 16))
		}
		first = false
	}
	if roots == 0 {
		return refuse(ReasonMalformedXML, "no root element")
	}
	if depth != 0 {
		return refuse(ReasonMalformedXML, "unclosed element")
	}
	// RawToken does not match end tags to start tags; the decoder's Token
	// does, and namespaces too. Run it once more, cheaply, for that.
	decoder = xml.NewDecoder(bytes.NewReader(doc))
	decoder.Strict = true
	for {
		if _, err := decoder.Token(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return refuse(ReasonMalformedXML, "%v", err)
		}
	}
}

// isDeclared reports whether prefix is declared in scope; the empty prefix
// and xml are always bound.
func isDeclared(declared [][]string, prefix string) bool {
	if prefix == "" || prefix == "xml" {
		return true
	}
	for _, prefixes := range declared {
		for _, p := range prefixes {
			if p == prefix {
				return true
			}
		}
	}
	return false
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// theAssertion returns the one Assertion or EncryptedAssertion of the
// Response. Counting every one in the document, wherever it is nested
// (Extensions, ds:Object, Advice, inside another assertion), is what stops
// the signature wrapping family: a signed assertion hidden somewhere the
// library does not look, next to a forged one where it does, or a second
// assertion the library would ignore today and a future version might not
// (saml-profiles-2.0-os §4.1.4.2; Somorovsky et al., "On Breaking SAML",
// USENIX Security 2012).
func theAssertion(root *etree.Element) (*etree.Element, error) {
	found := append(Descendants(root, Name{AssertionNS, "Assertion"}), Descendants(root, Name{AssertionNS, "EncryptedAssertion"})...)
	if len(found) != 1 {
		return nil, refuse(ReasonAssertionCount, "%d assertions in the document, want exactly 1", len(found))
	}
	if found[0].Parent() != root {
		return nil, refuse(ReasonAssertionCount, "the assertion is inside %s, not the Response", found[0].Parent().FullTag())
	}
	return found[0], nil
}

// checkSignature checks one ds:Signature against the only shape an
// enveloped SAML signature needs (saml-core-2.0-os §5.4): one SignedInfo
// with exclusive c14n, one Reference to the parent's ID, the
// enveloped-signature and exclusive c14n transforms, no SHA-1, and a
// KeyInfo with nothing to fetch.
func checkSignature(sig *etree.Element, ids map[string]int) error {
	var signedInfo *etree.Element
	signatureValues := 0
	for _, child := range sig.ChildElements() {
		switch {
		case child.NamespaceURI() == DSigNS && child.Tag == "SignedInfo" && signedInfo == nil:
			signedInfo = child
		case child.NamespaceURI() == DSigNS && child.Tag == "SignatureValue":
			signatureValues++
		case child.NamespaceURI() == DSigNS && child.Tag == "KeyInfo":
			if err := checkKeyInfo(child); err != nil {
				return err
			}
		default:
			return refuse(ReasonSignatureMalformed, "unexpected %s in ds:Signature", child.FullTag())
		}
	}
	if signedInfo == nil || signatureValues != 1 {
		return refuse(ReasonSignatureMalformed, "ds:Signature needs one SignedInfo and one SignatureValue")
	}

	var references []*etree.Element
	for _, child := range signedInfo.ChildElements() {
		if child.NamespaceURI() != DSigNS {
			return refuse(ReasonSignatureMalformed, "unexpected %s in SignedInfo", child.FullTag())
		}
		algorithm := child.SelectAttrValue("Algorithm", "")
		switch child.Tag {
		case "CanonicalizationMethod":
			// Exclusive c14n without comments only (saml-core §5.4.3). The
			// with-comments variants keep comments in the signed bytes
			// that the SP then reads differently; inclusive c14n drags
			// context namespaces into the signature.
			if algorithm != excC14N {
				return refuse(ReasonSignatureTransform, "CanonicalizationMethod %q", algorithm)
			}
		case "SignatureMethod":
			if isSHA1(algorithm) {
				return refuse(ReasonSHA1, "SignatureMethod %q", algorithm)
			}
		case "Reference":
			references = append(references, child)
		default:
			return refuse(ReasonSignatureMalformed, "unexpected ds:%s in SignedInfo", child.Tag)
		}
	}
	// saml-core §5.4.2: "Signatures MUST contain a single
	// <ds:Reference> containing a same-document reference to the ID
	// attribute value of the root element of the assertion or protocol
	// message being signed."
	if len(references) != 1 {
		return refuse(ReasonSignatureReference, "%d ds:Reference elements, want 1", len(references))
	}
	reference := references[0]
	if err := checkReferenceContent(reference); err != nil {
		return err
	}
	var uris []string
	for _, attr := range reference.Attr {
		if attr.Key == "URI" {
			uris = append(uris, attr.FullKey())
		}
	}
	parentID := sig.Parent().SelectAttrValue("ID", "")
	uri, hasURI := attrValue(reference, "URI")
	switch {
	case len(uris) != 1 || !hasURI:
		return refuse(ReasonSignatureReference, "ds:Reference needs exactly one unprefixed URI attribute, has %q", uris)
	case parentID == "":
		return refuse(ReasonSignatureReference, "the signed %s has no ID", sig.Parent().FullTag())
	case uri != "#"+parentID:
		return refuse(ReasonSignatureReference, "ds:Reference URI %q does not name the signed %s (ID %q)", uri, sig.Parent().Tag, parentID)
	case ids[parentID] != 1:
		// Duplicate IDs let "the element with this ID" mean one element to
		// the verifier and another to the code reading the message.
		return refuse(ReasonSignatureReference, "ID %q appears %d times in the document", parentID, ids[parentID])
	}
	return nil
}

// checkReferenceContent checks the Transforms and DigestMethod of a
// ds:Reference.
func checkReferenceContent(reference *etree.Element) error {
	for _, child := range reference.ChildElements() {
		if child.NamespaceURI() != DSigNS {
			return refuse(ReasonSignatureMalformed, "unexpected %s in ds:Reference", child.FullTag())
		}
		switch child.Tag {
		case "Transforms":
			for _, transform := range child.ChildElements() {
				if transform.NamespaceURI() != DSigNS || transform.Tag != "Transform" {
					return refuse(ReasonSignatureMalformed, "unexpected %s in ds:Transforms", transform.FullTag())
				}
				if err := checkTransform(transform); err != nil {
					return err
				}
			}
		case "DigestMethod":
			if algorithm := child.SelectAttrValue("Algorithm", ""); isSHA1(algorithm) {
				return refuse(ReasonSHA1, "DigestMethod %q", algorithm)
			}
		case "DigestValue":
		default:
			return refuse(ReasonSignatureMalformed, "unexpected ds:%s in ds:Reference", child.Tag)
		}
	}
	return nil
}

// checkTransform allows only the two transforms saml-core §5.4.4 names.
// Anything else (XPath, XSLT, base64, the with-comments c14n variants) is
// either an attack surface of its own (XSLT is code) or changes which bytes
// are signed in a way the SP does not see.
func checkTransform(transform *etree.Element) error {
	algorithm := transform.SelectAttrValue("Algorithm", "")
	switch algorithm {
	case envelopedSignature:
		if len(transform.ChildElements()) != 0 {
			return refuse(ReasonSignatureTransform, "enveloped-signature transform with content")
		}
	case excC14N:
		// Exclusive c14n may carry an InclusiveNamespaces PrefixList
		// (xml-exc-c14n §3); many IdPs other than Azure send one.
		for _, child := range transform.ChildElements() {
			if child.Tag != "InclusiveNamespaces" || child.NamespaceURI() != excC14N {
				return refuse(ReasonSignatureTransform, "unexpected %s in exclusive c14n transform", child.FullTag())
			}
		}
	default:
		return refuse(ReasonSignatureTransform, "Transform %q", algorithm)
	}
	return nil
}

// checkKeyInfo allows only key material that is read, never fetched or
// resolved: the SP ignores KeyInfo for trust (it verifies against the
// configured IdP certificates), but a verifier that follows
// RetrievalMethod or KeyInfoReference (XML Signature 1.1 §4.5.3, §4.5.10)
// makes an outgoing request or a same-document lookup chosen by the sender.
func checkKeyInfo(keyInfo *etree.Element) error {
	for _, child := range keyInfo.ChildElements() {
		if child.NamespaceURI() != DSigNS {
			return refuse(ReasonKeyInfo, "%s in KeyInfo", child.FullTag())
		}
		switch child.Tag {
		case "KeyName", "KeyValue":
		case "X509Data":
			for _, data := range child.ChildElements() {
				switch {
				case data.NamespaceURI() == DSigNS && (data.Tag == "X509Certificate" || data.Tag == "X509IssuerSerial" || data.Tag == "X509SubjectName" || data.Tag == "X509SKI"):
				default:
					return refuse(ReasonKeyInfo, "%s in X509Data", data.FullTag())
				}
			}
		default:
			return refuse(ReasonKeyInfo, "ds:%s in KeyInfo", child.Tag)
		}
	}
	return nil
}

// attrValue returns the value of the unprefixed attribute key.
func attrValue(el *etree.Element, key string) (string, bool) {
	for _, attr := range el.Attr {
		if attr.Space == "" && attr.Key == key {
			return attr.Value, true
		}
	}
	return "", false
}

// countIDs counts, for every value, the attributes that any XML processor
// might treat as an ID: ID (SAML), Id (WS-Security, XML Encryption), id and
// xml:id, whatever their prefix.
func countIDs(root *etree.Element) map[string]int {
	ids := map[string]int{}
	var walk func(*etree.Element)
	walk = func(el *etree.Element) {
		for _, attr := range el.Attr {
			if strings.EqualFold(attr.Key, "id") && attr.Space != "xmlns" {
				ids[attr.Value]++
			}
		}
		for _, child := range el.ChildElements() {
			walk(child)
		}
	}
	walk(root)
	return ids
}

// Name is an element's expanded name: its namespace URI and local name.
// Elements are found by Name, never by local name or prefix alone: a
// prefix means whatever the document binds it to, and a local name such as
// Assertion exists in SAML 1.1 and 2.0 alike.
type Name struct{ Space, Local string }

func (n Name) matches(el *etree.Element) bool {
	return el.Tag == n.Local && el.NamespaceURI() == n.Space
}

// Descendants returns root (if it matches) and every element below it
// named name, in document order.
func Descendants(root *etree.Element, name Name) []*etree.Element {
	var found []*etree.Element
	var walk func(*etree.Element)
	walk = func(el *etree.Element) {
		if name.matches(el) {
			found = append(found, el)
		}
		for _, child := range el.ChildElements() {
			walk(child)
		}
	}
	walk(root)
	return found
}

// Child follows path from parent, one child element per step, each the
// first child with that name; nil if a step finds none. It is how the
// unverified reads of a response (its header, the refusal explanations, the
// Test SSO page) find what they show: only where the schema puts it.
func Child(parent *etree.Element, path ...Name) *etree.Element {
	el := parent
	for _, name := range path {
		if el == nil {
			return nil
		}
		next := (*etree.Element)(nil)
		for _, child := range el.ChildElements() {
			if name.matches(child) {
				next = child
				break
			}
		}
		el = next
	}
	return el
}

// Children returns the child elements of parent named name, in document
// order.
func Children(parent *etree.Element, name Name) []*etree.Element {
	var found []*etree.Element
	if parent == nil {
		return nil
	}
	for _, child := range parent.ChildElements() {
		if name.matches(child) {
			found = append(found, child)
		}
	}
	return found
}
