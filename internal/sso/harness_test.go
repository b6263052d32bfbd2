package sso_test

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/server"
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
	t        *testing.T
	pool     *pgxpool.Pool
	srv      *server.Server
	sso      *sso.Service
	acme     sites.Site
	globex   sites.Site
	idp      *ssotest.IdP // acme's IdP
	otherIdP *ssotest.IdP // globex's IdP
}

func newPortal(t *testing.T) *portal {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	box, err := seal.New(bytes.Repeat([]byte{42}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := sites.ParseBaseURL("http://localhost:8080")
	log := slog.New(slog.DiscardHandler)
	svc := sso.New(pool, box, hosts, log, nil)
	store, _ := sites.NewStore(pool)
	p := &portal{t: t, pool: pool, sso: svc, idp: ssotest.NewIdP(t), otherIdP: ssotest.NewIdP(t)}
	for _, s := range []struct {
		site *sites.Site
		name string
		idp  *ssotest.IdP
	}{{&p.acme, "acme", p.idp}, {&p.globex, "globex", p.otherIdP}} {
		created, err := store.Create(ctx, s.name, "admin@"+s.name+".test", "a good long password")
		if err != nil {
			t.Fatal(err)
		}
		*s.site = created
		p.configure(created, s.idp)
	}
	p.srv, err = server.New(server.Options{Pool: pool, Hosts: hosts, Log: log, SSO: svc})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// configure makes site trust idp, with SSO on and default options.
func (p *portal) configure(site sites.Site, idp *ssotest.IdP) {
	p.t.Helper()
	ctx := context.Background()
	if err := p.sso.SaveIdP(ctx, site.ID, &idpmeta.IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL, Certificates: []*x509.Certificate{idp.Cert}}); err != nil {
		p.t.Fatal(err)
	}
	on := true
	if err := p.sso.SetOptions(ctx, site.ID, sso.Options{Enabled: &on}); err != nil {
		p.t.Fatal(err)
	}
}

func (p *portal) set(site sites.Site, o sso.Options) {
	p.t.Helper()
	if err := p.sso.SetOptions(context.Background(), site.ID, o); err != nil {
		p.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// get serves a GET as a browser would, with cookies.
func (p *portal) get(host, path string, cookies ...*http.Cookie) *http.Response {
	p.t.Helper()
	req := httptest.NewRequest("GET", "http://"+host+path, nil)
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	p.srv.ServeHTTP(rec, req)
	return rec.Result()
}

// postACS posts a SAMLResponse the way the IdP's auto-submitting form does:
// cross-site, with no cookie.
func (p *portal) postACS(host, samlResponse, relayState string) *http.Response {
	p.t.Helper()
	form := url.Values{"SAMLResponse": {samlResponse}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	req := httptest.NewRequest("POST", "http://"+host+"/saml/acs", strings.NewReader(form.Encode()))
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://login.microsoftonline.com")
	rec := httptest.NewRecorder()
	p.srv.ServeHTTP(rec, req)
	return rec.Result()
}

// startSignIn opens a user page unauthenticated and returns the AuthnRequest
// the portal redirected to, decoded, and the RelayState.
func (p *portal) startSignIn(host, path string) (*etree.Element, string) {
	p.t.Helper()
	resp := p.get(host, path)
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("GET %s: status %d, want 302 to the IdP: %s", path, resp.StatusCode, body(p.t, resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		p.t.Fatal(err)
	}
	q := loc.Query()
	raw, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
	if err != nil {
		p.t.Fatalf("SAMLRequest: %v", err)
	}
	xmlBytes, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		p.t.Fatalf("inflate SAMLRequest: %v", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xmlBytes); err != nil {
		p.t.Fatal(err)
	}
	return doc.Root(), q.Get("RelayState")
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

// lastEvent returns the newest sign-in event of a site.
func (p *portal) lastEvent(site sites.Site) sso.Event {
	p.t.Helper()
	events, err := p.sso.RecentEvents(context.Background(), site.ID, sso.EventFilter{Limit: 1})
	if err != nil || len(events) == 0 {
		p.t.Fatalf("no sign-in event: %v", err)
	}
	return events[0]
}

func (p *portal) countUsers(site sites.Site) int {
	p.t.Helper()
	var n int
	if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE site_id = $1`, site.ID).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}
