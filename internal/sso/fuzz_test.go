package sso_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// newFuzzPortal is newPortal for a fuzz target, built once per fuzz run:
// only acme, and no per-input t (forTest gives one).
func newFuzzPortal(f *testing.F) *portal {
	f.Helper()
	tp := portaltest.New(f)
	idp := ssotest.NewIdP(f)
	acme := trustingSite(f, tp, "acme", idp)
	return &portal{Portal: tp, pool: tp.App.Pool, sso: tp.App.SSO, acme: acme, idp: idp, browser: newBrowser()}
}

// FuzzACS posts arbitrary SAMLResponse and RelayState values to acme's ACS.
// Whatever arrives, the portal answers with its refusal page (never a 5xx,
// never a session cookie) and records the attempt. No seed can sign anyone
// in: every signed seed answers a request the portal never made, so even a
// mutation that undoes an attack is refused by the pending-request check.
func FuzzACS(f *testing.F) {
	fp := newFuzzPortal(f)
	unknownRequest := "_" + ssotest.NewGUID(f)
	options := func(change func(o *ssotest.Options)) ssotest.Options {
		o := azure(unknownRequest)
		if change != nil {
			change(&o)
		}
		return o
	}
	signed := func(change func(o *ssotest.Options)) *etree.Document {
		return fp.idp.Response(f, options(change))
	}

	// A valid response to an unknown request, as Azure would send it.
	valid := signed(nil)
	f.Add(ssotest.Encode(valid), "")
	// The same with the Response's InResponseTo removed: it reaches
	// crewjam's checks as an IdP-initiated response, whose signed
	// SubjectConfirmationData still names the unknown request.
	stripped := valid.Copy()
	stripped.Root().RemoveAttr("InResponseTo")
	f.Add(ssotest.Encode(stripped), "/meet/b.simon")
	f.Add(ssotest.Encode(signed(func(o *ssotest.Options) { o.Signing = ssotest.SignBoth })), "//evil.example")
	f.Add(ssotest.Encode(signed(func(o *ssotest.Options) { o.Signing = ssotest.SignResponse })), "https://evil.example")
	f.Add(ssotest.Encode(signed(func(o *ssotest.Options) { o.Signing = ssotest.SignNothing })), "")
	f.Add(ssotest.Encode(signed(func(o *ssotest.Options) { o.SHA1 = true })), "")
	f.Add(ssotest.Encode(signed(func(o *ssotest.Options) { o.Audience = "https://evil.example/saml/metadata" })), "")
	f.Add(ssotest.Encode(signed(func(o *ssotest.Options) { o.Now = time.Now().Add(-2 * time.Hour) })), "")
	both := signed(func(o *ssotest.Options) { o.Signing = ssotest.SignBoth })
	f.Add(ssotest.Encode(ssotest.XSW1(both, evilNameID)), "")
	f.Add(ssotest.Encode(ssotest.XSW2(both, evilNameID)), "")
	for _, xsw := range []func(*etree.Document, string) *etree.Document{ssotest.XSW3, ssotest.XSW4, ssotest.XSW5, ssotest.XSW6, ssotest.XSW7, ssotest.XSW8} {
		f.Add(ssotest.Encode(xsw(valid, evilNameID)), "")
	}
	f.Add(ssotest.Encode(ssotest.ForgedAssertionBefore(f, stripped, evilNameID)), "")
	f.Add(ssotest.Encode(ssotest.SignedAssertionInObject(f, stripped, evilNameID)), "")
	f.Add(ssotest.Encode(ssotest.ForeignAssertion(f, valid, evilNameID, ssotest.SAML11AssertionNS)), "")
	f.Add(ssotest.Encode(ssotest.CommentInNameID(f, signed(func(o *ssotest.Options) { o.NameID = evilNameID + ".evil.com" }), ".evil.com")), "")
	f.Add(ssotest.EncodeBytes(ssotest.WithDoctype(ssotest.Bytes(f, valid), ssotest.BillionLaughs)), "")
	f.Add(azureFailure(fp.idp, unknownRequest, "AADSTS50105: <b>not assigned</b>"), "")
	f.Add(azureFailure(fp.idp, "", "AADSTS50105: not assigned"), "/")
	f.Add(ssotest.EncodeBytes([]byte(`<html><body>not SAML</body></html>`)), "")
	f.Add("not base64 at all!", "")
	f.Add("", "")

	f.Fuzz(func(t *testing.T, samlResponse, relayState string) {
		p := fp.forTest(t)
		before := p.lastEventID(p.acme)
		resp := p.postACS(acmeHost, samlResponse, relayState)
		b := body(t, resp)
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if hasUserCookie(resp) {
			t.Fatalf("status %d with a session cookie: no input here may sign anyone in", resp.StatusCode)
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want the 403 refusal page: %s", resp.StatusCode, b)
		}
		for _, leak := range []string{"goroutine ", "panic", "runtime/", ".go:"} {
			if strings.Contains(b, leak) {
				t.Fatalf("the page shows %q: %s", leak, b)
			}
		}
		// Every attempt is recorded, whatever the input carried.
		if e := p.lastEvent(p.acme); e.ID <= before || e.Result != sso.ResultRefused || e.Reason == "" {
			t.Fatalf("attempt not recorded as refused with a reason: newest event %+v", e)
		}
	})
}
