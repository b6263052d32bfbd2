package xmlguard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// libraryVerdict is what crewjam/saml does with a form value on its own,
// without xmlguard in front of it.
type libraryVerdict int

const (
	// libraryRefuses: the library would stop this by itself too.
	libraryRefuses libraryVerdict = iota
	// libraryAccepts: only xmlguard stops it. These cases are the proof
	// that each xmlguard check is needed: remove the check and the
	// pipeline accepts the response.
	libraryAccepts
	// libraryNotReached: the form value is not base64, so there is no XML
	// to hand to the library.
	libraryNotReached
)

func (v libraryVerdict) String() string {
	return [...]string{"refuses", "accepts", "not reached"}[v]
}

type attack struct {
	name string
	// form builds the posted SAMLResponse value.
	form func(t *testing.T, f *fixture) string
	// guard is the xmlguard Reason expected; "" means xmlguard lets the
	// response through and the library must refuse it.
	guard string
	// library pins what crewjam/saml v0.6.3 does on its own.
	library libraryVerdict
	// sp, if set, changes the ServiceProvider for this case.
	sp func(*saml.ServiceProvider)
}

// signed returns the default Azure response (assertion signed) as an etree
// document, for the attack builders.
func (f *fixture) signed(t *testing.T, signing ssotest.Signing) *etree.Document {
	t.Helper()
	o := f.options()
	o.Signing = signing
	return f.idp.Response(t, o)
}

func (f *fixture) signedBytes(t *testing.T) []byte {
	t.Helper()
	return ssotest.Bytes(t, f.signed(t, ssotest.SignAssertion))
}

// xswAttacks are the SAML Raider permutations. XSW1 and XSW2 wrap the
// Response, so they start from a response with both elements signed.
func xswAttacks() []attack {
	type builder func(*etree.Document, string) *etree.Document
	permutations := []struct {
		name    string
		build   builder
		signing ssotest.Signing
		library libraryVerdict
	}{
		{"XSW1", ssotest.XSW1, ssotest.SignBoth, libraryRefuses},
		{"XSW2", ssotest.XSW2, ssotest.SignBoth, libraryRefuses},
		{"XSW3", ssotest.XSW3, ssotest.SignAssertion, libraryRefuses},
		{"XSW4", ssotest.XSW4, ssotest.SignAssertion, libraryRefuses},
		{"XSW5", ssotest.XSW5, ssotest.SignAssertion, libraryRefuses},
		{"XSW6", ssotest.XSW6, ssotest.SignAssertion, libraryRefuses},
		// crewjam reads only Assertion children of the Response, so it
		// ignores the forged copy in the no-namespace Extensions and signs
		// in B.Simon: harmless today, refused anyway (assertion-count).
		{"XSW7", ssotest.XSW7, ssotest.SignAssertion, libraryAccepts},
		{"XSW8", ssotest.XSW8, ssotest.SignAssertion, libraryRefuses},
	}
	var attacks []attack
	for _, p := range permutations {
		attacks = append(attacks, attack{
			name: p.name,
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(p.build(f.signed(t, p.signing), evilNameID))
			},
			guard:   xmlguard.ReasonAssertionCount,
			library: p.library,
		})
	}
	return attacks
}

// wrappingAttacks are the other signature wrapping shapes issue 3 names.
func wrappingAttacks() []attack {
	return []attack{
		{
			name: "SignedAssertionMovedIntoExtensions",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.SignedAssertionInExtensions(t, f.signed(t, ssotest.SignAssertion), evilNameID))
			},
			guard: xmlguard.ReasonAssertionCount,
		},
		{
			name: "SignedAssertionMovedIntoObject",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.SignedAssertionInObject(t, f.signed(t, ssotest.SignAssertion), evilNameID))
			},
			guard: xmlguard.ReasonAssertionCount,
		},
		{
			name: "ForgedAssertionBeforeSigned",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.ForgedAssertionBefore(t, f.signed(t, ssotest.SignAssertion), evilNameID))
			},
			guard: xmlguard.ReasonAssertionCount,
		},
		{
			// crewjam/saml reads only SAML 2.0 Assertions, so the library
			// alone signs in the real user; but code that finds elements by
			// local name (the explanations, the Test SSO page) would read
			// the forged one first.
			name: "SAML11AssertionBeforeSigned",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.ForeignAssertion(t, f.signed(t, ssotest.SignAssertion), evilNameID, ssotest.SAML11AssertionNS))
			},
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryAccepts,
		},
		{
			name: "UnknownNamespaceAssertionBeforeSigned",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.ForeignAssertion(t, f.signed(t, ssotest.SignAssertion), evilNameID, "urn:example:not-saml"))
			},
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryAccepts,
		},
		{
			name: "ForgedAssertionBesideSigned",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.ForgedAssertionAfter(t, f.signed(t, ssotest.SignAssertion), evilNameID))
			},
			guard: xmlguard.ReasonAssertionCount,
		},
	}
}

