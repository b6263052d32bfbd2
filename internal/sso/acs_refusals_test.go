package sso_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// evilNameID is who the attacks try to sign in as.
const evilNameID = "admin@contoso.com"

// refusalCase is one response the ACS must refuse.
type refusalCase struct {
	name string
	// send posts the response (after any setup it needs) and returns the
	// portal's answer.
	send func(t *testing.T, p *portal) *http.Response
	// globex: the refusal is recorded on globex, not acme.
	globex bool
	// reason is the exact reason code of the sign-in event.
	reason string
	// page lists text the refusal page must show (HTML-escaped as served).
	page []string
	// absent lists text the refusal page must not show.
	absent []string
}

// post sends the response build returns to acme's ACS, with no RelayState.
func post(build func(t *testing.T, p *portal) string) func(*testing.T, *portal) *http.Response {
	return func(t *testing.T, p *portal) *http.Response {
		return p.postACS(acmeHost, build(t, p), "")
	}
}

// signedWith builds acme's IdP-initiated response with options o changed by
// change, as an etree document for an attack builder.
func (p *portal) signedDoc(change func(o *ssotest.Options)) *etree.Document {
	p.t.Helper()
	o := azure("")
	if change != nil {
		change(&o)
	}
	return p.idp.Response(p.t, o)
}

// respondWith is p.respond(azure("")) with change applied to the options.
func (p *portal) respondWith(change func(o *ssotest.Options)) string {
	p.t.Helper()
	return ssotest.Encode(p.signedDoc(change))
}

// postForm posts an arbitrary form to a site's ACS, as an IdP's page would.
func (p *portal) postForm(host string, form url.Values) *http.Response {
	p.t.Helper()
	req := httptest.NewRequest("POST", "http://"+host+"/saml/acs", strings.NewReader(form.Encode()))
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return p.Serve(req)
}

// forTest returns p reporting to t: subtests must not fail the parent's t
// from their own goroutine.
func (p *portal) forTest(t *testing.T) *portal {
	sub := *p
	sub.t = t
	return &sub
}

// lastEventID is the newest event ID of a site, 0 if none.
func (p *portal) lastEventID(site sites.Site) int64 {
	p.t.Helper()
	events, err := p.sso.RecentEvents(context.Background(), site.ID, sso.EventFilter{Limit: 1})
	if err != nil {
		p.t.Fatal(err)
	}
	if len(events) == 0 {
		return 0
	}
	return events[0].ID
}

// requireRefused checks what every refusal must look like: a 403 page a
// person can act on (never a 500 or a stack trace), no session cookie, and
// a new sign-in event on site with result refused, the exact reason and the
// reference shown on the page.
// requireRefused checks a refusal and returns the page it served.
func requireRefused(t *testing.T, p *portal, site sites.Site, eventsBefore int64, resp *http.Response, reason string, page ...string) string {
	t.Helper()
	b := body(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("status %d, want 403: %s", resp.StatusCode, b)
	}
	if hasUserCookie(resp) {
		t.Errorf("a refused sign-in set a session cookie")
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want the HTML refusal page", ct)
	}
	if !strings.Contains(b, "Your sign-in could not be completed") {
		t.Errorf("not the refusal page: %s", b)
	}
	for _, leak := range []string{"goroutine ", "panic", "runtime/", ".go:"} {
		if strings.Contains(b, leak) {
			t.Errorf("the page shows %q (a stack trace or internals): %s", leak, b)
		}
	}
	for _, want := range page {
		if !strings.Contains(b, want) {
			t.Errorf("the page does not show %q: %s", want, b)
		}
	}
	e := p.lastEvent(site)
	if e.ID <= eventsBefore {
		t.Fatalf("no new sign-in event on %s (newest is %+v)", site.Name, e)
	}
	if e.Result != sso.ResultRefused || e.Reason != reason {
		t.Errorf("event result %q reason %q, want refused %q (detail: %s)", e.Result, e.Reason, reason, e.Detail)
	}
	if e.Reference == "" || !strings.Contains(b, e.Reference) {
		t.Errorf("the page does not show the event's reference %q", e.Reference)
	}
	return b
}

