package ssotest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// The attack builders below take a properly signed Response (from
// IdP.Response) and return a modified copy; the original is untouched.
// Where an attack forges content, the forged assertion names evilNameID
// (NameID and the email/uid claims), so a test can tell which assertion an
// SP read.

// XSW1 to XSW8 are the XML Signature Wrapping permutations as SAML Raider
// (CompassSecurity/SAMLRaider, helpers/XSWHelpers.java) applies them, after
// Somorovsky et al., "On Breaking SAML: Be Whoever You Want to Be" (USENIX
// Security 2012):
//
//	XSW1  needs a signed Response. A copy of the Response, its Signature
//	      removed, is appended inside the Response's Signature; the outer
//	      Response is forged and its ID changed to _evil_response_ID.
//	XSW2  as XSW1, but the unsigned copy is inserted before the Signature,
//	      as its sibling (a "detached" signature).
//	XSW3  a forged copy of the Assertion, without Signature and with ID
//	      _evil_assertion_ID, is inserted before the signed Assertion.
//	XSW4  the forged copy is appended to the Response and the signed
//	      Assertion is moved inside it.
//	XSW5  the signed Assertion itself is forged (keeping its now invalid
//	      Signature, ID changed to _evil_assertion_ID), and an unsigned copy
//	      of the original is appended to the Response.
//	XSW6  as XSW5, but the unsigned copy of the original goes inside the
//	      forged assertion's Signature.
//	XSW7  an Extensions element (no namespace) is inserted before the signed
//	      Assertion, holding a forged copy without Signature (same ID).
//	XSW8  the signed Assertion is forged in place (same ID, Signature kept);
//	      a copy of the original without Signature goes in an Object element
//	      (no namespace) appended to that Signature.
func XSW1(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	response := doc.Root()
	clone := response.Copy()
	removeFirst(clone, DSigNS, "Signature")
	forge(first(response, AssertionNS, "Assertion"), evilNameID)
	signature := first(response, DSigNS, "Signature")
	signature.AddChild(clone)
	response.CreateAttr("ID", "_evil_response_ID")
	return doc
}

// XSW2: see XSW1.
func XSW2(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	response := doc.Root()
	clone := response.Copy()
	removeFirst(clone, DSigNS, "Signature")
	forge(first(response, AssertionNS, "Assertion"), evilNameID)
	signature := first(response, DSigNS, "Signature")
	signature.Parent().InsertChildAt(signature.Index(), clone)
	response.CreateAttr("ID", "_evil_response_ID")
	return doc
}

// XSW3: see XSW1.
func XSW3(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	assertion := first(doc.Root(), AssertionNS, "Assertion")
	evil := assertion.Copy()
	forge(evil, evilNameID)
	evil.CreateAttr("ID", "_evil_assertion_ID")
	removeFirst(evil, DSigNS, "Signature")
	doc.Root().InsertChildAt(assertion.Index(), evil)
	return doc
}

// XSW4: see XSW1.
func XSW4(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	assertion := first(doc.Root(), AssertionNS, "Assertion")
	evil := assertion.Copy()
	forge(evil, evilNameID)
	evil.CreateAttr("ID", "_evil_assertion_ID")
	removeFirst(evil, DSigNS, "Signature")
	doc.Root().AddChild(evil)
	doc.Root().RemoveChild(assertion)
	evil.AddChild(assertion)
	return doc
}

// XSW5: see XSW1.
func XSW5(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	evil := first(doc.Root(), AssertionNS, "Assertion")
	original := evil.Copy()
	forge(evil, evilNameID)
	removeFirst(original, DSigNS, "Signature")
	doc.Root().AddChild(original)
	evil.CreateAttr("ID", "_evil_assertion_ID")
	return doc
}

// XSW6: see XSW1.
func XSW6(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	evil := first(doc.Root(), AssertionNS, "Assertion")
	signature := first(evil, DSigNS, "Signature")
	original := evil.Copy()
	forge(evil, evilNameID)
	removeFirst(original, DSigNS, "Signature")
	signature.AddChild(original)
	evil.CreateAttr("ID", "_evil_assertion_ID")
	return doc
}