// guardOnlyAttacks are the cases that only xmlguard stops, one or more for
// each of its checks (for the checks the library duplicates, the guard's
// reason is still pinned).
func guardOnlyAttacks() []attack {
	edit := func(change func(*ssotest.Options)) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string { return f.response(t, change) }
	}
	return []attack{
		{
			name: "StatusAfterTheAssertion",
			form: edit(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					status := r.SelectElement("Status")
					r.RemoveChild(status)
					r.AddChild(status)
				}
			}),
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryAccepts,
		},
		{
			name: "UnknownElementInTheResponse",
			form: edit(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					r.AddChild(etree.NewElement("Note")) // no namespace
				}
			}),
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryAccepts,
		},
		{
			// Signed by the IdP, so the signature holds: only the schema
			// says an element of another namespace has no place there.
			name: "ForeignElementInTheSignedAssertion",
			form: edit(func(o *ssotest.Options) {
				o.EditAssertion = func(a *etree.Element) {
					a.CreateElement("Note").CreateAttr("xmlns", "urn:example:not-saml")
				}
			}),
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryAccepts,
		},
		{
			name: "ConditionsBeforeSubject",
			form: edit(func(o *ssotest.Options) {
				o.EditAssertion = func(a *etree.Element) {
					conditions := a.SelectElement("Conditions")
					a.RemoveChild(conditions)
					a.InsertChildAt(a.SelectElement("Subject").Index(), conditions)
				}
			}),
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryAccepts,
		},
		{
			name: "ResponseWithoutStatus",
			form: edit(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) { r.RemoveChild(r.SelectElement("Status")) }
			}),
			guard:   xmlguard.ReasonUnexpectedElement,
			library: libraryRefuses,
		},
		{
			name:    "GarbageBase64",
			form:    func(*testing.T, *fixture) string { return "PHNhbWxwOlJlc3BvbnNl!!not base64" },
			guard:   xmlguard.ReasonMalformedBase64,
			library: libraryNotReached,
		},
		{
			name: "OversizedFormValue",
			form: func(*testing.T, *fixture) string {
				return strings.Repeat("PFJlc3BvbnNlLz4g", 1<<17) // 2 MiB
			},
			guard: xmlguard.ReasonTooLarge,
		},
		{
			// A response that is perfectly valid and signed, just too big.
			name: "OversizedSignedResponse",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) {
					o.Attributes = f.idp.AzureClaims(ssotest.DefaultNameID, "B", "Simon", ssotest.DefaultObjectID)
					o.Attributes["groups"] = []string{strings.Repeat("g", xmlguard.MaxResponseBytes)}
				})
			},
			guard:   xmlguard.ReasonTooLarge,
			library: libraryAccepts,
		},
		{
			name: "DoctypeWithUnusedEntity",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.EncodeBytes(ssotest.WithDoctype(f.signedBytes(t), ssotest.UnusedDoctype))
			},
			guard:   xmlguard.ReasonDoctype,
			library: libraryAccepts,
		},
		{
			name: "BillionLaughsDoctype",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.EncodeBytes(ssotest.WithDoctype(f.signedBytes(t), ssotest.BillionLaughs))
			},
			guard:   xmlguard.ReasonDoctype,
			library: libraryAccepts,
		},
		{
			name: "ExternalEntityDoctype",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.EncodeBytes(ssotest.WithDoctype(f.signedBytes(t), ssotest.ExternalEntity))
			},
			guard:   xmlguard.ReasonDoctype,
			library: libraryAccepts,
		},
		{
			name: "ProcessingInstruction",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.EncodeBytes(ssotest.WithProcInst(f.signedBytes(t), "xml-stylesheet", `type="text/xsl" href="http://attacker.example/x.xsl"`))
			},
			guard:   xmlguard.ReasonProcessingInstruction,
			library: libraryAccepts,
		},
		{
			// The IdP signed admin@contoso.com.evil.com; the comment makes
			// a naive reader see admin@contoso.com. crewjam reads the whole
			// text (checked below: never the evil NameID), but the guard
			// refuses comments outright.
			name: "CommentInNameID",
			form: func(t *testing.T, f *fixture) string {
				o := f.options()
				o.NameID = evilNameID + ".evil.com"
				return ssotest.Encode(ssotest.CommentInNameID(t, f.idp.Response(t, o), ".evil.com"))
			},
			guard:   xmlguard.ReasonComment,
			library: libraryAccepts,
		},
		{
			name: "DeepNestingInExtensions",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.DeepExtensions(f.signed(t, ssotest.SignAssertion), xmlguard.MaxDepth+8))
			},
			guard:   xmlguard.ReasonTooDeep,
			library: libraryAccepts,
		},
		{
			name: "TruncatedXML",
			form: func(t *testing.T, f *fixture) string {
				b := f.signedBytes(t)
				return ssotest.EncodeBytes(b[:len(b)/2])
			},
			guard: xmlguard.ReasonMalformedXML,
		},
		{
			// encoding/xml and etree both read past the end of the root;
			// a second root is where a forged message could sit for a
			// parser that picks the last one.
			name: "SecondRootElement",
			form: func(t *testing.T, f *fixture) string {
				forged := ssotest.Bytes(t, ssotest.XSW3(f.signed(t, ssotest.SignAssertion), evilNameID))
				return ssotest.EncodeBytes(ssotest.WithTrailer(f.signedBytes(t), string(forged)))
			},
			guard:   xmlguard.ReasonMalformedXML,
			library: libraryAccepts,
		},
		{
			name: "WellFormedNonSAML",
			form: func(*testing.T, *fixture) string {
				return ssotest.EncodeBytes([]byte(`<html><body>Sign in</body></html>`))
			},
			guard: xmlguard.ReasonNotSAMLResponse,
		},
		{
			name: "ResponseInWrongNamespace",
			form: func(t *testing.T, f *fixture) string {
				doc := f.signed(t, ssotest.SignAssertion)
				doc.Root().CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:1.0:protocol")
				return ssotest.Encode(doc)
			},
			guard: xmlguard.ReasonNotSAMLResponse,
		},
		{
			name: "StraySignatureInExtensions",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(f.idp.StraySignature(t, f.signed(t, ssotest.SignAssertion)))
			},
			guard:   xmlguard.ReasonSignaturePlacement,
			library: libraryAccepts,
		},
		{
			name: "ObjectInSignature",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.ObjectInSignature(f.signed(t, ssotest.SignAssertion)))
			},
			guard:   xmlguard.ReasonSignatureMalformed,
			library: libraryAccepts,
		},
		{
			name: "C14NWithCommentsTransform",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) {
					o.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
				})
			},
			guard:   xmlguard.ReasonSignatureTransform,
			library: libraryAccepts,
		},
		{
			name: "InclusiveC14N11",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) { o.Canonicalizer = dsig.MakeC14N11Canonicalizer() })
			},
			guard: xmlguard.ReasonSignatureTransform,
		},
		{
			name: "SHA1Signature",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) { o.SHA1 = true })
			},
			guard: xmlguard.ReasonSHA1,
		},
		{
			// Defence in depth: should a site's ServiceProvider ever be
			// built without RejectSHA1Signatures, xmlguard still refuses.
			name: "SHA1SignatureWithLibraryCheckOff",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) { o.SHA1 = true })
			},
			guard:   xmlguard.ReasonSHA1,
			library: libraryAccepts,
			sp:      func(sp *saml.ServiceProvider) { sp.RejectSHA1Signatures = false },
		},
		{
			name: "DuplicateAssertionID",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.DuplicateID(f.signed(t, ssotest.SignAssertion)))
			},
			guard:   xmlguard.ReasonSignatureReference,
			library: libraryAccepts,
		},
		{
			name: "RetrievalMethodInKeyInfo",
			form: func(t *testing.T, f *fixture) string {
				doc := f.signed(t, ssotest.SignAssertion)
				return ssotest.Encode(ssotest.AddKeyInfoChild(doc, ssotest.RetrievalMethod("http://169.254.169.254/latest/meta-data/")))
			},
			guard:   xmlguard.ReasonKeyInfo,
			library: libraryAccepts,
		},
		{
			name: "Unsigned",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) { o.Signing = ssotest.SignNothing })
			},
			guard: xmlguard.ReasonUnsigned,
		},
	}
}

