package xmlguard_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// TestDecodeRefuses has one case or more for every Reason code, each
// changing one thing in a valid Azure-shaped response.
func TestDecodeRefuses(t *testing.T) {
	f := newFixture(t)
	valid := func(t *testing.T) *etree.Document { return f.signed(t, ssotest.SignAssertion) }
	encode := func(xml string) string { return base64.StdEncoding.EncodeToString([]byte(xml)) }
	sigOf := func(doc *etree.Document) *etree.Element { return doc.FindElement("//Signature") }
	editSignature := func(edit func(sig *etree.Element)) func(*testing.T) string {
		return func(t *testing.T) string {
			doc := valid(t)
			edit(sigOf(doc))
			return ssotest.Encode(doc)
		}
	}
	tests := []struct {
		name   string
		form   func(t *testing.T) string
		reason string
	}{
		{"MalformedBase64", func(*testing.T) string { return "%%%%" }, xmlguard.ReasonMalformedBase64},
		{"EmptyFormValue", func(*testing.T) string { return " \r\n" }, xmlguard.ReasonMalformedBase64},
		{"URLSafeBase64", func(*testing.T) string { return "-_-_" }, xmlguard.ReasonMalformedBase64},
		{"EncodedTooLarge", func(*testing.T) string { return strings.Repeat("A", 1<<20) }, xmlguard.ReasonTooLarge},
		{"DecodedTooLarge", func(*testing.T) string {
			return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte(" "), xmlguard.MaxResponseBytes+1))
		}, xmlguard.ReasonTooLarge},
		{"Doctype", func(t *testing.T) string {
			return ssotest.EncodeBytes(ssotest.WithDoctype(f.signedBytes(t), ssotest.ExternalEntity))
		}, xmlguard.ReasonDoctype},
		{"EntityDeclarationInsideElement", func(*testing.T) string {
			return encode(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><!ENTITY x "y"></samlp:Response>`)
		}, xmlguard.ReasonDoctype},
		{"LowercaseDoctype", func(*testing.T) string { return encode(`<!doctype x><x/>`) }, xmlguard.ReasonDoctype},
		{"EncryptedAssertionWithoutItsParts", func(*testing.T) string {
			return encode(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r">` +
				`<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#"/></saml:EncryptedAssertion></samlp:Response>`)
		}, xmlguard.ReasonEncryptionMalformed},
		{"EncryptedIDInASignedAssertion", func(t *testing.T) string {
			doc := f.idp.Response(t, ssotest.Options{ACS: acsURL, Audience: spEntityID, Now: f.now, EditAssertion: func(a *etree.Element) {
				subject := a.FindElement("./Subject")
				subject.RemoveChild(subject.FindElement("./NameID"))
				enc := etree.NewElement("EncryptedID")
				enc.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
				subject.InsertChildAt(0, enc)
			}})
			return ssotest.Encode(doc)
		}, xmlguard.ReasonEncrypted},
		{"ProcessingInstruction", func(t *testing.T) string {
			return ssotest.EncodeBytes(ssotest.WithProcInst(f.signedBytes(t), "xml-stylesheet", `href="x"`))
		}, xmlguard.ReasonProcessingInstruction},
		{"XMLDeclarationNotFirst", func(*testing.T) string { return encode(` <?xml version="1.0"?><x/>`) }, xmlguard.ReasonProcessingInstruction},
		{"Comment", func(t *testing.T) string {
			return ssotest.Encode(ssotest.CommentInNameID(t, valid(t), "@"))
		}, xmlguard.ReasonComment},
		{"TooDeep", func(t *testing.T) string {
			return ssotest.Encode(ssotest.DeepExtensions(valid(t), xmlguard.MaxDepth))
		}, xmlguard.ReasonTooDeep},
		{"NotXML", func(*testing.T) string { return encode("hello") }, xmlguard.ReasonMalformedXML},
		{"MismatchedTags", func(*testing.T) string { return encode("<a><b></a></b>") }, xmlguard.ReasonMalformedXML},
		{"UndeclaredPrefix", func(*testing.T) string { return encode("<samlp:Response/>") }, xmlguard.ReasonMalformedXML},
		{"SecondRoot", func(t *testing.T) string {
			return ssotest.EncodeBytes(ssotest.WithTrailer(f.signedBytes(t), "<x/>"))
		}, xmlguard.ReasonMalformedXML},
		{"TextAfterRoot", func(t *testing.T) string {
			return ssotest.EncodeBytes(ssotest.WithTrailer(f.signedBytes(t), "trailing"))
		}, xmlguard.ReasonMalformedXML},
		{"DeclaredUTF16", func(*testing.T) string {
			return encode(`<?xml version="1.0" encoding="UTF-16"?><x/>`)
		}, xmlguard.ReasonMalformedXML},
		{"NotSAML", func(*testing.T) string { return encode(`<html/>`) }, xmlguard.ReasonNotSAMLResponse},
		{"AuthnRequestNotResponse", func(*testing.T) string {
			return encode(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)
		}, xmlguard.ReasonNotSAMLResponse},
		{"NoAssertion", func(t *testing.T) string {
			doc := valid(t)
			doc.Root().RemoveChild(doc.FindElement("//Assertion"))
			return ssotest.Encode(doc)
		}, xmlguard.ReasonAssertionCount},
		{"TwoAssertions", func(t *testing.T) string {
			return ssotest.Encode(ssotest.ForgedAssertionAfter(t, valid(t), evilNameID))
		}, xmlguard.ReasonAssertionCount},
		{"AssertionInsideExtensions", func(t *testing.T) string {
			doc := valid(t)
			assertion := doc.FindElement("//Assertion")
			extensions := doc.Root().CreateElement("samlp:Extensions")
			extensions.AddChild(assertion)
			return ssotest.Encode(doc)
		}, xmlguard.ReasonAssertionCount},
		{"SignatureInSubject", func(t *testing.T) string {
			doc := valid(t)
			doc.FindElement("//Subject").AddChild(sigOf(doc))
			return ssotest.Encode(doc)
		}, xmlguard.ReasonSignaturePlacement},
		{"SignatureWithObject", func(t *testing.T) string {
			return ssotest.Encode(ssotest.ObjectInSignature(valid(t)))
		}, xmlguard.ReasonSignatureMalformed},
		{"SignatureWithoutSignatureValue", editSignature(func(sig *etree.Element) {
			sig.RemoveChild(sig.SelectElement("SignatureValue"))
		}), xmlguard.ReasonSignatureMalformed},
		{"C14NWithComments", func(t *testing.T) string {
			return f.response(t, func(o *ssotest.Options) {
				o.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
			})
		}, xmlguard.ReasonSignatureTransform},
		{"XSLTTransform", editSignature(func(sig *etree.Element) {
			sig.FindElement(".//Transforms").CreateElement("Transform").CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xslt-19991116")
		}), xmlguard.ReasonSignatureTransform},
		{"XPathInsideTransform", editSignature(func(sig *etree.Element) {
			sig.FindElement(".//Transform").CreateElement("XPath").SetText("not(ancestor-or-self::Signature)")
		}), xmlguard.ReasonSignatureTransform},
		{"SHA1", func(t *testing.T) string {
			return f.response(t, func(o *ssotest.Options) { o.SHA1 = true })
		}, xmlguard.ReasonSHA1},
		{"SHA1DigestOnly", editSignature(func(sig *etree.Element) {
			sig.FindElement(".//DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
		}), xmlguard.ReasonSHA1},
		{"TwoReferences", editSignature(func(sig *etree.Element) {
			signedInfo := sig.SelectElement("SignedInfo")
			signedInfo.AddChild(signedInfo.SelectElement("Reference").Copy())
		}), xmlguard.ReasonSignatureReference},
		{"ReferenceToAnotherElement", editSignature(func(sig *etree.Element) {
			sig.FindElement(".//Reference").CreateAttr("URI", "#_other")
		}), xmlguard.ReasonSignatureReference},
		{"EmptyReferenceURI", editSignature(func(sig *etree.Element) {
			sig.FindElement(".//Reference").CreateAttr("URI", "")
		}), xmlguard.ReasonSignatureReference},
		{"PrefixedReferenceURI", editSignature(func(sig *etree.Element) {
			ref := sig.FindElement(".//Reference")
			ref.CreateAttr("xmlns:x", "urn:x")
			ref.CreateAttr("x:URI", "#_other")
		}), xmlguard.ReasonSignatureReference},
		{"DuplicateID", func(t *testing.T) string {
			return ssotest.Encode(ssotest.DuplicateID(valid(t)))
		}, xmlguard.ReasonSignatureReference},
		{"RetrievalMethod", func(t *testing.T) string {
			return ssotest.Encode(ssotest.AddKeyInfoChild(valid(t), ssotest.RetrievalMethod("http://attacker.example/key")))
		}, xmlguard.ReasonKeyInfo},
		{"KeyInfoReference", func(t *testing.T) string {
			ref := etree.NewElement("KeyInfoReference")
			ref.CreateAttr("URI", "#_key")
			return ssotest.Encode(ssotest.AddKeyInfoChild(valid(t), ref))
		}, xmlguard.ReasonKeyInfo},
		{"Unsigned", func(t *testing.T) string {
			return f.response(t, func(o *ssotest.Options) { o.Signing = ssotest.SignNothing })
		}, xmlguard.ReasonUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := xmlguard.Decode(tt.form(t))
			var refusal *xmlguard.Error
			if !errors.As(err, &refusal) {
				t.Fatalf("Decode error = %v, want *xmlguard.Error %q", err, tt.reason)
			}
			if refusal.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q (%v)", refusal.Reason, tt.reason, refusal)
			}
		})
	}
}

