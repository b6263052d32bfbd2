package sso_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// A forged Assertion in another namespace (SAML 1.1's) beside the signed
// SAML 2.0 one is refused, and neither the refusal page, the Test SSO page
// nor the admin's event ever shows what the forged one says.
func TestACSRefusesAForeignNamespaceAssertionAndNeverShowsIt(t *testing.T) {
	p := newPortal(t)
	forged := func(t *testing.T, inResponseTo string) string {
		return ssotest.Encode(ssotest.ForeignAssertion(t, p.idp.Response(t, azure(inResponseTo)), evilNameID, ssotest.SAML11AssertionNS))
	}
	requireNoForgedValue := func(t *testing.T, page string) {
		t.Helper()
		if strings.Contains(page, evilNameID) {
			t.Errorf("the page shows the forged assertion's %s: %s", evilNameID, page)
		}
		if e := p.lastEvent(p.acme); strings.Contains(e.Detail, evilNameID) || strings.Contains(e.NameID, evilNameID) {
			t.Errorf("the event quotes the forged assertion: %+v", e)
		}
	}

	t.Run("SignIn", func(t *testing.T) {
		p := p.forTest(t)
		before := p.lastEventID(p.acme)
		resp := p.postACS(acmeHost, forged(t, ""), "")
		page := requireRefused(t, p, p.acme, before, resp, xmlguard.ReasonUnexpectedElement)
		requireNoForgedValue(t, page)
		if n := p.countUsers(p.acme); n != 0 {
			t.Errorf("%d accounts created", n)
		}
	})

	t.Run("TestSSO", func(t *testing.T) {
		p := p.forTest(t)
		req, relayState := p.startTestSSO(p.browser)
		resp := p.postACS(acmeHost, forged(t, req.SelectAttrValue("ID", "")), relayState)
		page := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Test SSO: a check failed") || !strings.Contains(page, xmlguard.ReasonUnexpectedElement) {
			t.Fatalf("status %d: %s", resp.StatusCode, page)
		}
		requireNoForgedValue(t, page)
		if e := p.lastEvent(p.acme); e.Result != sso.ResultTest || e.Reason != xmlguard.ReasonUnexpectedElement {
			t.Errorf("event %+v", e)
		}
	})

	// An IdP's failure is read without verification: a StatusMessage of
	// another namespace is not the IdP's message and is never shown.
	t.Run("ForeignStatusMessage", func(t *testing.T) {
		p := p.forTest(t)
		req, relayState := p.startSignIn(acmeHost, "/")
		now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		failure := fmt.Sprintf(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_f00d" Version="2.0" IssueInstant="%s" Destination="%s" InResponseTo="%s">`+
			`<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">%s</Issuer><samlp:Status>`+
			`<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"/>`+
			`<StatusMessage xmlns="urn:example:not-saml">Call +1 555 0100 to unlock your account</StatusMessage>`+
			`</samlp:Status></samlp:Response>`, now, acmeACS, req.SelectAttrValue("ID", ""), p.idp.EntityID)
		before := p.lastEventID(p.acme)
		resp := p.postACS(acmeHost, ssotest.EncodeBytes([]byte(failure)), relayState)
		page := requireRefused(t, p, p.acme, before, resp, sso.ReasonIdPStatus, "Requester")
		if strings.Contains(page, "555 0100") || strings.Contains(p.lastEvent(p.acme).Detail, "555 0100") {
			t.Errorf("a StatusMessage of another namespace is shown: %s", page)
		}
	})
}

// Peek, the unverified read behind the refusal hints and the Test SSO page,
// reads only SAML 2.0 elements where the schema puts them, even in a
// document xmlguard would refuse.
func TestPeekReadsOnlySAML2ElementsOfTheirParent(t *testing.T) {
	idp := ssotest.NewIdP(t)
	signed := idp.Response(t, azure(""))
	withForeign := ssotest.ForeignAssertion(t, signed, evilNameID, ssotest.SAML11AssertionNS)
	foreignIssuer := withForeign.Copy()
	issuer := foreignIssuer.Root().CreateElement("Issuer")
	issuer.CreateAttr("xmlns", "urn:example:not-saml")
	issuer.SetText("https://evil.example/")
	foreignIssuer.Root().InsertChildAt(0, issuer)

	for name, doc := range map[string][]byte{
		"SAML11AssertionFirst":          ssotest.Bytes(t, withForeign),
		"ForeignIssuerFirstToo":         ssotest.Bytes(t, foreignIssuer),
		"UnchangedForComparison":        ssotest.Bytes(t, signed),
		"ForeignAssertionNestedInSAML2": nestedForeign(t, signed),
	} {
		t.Run(name, func(t *testing.T) {
			got := sso.Peek(doc)
			if got.NameID != ssotest.DefaultNameID || got.Issuer != idp.EntityID {
				t.Errorf("Peek read NameID %q issuer %q, want %q from %q", got.NameID, got.Issuer, ssotest.DefaultNameID, idp.EntityID)
			}
			for _, a := range got.Attributes {
				for _, v := range a.Values {
					if v == evilNameID {
						t.Errorf("Peek read the forged attribute %s=%s", a.Name, v)
					}
				}
			}
		})
	}
}

// nestedForeign puts a SAML 1.1 Subject with a forged NameID before the
// signed assertion's own Subject, where a reader of ./Subject/NameID by
// local name would take it.
func nestedForeign(t *testing.T, signed *etree.Document) []byte {
	t.Helper()
	doc := signed.Copy()
	assertion := doc.Root().SelectElement("Assertion")
	subject := etree.NewElement("Subject")
	subject.CreateAttr("xmlns", ssotest.SAML11AssertionNS)
	subject.CreateElement("NameID").SetText(evilNameID)
	assertion.InsertChildAt(assertion.SelectElement("Subject").Index(), subject)
	return ssotest.Bytes(t, doc)
}