// libraryAttacks pass xmlguard's structural checks and are the library's
// to refuse: trust, issuer, audience, recipient, times, status, request
// IDs.
func libraryAttacks() []attack {
	edit := func(change func(*ssotest.Options)) func(*testing.T, *fixture) string {
		return func(t *testing.T, f *fixture) string { return f.response(t, change) }
	}
	setAttr := func(path, key, value string) func(*etree.Element) {
		return func(el *etree.Element) { el.FindElement(path).CreateAttr(key, value) }
	}
	remove := func(path string) func(*etree.Element) {
		return func(el *etree.Element) {
			found := el.FindElement(path)
			found.Parent().RemoveChild(found)
		}
	}
	return []attack{
		{
			// Signed by a key the site does not trust, whose certificate
			// is embedded in KeyInfo: trust comes from configuration only.
			name: "UntrustedKeyWithEmbeddedCertificate",
			form: func(t *testing.T, f *fixture) string {
				return f.response(t, func(o *ssotest.Options) { o.SignWith = f.idp.Impostor(t); o.NameID = evilNameID })
			},
		},
		{
			name: "AnotherTenantsIdP",
			form: func(t *testing.T, f *fixture) string {
				return ssotest.Encode(ssotest.NewIdP(t).Response(t, f.options()))
			},
		},
		{name: "WrongAudience", form: edit(func(o *ssotest.Options) { o.Audience = "http://globex.localhost:8080/saml/metadata" })},
		{
			name: "WrongRecipient",
			form: edit(func(o *ssotest.Options) {
				o.EditAssertion = setAttr(".//SubjectConfirmationData", "Recipient", "http://globex.localhost:8080/saml/acs")
			}),
		},
		{
			name: "WrongDestination",
			form: edit(func(o *ssotest.Options) {
				o.Signing = ssotest.SignBoth
				o.EditResponse = func(r *etree.Element) { r.CreateAttr("Destination", "http://globex.localhost:8080/saml/acs") }
			}),
		},
		{
			name: "WrongAssertionIssuer",
			form: edit(func(o *ssotest.Options) {
				o.EditAssertion = func(a *etree.Element) {
					a.SelectElement("Issuer").SetText("https://sts.windows.net/00000000-0000-0000-0000-000000000000/")
				}
			}),
		},
		{
			name: "WrongResponseIssuer",
			form: edit(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) { r.SelectElement("Issuer").SetText("https://attacker.example/") }
			}),
		},
		{name: "Expired", form: func(t *testing.T, f *fixture) string {
			return f.response(t, func(o *ssotest.Options) { o.Now = f.now.Add(-2 * time.Hour) })
		}},
		{name: "NotYetValid", form: func(t *testing.T, f *fixture) string {
			return f.response(t, func(o *ssotest.Options) { o.Now = f.now.Add(time.Hour) })
		}},
		{name: "MissingConditions", form: edit(func(o *ssotest.Options) { o.EditAssertion = remove("Conditions") })},
		{name: "MissingAudienceRestriction", form: edit(func(o *ssotest.Options) { o.EditAssertion = remove("Conditions/AudienceRestriction") })},
		{name: "MissingSubjectConfirmation", form: edit(func(o *ssotest.Options) { o.EditAssertion = remove("Subject/SubjectConfirmation") })},
		{name: "MissingSubject", form: edit(func(o *ssotest.Options) { o.EditAssertion = remove("Subject") })},
		{
			name: "FailureStatus",
			form: edit(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					r.FindElement("samlp:Status/samlp:StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
				}
			}),
		},
		{name: "UnknownInResponseTo", form: edit(func(o *ssotest.Options) { o.InResponseTo = "id-unknown" })},
		{
			name: "UnsolicitedWhileIdPInitiatedOff",
			form: edit(func(o *ssotest.Options) { o.InResponseTo = "" }),
			sp:   func(sp *saml.ServiceProvider) { sp.AllowIDPInitiated = false },
		},
		{
			// The assertion's InResponseTo must match the Response's.
			name: "AssertionForAnotherRequest",
			form: edit(func(o *ssotest.Options) {
				o.EditAssertion = setAttr(".//SubjectConfirmationData", "InResponseTo", "id-other-request")
			}),
		},
	}
}

