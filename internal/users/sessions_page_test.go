package users_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/users"
)

const host = "acme.localhost:8080"

// signIn starts a session of uid on site from a browser and address, as
// the ACS does, and returns the cookie and the session.
func signIn(t *testing.T, p *portaltest.Portal, site sites.Site, uid, userAgent, ip string) (*http.Cookie, session.Session) {
	t.Helper()
	ctx := context.Background()
	var user users.User
	var token string
	err := pgx.BeginFunc(ctx, p.App.Pool, func(tx pgx.Tx) error {
		var err error
		user, token, err = p.App.Users.SignInTx(ctx, tx, site.ID, users.Identity{UID: uid, Email: uid, FirstName: "B", LastName: "Simon"},
			users.Policy{AutoCreate: true}, session.Origin{UserAgent: userAgent, ClientIP: ip})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := p.App.Sessions.Lookup(ctx, site.ID, session.User, token, session.UserPolicy)
	if err != nil || sess.SubjectID != user.ID {
		t.Fatalf("the new session: %+v %v", sess, err)
	}
	return &http.Cookie{Name: users.SessionCookie, Value: token}, sess
}

// TestSignedInOnListsAndEndsTheUsersSessions: "Signed in on" shows each of
// the user's sessions (browser, when, address, this one marked), and signs
// them out one by one or everywhere; never another user's.
func TestSignedInOnListsAndEndsTheUsersSessions(t *testing.T) {
	p := portaltest.New(t)
	acme := p.CreateSite("acme")
	const (
		firefox = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0"
		chrome  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"
	)
	laptop, laptopSession := signIn(t, p, acme, "b.simon@contoso.com", firefox, "198.51.100.7")
	phone, phoneSession := signIn(t, p, acme, "b.simon@contoso.com", chrome, "203.0.113.9")
	office, _ := signIn(t, p, acme, "b.simon@contoso.com", "curl/8.5.0", "")
	alice, aliceSession := signIn(t, p, acme, "a.lee@contoso.com", chrome, "192.0.2.44")

	// On the user's Preferences, linked from the home page; the old
	// address leads there.
	_, home := p.Get(host, "/", laptop)
	if !strings.Contains(home, `href="/preferences"`) {
		t.Errorf("the home page does not link to the preferences: %.600s", home)
	}
	if resp, _ := p.Get(host, "/sessions", laptop); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/preferences#sessions" {
		t.Errorf("GET /sessions: %d %q, want 303 to the preferences", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := p.Get(host, "/preferences", laptop)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /preferences: status %d", resp.StatusCode)
	}
	for _, want := range []string{"Signed in on", "Firefox 120 on macOS", "198.51.100.7", "Chrome 118 on Windows", "203.0.113.9", "An unknown browser", "Sign out everywhere",
		`id="session-` + strconv.FormatInt(laptopSession.ID, 10) + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(page, "192.0.2.44") || strings.Contains(page, `id="session-`+strconv.FormatInt(aliceSession.ID, 10)+`"`) {
		t.Error("another user's session is listed")
	}
	if n := strings.Count(page, "(this browser)"); n != 1 || !strings.Contains(page, `class="session current" id="session-`+strconv.FormatInt(laptopSession.ID, 10)+`"`) {
		t.Errorf("the current session is not marked once (%d marks)", n)
	}

	// Signed out, the page asks to sign in (here: SSO is not set up).
	live := func(c *http.Cookie) bool {
		_, page := p.Get(host, "/preferences", c)
		return strings.Contains(page, "Signed in on")
	}
	// Sign out the phone from the laptop.
	end := func(id int64) *http.Response {
		return p.Do("POST", host, "/sessions/"+strconv.FormatInt(id, 10)+"/end", url.Values{}, laptop)
	}
	if resp := end(phoneSession.ID); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/preferences?done=session-ended#sessions" {
		t.Fatalf("Sign out of the phone: status %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if live(phone) || !live(laptop) {
		t.Fatal("Sign out of one session must end that one only")
	}
	// Another user's session id: nothing happens to it.
	end(aliceSession.ID)
	if !live(alice) {
		t.Fatal("a user signed out another user's session")
	}
	// Sign out everywhere: every session of the user, this one included.
	resp = p.Do("POST", host, "/sessions/end-all", url.Values{}, laptop)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out" {
		t.Fatalf("Sign out everywhere: status %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if live(laptop) || live(office) || !live(alice) {
		t.Fatal("Sign out everywhere must end all of the user's sessions and no one else's")
	}
}

// TestSigningOutTheCurrentSessionIsSigningOut: the current session's own
// Sign out on the list is the ordinary sign-out.
func TestSigningOutTheCurrentSessionIsSigningOut(t *testing.T) {
	p := portaltest.New(t)
	acme := p.CreateSite("acme")
	cookie, sess := signIn(t, p, acme, "b.simon@contoso.com", "", "")
	resp := p.Do("POST", host, "/sessions/"+strconv.FormatInt(sess.ID, 10)+"/end", url.Values{}, cookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out" {
		t.Fatalf("status %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if c := portaltest.Cookie(resp, users.SessionCookie); c != nil {
		t.Error("the session cookie was not cleared")
	}
	if _, page := p.Get(host, "/sessions", cookie); strings.Contains(page, "Signed in on") {
		t.Error("the session outlived its own Sign out")
	}
}

// TestAPageViewReadsTheUserWithTheSession: the home page shows the signed-in
// account as it is now, and an account deactivated or removed (by hand, its
// sessions left in place) is signed out, its cookie cleared.
func TestAPageViewReadsTheUserWithTheSession(t *testing.T) {
	p := portaltest.New(t)
	acme := p.CreateSite("acme")
	ctx := context.Background()
	// Signed in, /preferences is the account's own page (its address on it);
	// not, it is the way to sign in (the site has no SSO yet: a page saying so).
	signedIn := func(cookie *http.Cookie, uid string) (bool, string, string) {
		t.Helper()
		resp, body := p.Get(host, "/preferences", cookie)
		return resp.StatusCode == http.StatusOK && strings.Contains(body, uid), body, strings.Join(resp.Header.Values("Set-Cookie"), "; ")
	}

	alice, _ := signIn(t, p, acme, "a.lee@contoso.com", "curl/8.5.0", "")
	if ok, body, _ := signedIn(alice, "a.lee@contoso.com"); !ok {
		t.Fatalf("alice's preferences: signed in %v:\n%.2000s", ok, body)
	}
	if _, err := p.App.Pool.Exec(ctx, `UPDATE users SET first_name = 'Alicia' WHERE site_id = $1 AND uid = 'a.lee@contoso.com'`, acme.ID); err != nil {
		t.Fatal(err)
	}
	if ok, body, _ := signedIn(alice, "a.lee@contoso.com"); !ok || !strings.Contains(body, "Alicia") {
		t.Errorf("the page does not show the account as it is now:\n%.2000s", body)
	}

	for _, c := range []struct{ name, sql string }{
		{"deactivated", `UPDATE users SET active = false WHERE site_id = $1 AND uid = $2`},
		{"removed", `DELETE FROM users WHERE site_id = $1 AND uid = $2`},
	} {
		uid := c.name + "@contoso.com"
		cookie, _ := signIn(t, p, acme, uid, "curl/8.5.0", "")
		if ok, _, _ := signedIn(cookie, uid); !ok {
			t.Fatalf("%s: not signed in before", c.name)
		}
		if _, err := p.App.Pool.Exec(ctx, c.sql, acme.ID, uid); err != nil {
			t.Fatal(err)
		}
		if ok, _, setCookie := signedIn(cookie, uid); ok || !strings.Contains(setCookie, users.SessionCookie+"=;") {
			t.Errorf("%s account: signed in %v, Set-Cookie %q; want signed out and the cookie cleared", c.name, ok, setCookie)
		}
	}
}