// TestDecodeAcceptsIdPShapes checks that the guard is not stricter than
// real IdPs: Azure's three signing options, an XML declaration,
// InclusiveNamespaces in the c14n transform (Okta, OneLogin) and wrapped
// base64.
func TestDecodeAcceptsIdPShapes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		form func(t *testing.T) string
	}{
		{"AssertionSigned", func(t *testing.T) string { return f.response(t, nil) }},
		{"ResponseSigned", func(t *testing.T) string {
			return f.response(t, func(o *ssotest.Options) { o.Signing = ssotest.SignResponse })
		}},
		{"BothSigned", func(t *testing.T) string {
			return f.response(t, func(o *ssotest.Options) { o.Signing = ssotest.SignBoth })
		}},
		{"XMLDeclaration", func(t *testing.T) string {
			return ssotest.EncodeBytes(append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), f.signedBytes(t)...))
		}},
		{"InclusiveNamespacesPrefixList", func(t *testing.T) string {
			return f.response(t, func(o *ssotest.Options) {
				o.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("xs")
			})
		}},
		{"WrappedBase64", func(t *testing.T) string { return wrap(f.response(t, nil), 64) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := tt.form(t)
			got, err := xmlguard.Decode(form)
			if err != nil {
				t.Fatalf("Decode refused: %v", err)
			}
			want, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(form), ""))
			if !bytes.Equal(got, want) {
				t.Error("Decode did not return the decoded document unchanged")
			}
		})
	}
}

