package sso_test

import (
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

func TestMain(m *testing.M) {
	sso.SetClockSkew(3 * time.Minute)
	os.Exit(m.Run())
}

const (
	acmeHost     = "acme.localhost:8080"
	globexHost   = "globex.localhost:8080"
	acmeEntityID = "http://acme.localhost:8080/saml/metadata"
	acmeACS      = "http://acme.localhost:8080/saml/acs"
)

// portal is a whole portal over a fresh database, with two sites, acme and
// globex, each trusting its own Azure-shaped IdP and with SSO enabled.
type portal struct {
	*portaltest.Portal
	t        *testing.T
	pool     *pgxpool.Pool
	sso      *sso.Service
	acme     sites.Site
	globex   sites.Site
	idp      *ssotest.IdP // acme's IdP
	otherIdP *ssotest.IdP // globex's IdP
	// browser holds the cookies of the one browser the helpers act as:
	// what a sign-in start sets, the ACS post sends back.
	browser *browser
	// victim is the session a test expects to survive.
	victim *http.Cookie
}

// browser is the sign-in binding cookie (sso.BindingCookie) of one browser
// for one site host, as a browser keeps it: set by a sign-in start, sent
// with the IdP's cross-site POST, removed when set with Max-Age < 0. The
// session cookie is not kept: each test passes it where it wants it.
// (net/http/cookiejar would not send a Secure cookie over the tests' http
// URLs, which Chromium does for *.localhost.)
type browser struct {
	mu      sync.Mutex
	cookies map[string]*http.Cookie
}

func newBrowser() *browser { return &browser{cookies: map[string]*http.Cookie{}} }

// keep stores the cookies resp sets.
func (b *browser) keep(resp *http.Response) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range resp.Cookies() {
		if c.Name != sso.BindingCookie {
			continue
		}
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
}

// send adds the browser's cookies to req.
func (b *browser) send(req *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
}

func newPortal(t *testing.T, options ...portaltest.Option) *portal {
	t.Helper()
	tp := portaltest.New(t, options...)
	p := &portal{Portal: tp, t: t, pool: tp.App.Pool, sso: tp.App.SSO, idp: ssotest.NewIdP(t), otherIdP: ssotest.NewIdP(t), browser: newBrowser()}
	p.acme = trustingSite(t, tp, "acme", p.idp)
	p.globex = trustingSite(t, tp, "globex", p.otherIdP)
	return p
}

// trustingSite creates site name trusting idp, with SSO on and default
// options.
func trustingSite(tb testing.TB, tp *portaltest.Portal, name string, idp *ssotest.IdP) sites.Site {
	tb.Helper()
	ctx := context.Background()
	site := tp.CreateSite(name)
	if err := tp.App.SSO.SaveIdP(ctx, site.ID, &idpmeta.IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL, Certificates: []*x509.Certificate{idp.Cert}}); err != nil {
		tb.Fatal(err)
	}
	if _, err := tp.App.SSO.UpdateSettings(ctx, site.ID, func(s *sso.Settings) error { s.Enabled = true; return nil }); err != nil {
		tb.Fatal(err)
	}
	return site
}

// set changes a site's settings.
func (p *portal) set(site sites.Site, change func(*sso.Settings)) {
	p.t.Helper()
	if _, err := p.sso.UpdateSettings(context.Background(), site.ID, func(s *sso.Settings) error {
		change(s)
		return nil
	}); err != nil {
		p.t.Fatal(err)
	}
}

// get serves a GET as a browser would, with cookies.
func (p *portal) get(host, path string, cookies ...*http.Cookie) *http.Response {
	p.t.Helper()
	return p.getIn(nil, host, path, cookies...)
}

// getIn is get in browser b (nil: none), which also sends and keeps its
// binding cookie.
func (p *portal) getIn(b *browser, host, path string, cookies ...*http.Cookie) *http.Response {
	p.t.Helper()
	req := httptest.NewRequest("GET", "http://"+host+path, nil)
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return p.serveIn(b, req)
}

