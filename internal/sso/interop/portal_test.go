package interop

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// The tests below run the whole portal (portaltest) against the pysaml2
// IdP: sign-in, Single Logout both ways with both bindings pysaml2 offers,
// and encrypted assertions, every message made or read by pysaml2 and
// xmlsec1.

const acmeHost = "acme.localhost:8080"

// portalWithPySAML2 is the portal with site acme trusting a pysaml2 IdP,
// SSO and Single Logout on.
type portalWithPySAML2 struct {
	*portaltest.Portal
	site sites.Site
	idp  pysamlIdP
	// spMetadata is acme's SP metadata, which pysaml2 loads.
	spMetadata string
}

func newPortalWithPySAML2(t *testing.T) *portalWithPySAML2 {
	t.Helper()
	requirePySAML2(t)
	ctx := context.Background()
	p := &portalWithPySAML2{Portal: portaltest.New(t), idp: newPySAMLIdP(t)}
	p.site = p.CreateSite("acme")
	if _, err := p.App.SSO.ImportMetadata(ctx, p.site.ID, p.idp.metadata, ""); err != nil {
		t.Fatalf("import pysaml2's metadata: %v\n%s", err, p.idp.metadata)
	}
	if _, err := p.App.SSO.UpdateSettings(ctx, p.site.ID, func(s *sso.Settings) error {
		s.Enabled, s.SLOEnabled = true, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	metadata, err := p.App.SSO.Metadata(ctx, p.site)
	if err != nil {
		t.Fatal(err)
	}
	p.spMetadata = string(metadata)
	return p
}

// request is a pysaml2 request about acme.
func (p *portalWithPySAML2) request(command string) idpRequest {
	req := p.idp.request(command)
	req.SPMetadata = p.spMetadata
	return req
}

// crossSite is what the IdP's page sends the browser to: a redirect to a
// portal URL, or a form it posts (fields), cross-site.
func crossSite(t *testing.T, target string, fields map[string]string, cookies ...*http.Cookie) *http.Request {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var req *http.Request
	if fields == nil {
		req = httptest.NewRequest("GET", target, nil)
	} else {
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		req = httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://idp.pysaml2.example")
	}
	req.Host = u.Host
	req.RemoteAddr = portaltest.ClientAddr
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// signIn signs B.Simon in at acme, SP-initiated: the portal's AuthnRequest
// goes to pysaml2, whose response comes back to the ACS with the browser's
// binding cookie. It returns the session cookie and the assertion's
// SessionIndex.
func (p *portalWithPySAML2) signIn(t *testing.T) (*http.Cookie, string) {
	t.Helper()
	start := p.Do("GET", acmeHost, "/", nil)
	loc, err := url.Parse(start.Header.Get("Location"))
	if start.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), idpSSOURL+"?") {
		t.Fatalf("GET /: status %d Location %q, want the pysaml2 IdP", start.StatusCode, start.Header.Get("Location"))
	}
	binding := portaltest.Cookie(start, sso.BindingCookie)
	authn := ssotest.Inflate(t, loc.Query().Get("SAMLRequest"))
	req := p.request("response")
	req.NameID, req.Attributes, req.SignAssertion = userNameID, userAttributes, true
	req.InResponseTo = authn.SelectAttrValue("ID", "")
	var reply struct {
		Response string `json:"response"`
	}
	runIdP(t, req, &reply)
	resp := p.Serve(crossSite(t, "http://"+acmeHost+"/saml/acs",
		map[string]string{"SAMLResponse": reply.Response, "RelayState": loc.Query().Get("RelayState")}, binding))
	session := portaltest.Cookie(resp, "session")
	if resp.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("ACS: status %d: %s (event %+v)", resp.StatusCode, portaltest.Body(t, resp), p.lastEvent(t))
	}
	raw, _ := base64.StdEncoding.DecodeString(reply.Response)
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	statement := doc.FindElement("//AuthnStatement")
	if statement == nil || statement.SelectAttrValue("SessionIndex", "") == "" {
		t.Fatalf("pysaml2's assertion has no SessionIndex:\n%s", raw)
	}
	return session, statement.SelectAttrValue("SessionIndex", "")
}

// signedIn reports whether the session cookie still opens acme's home.
func (p *portalWithPySAML2) signedIn(cookie *http.Cookie) bool {
	return p.Do("GET", acmeHost, "/", nil, cookie).StatusCode == http.StatusOK
}

func (p *portalWithPySAML2) lastEvent(t *testing.T) sso.Event {
	t.Helper()
	events, err := p.App.SSO.RecentEvents(context.Background(), p.site.ID, sso.EventFilter{Limit: 1})
	if err != nil || len(events) == 0 {
		t.Fatalf("no event: %v", err)
	}
	return events[0]
}

// continueLink is the IdP URL the page between sign-out and the IdP goes
// on to.
var continueLink = regexp.MustCompile(`<a class="button" id="continue-sign-out" href="([^"]+)">`)