// XSW7: see XSW1.
func XSW7(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	assertion := first(doc.Root(), AssertionNS, "Assertion")
	extensions := etree.NewElement("Extensions")
	doc.Root().InsertChildAt(assertion.Index(), extensions)
	evil := assertion.Copy()
	forge(evil, evilNameID)
	removeFirst(evil, DSigNS, "Signature")
	extensions.AddChild(evil)
	return doc
}

// XSW8: see XSW1.
func XSW8(doc *etree.Document, evilNameID string) *etree.Document {
	doc = doc.Copy()
	evil := first(doc.Root(), AssertionNS, "Assertion")
	signature := first(evil, DSigNS, "Signature")
	original := evil.Copy()
	forge(evil, evilNameID)
	removeFirst(original, DSigNS, "Signature")
	object := noNamespaceElement("Object")
	signature.AddChild(object)
	object.AddChild(original)
	return doc
}

// SignedAssertionInExtensions moves the signed Assertion into a
// samlp:Extensions element of the Response and puts a forged, unsigned
// assertion with a fresh ID where it was.
func SignedAssertionInExtensions(t testing.TB, doc *etree.Document, evilNameID string) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	response := doc.Root()
	assertion := first(response, AssertionNS, "Assertion")
	forged := forgedCopy(t, assertion, evilNameID)
	index := assertion.Index()
	response.RemoveChild(assertion)
	response.InsertChildAt(index, forged)
	extensions := etree.NewElement("samlp:Extensions")
	extensions.AddChild(assertion)
	response.InsertChildAt(first(response, ProtocolNS, "Status").Index(), extensions)
	return doc
}

// SignedAssertionInObject puts a forged, unsigned assertion with a fresh ID
// in place of the signed one, gives it a copy of the original Signature,
// and hides the signed assertion in a ds:Object inside that Signature,
// where a verifier that resolves the Reference by ID anywhere in the
// document still finds it.
func SignedAssertionInObject(t testing.TB, doc *etree.Document, evilNameID string) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	response := doc.Root()
	assertion := first(response, AssertionNS, "Assertion")
	forged := forgedCopy(t, assertion, evilNameID)
	signature := first(assertion, DSigNS, "Signature").Copy()
	forged.InsertChildAt(first(forged, AssertionNS, "Issuer").Index()+1, signature)
	index := assertion.Index()
	response.RemoveChild(assertion)
	response.InsertChildAt(index, forged)
	object := etree.NewElement("Object") // the Signature's default namespace: ds:Object
	signature.AddChild(object)
	object.AddChild(assertion)
	return doc
}

// ForgedAssertionBefore inserts a forged, unsigned assertion with a fresh ID
// before the signed one.
func ForgedAssertionBefore(t testing.TB, doc *etree.Document, evilNameID string) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	assertion := first(doc.Root(), AssertionNS, "Assertion")
	doc.Root().InsertChildAt(assertion.Index(), forgedCopy(t, assertion, evilNameID))
	return doc
}

// ForgedAssertionAfter appends a forged, unsigned assertion with a fresh ID
// after the signed one.
func ForgedAssertionAfter(t testing.TB, doc *etree.Document, evilNameID string) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	assertion := first(doc.Root(), AssertionNS, "Assertion")
	doc.Root().InsertChildAt(assertion.Index()+1, forgedCopy(t, assertion, evilNameID))
	return doc
}

// SAML11AssertionNS is SAML 1.1's assertion namespace: its Assertion has
// the same local name as SAML 2.0's.
const SAML11AssertionNS = "urn:oasis:names:tc:SAML:1.0:assertion"