// serveIn serves req from browser b (nil: none).
func (p *portal) serveIn(b *browser, req *http.Request) *http.Response {
	if b == nil {
		return p.Serve(req)
	}
	b.send(req)
	resp := p.Serve(req)
	b.keep(resp)
	return resp
}

// postACS posts a SAMLResponse the way the IdP's auto-submitting form does:
// cross-site, with the browser's cookies (SameSite=None ones are sent on a
// cross-site POST).
func (p *portal) postACS(host, samlResponse, relayState string) *http.Response {
	p.t.Helper()
	return p.postACSFrom(p.browser, host, samlResponse, relayState)
}

// postACSFrom is postACS from browser b.
func (p *portal) postACSFrom(b *browser, host, samlResponse, relayState string) *http.Response {
	p.t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	return p.serveIn(b, idpPost(host, "/saml/acs", form))
}

// idpPost is form posted to host's path by the IdP's auto-submitting page:
// cross-site, from Azure's origin.
func idpPost(host, path string, form url.Values) *http.Request {
	req := httptest.NewRequest("POST", "http://"+host+path, strings.NewReader(form.Encode()))
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://login.microsoftonline.com")
	return req
}

// startSignIn opens a user page unauthenticated and returns the AuthnRequest
// the portal redirected to, decoded, and the RelayState.
func (p *portal) startSignIn(host, path string) (*etree.Element, string) {
	p.t.Helper()
	return p.startSignInFrom(p.browser, host, path)
}

// startSignInFrom is startSignIn in browser b.
func (p *portal) startSignInFrom(b *browser, host, path string, cookies ...*http.Cookie) (*etree.Element, string) {
	p.t.Helper()
	resp := p.getIn(b, host, path, cookies...)
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("GET %s: status %d, want 302 to the IdP: %s", path, resp.StatusCode, body(p.t, resp))
	}
	return p.authnRequest(resp)
}

// authnRequest decodes the AuthnRequest and RelayState of a redirect to
// the IdP.
func (p *portal) authnRequest(resp *http.Response) (*etree.Element, string) {
	p.t.Helper()
	return ssotest.AuthnRequest(p.t, resp.Header.Get("Location"))
}

// azure returns Azure-shaped options for a response to acme.
func azure(inResponseTo string) ssotest.Options {
	return ssotest.Options{ACS: acmeACS, Audience: acmeEntityID, InResponseTo: inResponseTo, Now: time.Now().UTC().Truncate(time.Second)}
}

func (p *portal) respond(o ssotest.Options) string {
	p.t.Helper()
	return ssotest.Encode(p.idp.Response(p.t, o))
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func userCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie (status %d)", resp.StatusCode)
	return nil
}

func hasUserCookie(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == "session" && c.Value != "" {
			return true
		}
	}
	return false
}

// lastEvent returns the newest sign-in event of a site, claims included.
func (p *portal) lastEvent(site sites.Site) sso.Event {
	p.t.Helper()
	events, err := p.sso.RecentEvents(context.Background(), site.ID, sso.EventFilter{Limit: 1})
	if err != nil || len(events) == 0 {
		p.t.Fatalf("no sign-in event: %v", err)
	}
	e, err := p.sso.EventByID(context.Background(), site.ID, events[0].ID)
	if err != nil {
		p.t.Fatal(err)
	}
	if events[0].Claims != nil {
		p.t.Errorf("the list of events carries claims: %v", events[0].Claims)
	}
	return e
}

func (p *portal) countUsers(site sites.Site) int {
	p.t.Helper()
	var n int
	if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE site_id = $1`, site.ID).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// startTestSSO has acme's admin press Test SSO in browser b and returns the
// AuthnRequest and RelayState it sends to the IdP.
func (p *portal) startTestSSO(b *browser) (*etree.Element, string) {
	p.t.Helper()
	resp := p.serveIn(b, portaltest.Request("GET", acmeHost, "/admin/sso/test", nil, p.SignInAdmin(acmeHost, portaltest.AdminEmail("acme"))))
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("Test SSO: status %d, want 302 to the IdP: %s", resp.StatusCode, body(p.t, resp))
	}
	return p.authnRequest(resp)
}
