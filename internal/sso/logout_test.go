package sso_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

const (
	acmeSLO   = "http://acme.localhost:8080/saml/slo"
	globexSLO = "http://globex.localhost:8080/saml/slo"
)

// idpSLOURL is the logout URL of a test IdP: Azure AD's is its SAML
// endpoint, https://login.microsoftonline.com/<tenant>/saml2.
func idpSLOURL(idp *ssotest.IdP) string { return idp.SSOURL }

// withSingleLogout gives site's IdP its logout URL and turns Single Logout
// on.
func (p *portal) withSingleLogout(site sites.Site, idp *ssotest.IdP) {
	p.t.Helper()
	ctx := context.Background()
	if err := p.sso.SaveIdP(ctx, site.ID, &idpmeta.IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL, SLOURL: idpSLOURL(idp),
		Certificates: []*x509.Certificate{idp.Cert}}); err != nil {
		p.t.Fatal(err)
	}
	p.set(site, func(s *sso.Settings) { s.SLOEnabled = true })
}

// signInAs signs a user of acme in through an IdP-initiated response with
// the given NameID and SessionIndex, and returns the session cookie.
func (p *portal) signInAs(nameID, sessionIndex string) *http.Cookie {
	p.t.Helper()
	response := p.respondWith(func(o *ssotest.Options) {
		o.NameID = nameID
		o.EditAssertion = func(a *etree.Element) {
			a.FindElement("./AuthnStatement").SelectAttr("SessionIndex").Value = sessionIndex
		}
	})
	resp := p.postACS(acmeHost, response, "")
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("sign-in of %s: status %d: %s", nameID, resp.StatusCode, body(p.t, resp))
	}
	return userCookie(p.t, resp)
}

// signedIn reports whether cookie still opens a session on host: the home
// page is served, rather than a redirect to the IdP.
func (p *portal) signedIn(host string, cookie *http.Cookie) bool {
	p.t.Helper()
	resp := p.get(host, "/", cookie)
	return resp.StatusCode == http.StatusOK
}

// signOut posts the layout's Sign out.
func (p *portal) signOut(host string, cookie *http.Cookie) *http.Response {
	p.t.Helper()
	return p.Serve(portaltest.Request("POST", host, "/logout", url.Values{}, cookie))
}

// continueLink is the IdP URL of the page between sign-out and the
// identity provider: its Continue link, where its meta refresh goes too.
var continueLink = regexp.MustCompile(`<a class="button" id="continue-sign-out" href="([^"]+)">`)

// signOutToIdP signs out with Single Logout on and returns the URL the
// browser goes on to: the IdP's, with the LogoutRequest. The sign-out
// answers with a page of the site that moves on by itself (see
// users.Auth.signedOut: the CSP's form-action covers a form's redirects).
func (p *portal) signOutToIdP(host string, cookie *http.Cookie) string {
	p.t.Helper()
	resp := p.signOut(host, cookie)
	page := body(p.t, resp)
	m := continueLink.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		p.t.Fatalf("sign-out: status %d, want the page that goes on to the IdP: %s", resp.StatusCode, page)
	}
	target := html.UnescapeString(m[1])
	if !strings.Contains(page, `<meta http-equiv="refresh" content="0;url=`+html.EscapeString(target)+`">`) {
		p.t.Errorf("the page does not move on to %s by itself: %s", target, page)
	}
	return target
}

// sloGet delivers an HTTP-Redirect binding message to host's /saml/slo, as
// the browser does when the IdP redirects it.
func (p *portal) sloGet(host, rawQuery string) *http.Response {
	p.t.Helper()
	req := httptest.NewRequest("GET", "http://"+host+"/saml/slo?"+rawQuery, nil)
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return p.Serve(req)
}

