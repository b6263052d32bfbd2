package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/portaltest"
)

const acme = "acme.localhost:8080"

func signInForm(email, pw string) url.Values {
	return url.Values{"email": {email}, "password": {pw}}
}

func TestAdminSignIn(t *testing.T) {
	p := newPortal(t)
	cases := []struct {
		name, email, pw string
		ok              bool
	}{
		{"right", "admin@acme.test", adminPassword, true},
		{"right, other case", "ADMIN@acme.test", adminPassword, true},
		{"wrong password", "admin@acme.test", "wrong password here", false},
		{"unknown user", "nobody@acme.test", adminPassword, false},
		{"admin of another site", "admin@globex.test", adminPassword, false},
	}
	var wrongBodies []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := p.do("POST", acme, "/admin/login", signInForm(c.email, c.pw))
			body := readBody(t, resp)
			if c.ok {
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("status %d: %.300s", resp.StatusCode, body)
				}
				home := p.do("GET", acme, "/admin", nil, sessionCookie(t, resp))
				if b := readBody(t, home); !strings.Contains(b, "SSO Configuration") || !strings.Contains(b, "Common Site Settings") {
					t.Fatalf("admin home lacks the SSO Configuration entry: %.500s", b)
				}
				return
			}
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong e-mail address or password.") {
				t.Fatalf("status %d: %.300s", resp.StatusCode, body)
			}
			if len(resp.Cookies()) != 0 {
				t.Errorf("refused sign-in set cookies %v", resp.Cookies())
			}
			wrongBodies = append(wrongBodies, strings.ReplaceAll(body, c.email, ""))
		})
	}
	// Same message for a wrong password and an unknown account: no enumeration.
	for i := range wrongBodies {
		if stripRef(wrongBodies[i]) != stripRef(wrongBodies[0]) {
			t.Errorf("refusal pages differ:\n%s\n---\n%s", wrongBodies[0], wrongBodies[i])
		}
	}
}

func stripRef(body string) string {
	// Request IDs differ per request.
	if i := strings.Index(body, `class="ref"`); i >= 0 {
		return body[:i]
	}
	return body
}

func TestAdminSignInIsRateLimitedPerClientAndSite(t *testing.T) {
	p := newPortal(t, portaltest.Configure(func(a *app.App) { a.AdminSignInRate = 3 }))
	for i := 0; i < 3; i++ {
		if resp := p.do("POST", acme, "/admin/login", signInForm("admin@acme.test", "wrong password here")); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d", i+1, resp.StatusCode)
		}
	}
	resp := p.do("POST", acme, "/admin/login", signInForm("admin@acme.test", adminPassword))
	if body := readBody(t, resp); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many sign-in attempts") {
		t.Fatalf("4th attempt: status %d, %.200s", resp.StatusCode, body)
	}
	// Another site's counter is separate.
	if resp := p.do("POST", "globex.localhost:8080", "/admin/login", signInForm("admin@globex.test", adminPassword)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("globex sign-in limited by acme's counter: %d", resp.StatusCode)
	}
}

func TestAdminCookieFromOneSiteIsRefusedOnAnother(t *testing.T) {
	p := newPortal(t)
	c := sessionCookie(t, p.do("POST", acme, "/admin/login", signInForm("admin@acme.test", adminPassword)))
	resp := p.do("GET", "globex.localhost:8080", "/admin/sso", nil, c)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("acme cookie on globex: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if b := readBody(t, p.do("GET", "globex.localhost:8080", "/admin", nil, c)); !strings.Contains(b, "Sign in to site administration") {
		t.Fatalf("globex admin home with acme cookie: %.300s", b)
	}
	if resp := p.do("GET", acme, "/admin/sso", nil, c); resp.StatusCode != http.StatusOK {
		t.Fatalf("acme cookie on acme: %d", resp.StatusCode)
	}
}

func TestSignOutEndsTheSessionAndSignInReplacesTheToken(t *testing.T) {
	p := newPortal(t)
	first := sessionCookie(t, p.do("POST", acme, "/admin/login", signInForm("admin@acme.test", adminPassword)))
	second := sessionCookie(t, p.do("POST", acme, "/admin/login", signInForm("admin@acme.test", adminPassword), first))
	if first.Value == second.Value {
		t.Fatal("sign-in kept the old token (session fixation)")
	}
	if resp := p.do("GET", acme, "/admin/sso", nil, first); resp.StatusCode == http.StatusOK {
		t.Error("the token replaced at sign-in still works")
	}
	p.do("POST", acme, "/admin/logout", url.Values{}, second)
	if resp := p.do("GET", acme, "/admin/sso", nil, second); resp.StatusCode == http.StatusOK {
		t.Error("session still works after sign-out")
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	p := newPortal(t)
	for _, hdr := range []struct{ name, value string }{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"}, // a sibling site: globex posting into acme
	} {
		req := newFormRequest(acme, "/admin/login", signInForm("admin@acme.test", adminPassword))
		req.Header.Set(hdr.name, hdr.value)
		resp := serve(p, req)
		if body := readBody(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "sent from another site") {
			t.Errorf("%s: %s: status %d %.200s", hdr.name, hdr.value, resp.StatusCode, body)
		}
	}
	req := newFormRequest(acme, "/admin/login", signInForm("admin@acme.test", adminPassword))
	req.Header.Del("Sec-Fetch-Site")
	req.Header.Set("Origin", "http://evil.example")
	if resp := serve(p, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Origin: status %d", resp.StatusCode)
	}
}

// Ids in paths are digits: strconv reads "+7" as 7, which let one account
// answer at another address.
func TestIDsInPathsAreDigitsOnly(t *testing.T) {
	p := newPortal(t)
	site, err := p.App.Sites.ByName(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	user, _ := p.SignInUser(site, "b.simon@contoso.com", "B", "Simon", "host")
	admin := p.SignInAdmin(acme, "admin@acme.test")
	for _, c := range []struct {
		path string
		want int
	}{
		{fmt.Sprintf("/admin/users/%d/deactivate", user.ID), http.StatusOK},
		{fmt.Sprintf("/admin/users/+%d/deactivate", user.ID), http.StatusNotFound},
		{fmt.Sprintf("/admin/users/%%2B%d/deactivate", user.ID), http.StatusNotFound},
		{fmt.Sprintf("/admin/users/-%d/relink", user.ID), http.StatusNotFound},
		{"/admin/events/1e3", http.StatusNotFound},
	} {
		if resp, body := p.Get(acme, c.path, admin); resp.StatusCode != c.want {
			t.Errorf("GET %s: status %d, want %d: %.200s", c.path, resp.StatusCode, c.want, body)
		}
	}
}
