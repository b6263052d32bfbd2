// Package scaleout tests the portal as operators scale it: several
// identical processes behind a load balancer, on one PostgreSQL.
package scaleout

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// TestTwoProcessesOnOneDatabase runs two portal processes, A and B, on
// different ports and one database, as two replicas behind a load balancer
// that does not keep a browser on one of them.
func TestTwoProcessesOnOneDatabase(t *testing.T) {
	dbURL := dbtest.NewURL(t)
	key := portaltest.Key
	bin := filepath.Join(t.TempDir(), "portal")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/portal").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Both processes serve the same base URL: the load balancer's.
	portA, portB := portaltest.FreePort(t), portaltest.FreePort(t)
	base := fmt.Sprintf("http://localhost:%d", portA)
	hosts, _ := sites.ParseBaseURL(base)
	siteHost := strings.TrimPrefix(hosts.SiteURL("acme"), "http://")

	// The site and its IdP, made as `portal site create` and an import do.
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	box, _ := seal.New(key)
	setup := app.New(pool, app.Config{Hosts: hosts, Box: box})
	site, err := setup.CreateSite(context.Background(), "acme", "admin@acme.test", portaltest.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	idp := ssotest.NewIdP(t)
	if err := setup.SSO.SaveIdP(context.Background(), site.ID, &idpmeta.IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL,
		Certificates: []*x509.Certificate{idp.Cert}}); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.SSO.UpdateSettings(context.Background(), site.ID, func(s *sso.Settings) error { s.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}

	a := start(t, bin, dbURL, key, base, portA)
	b := start(t, bin, dbURL, key, base, portB)

	// One browser; the load balancer sends each request where it likes.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// An SP-initiated sign-in started on A completes on B.
	resp := a.get(t, browser, siteHost, "/")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET / on A: %d, want 302 to the IdP", resp.StatusCode)
	}
	request, relayState := ssotest.AuthnRequest(t, resp.Header.Get("Location"))
	response := ssotest.Encode(idp.Response(t, ssotest.Options{ACS: hosts.SiteURL("acme") + "/saml/acs",
		Audience: hosts.SiteURL("acme") + "/saml/metadata", InResponseTo: request.SelectAttrValue("ID", "")}))
	form := url.Values{"SAMLResponse": {response}, "RelayState": {relayState}}
	resp = b.post(t, browser, siteHost, "/saml/acs", form)
	if resp.StatusCode != http.StatusSeeOther || portaltest.Cookie(resp, "session") == nil {
		t.Fatalf("the answer posted to B: %d %s", resp.StatusCode, body(resp))
	}
	if resp := b.get(t, browser, siteHost, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the meetings home on B after signing in: %d", resp.StatusCode)
	}
	if resp := a.get(t, browser, siteHost, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the meetings home on A with the session made on B: %d", resp.StatusCode)
	}

	// Replaying that assertion on A is refused.
	if resp := a.post(t, &http.Client{}, siteHost, "/saml/acs", form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the same response replayed on A: %d, want 403", resp.StatusCode)
	}

	// An admin session made on A works on B.
	admin, _ := cookiejar.New(nil)
	adminBrowser := &http.Client{Jar: admin, CheckRedirect: browser.CheckRedirect}
	resp = a.post(t, adminBrowser, siteHost, "/admin/login", url.Values{"email": {"admin@acme.test"}, "password": {portaltest.AdminPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in on A: %d", resp.StatusCode)
	}
	resp = b.get(t, adminBrowser, siteHost, "/admin/sso")
	page := body(resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "SSO Configuration") {
		t.Fatalf("the SSO page on B with the admin session made on A: %d", resp.StatusCode)
	}

	// A configuration change on A is used by B within a second. B has the
	// settings in memory (it served sign-ins); the change is one field of
	// the SSO page, saved on A.
	options := portaltest.FormValues(t, page, "sso-options")
	options.Set("authn_context", "urn:oasis:names:tc:SAML:2.0:ac:classes:X509")
	if resp := a.post(t, adminBrowser, siteHost, "/admin/sso", options); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the SSO settings on A: %d %s", resp.StatusCode, body(resp))
	}
	saved := time.Now()
	for {
		resp := b.get(t, &http.Client{CheckRedirect: browser.CheckRedirect}, siteHost, "/")
		request, _ := ssotest.AuthnRequest(t, resp.Header.Get("Location"))
		if asks(request, "urn:oasis:names:tc:SAML:2.0:ac:classes:X509") {
			t.Logf("B used A's change %s after it was saved", time.Since(saved).Round(time.Millisecond))
			break
		}
		if time.Since(saved) > time.Second {
			t.Fatal("B still asks for the old AuthnContextClassRef a second after A saved the new one")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// asks reports whether an AuthnRequest asks for the AuthnContextClassRef
// ref.
func asks(request *etree.Element, ref string) bool {
	for _, el := range request.FindElements(".//AuthnContextClassRef") {
		if el.Text() == ref {
			return true
		}
	}
	return false
}

// process is one running portal.
type process struct{ addr string }

func start(t *testing.T, bin, dbURL string, key []byte, base string, port int) process {
	t.Helper()
	logFile, err := os.Create(filepath.Join(t.TempDir(), fmt.Sprintf("portal-%d.log", port)))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--no-migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, fmt.Sprintf("PORTAL_ADDR=127.0.0.1:%d", port),
		"PORTAL_BASE_URL="+base, fmt.Sprintf("PORTAL_METRICS_ADDR=127.0.0.1:%d", portaltest.FreePort(t)),
		"PORTAL_SECRET_KEY="+hex.EncodeToString(key), "PORTAL_SHUTDOWN_GRACE=0s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("log of the process on port %d:\n%s", port, b)
		}
		logFile.Close()
	})
	p := process{addr: fmt.Sprintf("127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal on port %d is not ready after 30 s", port)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get and post send a request for host to this process, as a load balancer
// would, with the client's cookies for that host.
func (p process) get(t *testing.T, c *http.Client, host, path string) *http.Response {
	t.Helper()
	return p.do(t, c, http.MethodGet, host, path, nil)
}

func (p process) post(t *testing.T, c *http.Client, host, path string, form url.Values) *http.Response {
	t.Helper()
	return p.do(t, c, http.MethodPost, host, path, form)
}

func (p process) do(t *testing.T, c *http.Client, method, host, path string, form url.Values) *http.Response {
	t.Helper()
	var reader io.Reader
	if form != nil {
		reader = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, "http://"+p.addr+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://"+host)
	}
	// Cookies belong to the site's host, whichever process answers: the
	// jar is keyed by the URL the browser sees.
	siteURL := &url.URL{Scheme: "http", Host: host, Path: path}
	if c.Jar != nil {
		for _, ck := range c.Jar.Cookies(siteURL) {
			req.AddCookie(ck)
		}
	}
	jar := c.Jar
	noJar := *c
	noJar.Jar = nil
	resp, err := noJar.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if jar != nil {
		jar.SetCookies(siteURL, resp.Cookies())
	}
	return resp
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}
