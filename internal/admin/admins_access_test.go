package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Only a signed-in admin of this site reaches the pages and actions: no
// cookie, or another site's admin cookie, is sent to this site's sign-in.
func TestAdminListPagesAreOnlyForAdminsOfThisSite(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "obj-1")
	if err := p.App.Sites.CreateAdmin(ctx, p.acme.ID, "second@acme.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	second := strconv.FormatInt(p.admin(p.acme, "second@acme.test").ID, 10)
	user := strconv.FormatInt(britta.ID, 10)
	globexCookie := p.SignInAdmin(globexHost, "admin@globex.test")
	requests := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/admin/events", nil},
		{"GET", "/admin/users", nil},
		{"GET", "/admin/admins", nil},
		{"GET", "/admin/audit", nil},
		{"POST", "/admin/users/" + user + "/deactivate", url.Values{}},
		{"POST", "/admin/users/" + user + "/reactivate", url.Values{}},
		{"POST", "/admin/users/" + user + "/relink", url.Values{}},
		{"POST", "/admin/admins", url.Values{"email": {"intruder@globex.test"}, "password": {adminPassword}}},
		{"POST", "/admin/admins/" + second + "/remove", url.Values{}},
	}
	for _, r := range requests {
		for name, cookies := range map[string][]*http.Cookie{"no cookie": nil, "globex admin": {globexCookie}} {
			if !sentToSignIn(r.method, p.Do(r.method, acmeHost, r.path, r.form, cookies...)) {
				t.Errorf("%s %s with %s: not sent to sign in", r.method, r.path, name)
			}
		}
	}
	if u, _ := p.App.Users.ByID(ctx, p.acme.ID, britta.ID); !u.Active || u.ObjectID != "obj-1" {
		t.Errorf("the account was changed: %+v", u)
	}
	if list, _ := p.App.Sites.ListAdmins(ctx, p.acme.ID); len(list) != 2 {
		t.Errorf("acme's admins changed: %v", list)
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Errorf("audit %q", got)
	}
}

// The actions are protected against cross-site requests by the portal's
// CrossOriginProtection, like every other form: a sibling site (same-site to
// the browser) cannot make acme's admin deactivate a user.
func TestAdminListActionsRefuseCrossOriginPosts(t *testing.T) {
	p := newPortal(t)
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "")
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	for _, path := range []string{"/admin/users/" + strconv.FormatInt(britta.ID, 10) + "/deactivate", "/admin/admins"} {
		req, _ := http.NewRequest("POST", "http://"+acmeHost+path, strings.NewReader("email=x%40globex.test&password=a+good+long+password"))
		req.Host = acmeHost
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-site")
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		p.Server.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("cross-origin POST %s: status %d", path, rec.Code)
		}
	}
	if u, _ := p.App.Users.ByID(context.Background(), p.acme.ID, britta.ID); !u.Active {
		t.Error("a cross-origin POST deactivated the user")
	}
}

func TestAdminHomeListsTheCommonSiteSettingsInOrder(t *testing.T) {
	p := newPortal(t)
	body := p.get(acmeHost, "/admin", p.SignInAdmin(acmeHost, "admin@acme.test"))
	last := -1
	for _, entry := range []string{
		`<a href="/admin/sso">SSO Configuration</a>`,
		`<a href="/admin/events">Sign-in events</a>`,
		`<a href="/admin/users">Users</a>`,
		`<a href="/admin/admins">Admins</a>`,
		`<a href="/admin/audit">Admin audit</a>`,
	} {
		i := strings.Index(body, entry)
		if i <= last {
			t.Fatalf("%s missing or out of order in %s", entry, body)
		}
		last = i
	}
}