// ForeignAssertion inserts, before the signed assertion, a forged unsigned
// copy of it (fresh ID, NameID and claims set to evilNameID) in namespace
// space instead of SAML 2.0's, for example SAML11AssertionNS. Code that
// counts only SAML 2.0 assertions lets it through; code that finds
// elements by local name reads it first.
func ForeignAssertion(t testing.TB, doc *etree.Document, evilNameID, space string) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	assertion := first(doc.Root(), AssertionNS, "Assertion")
	forged := forgedCopy(t, assertion, evilNameID)
	// Every element of the copy is in the default namespace the Assertion
	// declares, so one declaration moves them all.
	forged.CreateAttr("xmlns", space)
	doc.Root().InsertChildAt(assertion.Index(), forged)
	return doc
}

// CommentInNameID inserts an empty comment into the NameID text before the
// first occurrence of at: sign "admin@contoso.com.evil.com", then split it
// as "admin@contoso.com<!---->.evil.com". Exclusive c14n drops comments, so
// the signature still verifies; an SP that reads only the first text node
// sees admin@contoso.com (CVE-2017-11427 and siblings, Duo Security 2018).
func CommentInNameID(t testing.TB, doc *etree.Document, at string) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	nameID := first(doc.Root(), AssertionNS, "NameID")
	text := nameID.Text()
	i := strings.Index(text, at)
	if i < 0 {
		t.Fatalf("ssotest: %q is not in NameID %q", at, text)
	}
	nameID.SetText(text[:i])
	nameID.CreateComment("")
	nameID.CreateText(text[i:])
	return doc
}

// AddKeyInfoChild adds child (for example a RetrievalMethod) to the
// KeyInfo of the first Signature. KeyInfo is not covered by the signature,
// so the signature stays valid.
func AddKeyInfoChild(doc *etree.Document, child *etree.Element) *etree.Document {
	doc = doc.Copy()
	keyInfo := first(first(doc.Root(), DSigNS, "Signature"), DSigNS, "KeyInfo")
	keyInfo.AddChild(child)
	return doc
}

// RetrievalMethod is a KeyInfo child that tells a verifier to fetch the key
// from url (XML Signature §4.5.3): server-side request forgery for a
// verifier that follows it.
func RetrievalMethod(url string) *etree.Element {
	el := etree.NewElement("RetrievalMethod") // default namespace of the Signature
	el.CreateAttr("URI", url)
	el.CreateAttr("Type", "http://www.w3.org/2000/09/xmldsig#X509Data")
	return el
}

// ObjectInSignature appends a ds:Object with harmless content to the first
// Signature. It is outside what an enveloped signature covers, so the
// signature stays valid; ds:Object is where XSW6/XSW8-style attacks hide
// the signed element.
func ObjectInSignature(doc *etree.Document) *etree.Document {
	doc = doc.Copy()
	signature := first(doc.Root(), DSigNS, "Signature")
	signature.CreateElement("Object").SetText("harmless")
	return doc
}

// DuplicateID adds a samlp:Extensions element carrying an element with the
// same ID as the signed Assertion: the Reference then names two elements,
// and which one a verifier digests depends on how it looks IDs up.
func DuplicateID(doc *etree.Document) *etree.Document {
	doc = doc.Copy()
	response := doc.Root()
	assertion := first(response, AssertionNS, "Assertion")
	extensions := etree.NewElement("samlp:Extensions")
	extensions.CreateElement("Marker").CreateAttr("ID", assertion.SelectAttrValue("ID", ""))
	response.InsertChildAt(first(response, ProtocolNS, "Status").Index(), extensions)
	return doc
}

// DeepExtensions adds a samlp:Extensions element to the Response holding
// elements nested depth deep. The Response is not signed (Azure's default),
// so the signature stays valid.
func DeepExtensions(doc *etree.Document, depth int) *etree.Document {
	doc = doc.Copy()
	response := doc.Root()
	extensions := etree.NewElement("samlp:Extensions")
	el := extensions
	for range depth {
		el = el.CreateElement("Nested")
	}
	response.InsertChildAt(first(response, ProtocolNS, "Status").Index(), extensions)
	return doc
}