// sloPost delivers an HTTP-POST binding message to host's /saml/slo, as the
// IdP's auto-submitting form does, cross-site.
func (p *portal) sloPost(host, param string, doc *etree.Document, relayState string) *http.Response {
	p.t.Helper()
	form := url.Values{param: {ssotest.Encode(doc)}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	return p.Serve(idpPost(host, "/saml/slo", form))
}

// redirectMessage decodes the SAML message of a redirect to the IdP
// (HTTP-Redirect binding) and checks its query-string signature with the
// SP's certificate.
func redirectMessage(t *testing.T, location, param string, spCert *x509.Certificate) (*etree.Element, url.Values) {
	t.Helper()
	u, err := url.Parse(location)
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]string{}
	for _, part := range strings.Split(u.RawQuery, "&") {
		name, value, _ := strings.Cut(part, "=")
		raw[name] = value
	}
	signed := param + "=" + raw[param]
	if rs, ok := raw["RelayState"]; ok {
		signed += "&RelayState=" + rs
	}
	signed += "&SigAlg=" + raw["SigAlg"]
	q := u.Query()
	if q.Get("SigAlg") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
		t.Errorf("SigAlg %q, want RSA-SHA256", q.Get("SigAlg"))
	}
	sig, err := base64.StdEncoding.DecodeString(q.Get("Signature"))
	if err != nil {
		t.Fatalf("Signature: %v", err)
	}
	digest := sha256.Sum256([]byte(signed))
	if err := rsa.VerifyPKCS1v15(spCert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("the SP certificate does not verify the %s's query signature: %v", param, err)
	}
	root := ssotest.Inflate(t, q.Get(param))
	if root.FindElement("//Signature") != nil {
		t.Errorf("an HTTP-Redirect message carries an XML signature (saml-bindings §3.4.4.1)")
	}
	return root, q
}

// TestSignOutWithSingleLogout is the SP-initiated round: the portal
// session ends at once, the browser goes to the IdP with a LogoutRequest
// naming the sign-in exactly, and the IdP's answer, with either binding,
// lands on the signed-out page.
func TestSignOutWithSingleLogout(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	spCert := p.spCertificate(acmeHost)
	for _, binding := range []string{"redirect", "post"} {
		t.Run(binding, func(t *testing.T) {
			p := p.forTest(t)
			cookie := p.signInAs("B.Simon@contoso.com", "_session-"+binding)
			location := p.signOutToIdP(acmeHost, cookie)
			if !strings.HasPrefix(location, idpSLOURL(p.idp)+"?") {
				t.Fatalf("sign-out goes to %q, want the IdP's logout URL", location)
			}
			if p.signedIn(acmeHost, cookie) {
				t.Fatal("the portal session outlived the sign-out")
			}
			req, _ := redirectMessage(t, location, "SAMLRequest", spCert)
			if req.Tag != "LogoutRequest" || req.SelectAttrValue("Destination", "") != idpSLOURL(p.idp) {
				t.Errorf("%s Destination %q", req.Tag, req.SelectAttrValue("Destination", ""))
			}
			if issuer := req.FindElement("./Issuer"); issuer == nil || issuer.Text() != acmeEntityID {
				t.Errorf("Issuer is not acme's entity ID")
			}
			// The NameID as the assertion gave it: format, no qualifiers it
			// did not have.
			nameID := req.FindElement("./NameID")
			if nameID == nil || nameID.Text() != "B.Simon@contoso.com" || nameID.SelectAttrValue("Format", "") != ssotest.NameIDEmailAddress ||
				nameID.SelectAttr("NameQualifier") != nil || nameID.SelectAttr("SPNameQualifier") != nil {
				t.Errorf("NameID %v, want B.Simon@contoso.com in emailAddress format, unqualified", nameID)
			}
			if index := req.FindElement("./SessionIndex"); index == nil || index.Text() != "_session-"+binding {
				t.Errorf("SessionIndex %v, want the sign-in's", index)
			}
			answer := p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: req.SelectAttrValue("ID", "")})
			var resp *http.Response
			if binding == "redirect" {
				resp = p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", answer, "", p.idp))
			} else {
				resp = p.sloPost(acmeHost, "SAMLResponse", p.idp.SignMessage(t, answer, nil), "")
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out?slo=done" {
				t.Fatalf("LogoutResponse: status %d Location %q: %s (event %+v)", resp.StatusCode, resp.Header.Get("Location"), body(t, resp), p.lastEvent(p.acme))
			}
			_, page := p.Get(acmeHost, "/signed-out?slo=done")
			if !strings.Contains(page, "You have signed out of this site and of your company&#39;s identity provider.") {
				t.Errorf("signed-out page: %s", page)
			}
			if e := p.lastEvent(p.acme); e.Flow != sso.FlowLogoutSP || e.Result != sso.ResultSuccess || e.NameID != "B.Simon@contoso.com" || e.UserID == nil {
				t.Errorf("event %+v, want B.Simon's confirmed sign-out", e)
			}
		})
	}
}