// TestPipelineRefuses runs every attack through xmlguard and then
// crewjam/saml, as the ACS does, and checks both that the pipeline refuses
// it at the expected stage and what the library alone would do.
func TestPipelineRefuses(t *testing.T) {
	f := newFixture(t)
	var attacks []attack
	attacks = append(attacks, xswAttacks()...)
	attacks = append(attacks, wrappingAttacks()...)
	attacks = append(attacks, guardOnlyAttacks()...)
	attacks = append(attacks, libraryAttacks()...)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			form := a.form(t, f)

			reason, assertion, err := pipeline(f.newSP(t, a.sp), form)
			if err == nil {
				t.Fatalf("pipeline accepted the response (NameID %q)", assertion.Subject.NameID.Value)
			}
			if reason != a.guard {
				t.Errorf("xmlguard reason = %q, want %q (error: %v, library: %v)", reason, a.guard, err, privateErr(err))
			}

			libAssertion, reached, libErr := libraryAlone(f.newSP(t, a.sp), form)
			got := libraryRefuses
			switch {
			case !reached:
				got = libraryNotReached
			case libErr == nil:
				got = libraryAccepts
				if name := libAssertion.Subject.NameID.Value; strings.EqualFold(name, evilNameID) {
					t.Errorf("crewjam/saml alone signs in the forged user %q", name)
				}
			}
			if got != a.library {
				t.Errorf("crewjam/saml alone %v, pinned as %v (library error: %v)", got, a.library, privateErr(libErr))
			}
		})
	}
}
