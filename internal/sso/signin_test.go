package sso_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

func TestSPInitiatedSignInLandsOnTheDeepLink(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) {
		s.AuthnContext = []string{
			"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
			"urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
		}
	})
	req, relayState := p.startSignIn(acmeHost, "/meet/b.simon?tab=1")

	if got := req.SelectAttrValue("AssertionConsumerServiceURL", ""); got != acmeACS {
		t.Errorf("AssertionConsumerServiceURL %q", got)
	}
	if got := req.SelectAttrValue("Destination", ""); got != p.idp.SSOURL {
		t.Errorf("Destination %q, want %q", got, p.idp.SSOURL)
	}
	if el := req.FindElement("./NameIDPolicy"); el == nil || el.SelectAttrValue("Format", "") != sso.NameIDEmail {
		t.Errorf("NameIDPolicy: %v", el)
	}
	rac := req.FindElement("./RequestedAuthnContext")
	if rac == nil || rac.SelectAttrValue("Comparison", "") != "exact" || len(rac.ChildElements()) != 2 {
		t.Fatalf("RequestedAuthnContext missing or wrong")
	}
	if strings.Contains(relayState, "meet") || len(relayState) < 16 {
		t.Errorf("RelayState %q must be an opaque token, not the path", relayState)
	}

	resp := p.postACS(acmeHost, p.respond(azure(req.SelectAttrValue("ID", ""))), relayState)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/meet/b.simon?tab=1" {
		t.Fatalf("ACS: status %d location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
	}
	cookie := userCookie(t, resp)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v", cookie)
	}
	home := body(t, p.get(acmeHost, "/", cookie))
	if !strings.Contains(home, "Welcome, B Simon") {
		t.Fatalf("home: %s", home)
	}
	if e := p.lastEvent(p.acme); e.Result != sso.ResultSuccess || e.Flow != sso.FlowSP || e.NameID != ssotest.DefaultNameID {
		t.Errorf("event %+v", e)
	} else if len(e.Claims) == 0 || len(e.Claims[sso.ClaimAuthnContext]) == 0 {
		// The event detail page shows what was received.
		t.Errorf("the event keeps no claims: %v", e.Claims)
	}
	// The acme session means nothing on globex.
	if resp := p.get(globexHost, "/", cookie); resp.StatusCode != http.StatusFound {
		t.Errorf("acme session on globex: status %d, want a redirect to globex's IdP", resp.StatusCode)
	}
}

func TestIdPInitiatedSignInFollowsOnlyLocalRelayState(t *testing.T) {
	cases := []struct{ relayState, want string }{
		{"", "/"},
		{"/meet/b.simon", "/meet/b.simon"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"/" + strings.Repeat("a", 5000), "/"},
	}
	p := newPortal(t)
	for _, c := range cases {
		resp := p.postACS(acmeHost, p.respond(azure("")), c.relayState)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.want {
			t.Errorf("RelayState %q: status %d location %q, want %q: %s", c.relayState, resp.StatusCode, resp.Header.Get("Location"), c.want, body(t, resp))
		}
		if e := p.lastEvent(p.acme); e.Flow != sso.FlowIdP || e.Result != sso.ResultSuccess {
			t.Errorf("event %+v", e)
		}
	}
}

func TestUnauthenticatedUserPageWithoutSSOShowsAPage(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) { s.Enabled = false })
	resp := p.get(acmeHost, "/")
	if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "Single sign-on is not set up") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	// And a response posted anyway is refused.
	resp = p.postACS(acmeHost, p.respond(azure("")), "")
	if resp.StatusCode != http.StatusForbidden || p.lastEvent(p.acme).Reason != sso.ReasonNotEnabled {
		t.Fatalf("status %d, event %+v", resp.StatusCode, p.lastEvent(p.acme))
	}
}

func TestSPInitiatedSignInToleratesAnIdPThatDropsRelayState(t *testing.T) {
	p := newPortal(t)
	req, _ := p.startSignIn(acmeHost, "/meet/b.simon")
	resp := p.postACS(acmeHost, p.respond(azure(req.SelectAttrValue("ID", ""))), "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/meet/b.simon" {
		t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