// TestSignOutWithoutSingleLogout ends only the portal session, and the page
// says the identity provider may still have the user signed in, offering
// to sign in again rather than doing it.
func TestSignOutWithoutSingleLogout(t *testing.T) {
	p := newPortal(t)
	cookie := p.signInAs("B.Simon@contoso.com", "_s1")
	resp := p.signOut(acmeHost, cookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out" {
		t.Fatalf("sign-out: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if p.signedIn(acmeHost, cookie) {
		t.Fatal("the session outlived the sign-out")
	}
	resp, page := p.Get(acmeHost, "/signed-out")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "may still have you signed in") || !strings.Contains(page, `<a class="button" href="/" id="sign-in-again">Sign in again</a>`) {
		t.Errorf("signed-out page: %d %s", resp.StatusCode, page)
	}
	if strings.Contains(page, "SAMLRequest") || resp.Header.Get("Location") != "" {
		t.Error("the signed-out page signs in by itself")
	}
}

// TestSingleLogoutUnavailable: with Single Logout on, a session that has no
// NameID (from before Single Logout), or an IdP whose logout URL is gone,
// still signs out here, and the page says the IdP was not asked.
func TestSingleLogoutUnavailable(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	cookie := p.signInAs("B.Simon@contoso.com", "_s1")
	if _, err := p.pool.Exec(context.Background(), `UPDATE sessions SET name_id = '' WHERE site_id = $1`, p.acme.ID); err != nil {
		t.Fatal(err)
	}
	resp := p.signOut(acmeHost, cookie)
	if resp.Header.Get("Location") != "/signed-out?slo=unavailable" || p.signedIn(acmeHost, cookie) {
		t.Fatalf("sign-out of a session without NameID: Location %q", resp.Header.Get("Location"))
	}
	_, page := p.Get(acmeHost, "/signed-out?slo=unavailable")
	if !strings.Contains(page, "could not be asked to sign you out too") {
		t.Errorf("page: %s", page)
	}
	// Single Logout cannot be turned on without a logout URL.
	if err := p.sso.SaveIdP(context.Background(), p.globex.ID, &idpmeta.IdP{EntityID: p.otherIdP.EntityID, SSOURL: p.otherIdP.SSOURL,
		Certificates: []*x509.Certificate{p.otherIdP.Cert}}); err != nil {
		t.Fatal(err)
	}
	_, err := p.sso.UpdateSettings(context.Background(), p.globex.ID, func(s *sso.Settings) error { s.SLOEnabled = true; return nil })
	if fields, ok := err.(sso.FieldErrors); !ok || fields["slo_enabled"] == "" {
		t.Errorf("Single Logout on without a logout URL: %v", err)
	}
}