// azureFailure is the unsigned Response Azure AD posts when it does not
// sign the user in: no assertion, a Requester status with a sub-status and
// an AADSTS message.
func azureFailure(idp *ssotest.IdP, inResponseTo, message string) string {
	var b bytes.Buffer
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	fmt.Fprintf(&b, `<samlp:Response ID="_%s" Version="2.0" IssueInstant="%s" Destination="%s"`, "f00d", now, acmeACS)
	if inResponseTo != "" {
		fmt.Fprintf(&b, ` InResponseTo="%s"`, inResponseTo)
	}
	fmt.Fprintf(&b, ` xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">`)
	fmt.Fprintf(&b, `<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">%s</Issuer>`, idp.EntityID)
	b.WriteString(`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester">`)
	b.WriteString(`<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:RequestDenied"/></samlp:StatusCode>`)
	fmt.Fprintf(&b, `<samlp:StatusMessage>%s</samlp:StatusMessage></samlp:Status></samlp:Response>`, escapeXML(message))
	return ssotest.EncodeBytes(b.Bytes())
}

func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// removeChild removes the first child element of parent with local name tag.
func removeChild(parent *etree.Element, tag string) {
	if el := parent.SelectElement(tag); el != nil {
		parent.RemoveChild(el)
	}
}

// padded returns a signed response whose assertion carries an attribute of
// about size bytes, to test the size caps.
func padded(p *portal, size int) string {
	return p.respondWith(func(o *ssotest.Options) {
		o.Attributes = p.idp.AzureClaims(ssotest.DefaultNameID, "B", "Simon", ssotest.DefaultObjectID)
		o.Attributes["padding"] = []string{strings.Repeat("A", size)}
	})
}

