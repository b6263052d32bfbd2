package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/users"
)

const (
	firefoxOnMac   = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0"
	chromeOnWindow = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36"
)

// signInUserFrom signs uid in on acme from a browser and address, as the ACS
// does, and returns the session token.
func (p *portal) signInUserFrom(uid, userAgent, ip string) (users.User, string) {
	p.t.Helper()
	var user users.User
	var token string
	err := pgx.BeginFunc(context.Background(), p.App.Pool, func(tx pgx.Tx) error {
		var err error
		user, token, err = p.App.Users.SignInTx(context.Background(), tx, p.acme.ID, users.Identity{UID: uid, Email: uid, FirstName: "B", LastName: "Simon"},
			users.Policy{AutoCreate: true}, session.Origin{UserAgent: userAgent, ClientIP: ip, NameID: uid})
		return err
	})
	if err != nil {
		p.t.Fatal(err)
	}
	return user, token
}

func (p *portal) live(token string) bool {
	p.t.Helper()
	_, err := p.App.Sessions.Lookup(context.Background(), p.acme.ID, session.User, token, session.UserPolicy)
	return err == nil
}

// TestAdminSeesAndEndsUsersSessions: the Users page lists each account's
// live sessions (browser, address, since when); the admin ends one, or all
// of an account's, at once, once, and the audit log says so.
func TestAdminSeesAndEndsUsersSessions(t *testing.T) {
	p := newPortal(t)
	bsimon, laptop := p.signInUserFrom("b.simon@contoso.com", firefoxOnMac, "198.51.100.7")
	_, phone := p.signInUserFrom("b.simon@contoso.com", chromeOnWindow, "203.0.113.9")
	alee, alice := p.signInUserFrom("a.lee@contoso.com", chromeOnWindow, "192.0.2.44")
	admin := p.SignInAdmin(acmeHost, "admin@acme.test")

	body := p.get(acmeHost, "/admin/users", admin)
	for _, want := range []string{"Firefox 120 on macOS", "198.51.100.7", "Chrome 118 on Windows", "203.0.113.9", "192.0.2.44"} {
		if !strings.Contains(body, want) {
			t.Errorf("the Users page does not show %q", want)
		}
	}
	sessions, err := p.App.Sessions.List(context.Background(), p.acme.ID, session.User, bsimon.ID, session.UserPolicy)
	if err != nil || len(sessions) != 2 {
		t.Fatalf("B.Simon's sessions: %v %v", sessions, err)
	}
	var laptopID int64
	for _, s := range sessions {
		if s.ClientIP == "198.51.100.7" {
			laptopID = s.ID
		}
	}
	user := strconv.FormatInt(bsimon.ID, 10)
	end := "/admin/users/" + user + "/sessions/" + strconv.FormatInt(laptopID, 10) + "/end"
	if !strings.Contains(body, `action="`+end+`"`) {
		t.Fatalf("no End button for the laptop's session (%s)", end)
	}

	// One session: that browser is signed out, nothing else.
	p.post(acmeHost, end, url.Values{}, "/admin/users?done=end-session&id="+user, admin)
	if p.live(laptop) || !p.live(phone) || !p.live(alice) {
		t.Fatal("ending one session must end that one only")
	}
	// Pressed twice: nothing more happens, nothing more is recorded.
	p.post(acmeHost, end, url.Values{}, "/admin/users?done=end-session&id="+user, admin)
	// Every session of the account.
	p.post(acmeHost, "/admin/users/"+user+"/sessions/end", url.Values{}, "/admin/users?done=end-sessions&id="+user, admin)
	if p.live(phone) || !p.live(alice) {
		t.Fatal("Sign out everywhere must end every session of the account, and no one else's")
	}
	if body := p.get(acmeHost, "/admin/users?done=end-sessions&id="+user, admin); !strings.Contains(body, "Signed b.simon@contoso.com out everywhere") {
		t.Errorf("banner missing: %.500s", body)
	}
	want := []string{
		"admin@acme.test user.end-sessions User: b.simon@contoso.com; Account ID: " + user + "; Sessions ended: 1",
		"admin@acme.test user.end-session User: b.simon@contoso.com; Account ID: " + user + "; Session: " + strconv.FormatInt(laptopID, 10),
	}
	if got := p.auditEntries(p.acme); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("audit %q, want %q", got, want)
	}

	// Another site's admin cannot end them, nor another account's session
	// through this one's URL.
	aliceSessions, _ := p.App.Sessions.List(context.Background(), p.acme.ID, session.User, alee.ID, session.UserPolicy)
	p.post(acmeHost, "/admin/users/"+user+"/sessions/"+strconv.FormatInt(aliceSessions[0].ID, 10)+"/end", url.Values{}, "/admin/users?done=end-session&id="+user, admin)
	globexAdmin := p.SignInAdmin(globexHost, "admin@globex.test")
	if resp := p.Do("POST", globexHost, "/admin/users/"+strconv.FormatInt(alee.ID, 10)+"/sessions/end", url.Values{}, globexAdmin); resp.StatusCode != http.StatusNotFound {
		t.Errorf("globex's admin ending acme's sessions: status %d", resp.StatusCode)
	}
	if !p.live(alice) {
		t.Error("a session was ended through another account's or another site's URL")
	}
}