// TestLogoutResponseRefused: an answer that is not the IdP's valid answer
// to this site's request does not confirm anything; the session is over
// anyway, and the page says the IdP did not confirm.
func TestLogoutResponseRefused(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	p.withSingleLogout(p.globex, p.otherIdP)
	spCert := p.spCertificate(acmeHost)
	// startLogout signs B.Simon in and out and returns the LogoutRequest ID.
	startLogout := func(p *portal) string {
		req, _ := redirectMessage(p.t, p.signOutToIdP(acmeHost, p.signInAs("B.Simon@contoso.com", "_s")), "SAMLRequest", spCert)
		return req.SelectAttrValue("ID", "")
	}
	cases := []struct {
		name   string
		send   func(t *testing.T, p *portal, id string) *http.Response
		reason string
	}{
		{"unknown request", func(t *testing.T, p *portal, _ string) *http.Response {
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: "_never-sent"}), "", p.idp))
		}, sso.ReasonUnknownRequest},
		{"answered twice", func(t *testing.T, p *portal, id string) *http.Response {
			answer := p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: id}), "", p.idp)
			if resp := p.sloGet(acmeHost, answer); resp.Header.Get("Location") != "/signed-out?slo=done" {
				t.Fatalf("first answer: %q", resp.Header.Get("Location"))
			}
			return p.sloGet(acmeHost, answer)
		}, sso.ReasonRequestUsed},
		{"signed by another key", func(t *testing.T, p *portal, id string) *http.Response {
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: id}), "", p.idp.Impostor(t)))
		}, sso.ReasonSignatureInvalid},
		{"unsigned", func(t *testing.T, p *portal, id string) *http.Response {
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: id}), "", nil))
		}, xmlguard.ReasonUnsigned},
		{"another tenant's issuer", func(t *testing.T, p *portal, id string) *http.Response {
			issuer := "https://login.microsoftonline.com/" + p.otherIdP.TenantID + "/"
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: id, Issuer: issuer}), "", p.idp))
		}, sso.ReasonIssuerMismatch},
		{"addressed to another site", func(t *testing.T, p *portal, id string) *http.Response {
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: globexSLO, InResponseTo: id}), "", p.idp))
		}, sso.ReasonDestinationMismatch},
		{"issued long ago", func(t *testing.T, p *portal, id string) *http.Response {
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: id, Now: time.Now().Add(-time.Hour)}), "", p.idp))
		}, sso.ReasonExpired},
		{"the IdP did not sign the user out", func(t *testing.T, p *portal, id string) *http.Response {
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: id,
				Status: "urn:oasis:names:tc:SAML:2.0:status:Responder"}), "", p.idp))
		}, sso.ReasonIdPStatus},
		{"another site's request, answered at this site", func(t *testing.T, p *portal, _ string) *http.Response {
			req, _ := redirectMessage(t, p.signOutToIdP(globexHost, p.signInAsOn(globexHost, p.otherIdP)), "SAMLRequest", p.spCertificate(globexHost))
			return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: req.SelectAttrValue("ID", "")}), "", p.idp))
		}, sso.ReasonUnknownRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			id := startLogout(p)
			before := p.lastEventID(p.acme)
			resp := c.send(t, p, id)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out?slo=failed" {
				t.Fatalf("status %d Location %q, want the signed-out page saying the IdP did not confirm: %s", resp.StatusCode, resp.Header.Get("Location"), body(t, resp))
			}
			e := p.lastEvent(p.acme)
			if e.ID <= before || e.Flow != sso.FlowLogoutSP || e.Result != sso.ResultRefused || e.Reason != c.reason {
				t.Errorf("event %+v, want slo-sp refused %q", e, c.reason)
			}
		})
	}
	_, page := p.Get(acmeHost, "/signed-out?slo=failed")
	if !strings.Contains(page, "did not confirm that it signed you out there") {
		t.Errorf("page: %s", page)
	}
}

// signInAsOn signs B.Simon in on host through idp (IdP-initiated).
func (p *portal) signInAsOn(host string, idp *ssotest.IdP) *http.Cookie {
	p.t.Helper()
	entity, acs := "http://"+host+"/saml/metadata", "http://"+host+"/saml/acs"
	resp := p.postACS(host, ssotest.Encode(idp.Response(p.t, ssotest.Options{ACS: acs, Audience: entity, Now: time.Now().UTC().Truncate(time.Second)})), "")
	if resp.StatusCode != http.StatusSeeOther {
		p.t.Fatalf("sign-in on %s: status %d: %s", host, resp.StatusCode, body(p.t, resp))
	}
	return userCookie(p.t, resp)
}