// TestACSRefuses posts, through the whole portal, one response for every
// check the ACS makes (issue 3, "It accepts a response only if all of these
// hold"), and checks the refusal page, the event's exact reason and that no
// account was created.
func TestACSRefuses(t *testing.T) {
	sha1Fixture := func(t *testing.T, p *portal) string {
		return p.respondWith(func(o *ssotest.Options) { o.SHA1 = true })
	}
	xsw := func(build func(*etree.Document, string) *etree.Document, signing ssotest.Signing) func(*testing.T, *portal) *http.Response {
		return post(func(t *testing.T, p *portal) string {
			return ssotest.Encode(build(p.signedDoc(func(o *ssotest.Options) { o.Signing = signing }), evilNameID))
		})
	}
	wrap := func(build func(testing.TB, *etree.Document, string) *etree.Document) func(*testing.T, *portal) *http.Response {
		return post(func(t *testing.T, p *portal) string {
			return ssotest.Encode(build(t, p.signedDoc(nil), evilNameID))
		})
	}
	withDoctype := func(doctype string) func(*testing.T, *portal) *http.Response {
		return post(func(t *testing.T, p *portal) string {
			return ssotest.EncodeBytes(ssotest.WithDoctype(ssotest.Bytes(t, p.signedDoc(nil)), doctype))
		})
	}
	editAssertion := func(edit func(a *etree.Element)) func(*testing.T, *portal) *http.Response {
		return post(func(t *testing.T, p *portal) string {
			return p.respondWith(func(o *ssotest.Options) { o.EditAssertion = edit })
		})
	}
	fiveMinutesAgo := func() string {
		return time.Now().Add(-5 * time.Minute).UTC().Format("2006-01-02T15:04:05.000Z")
	}

	cases := []refusalCase{
		// Signatures: by one of the site's IdP certificates, never one the
		// message brings along.
		{name: "Unsigned", reason: xmlguard.ReasonUnsigned,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) { o.Signing = ssotest.SignNothing })
			})},
		{name: "SignedByUntrustedKeyWithItsCertificateInKeyInfo", reason: sso.ReasonSignatureInvalid,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) { o.SignWith = p.idp.Impostor(t); o.NameID = evilNameID })
			})},
		{name: "ResponseSignedByUntrustedKey", reason: sso.ReasonSignatureInvalid,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) {
					o.SignWith = p.idp.Impostor(t)
					o.Signing = ssotest.SignResponse
					o.NameID = evilNameID
				})
			})},

		// Signature wrapping, SAML Raider's eight permutations and the other
		// shapes issue 3 names.
		{name: "XSW1", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW1, ssotest.SignBoth)},
		{name: "XSW2", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW2, ssotest.SignBoth)},
		{name: "XSW3", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW3, ssotest.SignAssertion)},
		{name: "XSW4", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW4, ssotest.SignAssertion)},
		{name: "XSW5", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW5, ssotest.SignAssertion)},
		{name: "XSW6", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW6, ssotest.SignAssertion)},
		{name: "XSW7", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW7, ssotest.SignAssertion)},
		{name: "XSW8", reason: xmlguard.ReasonAssertionCount, send: xsw(ssotest.XSW8, ssotest.SignAssertion)},
		{name: "SignedAssertionMovedIntoExtensions", reason: xmlguard.ReasonAssertionCount, send: wrap(ssotest.SignedAssertionInExtensions)},
		{name: "SignedAssertionMovedIntoObject", reason: xmlguard.ReasonAssertionCount, send: wrap(ssotest.SignedAssertionInObject)},
		{name: "ForgedAssertionBeforeSigned", reason: xmlguard.ReasonAssertionCount, send: wrap(ssotest.ForgedAssertionBefore)},
		{name: "ForgedAssertionAfterSigned", reason: xmlguard.ReasonAssertionCount, send: wrap(ssotest.ForgedAssertionAfter)},
		{name: "DuplicateIDOfSignedAssertion", reason: xmlguard.ReasonSignatureReference,
			send: post(func(t *testing.T, p *portal) string { return ssotest.Encode(ssotest.DuplicateID(p.signedDoc(nil))) })},
		{name: "SignatureOutsideResponseAndAssertion", reason: xmlguard.ReasonSignaturePlacement,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.Encode(p.idp.StraySignature(t, p.signedDoc(func(o *ssotest.Options) { o.Signing = ssotest.SignNothing })))
			})},
		{name: "CommentInsideNameID", reason: xmlguard.ReasonComment,
			send: post(func(t *testing.T, p *portal) string {
				doc := p.signedDoc(func(o *ssotest.Options) { o.NameID = evilNameID + ".evil.com" })
				return ssotest.Encode(ssotest.CommentInNameID(t, doc, ".evil.com"))
			})},
		{name: "CanonicalizationWithComments", reason: xmlguard.ReasonSignatureTransform,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) {
					o.Canonicalizer = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
				})
			})},
		{name: "KeyInfoRetrievalMethod", reason: xmlguard.ReasonKeyInfo,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.Encode(ssotest.AddKeyInfoChild(p.signedDoc(nil), ssotest.RetrievalMethod("http://169.254.169.254/latest/meta-data/")))
			})},
		{name: "SHA1Signature", reason: xmlguard.ReasonSHA1, send: post(sha1Fixture)},

		// Times.
		{name: "Expired", reason: sso.ReasonExpired,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) { o.Now = time.Now().Add(-2 * time.Hour) })
			})},
		{name: "NotYetValid", reason: sso.ReasonNotYetValid,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) { o.Now = time.Now().Add(2 * time.Hour) })
			})},
		{name: "AssertionIssueInstantTooOld", reason: sso.ReasonExpired,
			send: editAssertion(func(a *etree.Element) { a.CreateAttr("IssueInstant", fiveMinutesAgo()) })},
		{name: "UnsignedResponseIssueInstantTooOld", reason: sso.ReasonExpired,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) {
					o.EditResponse = func(r *etree.Element) { r.CreateAttr("IssueInstant", fiveMinutesAgo()) }
				})
			})},

		// Where the response is meant for.
		{name: "WrongAudience", reason: sso.ReasonAudienceMismatch,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) { o.Audience = "https://evil.example/saml/metadata" })
			})},
		{name: "WrongRecipient", reason: sso.ReasonDestinationMismatch,
			send: editAssertion(func(a *etree.Element) {
				a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData").CreateAttr("Recipient", "https://evil.example/saml/acs")
			})},
		{name: "WrongDestination", reason: sso.ReasonDestinationMismatch,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) {
					o.EditResponse = func(r *etree.Element) { r.CreateAttr("Destination", "https://evil.example/saml/acs") }
				})
			})},
		{name: "WrongIssuer", reason: sso.ReasonIssuerMismatch,
			send: post(func(t *testing.T, p *portal) string {
				const other = "https://sts.windows.net/00000000-0000-0000-0000-000000000000/"
				return p.respondWith(func(o *ssotest.Options) {
					o.EditAssertion = func(a *etree.Element) { a.SelectElement("Issuer").SetText(other) }
					o.EditResponse = func(r *etree.Element) { r.SelectElement("Issuer").SetText(other) }
				})
			})},
		{name: "WrongIssuerOnSignedAssertionOnly", reason: sso.ReasonIssuerMismatch,
			send: editAssertion(func(a *etree.Element) {
				a.SelectElement("Issuer").SetText("https://sts.windows.net/00000000-0000-0000-0000-000000000000/")
			})},
		{name: "FromAnotherSitesIdP", reason: sso.ReasonIssuerMismatch,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.Encode(p.otherIdP.Response(t, azure("")))
			})},
		{name: "FromAnotherSitesIdPUnderThisIdPsName", reason: sso.ReasonSignatureInvalid,
			send: post(func(t *testing.T, p *portal) string {
				// globex's IdP key, acme's IdP entity ID: only the key tells.
				return p.respondWith(func(o *ssotest.Options) { o.SignWith = sameNameAs(p.otherIdP, p.idp) })
			})},
		{name: "ValidForAcmePostedToGlobex", globex: true, reason: sso.ReasonDestinationMismatch,
			send: func(t *testing.T, p *portal) *http.Response {
				return p.postACS(globexHost, p.respond(azure("")), "")
			}},
		{name: "ValidForAcmeWithoutDestinationPostedToGlobex", globex: true, reason: sso.ReasonIssuerMismatch,
			send: func(t *testing.T, p *portal) *http.Response {
				return p.postACS(globexHost, p.respondWith(func(o *ssotest.Options) {
					o.EditResponse = func(r *etree.Element) { r.RemoveAttr("Destination") }
				}), "")
			}},

		// InResponseTo: an unexpired, unused pending request of this site.
		{name: "UnknownInResponseTo", reason: sso.ReasonUnknownRequest,
			send: post(func(t *testing.T, p *portal) string { return p.respond(azure("_" + ssotest.NewGUID(t))) })},
		{name: "InResponseToOfAnotherSite", reason: sso.ReasonUnknownRequest,
			send: post(func(t *testing.T, p *portal) string {
				req, _ := p.startSignIn(globexHost, "/")
				return p.respond(azure(req.SelectAttrValue("ID", "")))
			})},
		{name: "ExpiredInResponseTo", reason: sso.ReasonRequestExpired,
			send: func(t *testing.T, p *portal) *http.Response {
				req, relayState := p.startSignIn(acmeHost, "/")
				id := req.SelectAttrValue("ID", "")
				if _, err := p.pool.Exec(context.Background(),
					`UPDATE pending_requests SET expires_at = now() - interval '1 second' WHERE site_id = $1 AND request_id = $2`, p.acme.ID, id); err != nil {
					t.Fatal(err)
				}
				return p.postACS(acmeHost, p.respond(azure(id)), relayState)
			}},
		{name: "ReusedInResponseTo", reason: sso.ReasonRequestUsed,
			send: func(t *testing.T, p *portal) *http.Response {
				req, relayState := p.startSignIn(acmeHost, "/")
				id := req.SelectAttrValue("ID", "")
				if resp := p.postACS(acmeHost, p.respond(azure(id)), relayState); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("first answer: status %d: %s", resp.StatusCode, body(t, resp))
				}
				// A second, different response (its own assertion ID, so the
				// replay cache has never seen it) to the same request.
				return p.postACS(acmeHost, p.respond(azure(id)), relayState)
			}},
		{name: "UnsolicitedWhileIdPInitiatedIsOff", reason: sso.ReasonUnsolicited,
			send: func(t *testing.T, p *portal) *http.Response {
				p.set(p.acme, func(s *sso.Settings) { s.IdPInitiated = false })
				t.Cleanup(func() { p.set(p.acme, func(s *sso.Settings) { s.IdPInitiated = true }) })
				return p.postACS(acmeHost, p.respond(azure("")), "")
			}},
		{name: "ReplayOfAcceptedIdPInitiatedResponse", reason: sso.ReasonReplayed,
			send: func(t *testing.T, p *portal) *http.Response {
				response := p.respond(azure(""))
				if resp := p.postACS(acmeHost, response, ""); resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("first post: status %d: %s", resp.StatusCode, body(t, resp))
				}
				return p.postACS(acmeHost, response, "")
			}},

		// The document itself.
		{name: "BillionLaughs", reason: xmlguard.ReasonDoctype, send: withDoctype(ssotest.BillionLaughs)},
		{name: "ExternalEntity", reason: xmlguard.ReasonDoctype, send: withDoctype(ssotest.ExternalEntity)},
		{name: "UnusedDoctype", reason: xmlguard.ReasonDoctype, send: withDoctype(ssotest.UnusedDoctype)},
		{name: "ProcessingInstruction", reason: xmlguard.ReasonProcessingInstruction,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.EncodeBytes(ssotest.WithProcInst(ssotest.Bytes(t, p.signedDoc(nil)), "xml-stylesheet", `href="http://evil.example/x.xsl"`))
			})},
		{name: "NestedTooDeep", reason: xmlguard.ReasonTooDeep,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.Encode(ssotest.DeepExtensions(p.signedDoc(nil), xmlguard.MaxDepth+1))
			})},
		{name: "OversizedJustOverTheDecodedCap", reason: xmlguard.ReasonTooLarge,
			send: post(func(t *testing.T, p *portal) string { return padded(p, xmlguard.MaxResponseBytes+1) })},
		{name: "OversizedOverTheEncodedCap", reason: xmlguard.ReasonTooLarge,
			send: post(func(t *testing.T, p *portal) string { return padded(p, 1<<20) })},
		{name: "OversizedOverTheBodyCap", reason: xmlguard.ReasonTooLarge,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.EncodeBytes(bytes.Repeat([]byte("<a>"), 1<<20))
			})},
		{name: "GarbageBase64", reason: xmlguard.ReasonMalformedBase64,
			send: post(func(t *testing.T, p *portal) string { return "PHNhbWxwOlJlc3Bvbn!!!not base64%%" })},
		{name: "URLSafeBase64", reason: xmlguard.ReasonMalformedBase64,
			send: post(func(t *testing.T, p *portal) string {
				return strings.NewReplacer("+", "-", "/", "_").Replace(p.respond(azure(""))) + "-_"
			})},
		{name: "EmptySAMLResponse", reason: sso.ReasonMissingResponse,
			send: func(t *testing.T, p *portal) *http.Response {
				return p.postForm(acmeHost, url.Values{"SAMLResponse": {""}, "RelayState": {"/"}})
			}},
		{name: "NoSAMLResponseAtAll", reason: sso.ReasonMissingResponse,
			send: func(t *testing.T, p *portal) *http.Response { return p.postForm(acmeHost, url.Values{}) }},
		{name: "WellFormedXMLThatIsNotSAML", reason: xmlguard.ReasonNotSAMLResponse,
			send: post(func(t *testing.T, p *portal) string {
				return ssotest.EncodeBytes([]byte(`<?xml version="1.0"?><html><body><p>Hello</p></body></html>`))
			})},
		{name: "NotXMLAtAll", reason: xmlguard.ReasonMalformedXML,
			send: post(func(t *testing.T, p *portal) string { return ssotest.EncodeBytes([]byte(`{"SAMLResponse": true}`)) })},
		{name: "InvalidUTF8QuotedInTheRefusalDetail", reason: xmlguard.ReasonMalformedXML,
			send: post(func(t *testing.T, p *portal) string {
				// encoding/xml quotes the bad name in its error, which becomes
				// the event's detail: the event must be recorded all the same
				// (found by FuzzACS).
				return ssotest.EncodeBytes([]byte("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><At\xe77Fbute/></samlp:Response>"))
			})},
		{name: "SAMLArtifactInsteadOfResponse", reason: sso.ReasonMissingResponse,
			send: func(t *testing.T, p *portal) *http.Response {
				// The HTTP-Artifact binding would make the SP call the IdP's
				// artifact resolution service; the portal neither advertises
				// nor accepts it.
				return p.postForm(acmeHost, url.Values{"SAMLart": {"AAQAAMFbLinlXaCM+FIxiDwGOLAy2T71gbpO7ZhNzAgEANlB90ECfpNEVLg="}, "RelayState": {"/"}})
			}},

		// The IdP's own failure. Its status is shown; its free text only
		// when the response answers a live request of this site from the
		// configured issuer (anyone can post an unsigned failure: its text
		// must not become phishing on the customer's domain).
		{name: "FailureStatusFromAzure", reason: sso.ReasonIdPStatus,
			send: post(func(t *testing.T, p *portal) string {
				return azureFailure(p.idp, "", "AADSTS50105: Your administrator has configured the application to block users unless they are specifically granted access <script>alert(1)</script>")
			}),
			page:   []string{"Requester / RequestDenied"},
			absent: []string{"AADSTS50105", "alert(1)"}},
		{name: "FailureStatusAnsweringARequestWithHTML", reason: sso.ReasonIdPStatus,
			send: func(t *testing.T, p *portal) *http.Response {
				req, relayState := p.startSignIn(acmeHost, "/")
				return p.postACS(acmeHost, azureFailure(p.idp, req.SelectAttrValue("ID", ""), "AADSTS50105: blocked <script>alert(1)</script>"), relayState)
			},
			page:   []string{"Requester / RequestDenied: AADSTS50105: blocked &lt;script&gt;alert(1)&lt;/script&gt;"},
			absent: []string{"<script>alert"}},
		{name: "RelayStateOfAnotherRequest", reason: sso.ReasonRelayStateMismatch,
			send: func(t *testing.T, p *portal) *http.Response {
				req, _ := p.startSignIn(acmeHost, "/")
				_, otherRelayState := p.startSignIn(acmeHost, "/meet/other")
				return p.postACS(acmeHost, p.respond(azure(req.SelectAttrValue("ID", ""))), otherRelayState)
			}},
		{name: "FailureStatusAnsweringAnotherSitesRequest", reason: sso.ReasonIdPStatus,
			send: func(t *testing.T, p *portal) *http.Response {
				req, _ := p.startSignIn(globexHost, "/")
				return p.postACS(acmeHost, azureFailure(p.idp, req.SelectAttrValue("ID", ""), "Visit https://evil.example/unlock"), "")
			},
			page:   []string{"Requester / RequestDenied"},
			absent: []string{"evil.example"}},
		{name: "FailureStatusAnsweringARequest", reason: sso.ReasonIdPStatus,
			send: func(t *testing.T, p *portal) *http.Response {
				req, relayState := p.startSignIn(acmeHost, "/")
				return p.postACS(acmeHost, azureFailure(p.idp, req.SelectAttrValue("ID", ""), "AADSTS50105: not assigned"), relayState)
			},
			page: []string{"Requester / RequestDenied: AADSTS50105: not assigned"}},

		{name: "FailureStatusInASignedResponseWithAnAssertion", reason: sso.ReasonIdPStatus,
			send: post(func(t *testing.T, p *portal) string {
				return p.respondWith(func(o *ssotest.Options) {
					o.Signing = ssotest.SignBoth
					o.EditResponse = func(r *etree.Element) {
						status := r.SelectElement("Status")
						status.SelectElement("StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
						status.CreateElement("samlp:StatusMessage").SetText("AADSTS90072: <b>try again</b>")
					}
				})
			}),
			page:   []string{"Responder"},
			absent: []string{"AADSTS90072"}},

		// A signed assertion missing what a login needs: refused, no panic.
		{name: "SignedAssertionWithoutSubject", reason: sso.ReasonMissingElement,
			send: editAssertion(func(a *etree.Element) { removeChild(a, "Subject") })},
		{name: "SignedAssertionWithoutSubjectConfirmation", reason: sso.ReasonMissingElement,
			send: editAssertion(func(a *etree.Element) { removeChild(a.SelectElement("Subject"), "SubjectConfirmation") })},
		{name: "SignedAssertionWithoutConditions", reason: sso.ReasonMissingElement,
			send: editAssertion(func(a *etree.Element) { removeChild(a, "Conditions") })},
		{name: "SignedAssertionWithoutAudienceRestriction", reason: sso.ReasonAudienceMismatch,
			send: editAssertion(func(a *etree.Element) { removeChild(a.SelectElement("Conditions"), "AudienceRestriction") })},
		{name: "SignedAssertionWithoutAuthnStatement", reason: sso.ReasonMissingElement,
			send: editAssertion(func(a *etree.Element) { removeChild(a, "AuthnStatement") })},
	}

	p := newPortal(t)
	// B.Simon has an account already, so the setup of a case (an accepted
	// first response) creates none and the account count tells whether a
	// refused response created one.
	if resp := p.postACS(acmeHost, p.respond(azure("")), ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("B.Simon's first sign-in: status %d: %s", resp.StatusCode, body(t, resp))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			site := p.acme
			if c.globex {
				site = p.globex
			}
			before := p.lastEventID(site)
			acmeUsers, globexUsers := p.countUsers(p.acme), p.countUsers(p.globex)
			resp := c.send(t, p)
			body := requireRefused(t, p, site, before, resp, c.reason, c.page...)
			for _, text := range c.absent {
				if strings.Contains(body, text) {
					t.Errorf("the refusal page shows %q", text)
				}
			}
			if a, g := p.countUsers(p.acme), p.countUsers(p.globex); a != acmeUsers || g != globexUsers {
				t.Errorf("accounts: acme %d→%d, globex %d→%d; a refused response created one", acmeUsers, a, globexUsers, g)
			}
		})
	}
}

