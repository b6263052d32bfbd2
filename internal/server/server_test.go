package server_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
)

const adminPassword = portaltest.AdminPassword

type portal struct {
	*portaltest.Portal
	t *testing.T
}

// newPortal is the portal with two sites, acme and globex.
func newPortal(t *testing.T, options ...portaltest.Option) *portal {
	t.Helper()
	p := &portal{Portal: portaltest.New(t, options...), t: t}
	p.CreateSite("acme")
	p.CreateSite("globex")
	return p
}

// do serves one request for host and path, as a browser on the same origin would.
func (p *portal) do(method, host, path string, form url.Values, cookies ...*http.Cookie) *http.Response {
	return p.Do(method, host, path, form, cookies...)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestHostRouting(t *testing.T) {
	p := newPortal(t)
	cases := []struct {
		name, host, path string
		status           int
		location, body   string
	}{
		{"site", "acme.localhost:8080", "/admin", 200, "", "Sign in to site administration"},
		{"upper-case host", "ACME.LOCALHOST:8080", "/admin", 200, "", "Sign in to site administration"},
		{"sign-on alias", "acme.my.localhost:8080", "/admin?x=1", 302, "http://acme.localhost:8080/admin?x=1", ""},
		{"alias of unknown site", "nobody.my.localhost:8080", "/", 302, "http://nobody.localhost:8080/", ""},
		{"unknown site", "nobody.localhost:8080", "/admin", 404, "", "No site here"},
		{"reserved name", "www.localhost:8080", "/", 404, "", "No site here"},
		{"dev idp off", "idp.localhost:8080", "/", 404, "", "No site here"},
		{"bare host", "localhost:8080", "/", 200, "", "Find your meetings site"},
		{"bare host other path", "localhost:8080", "/admin", 404, "", "Page not found"},
		{"wrong port", "acme.localhost:9999", "/admin", 404, "", "No site here"},
		{"no port", "acme.localhost", "/admin", 404, "", "No site here"},
		{"other domain", "acme.evil.example:8080", "/admin", 404, "", "No site here"},
		{"healthz on any host", "whatever.example", "/healthz", 200, "", "ok"},
		{"readyz on any host", "acme.localhost:8080", "/readyz", 200, "", "ready"},
		{"unknown page on a site", "acme.localhost:8080", "/nope", 404, "", "Page not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := p.do("GET", c.host, c.path, nil)
			body := readBody(t, resp)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, c.status, body)
			}
			if c.location != "" && resp.Header.Get("Location") != c.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), c.location)
			}
			if !strings.Contains(body, c.body) {
				t.Errorf("body lacks %q: %.300s", c.body, body)
			}
			if strings.Contains(body, "acme") && c.host != "acme.localhost:8080" && c.host != "ACME.LOCALHOST:8080" && c.status == 404 {
				t.Errorf("a 404 page names another site: %.300s", body)
			}
		})
	}
}

func TestEveryPageCarriesSecurityHeaders(t *testing.T) {
	p := newPortal(t)
	for _, path := range []string{"/admin", "/nope", "/healthz"} {
		resp := p.do("GET", "acme.localhost:8080", path, nil)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" || h.Get("X-Request-ID") == "" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS on plain http", path)
		}
	}
}

func TestHTTPSBaseURLAddsHSTSAndHostPrefixedCookies(t *testing.T) {
	p := newPortal(t, portaltest.WithBaseURL("https://meet.example.com"))
	resp := p.do("POST", "acme.meet.example.com", "/admin/login", url.Values{"email": {"admin@acme.test"}, "password": {adminPassword}})
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS with an https base URL")
	}
	c := sessionCookie(t, resp)
	if c.Name != "__Host-admin_session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Domain != "" || c.Path != "/" {
		t.Errorf("cookie %+v", c)
	}
}

func sessionCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "admin_session") && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no admin session cookie; status %d, cookies %v", resp.StatusCode, resp.Cookies())
	return nil
}

func TestHEADIsAnsweredLikeGET(t *testing.T) {
	p := newPortal(t)
	for _, c := range []struct {
		host, path string
		status     int
	}{{"localhost:8080", "/healthz", 200}, {"acme.localhost:8080", "/readyz", 200}, {"acme.localhost:8080", "/admin", 200}} {
		if resp := p.do("HEAD", c.host, c.path, nil); resp.StatusCode != c.status {
			t.Errorf("HEAD %s%s: %d, want %d", c.host, c.path, resp.StatusCode, c.status)
		}
	}
}

// Browsers ask every host for /favicon.ico on their own: the icon answers,
// on a site signed out (not a sign-in redirect), on the bare host and on an
// unknown host, and every page names the same icon.
func TestFaviconOnEveryHost(t *testing.T) {
	p := newPortal(t)
	for _, host := range []string{"acme.localhost:8080", "localhost:8080", "nobody.localhost:8080"} {
		resp, body := p.Get(host, "/favicon.ico")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
			t.Errorf("%s/favicon.ico: %d %s %.40q", host, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	_, page := p.Get("acme.localhost:8080", "/admin")
	if !strings.Contains(page, `<link rel="icon" href="/static/favicon.svg?v=`) {
		t.Errorf("the admin sign-in page does not name the icon")
	}
	if !strings.Contains(page, `<a class="skip-link" href="#main">`) || !strings.Contains(page, `<main id="main"`) {
		t.Errorf("the admin sign-in page has no skip link to its main content")
	}
}