// TestAzureLogoutResponseIssuer: Azure AD may sign its LogoutResponse as
// https://login.microsoftonline.com/<tenant>/ while its entity ID is the
// sts.windows.net form: both forms of the configured tenant are accepted.
func TestAzureLogoutResponseIssuer(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	req, _ := redirectMessage(t, p.signOutToIdP(acmeHost, p.signInAs("B.Simon@contoso.com", "_s")), "SAMLRequest", p.spCertificate(acmeHost))
	answer := p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: req.SelectAttrValue("ID", ""),
		Issuer: "https://login.microsoftonline.com/" + p.idp.TenantID + "/"})
	if resp := p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", answer, "", p.idp)); resp.Header.Get("Location") != "/signed-out?slo=done" {
		t.Fatalf("Azure's login.microsoftonline.com issuer: Location %q (event %+v)", resp.Header.Get("Location"), p.lastEvent(p.acme))
	}
}

// TestIdPLogoutEndsTheNamedSessions is IdP-initiated Single Logout with
// both bindings: the sessions the LogoutRequest names end, in PostgreSQL,
// nobody else's; the IdP gets a signed LogoutResponse.
func TestIdPLogoutEndsTheNamedSessions(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	spCert := p.spCertificate(acmeHost)
	for _, binding := range []string{"redirect", "post"} {
		t.Run(binding, func(t *testing.T) {
			p := p.forTest(t)
			laptop := p.signInAs("B.Simon@contoso.com", "_laptop-"+binding)
			phone := p.signInAs("B.Simon@contoso.com", "_phone-"+binding)
			alice := p.signInAs("A.Lee@contoso.com", "_alice-"+binding)
			send := func(o ssotest.Logout, relayState string) *http.Response {
				o.Destination = acmeSLO
				req := p.idp.LogoutRequest(t, o)
				if binding == "redirect" {
					return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLRequest", req, relayState, p.idp))
				}
				return p.sloPost(acmeHost, "SAMLRequest", p.idp.SignMessage(t, req, nil), relayState)
			}
			// One SessionIndex: the laptop's session only.
			resp := send(ssotest.Logout{ID: "_lr1-" + binding, SessionIndexes: []string{"_laptop-" + binding}}, "back-to-azure")
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("LogoutRequest: status %d: %s", resp.StatusCode, body(t, resp))
			}
			if p.signedIn(acmeHost, laptop) || !p.signedIn(acmeHost, phone) || !p.signedIn(acmeHost, alice) {
				t.Fatal("a LogoutRequest naming one SessionIndex must end that session only")
			}
			answer, q := redirectMessage(t, resp.Header.Get("Location"), "SAMLResponse", spCert)
			if !strings.HasPrefix(resp.Header.Get("Location"), idpSLOURL(p.idp)+"?") || answer.Tag != "LogoutResponse" ||
				answer.SelectAttrValue("InResponseTo", "") != "_lr1-"+binding || q.Get("RelayState") != "back-to-azure" {
				t.Errorf("answer %s to %q (InResponseTo %q, RelayState %q)", answer.Tag, resp.Header.Get("Location"), answer.SelectAttrValue("InResponseTo", ""), q.Get("RelayState"))
			}
			if code := answer.FindElement("./Status/StatusCode"); code == nil || code.SelectAttrValue("Value", "") != ssotest.StatusSuccess {
				t.Errorf("answer status %v, want Success", code)
			}
			if e := p.lastEvent(p.acme); e.Flow != sso.FlowLogoutIdP || e.Result != sso.ResultSuccess || e.NameID != "B.Simon@contoso.com" || !strings.Contains(e.Detail, "1 session(s) ended") {
				t.Errorf("event %+v", e)
			}
			// No SessionIndex: every session of the user, still nobody else's.
			send(ssotest.Logout{}, "")
			if p.signedIn(acmeHost, phone) || !p.signedIn(acmeHost, alice) {
				t.Fatal("a LogoutRequest naming no SessionIndex must end every session of the user, and no one else's")
			}
			send(ssotest.Logout{NameID: "A.Lee@contoso.com"}, "")
		})
	}
}