// FuzzDecode feeds arbitrary form values to Decode: it must never panic,
// and whatever it accepts must be within the limits and pass Check again.
// The seed corpus (valid responses and attacks) runs in every go test.
func FuzzDecode(f *testing.F) {
	fx := newFixture(f)
	valid := fx.idp.Response(f, fx.options())
	seeds := []*etree.Document{
		valid,
		ssotest.XSW3(valid, evilNameID),
		ssotest.XSW8(valid, evilNameID),
		ssotest.ObjectInSignature(valid),
		ssotest.DuplicateID(valid),
		ssotest.DeepExtensions(valid, xmlguard.MaxDepth+1),
	}
	for _, doc := range seeds {
		f.Add(ssotest.Encode(doc))
	}
	raw := ssotest.Bytes(f, valid)
	f.Add(ssotest.EncodeBytes(ssotest.WithDoctype(raw, ssotest.BillionLaughs)))
	f.Add(ssotest.EncodeBytes(ssotest.WithTrailer(raw, "<x/>")))
	f.Add(wrap(ssotest.EncodeBytes(raw), 76))
	f.Add("")
	f.Add("PHNhbWxwOlJlc3BvbnNlLz4=")
	f.Fuzz(func(t *testing.T, form string) {
		doc, err := xmlguard.Decode(form)
		if err != nil {
			var refusal *xmlguard.Error
			if !errors.As(err, &refusal) || refusal.Reason == "" {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		if len(doc) > xmlguard.MaxResponseBytes {
			t.Fatalf("accepted %d bytes", len(doc))
		}
		if err := xmlguard.Check(doc); err != nil {
			t.Fatalf("Decode accepted what Check refuses: %v", err)
		}
	})
}