// StraySignature adds a samlp:Extensions element with an ID to the
// Response and signs it properly with idp's key: a well-formed signature in
// a place where no SAML processor should look (a trusted signed blob that
// another verifier might take as vouching for the message).
func (idp *IdP) StraySignature(t testing.TB, doc *etree.Document) *etree.Document {
	t.Helper()
	doc = doc.Copy()
	response := doc.Root()
	extensions := etree.NewElement("samlp:Extensions")
	extensions.CreateAttr("xmlns:samlp", ProtocolNS) // goxmldsig's exclusive c14n wants it declared here
	extensions.CreateAttr("ID", "_"+NewGUID(t))
	extensions.CreateElement("Issuer").SetText(idp.EntityID)
	response.InsertChildAt(first(response, ProtocolNS, "Status").Index(), extensions)
	idp.sign(t, extensions, Options{})
	return doc
}

// Doctypes for WithDoctype.
const (
	// BillionLaughs is the entity expansion attack (CVE-2003-1564 family).
	BillionLaughs = `<!DOCTYPE samlp:Response [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`
	// ExternalEntity is XXE: a file read through an external entity.
	ExternalEntity = `<!DOCTYPE samlp:Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`
	// UnusedDoctype declares an internal entity that nothing references:
	// harmless to Go's parsers, but a document two parsers may read
	// differently.
	UnusedDoctype = `<!DOCTYPE samlp:Response [<!ENTITY unused "x">]>`
)

// WithDoctype puts doctype in front of the root element of xml.
func WithDoctype(xml []byte, doctype string) []byte {
	return insertBeforeRoot(xml, doctype)
}

// WithProcInst puts a processing instruction in front of the root element.
func WithProcInst(xml []byte, target, instruction string) []byte {
	return insertBeforeRoot(xml, "<?"+target+" "+instruction+"?>")
}

// WithTrailer appends content after the root element, for example a
// second root.
func WithTrailer(xml []byte, trailer string) []byte {
	return append(bytes.Clone(xml), trailer...)
}

func insertBeforeRoot(xml []byte, markup string) []byte {
	i := bytes.Index(xml, []byte("<samlp:Response"))
	if i < 0 {
		i = 0
	}
	out := append([]byte{}, xml[:i]...)
	out = append(out, markup...)
	return append(out, xml[i:]...)
}

// forgedCopy returns a copy of the signed assertion without its Signature,
// with a fresh ID and the NameID and email/uid claims set to evilNameID.
func forgedCopy(t testing.TB, assertion *etree.Element, evilNameID string) *etree.Element {
	t.Helper()
	forged := assertion.Copy()
	removeFirst(forged, DSigNS, "Signature")
	forged.CreateAttr("ID", "_"+NewGUID(t))
	forge(forged, evilNameID)
	return forged
}

// forge changes what an assertion says about the user to evilNameID, as
// SAML Raider's match-and-replace does.
func forge(assertion *etree.Element, evilNameID string) {
	if nameID := first(assertion, AssertionNS, "NameID"); nameID != nil {
		nameID.SetText(evilNameID)
	}
	for _, attribute := range xmlguard.Descendants(assertion, xmlguard.Name{Space: AssertionNS, Local: "Attribute"}) {
		switch attribute.SelectAttrValue("Name", "") {
		case "email", "uid", ClaimEmailAddress, ClaimName:
			for _, value := range attribute.ChildElements() {
				value.SetText(evilNameID)
			}
		}
	}
}

func noNamespaceElement(tag string) *etree.Element {
	el := etree.NewElement(tag)
	el.CreateAttr("xmlns", "")
	return el
}

// first returns the first element at or below root, in document order,
// with namespace URI space and local name tag.
func first(root *etree.Element, space, tag string) *etree.Element {
	if found := xmlguard.Descendants(root, xmlguard.Name{Space: space, Local: tag}); len(found) > 0 {
		return found[0]
	}
	return nil
}

func removeFirst(root *etree.Element, space, tag string) {
	if el := first(root, space, tag); el != nil {
		el.Parent().RemoveChild(el)
	}
}