// sameNameAs returns signer renamed to victim's tenant and entity ID: an
// IdP that is trusted by another site, claiming to be this site's IdP.
func sameNameAs(signer, victim *ssotest.IdP) *ssotest.IdP {
	renamed := *signer
	renamed.TenantID, renamed.EntityID, renamed.SSOURL = victim.TenantID, victim.EntityID, victim.SSOURL
	return &renamed
}

// TestACSBoundsIssueInstantItself proves the portal's own IssueInstant
// bound (acs.go checkIssueInstants): with crewjam's MaxIssueDelay raised, as
// a library default change or a forgotten SetClockSkew would, a Response
// or an Assertion issued longer ago than MaxIssueAge plus the clock skew is
// still refused.
func TestACSBoundsIssueInstantItself(t *testing.T) {
	p := newPortal(t)
	libraryDelay := saml.MaxIssueDelay
	saml.MaxIssueDelay = 24 * time.Hour
	t.Cleanup(func() { saml.MaxIssueDelay = libraryDelay })

	old := time.Now().Add(-(sso.MaxIssueAge + saml.MaxClockSkew + 30*time.Second)).UTC().Format("2006-01-02T15:04:05.000Z")
	cases := []struct {
		name string
		edit func(o *ssotest.Options)
	}{
		{"Assertion", func(o *ssotest.Options) {
			o.EditAssertion = func(a *etree.Element) { a.CreateAttr("IssueInstant", old) }
		}},
		{"UnsignedResponseAroundAFreshAssertion", func(o *ssotest.Options) {
			o.EditResponse = func(r *etree.Element) { r.CreateAttr("IssueInstant", old) }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			before := p.lastEventID(p.acme)
			resp := p.postACS(acmeHost, p.respondWith(c.edit), "")
			requireRefused(t, p, p.acme, before, resp, sso.ReasonExpired)
			if n := p.countUsers(p.acme); n != 0 {
				t.Errorf("%d accounts created", n)
			}
		})
	}
	// The same responses, fresh, are accepted: the bound, not something else
	// in the edit, is what refuses them.
	resp := p.postACS(acmeHost, p.respond(azure("")), "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a fresh response: status %d: %s", resp.StatusCode, body(t, resp))
	}
}