// bindingReply is pysaml2's message as a binding carries it.
type bindingReply struct {
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// TestPySAML2SingleLogoutStartedAtThePortal: Sign out at the portal sends a
// LogoutRequest that pysaml2 verifies (query signature with the SP
// metadata's certificate) and reads as the sign-in's NameID and
// SessionIndex; pysaml2's LogoutResponse, with either binding, lands on the
// signed-out page.
func TestPySAML2SingleLogoutStartedAtThePortal(t *testing.T) {
	p := newPortalWithPySAML2(t)
	for _, binding := range []string{"redirect", "post"} {
		t.Run(binding, func(t *testing.T) {
			session, sessionIndex := p.signIn(t)
			out, page := p.PostForm(acmeHost, "/logout", url.Values{}, session)
			m := continueLink.FindStringSubmatch(page)
			if out.StatusCode != http.StatusOK || m == nil {
				t.Fatalf("Sign out: status %d, want the page that goes on to pysaml2: %s", out.StatusCode, page)
			}
			loc, err := url.Parse(html.UnescapeString(m[1]))
			if err != nil || !strings.HasPrefix(loc.String(), idpSLOURL+"?") {
				t.Fatalf("Sign out goes on to %q, want pysaml2's SLO URL", m[1])
			}
			if p.signedIn(session) {
				t.Fatal("the portal session outlived Sign out")
			}
			q := loc.Query()
			req := p.request("logout_response")
			req.Binding, req.SAMLRequest, req.SigAlg, req.Signature = binding, q.Get("SAMLRequest"), q.Get("SigAlg"), q.Get("Signature")
			if q.Has("RelayState") {
				rs := q.Get("RelayState")
				req.RelayState = &rs
			}
			var reply struct {
				bindingReply
				Request struct {
					ID             string   `json:"id"`
					Issuer         string   `json:"issuer"`
					Destination    string   `json:"destination"`
					NameID         string   `json:"name_id"`
					NameIDFormat   string   `json:"name_id_format"`
					SessionIndexes []string `json:"session_indexes"`
					SignatureValid bool     `json:"signature_valid"`
				} `json:"request"`
			}
			runIdP(t, req, &reply)
			got := reply.Request
			if !got.SignatureValid {
				t.Error("pysaml2 did not verify the LogoutRequest's query signature with the SP metadata's certificate")
			}
			if got.Issuer != spEntityID || got.Destination != idpSLOURL || got.NameID != userNameID ||
				got.NameIDFormat != "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" ||
				len(got.SessionIndexes) != 1 || got.SessionIndexes[0] != sessionIndex {
				t.Errorf("pysaml2 read the LogoutRequest as %+v, want B.Simon's sign-in (SessionIndex %s)", got, sessionIndex)
			}
			if !strings.HasPrefix(reply.URL, "http://"+acmeHost+"/saml/slo") {
				t.Fatalf("pysaml2 answers at %q, not acme's SingleLogoutService", reply.URL)
			}
			resp := p.Serve(crossSite(t, reply.URL, reply.Fields))
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out?slo=done" {
				t.Fatalf("pysaml2's LogoutResponse (%s): status %d Location %q (event %+v)", binding, resp.StatusCode, resp.Header.Get("Location"), p.lastEvent(t))
			}
		})
	}
}

// TestPySAML2SingleLogoutStartedAtTheIdP: pysaml2's LogoutRequest, with
// either binding, ends the session it names (and only it), and pysaml2
// verifies the portal's LogoutResponse.
func TestPySAML2SingleLogoutStartedAtTheIdP(t *testing.T) {
	p := newPortalWithPySAML2(t)
	for _, binding := range []string{"redirect", "post"} {
		t.Run(binding, func(t *testing.T) {
			named, index := p.signIn(t)
			other, _ := p.signIn(t)
			req := p.request("logout_request")
			req.Binding, req.NameID, req.SessionIndexes = binding, userNameID, []string{index}
			rs := "pysaml2-relay"
			req.RelayState = &rs
			var reply bindingReply
			runIdP(t, req, &reply)
			resp := p.Serve(crossSite(t, reply.URL, reply.Fields))
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), idpSLOURL+"?") {
				t.Fatalf("pysaml2's LogoutRequest (%s): status %d Location %q: %s (event %+v)", binding, resp.StatusCode,
					resp.Header.Get("Location"), portaltest.Body(t, resp), p.lastEvent(t))
			}
			if p.signedIn(named) || !p.signedIn(other) {
				t.Fatal("the LogoutRequest must end the session of its SessionIndex, and only that one")
			}
			q := loc.Query()
			parse := p.request("parse_logout_response")
			parse.SAMLResponse, parse.SigAlg, parse.Signature = q.Get("SAMLResponse"), q.Get("SigAlg"), q.Get("Signature")
			relay := q.Get("RelayState")
			parse.RelayState = &relay
			var answer struct {
				InResponseTo   string `json:"in_response_to"`
				Status         string `json:"status"`
				Issuer         string `json:"issuer"`
				Destination    string `json:"destination"`
				SignatureValid bool   `json:"signature_valid"`
			}
			runIdP(t, parse, &answer)
			if !answer.SignatureValid || answer.Status != "urn:oasis:names:tc:SAML:2.0:status:Success" || answer.Issuer != spEntityID ||
				answer.Destination != idpSLOURL || answer.InResponseTo == "" || relay != rs {
				t.Errorf("pysaml2 read the LogoutResponse as %+v (RelayState %q)", answer, relay)
			}
			if e := p.lastEvent(t); e.Flow != sso.FlowLogoutIdP || e.Result != sso.ResultSuccess {
				t.Errorf("event %+v", e)
			}
			// Signed out of the other session too, for the next binding.
			p.Do("POST", acmeHost, "/logout", url.Values{}, other)
		})
	}
}