// TestIdPLogoutRefused: a LogoutRequest that is not the configured IdP's,
// signed, addressed to this site, fresh and new, ends nothing, is recorded
// and gets a refusal page.
func TestIdPLogoutRefused(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	p.withSingleLogout(p.globex, p.otherIdP)
	request := func(t *testing.T, o ssotest.Logout) *etree.Document {
		if o.Destination == "" {
			o.Destination = acmeSLO
		}
		return p.idp.LogoutRequest(t, o)
	}
	redirect := func(t *testing.T, p *portal, doc *etree.Document, signer *ssotest.IdP) *http.Response {
		return p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLRequest", doc, "", signer))
	}
	cases := []struct {
		name   string
		send   func(t *testing.T, p *portal) *http.Response
		reason string
	}{
		{"forged: signed by another key (redirect)", func(t *testing.T, p *portal) *http.Response {
			return redirect(t, p, request(t, ssotest.Logout{}), p.idp.Impostor(t))
		}, sso.ReasonSignatureInvalid},
		{"forged: signed by another key (post)", func(t *testing.T, p *portal) *http.Response {
			return p.sloPost(acmeHost, "SAMLRequest", p.idp.SignMessage(t, request(t, ssotest.Logout{}), p.idp.Impostor(t)), "")
		}, sso.ReasonSignatureInvalid},
		{"unsigned (redirect)", func(t *testing.T, p *portal) *http.Response {
			return redirect(t, p, request(t, ssotest.Logout{}), nil)
		}, xmlguard.ReasonUnsigned},
		{"unsigned (post)", func(t *testing.T, p *portal) *http.Response {
			return p.sloPost(acmeHost, "SAMLRequest", request(t, ssotest.Logout{}), "")
		}, xmlguard.ReasonUnsigned},
		{"query signature over another RelayState", func(t *testing.T, p *portal) *http.Response {
			query := p.idp.RedirectQuery(t, "SAMLRequest", request(t, ssotest.Logout{}), "a", p.idp)
			return p.sloGet(acmeHost, strings.Replace(query, "RelayState=a", "RelayState=b", 1))
		}, sso.ReasonSignatureInvalid},
		{"replayed", func(t *testing.T, p *portal) *http.Response {
			query := p.idp.RedirectQuery(t, "SAMLRequest", request(t, ssotest.Logout{ID: "_once"}), "", p.idp)
			if resp := p.sloGet(acmeHost, query); resp.StatusCode != http.StatusFound {
				t.Fatalf("first delivery: status %d", resp.StatusCode)
			}
			p.victim = p.signInAs("B.Simon@contoso.com", "_after")
			return p.sloGet(acmeHost, query)
		}, sso.ReasonReplayed},
		{"expired", func(t *testing.T, p *portal) *http.Response {
			return redirect(t, p, request(t, ssotest.Logout{Now: time.Now().Add(-time.Hour)}), p.idp)
		}, sso.ReasonExpired},
		{"dated in the future", func(t *testing.T, p *portal) *http.Response {
			return redirect(t, p, request(t, ssotest.Logout{Now: time.Now().Add(time.Hour)}), p.idp)
		}, sso.ReasonNotYetValid},
		{"another site's request (addressed to globex)", func(t *testing.T, p *portal) *http.Response {
			return redirect(t, p, request(t, ssotest.Logout{Destination: globexSLO}), p.idp)
		}, sso.ReasonDestinationMismatch},
		{"another site's IdP", func(t *testing.T, p *portal) *http.Response {
			return p.sloGet(acmeHost, p.otherIdP.RedirectQuery(t, "SAMLRequest", p.otherIdP.LogoutRequest(t, ssotest.Logout{Destination: acmeSLO}), "", p.otherIdP))
		}, sso.ReasonSignatureInvalid},
		{"another site's IdP, posted", func(t *testing.T, p *portal) *http.Response {
			return p.sloPost(acmeHost, "SAMLRequest", p.otherIdP.SignMessage(t, p.otherIdP.LogoutRequest(t, ssotest.Logout{Destination: acmeSLO}), nil), "")
		}, sso.ReasonSignatureInvalid},
		{"another tenant's name for the issuer", func(t *testing.T, p *portal) *http.Response {
			return redirect(t, p, request(t, ssotest.Logout{Issuer: "https://login.microsoftonline.com/" + p.otherIdP.TenantID + "/"}), p.idp)
		}, sso.ReasonIssuerMismatch},
		{"a DOCTYPE", func(t *testing.T, p *portal) *http.Response {
			doc := p.idp.SignMessage(t, request(t, ssotest.Logout{}), nil)
			return p.sloPost(acmeHost, "SAMLRequest", doctype(t, doc), "")
		}, xmlguard.ReasonDoctype},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			p.victim = p.signInAs("B.Simon@contoso.com", "_victim")
			before := p.lastEventID(p.acme)
			resp := c.send(t, p)
			b := body(t, resp)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "Sign-out request not accepted") {
				t.Errorf("status %d, want the 403 refusal page: %s", resp.StatusCode, b)
			}
			if !p.signedIn(acmeHost, p.victim) {
				t.Error("a refused LogoutRequest ended a session")
			}
			e := p.lastEvent(p.acme)
			if e.ID <= before || e.Flow != sso.FlowLogoutIdP || e.Result != sso.ResultRefused || e.Reason != c.reason {
				t.Errorf("event %+v, want slo-idp refused %q", e, c.reason)
			}
			if !strings.Contains(b, e.Reference) {
				t.Errorf("the page does not show the reference %q", e.Reference)
			}
		})
	}
}

