package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/session"
)

// expire lets every admin session go idle past its timeout.
func (p *portal) expire() { p.Clock.Advance(session.AdminPolicy.Idle + time.Minute) }

// signInWith posts the sign-in form with the browser's other cookies (the
// resume cookie) and returns the answer.
func (p *portal) signInWith(host, email string, cookies ...*http.Cookie) *http.Response {
	p.t.Helper()
	return p.Do("POST", host, "/admin/login", url.Values{"email": {email}, "password": {adminPassword}}, cookies...)
}

func TestExpiredSessionKeepsThePostedFormAndReturnsAfterSignIn(t *testing.T) {
	p := newPortal(t)
	p.Clock.Set(time.Now())
	expired := p.SignInAdmin(acmeHost, "admin@acme.test")
	p.expire()

	form := url.Values{"email": {"new.user@contoso.com"}, "uid": {"new.user"}, "first_name": {"Nia"}, "last_name": {"Park"}, "role": {"attendee"}}
	// As a browser posts it: from the Users page (Referrer-Policy same-origin).
	req := portaltest.Request("POST", acmeHost, "/admin/users", form, expired)
	req.Header.Set("Referer", "http://"+acmeHost+"/admin/users?q=park")
	resp := p.Serve(req)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Your session expired — sign in to continue") || !strings.Contains(body, `action="/admin/login"`) {
		t.Fatalf("POST with an expired session: status %d: %.400s", resp.StatusCode, body)
	}
	resume := portaltest.Cookie(resp, "admin_resume")
	if resume == nil || !resume.HttpOnly || resume.SameSite != http.SameSiteLaxMode {
		t.Fatalf("no resume cookie, or a weak one: %+v", resume)
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Fatalf("the expired session changed something: %q", got)
	}

	// Signing in again goes back to the page, with the form as it was.
	signIn := p.signInWith(acmeHost, "admin@acme.test", resume)
	if signIn.StatusCode != http.StatusSeeOther || signIn.Header.Get("Location") != "/admin/users?q=park" {
		t.Fatalf("after sign-in: status %d to %q, want /admin/users?q=park", signIn.StatusCode, signIn.Header.Get("Location"))
	}
	fresh := portaltest.Cookie(signIn, "admin_session")
	resp, page := p.Get(acmeHost, "/admin/users", fresh, resume)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{"Your changes below were not saved yet", `value="new.user@contoso.com"`, `value="new.user"`, `value="Nia"`, `value="Park"`,
		`<option value="attendee" selected>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form given back lacks %q", want)
		}
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), "admin_resume=; Path=/; Max-Age=0") {
		t.Error("the resume cookie is not cleared once the form is given back")
	}
	// Once only.
	if _, page := p.Get(acmeHost, "/admin/users", fresh, resume); strings.Contains(page, "new.user@contoso.com") {
		t.Error("the form is given back twice")
	}
}

func TestExpiredSessionNeverKeepsAPassword(t *testing.T) {
	p := newPortal(t)
	p.Clock.Set(time.Now())
	expired := p.SignInAdmin(acmeHost, "admin@acme.test")
	p.expire()
	secret := "initial password 12345"
	req := portaltest.Request("POST", acmeHost, "/admin/admins", url.Values{"email": {"second@acme.test"}, "password": {secret}}, expired)
	req.Header.Set("Referer", "http://"+acmeHost+"/admin/admins")
	resp := p.Serve(req)
	resume := portaltest.Cookie(resp, "admin_resume")
	if resp.StatusCode != http.StatusUnauthorized || resume == nil {
		t.Fatalf("status %d, cookie %v", resp.StatusCode, resume)
	}
	var stored []byte
	if err := p.App.Pool.QueryRow(t.Context(), `SELECT form FROM session_resumes WHERE site_id = $1`, p.acme.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), "second@acme.test") {
		t.Error("the form is stored in the clear")
	}
	signIn := p.signInWith(acmeHost, "admin@acme.test", resume)
	if signIn.Header.Get("Location") != "/admin/admins" {
		t.Fatalf("after sign-in: to %q", signIn.Header.Get("Location"))
	}
	page := p.get(acmeHost, "/admin/admins", portaltest.Cookie(signIn, "admin_session"), resume)
	if !strings.Contains(page, `value="second@acme.test"`) || strings.Contains(page, secret) || !strings.Contains(page, "Type the initial password again.") {
		t.Errorf("the admins form given back: %.600s", pageError(page))
	}
}

// The way back is kept server-side: no query parameter, Referer or
// cookie can send the admin to another host, and a resume is of one site
// and one browser.
func TestExpiredSessionReturnIsAlwaysALocalAdminPath(t *testing.T) {
	p := newPortal(t)
	p.Clock.Set(time.Now())

	for _, tc := range []struct {
		name    string
		path    string
		referer string
	}{
		{"another host's Referer", "/admin/sso/import-url", "https://evil.example/admin/sso"},
		{"a Referer that browsers read as another host", "/admin/sso/import-url", "http://acme.localhost:8080//evil.example/admin"},
		{"a Referer outside the admin pages", "/admin/sso/import-url", "http://acme.localhost:8080/meetings/new"},
		{"a Referer with credentials", "/admin/sso/import-url", "http://evil.example@acme.localhost:8080/admin/sso"},
	} {
		expired := p.SignInAdmin(acmeHost, "admin@acme.test")
		p.expire()
		req := portaltest.Request("POST", acmeHost, tc.path, url.Values{"metadata_url": {"https://idp.example/m"}}, expired)
		req.Header.Set("Referer", tc.referer)
		resp := p.Serve(req)
		resume := portaltest.Cookie(resp, "admin_resume")
		if resume == nil {
			t.Errorf("%s: no resume", tc.name)
			continue
		}
		if to := p.signInWith(acmeHost, "admin@acme.test", resume).Header.Get("Location"); to != "/admin" {
			t.Errorf("%s: returned to %q, want /admin", tc.name, to)
		}
	}

}

func TestSignInTakesNoReturnFromTheRequest(t *testing.T) {
	p := newPortal(t)
	// Parameters of the sign-in form are not a way back.
	for _, q := range []string{"?next=//evil.example", "?return=https://evil.example", "?returnTo=/admin/users"} {
		resp := p.Do("POST", acmeHost, "/admin/login"+q, url.Values{"email": {"admin@acme.test"}, "password": {adminPassword}})
		if to := resp.Header.Get("Location"); to != "/admin" {
			t.Errorf("sign-in %s: to %q", q, to)
		}
	}
	// A page visited with an expired session is returned to, query and all.
	p.Clock.Set(time.Now())
	expired := p.SignInAdmin(acmeHost, "admin@acme.test")
	p.expire()
	resp := p.Do("GET", acmeHost, "/admin/events?result=refused", nil, expired)
	resume := portaltest.Cookie(resp, "admin_resume")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" || resume == nil {
		t.Fatalf("GET with an expired session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if to := p.signInWith(acmeHost, "admin@acme.test", resume).Header.Get("Location"); to != "/admin/events?result=refused" {
		t.Errorf("returned to %q", to)
	}

	// A forged resume cookie leads nowhere; acme's resume does not work on globex.
	if to := p.signInWith(acmeHost, "admin@acme.test", &http.Cookie{Name: "admin_resume", Value: "forged"}).Header.Get("Location"); to != "/admin" {
		t.Errorf("forged cookie: to %q", to)
	}
	expired = p.SignInAdmin(acmeHost, "admin@acme.test")
	p.expire()
	resume = portaltest.Cookie(p.Do("GET", acmeHost, "/admin/users", nil, expired), "admin_resume")
	if to := p.signInWith(globexHost, "admin@globex.test", resume).Header.Get("Location"); to != "/admin" {
		t.Errorf("acme's resume on globex: to %q", to)
	}
}

func TestSafeReturnPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/admin":                        true,
		"/admin/users?q=a":              true,
		"":                              false,
		"admin":                         false,
		"//evil.example/admin":          false,
		"/\\evil.example":               false,
		"/\t/evil.example":              false,
		"/admin\n":                      false,
		"https://evil.example/":         false,
		"/admin/../\\evil":              false,
		"/" + strings.Repeat("a", 3000): false,
	} {
		if got := session.SafeReturnPath(path); got != want {
			t.Errorf("SafeReturnPath(%q) = %v, want %v", path, got, want)
		}
	}
}

// A visitor who never had a session stores nothing, whatever they post.
func TestAnonymousRequestsStoreNoResume(t *testing.T) {
	p := newPortal(t)
	for _, method := range []string{"GET", "POST"} {
		resp := p.Do(method, acmeHost, "/admin/users", url.Values{"email": {"x@example.com"}})
		if !sentToSignIn(method, resp) || portaltest.Cookie(resp, "admin_resume") != nil {
			t.Errorf("%s: answered %d with a resume cookie", method, resp.StatusCode)
		}
	}
	var n int
	if err := p.App.Pool.QueryRow(t.Context(), `SELECT count(*) FROM session_resumes`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d resumes stored (%v)", n, err)
	}
}

// The SSO options posted with an expired session come back after sign-in
// with the version they were edited from, and saving them then works.
func TestExpiredSessionGivesBackTheSSOOptions(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	p.Clock.Set(time.Now())
	expired := p.SignInAdmin(acmeHost, "admin@acme.test")
	_, page := p.Get(acmeHost, "/admin/sso", expired)
	form := portaltest.FormValues(t, page, "sso-options")
	revision := form.Get("revision")
	form.Set("default_target", "/meetings/new")
	p.expire()
	req := portaltest.Request("POST", acmeHost, "/admin/sso", form, expired)
	req.Header.Set("Referer", "http://"+acmeHost+"/admin/sso")
	resp := p.Serve(req)
	resume := portaltest.Cookie(resp, "admin_resume")
	if resp.StatusCode != http.StatusUnauthorized || resume == nil {
		t.Fatalf("status %d, resume %v", resp.StatusCode, resume)
	}
	if p.settings().DefaultTarget == "/meetings/new" {
		t.Fatal("the expired session saved the options")
	}
	signIn := p.signInWith(acmeHost, "admin@acme.test", resume)
	if signIn.Header.Get("Location") != "/admin/sso" {
		t.Fatalf("after sign-in: to %q", signIn.Header.Get("Location"))
	}
	fresh := portaltest.Cookie(signIn, "admin_session")
	page = p.get(acmeHost, "/admin/sso", fresh, resume)
	given := portaltest.FormValues(t, page, "sso-options")
	if given.Get("default_target") != "/meetings/new" || given.Get("revision") != revision || !strings.Contains(page, "not saved yet") {
		t.Fatalf("options given back: default target %q, revision %q (was %q)", given.Get("default_target"), given.Get("revision"), revision)
	}
	p.post(acmeHost, "/admin/sso", given, "/admin/sso?done=saved", fresh)
	if got := p.settings().DefaultTarget; got != "/meetings/new" {
		t.Errorf("saved default target %q", got)
	}
}

// A form whose page cannot give it back (the manual IdP entry) is not
// said to be kept: the admin reads that it was not saved and that sign-in
// returns to the page; the form given back promise is for the pages that
// keep it (the test above).
func TestExpiredSessionSaysWhatIsKeptOfAFormNoPageGivesBack(t *testing.T) {
	p := newPortal(t)
	p.Clock.Set(time.Now())
	expired := p.SignInAdmin(acmeHost, "admin@acme.test")
	p.expire()
	req := portaltest.Request("POST", acmeHost, "/admin/sso/idp", url.Values{"entity_id": {"https://sts.windows.net/x/"}}, expired)
	req.Header.Set("Referer", "http://"+acmeHost+"/admin/sso")
	resp := p.Serve(req)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "What you were saving is kept") ||
		!strings.Contains(body, "was not saved: after signing in you are taken back to the page") {
		t.Fatalf("POST /admin/sso/idp with an expired session: status %d: %.600s", resp.StatusCode, body)
	}
	if signIn := p.signInWith(acmeHost, "admin@acme.test", portaltest.Cookie(resp, "admin_resume")); signIn.Header.Get("Location") != "/admin/sso" {
		t.Errorf("after sign-in: to %q, want /admin/sso", signIn.Header.Get("Location"))
	}
}