// TestPySAML2EncryptedAssertions: assertions pysaml2 (xmlsec1) encrypts
// with AES-GCM and AES-CBC under RSA-OAEP decrypt and pass every check of
// the ACS; what must be refused is.
func TestPySAML2EncryptedAssertions(t *testing.T) {
	p := newPortalWithPySAML2(t)
	other := newKeyPair(t, "not-the-sp")
	cases := []struct {
		name         string
		cipher       string
		transport    string
		signResponse bool
		signAssert   bool
		encryptTo    string
		tamper       bool
		reason       string // "" for a sign-in
	}{
		{name: "AES-128-GCM, RSA-OAEP", cipher: "aes128-gcm", signAssert: true},
		{name: "AES-256-GCM, RSA-OAEP", cipher: "aes256-gcm", signAssert: true},
		{name: "AES-128-CBC in a signed Response", cipher: "aes128-cbc", signResponse: true, signAssert: true},
		{name: "AES-256-CBC in a signed Response", cipher: "aes256-cbc", signResponse: true, signAssert: true},
		{name: "AES-256-CBC, Response not signed", cipher: "aes256-cbc", signAssert: true, reason: sso.ReasonUnauthenticatedCBC},
		{name: "RSA 1.5", cipher: "aes256-gcm", transport: "rsa-1_5", signAssert: true, reason: xmlguard.ReasonEncryptionAlgorithm},
		{name: "encrypted to another key", cipher: "aes256-gcm", signAssert: true, encryptTo: other.certFile, reason: sso.ReasonUndecryptable},
		{name: "tampered ciphertext", cipher: "aes256-gcm", signAssert: true, tamper: true, reason: sso.ReasonUndecryptable},
		{name: "wrapping an unsigned assertion", cipher: "aes256-gcm", signResponse: true, reason: xmlguard.ReasonUnsigned},
	}
	reqs := make([]idpRequest, len(cases))
	for i, c := range cases {
		req := p.request("response")
		req.NameID, req.Attributes = userNameID, userAttributes
		req.SignResponse, req.SignAssertion = c.signResponse, c.signAssert
		req.Encrypt, req.ContentCipher, req.KeyTransport, req.EncryptCertFile = true, c.cipher, c.transport, c.encryptTo
		reqs[i] = req
	}
	var replies []struct {
		Response string `json:"response"`
	}
	runIdP(t, reqs, &replies)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw, err := base64.StdEncoding.DecodeString(replies[i].Response)
			if err != nil {
				t.Fatal(err)
			}
			transport := cmp.Or(c.transport, "rsa-oaep-mgf1p")
			if !bytes.Contains(raw, []byte("EncryptedAssertion")) || bytes.Contains(raw, []byte("<saml:Assertion")) ||
				!bytes.Contains(raw, []byte(`#`+c.cipher+`"`)) || !bytes.Contains(raw, []byte(`#`+transport+`"`)) {
				t.Fatalf("pysaml2 did not encrypt the assertion with %s and %s:\n%s", c.cipher, transport, raw)
			}
			if c.tamper {
				raw = tamperCipherValue(t, raw)
			}
			resp := p.Serve(crossSite(t, "http://"+acmeHost+"/saml/acs", map[string]string{"SAMLResponse": base64.StdEncoding.EncodeToString(raw)}))
			e := p.lastEvent(t)
			if c.reason == "" {
				if resp.StatusCode != http.StatusSeeOther || portaltest.Cookie(resp, "session") == nil || e.Result != sso.ResultSuccess {
					t.Fatalf("status %d, want a sign-in (event %+v)\n%s", resp.StatusCode, e, raw)
				}
				return
			}
			if resp.StatusCode != http.StatusForbidden || e.Result != sso.ResultRefused || e.Reason != c.reason {
				t.Errorf("status %d event %q %q (%s), want refused %q", resp.StatusCode, e.Result, e.Reason, e.Detail, c.reason)
			}
		})
	}
}

// tamperCipherValue flips a byte in the middle of the EncryptedData's
// CipherValue.
func tamperCipherValue(t *testing.T, raw []byte) []byte {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	value := doc.FindElement("//EncryptedAssertion/EncryptedData/CipherData/CipherValue")
	data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(value.Text()), ""))
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	value.SetText(base64.StdEncoding.EncodeToString(data))
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