// doctype re-reads a document with a DOCTYPE before its root.
func doctype(t *testing.T, doc *etree.Document) *etree.Document {
	t.Helper()
	with := etree.NewDocument()
	with.ReadSettings.Permissive = true
	raw := ssotest.WithDoctype(ssotest.Bytes(t, doc), ssotest.ExternalEntity)
	if err := with.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	return with
}

// TestLogoutEndsSessionsInEveryProcess: two portal processes over one
// database: the IdP's LogoutRequest reaching one, or the user's sign-out
// on one, ends the session that the other serves.
func TestLogoutEndsSessionsInEveryProcess(t *testing.T) {
	a := newPortal(t)
	a.withSingleLogout(a.acme, a.idp)
	b := &portal{Portal: portaltest.New(t, portaltest.WithPool(a.pool)), t: t, pool: a.pool, acme: a.acme, globex: a.globex, idp: a.idp, otherIdP: a.otherIdP, browser: newBrowser()}
	b.sso = b.App.SSO

	cookie := a.signInAs("B.Simon@contoso.com", "_s1")
	if !b.signedIn(acmeHost, cookie) {
		t.Fatal("the other process does not see the session")
	}
	resp := b.sloGet(acmeHost, b.idp.RedirectQuery(t, "SAMLRequest", b.idp.LogoutRequest(t, ssotest.Logout{Destination: acmeSLO}), "", b.idp))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("LogoutRequest at process B: status %d", resp.StatusCode)
	}
	if a.signedIn(acmeHost, cookie) {
		t.Error("the IdP's logout at process B left the session alive at process A")
	}

	cookie = a.signInAs("B.Simon@contoso.com", "_s2")
	b.signOut(acmeHost, cookie)
	if a.signedIn(acmeHost, cookie) {
		t.Error("signing out at process B left the session alive at process A")
	}
}

