package sso_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// mallory is the attacker: a real user of the company's IdP.
const mallory = "mallory@contoso.com"

func (p *portal) respondAs(nameID, inResponseTo string) string {
	p.t.Helper()
	o := azure(inResponseTo)
	o.NameID = nameID
	o.Attributes = claims(nameID, nameID, "Mal", "Lory", "0a1b2c3d-0000-4000-8000-00000000a77a")
	return ssotest.Encode(p.idp.Response(p.t, o))
}

// Login CSRF through SP-initiated sign-in: the attacker starts a sign-in in
// their own browser, signs in at the IdP as themselves, and has the
// victim's browser post that response. It is refused (browser-mismatch),
// IdP-initiated sign-in on or off, whether the victim's browser has a
// sign-in of its own pending or none; the attacker's own browser still
// signs in with it.
func TestLoginCSRFThroughSPInitiatedSignInIsRefused(t *testing.T) {
	for _, idpInitiated := range []bool{false, true} {
		t.Run(map[bool]string{false: "IdPInitiatedOff", true: "IdPInitiatedOn"}[idpInitiated], func(t *testing.T) {
			p := newPortal(t)
			p.set(p.acme, func(s *sso.Settings) { s.IdPInitiated = idpInitiated })
			attacker, victim, victimWithItsOwn := newBrowser(), newBrowser(), newBrowser()
			p.startSignInFrom(victimWithItsOwn, acmeHost, "/")

			req, relayState := p.startSignInFrom(attacker, acmeHost, "/")
			response := p.respondAs(mallory, req.SelectAttrValue("ID", ""))
			for name, b := range map[string]*browser{"NoCookie": victim, "ItsOwnCookie": victimWithItsOwn} {
				before := p.lastEventID(p.acme)
				resp := p.postACSFrom(b, acmeHost, response, relayState)
				requireRefused(t, p, p.acme, before, resp, sso.ReasonBrowserMismatch, "started in another browser")
				if e := p.lastEvent(p.acme); !strings.Contains(e.Detail, "login CSRF") {
					t.Errorf("%s: the admin is not told what it may be: %s", name, e.Detail)
				}
			}
			if n := p.countUsers(p.acme); n != 0 {
				t.Fatalf("%d accounts after the refused posts", n)
			}
			// The refusals did not use the request up: its own browser
			// signs in with the very same response.
			resp := p.postACSFrom(attacker, acmeHost, response, relayState)
			if resp.StatusCode != http.StatusSeeOther || !hasUserCookie(resp) {
				t.Fatalf("the attacker's own browser: status %d: %s", resp.StatusCode, body(t, resp))
			}
		})
	}
}

// One browser, several tabs: every sign-in it started is answered, in any
// order, with its one binding cookie, which is cleared with the last.
func TestSeveralTabsSignInWithOneBindingCookie(t *testing.T) {
	p := newPortal(t)
	type tab struct{ id, relayState, path string }
	var tabs []tab
	for _, path := range []string{"/meet/one", "/meet/two", "/meet/three"} {
		req, relayState := p.startSignIn(acmeHost, path)
		tabs = append(tabs, tab{req.SelectAttrValue("ID", ""), relayState, path})
	}
	for i := len(tabs) - 1; i >= 0; i-- {
		resp := p.postACS(acmeHost, p.respond(azure(tabs[i].id)), tabs[i].relayState)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tabs[i].path {
			t.Fatalf("tab %s: status %d location %q: %s", tabs[i].path, resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
		}
		cleared := false
		for _, c := range resp.Cookies() {
			cleared = cleared || (c.Name == sso.BindingCookie && c.MaxAge < 0)
		}
		if last := i == 0; cleared != last {
			t.Errorf("tab %s: binding cookie cleared %v, want %v (only with the last pending sign-in)", tabs[i].path, cleared, last)
		}
	}
}

// The binding cookie is what a browser sends on the IdP's cross-site POST:
// SameSite=None; Secure; HttpOnly; Path=/ — and __Host- prefixed on https.
// A Test SSO request is bound the same way.
func TestBindingCookieAttributes(t *testing.T) {
	for _, c := range []struct{ baseURL, host, name string }{
		{portaltest.BaseURL, acmeHost, sso.BindingCookie},
		{"https://meet.example", "acme.meet.example", "__Host-" + sso.BindingCookie},
	} {
		t.Run(c.baseURL, func(t *testing.T) {
			p := newPortal(t, portaltest.WithBaseURL(c.baseURL))
			for _, path := range []string{"/", "/admin/sso/test"} {
				var cookies []*http.Cookie
				if path == "/admin/sso/test" {
					cookies = append(cookies, adminCookie(t, p, c.host))
				}
				resp := p.Serve(portaltest.Request("GET", c.host, path, nil, cookies...))
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("GET %s: status %d", path, resp.StatusCode)
				}
				binding := portaltest.Cookie(resp, c.name)
				if binding == nil || binding.SameSite != http.SameSiteNoneMode || !binding.Secure || !binding.HttpOnly ||
					binding.Path != "/" || binding.Domain != "" || binding.MaxAge <= 0 || binding.MaxAge > int(sso.PendingRequestLifetime.Seconds()) {
					t.Errorf("GET %s: binding cookie %+v", path, binding)
				}
			}
		})
	}
}

func adminCookie(t *testing.T, p *portal, host string) *http.Cookie {
	t.Helper()
	resp := p.Serve(portaltest.Request("POST", host, "/admin/login", map[string][]string{"email": {portaltest.AdminEmail("acme")}, "password": {portaltest.AdminPassword}}))
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "admin_session") && c.Value != "" {
			return c
		}
	}
	t.Fatalf("admin sign-in: status %d", resp.StatusCode)
	return nil
}

// A Test SSO request answered in another browser is refused too, on the
// admin's test page.
func TestTestSSOIsBoundToTheAdminsBrowser(t *testing.T) {
	p := newPortal(t)
	req, relayState := p.startTestSSO(p.browser)
	resp := p.postACSFrom(newBrowser(), acmeHost, p.respond(azure(req.SelectAttrValue("ID", ""))), relayState)
	if page := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, sso.ReasonBrowserMismatch) {
		t.Fatalf("status %d: %s", resp.StatusCode, page)
	}
	resp = p.postACS(acmeHost, p.respond(azure(req.SelectAttrValue("ID", ""))), relayState)
	if page := body(t, resp); resp.StatusCode != http.StatusOK || strings.Contains(page, "a check failed") {
		t.Fatalf("the admin's own browser: status %d: %s", resp.StatusCode, page)
	}
}