// TestLogoutBoundsIssueInstantItself proves the portal's own IssueInstant
// bound on logout messages (logout.go, checkInstant): with crewjam's
// MaxIssueDelay raised, as a library default change or a forgotten
// SetClockSkew would, a LogoutRequest or LogoutResponse issued longer ago
// than MaxIssueAge plus the clock skew is still refused.
func TestLogoutBoundsIssueInstantItself(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	libraryDelay := saml.MaxIssueDelay
	saml.MaxIssueDelay = 24 * time.Hour
	t.Cleanup(func() { saml.MaxIssueDelay = libraryDelay })
	old := time.Now().Add(-(sso.MaxIssueAge + saml.MaxClockSkew + 30*time.Second))

	victim := p.signInAs("B.Simon@contoso.com", "_s1")
	resp := p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLRequest", p.idp.LogoutRequest(t, ssotest.Logout{Destination: acmeSLO, Now: old}), "", p.idp))
	if resp.StatusCode != http.StatusForbidden || !p.signedIn(acmeHost, victim) {
		t.Errorf("an old LogoutRequest: status %d", resp.StatusCode)
	}
	if e := p.lastEvent(p.acme); e.Reason != sso.ReasonExpired {
		t.Errorf("event %+v, want expired", e)
	}

	req, _ := redirectMessage(t, p.signOutToIdP(acmeHost, victim), "SAMLRequest", p.spCertificate(acmeHost))
	answer := p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: req.SelectAttrValue("ID", ""), Now: old})
	resp = p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLResponse", answer, "", p.idp))
	if resp.Header.Get("Location") != "/signed-out?slo=failed" {
		t.Errorf("an old LogoutResponse: Location %q", resp.Header.Get("Location"))
	}
	if e := p.lastEvent(p.acme); e.Reason != sso.ReasonExpired {
		t.Errorf("event %+v, want expired", e)
	}
}

// TestLogoutResponseAnswersOnce: the same answer delivered several times at
// once (reloads, two processes) confirms the sign-out once; the others are
// refused as already answered.
func TestLogoutResponseAnswersOnce(t *testing.T) {
	p := newPortal(t)
	p.withSingleLogout(p.acme, p.idp)
	req, _ := redirectMessage(t, p.signOutToIdP(acmeHost, p.signInAs("B.Simon@contoso.com", "_s1")), "SAMLRequest", p.spCertificate(acmeHost))
	query := p.idp.RedirectQuery(t, "SAMLResponse", p.idp.LogoutResponse(t, ssotest.Logout{Destination: acmeSLO, InResponseTo: req.SelectAttrValue("ID", "")}), "", p.idp)
	const deliveries = 16
	locations := make(chan string, deliveries)
	var start sync.WaitGroup
	start.Add(1)
	var done sync.WaitGroup
	for range deliveries {
		done.Go(func() {
			start.Wait()
			locations <- p.sloGet(acmeHost, query).Header.Get("Location")
		})
	}
	start.Done()
	done.Wait()
	close(locations)
	confirmed := 0
	for l := range locations {
		if l == "/signed-out?slo=done" {
			confirmed++
		}
	}
	if confirmed != 1 {
		t.Errorf("%d of %d deliveries confirmed the sign-out, want exactly 1", confirmed, deliveries)
	}
}

// TestIdPLogoutWithoutALogoutURLToAnswer: a site that knows no IdP logout
// URL still honours the IdP's LogoutRequest, and, having nowhere to send
// the answer, shows the signed-out page.
func TestIdPLogoutWithoutALogoutURLToAnswer(t *testing.T) {
	p := newPortal(t)
	victim := p.signInAs("B.Simon@contoso.com", "_s1")
	resp := p.sloGet(acmeHost, p.idp.RedirectQuery(t, "SAMLRequest", p.idp.LogoutRequest(t, ssotest.Logout{Destination: acmeSLO}), "", p.idp))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out?slo=idp" || p.signedIn(acmeHost, victim) {
		t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := p.Get(acmeHost, "/signed-out?slo=idp"); !strings.Contains(page, "Your company&#39;s identity provider signed you out of this site.") {
		t.Errorf("page: %s", page)
	}
}
