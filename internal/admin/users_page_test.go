package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
)

func TestUsersPageListsTheSitesAccounts(t *testing.T) {
	p := newPortal(t)
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "obj-1")
	p.signInUser(p.globex, "someone@globex.test", "")
	body := p.get(acmeHost, "/admin/users", p.SignInAdmin(acmeHost, "admin@acme.test"))
	for _, want := range []string{
		`<a href="/admin">Site administration</a>`,
		"Britta Simon", "britta.simon@contoso.com", "Host, active", "by Auto Account Creation",
		utc(*britta.LastSignInAt),
		`href="/admin/users/` + strconv.FormatInt(britta.ID, 10) + `/deactivate"`,
		`href="/admin/users/` + strconv.FormatInt(britta.ID, 10) + `/relink"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	if rowCount(t, body, "users") != 1 || strings.Contains(body, "someone@globex.test") {
		t.Errorf("acme's users page lists another site's account: %s", body)
	}
}

// Deactivation must end the sessions, not merely hide them: after a
// reactivation the old cookie still must not work.
func TestDeactivateEndsTheUsersSessionsAtOnce(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	britta, token := p.signInUser(p.acme, "britta.simon@contoso.com", "obj-1")
	userCookie := &http.Cookie{Name: "session", Value: token}
	if body := p.get(acmeHost, "/", userCookie); !strings.Contains(body, "Britta") {
		t.Fatalf("the user is not signed in to begin with: %.300s", body)
	}
	admin := p.SignInAdmin(acmeHost, "admin@acme.test")
	id := strconv.FormatInt(britta.ID, 10)

	p.post(acmeHost, "/admin/users/"+id+"/deactivate", url.Values{}, "/admin/users?done=deactivate&id="+id, admin)
	if _, err := p.App.Sessions.Lookup(ctx, p.acme.ID, session.User, token, session.UserPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session survived deactivation: %v", err)
	}
	body := p.get(acmeHost, "/admin/users?done=deactivate&id="+id, admin)
	if !strings.Contains(body, "Deactivated britta.simon@contoso.com: signed out everywhere") ||
		!strings.Contains(body, "Deactivated") || !strings.Contains(body, "/reactivate") {
		t.Fatalf("after deactivation: %s", body)
	}
	if u, _ := p.App.Users.ByID(ctx, p.acme.ID, britta.ID); u.Active {
		t.Fatal("the account is still active")
	}

	p.post(acmeHost, "/admin/users/"+id+"/reactivate", url.Values{}, "/admin/users?done=reactivate&id="+id, admin)
	if body := p.get(acmeHost, "/admin/users?done=reactivate&id="+id, admin); !strings.Contains(body, "Reactivated britta.simon@contoso.com: they can sign in again.") {
		t.Fatalf("after reactivation: %s", body)
	}
	if u, _ := p.App.Users.ByID(ctx, p.acme.ID, britta.ID); !u.Active {
		t.Fatal("the account is not active again")
	}
	if body := p.get(acmeHost, "/", userCookie); strings.Contains(body, "Britta") {
		t.Fatal("the session from before the deactivation works again after reactivation")
	}
	want := []string{
		"admin@acme.test user.reactivate User: britta.simon@contoso.com; Account ID: " + id,
		"admin@acme.test user.deactivate User: britta.simon@contoso.com; Account ID: " + id,
	}
	if got := p.auditEntries(p.acme); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit %q, want %q", got, want)
	}
}

// Re-link is the admin's answer to account-identity-changed: the person
// who now has the e-mail address gets the account.
func TestRelinkLetsTheNewOwnerSignIn(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	britta, oldToken := p.signInUser(p.acme, "britta.simon@contoso.com", "obj-old")
	successor := users.Identity{UID: "britta.simon@contoso.com", Email: "britta.simon@contoso.com", ObjectID: "obj-new"}
	if _, _, err := p.App.Users.SignIn(ctx, p.acme.ID, successor, users.Policy{AutoCreate: true}); !errors.Is(err, users.ErrIdentityChanged) {
		t.Fatalf("before re-link: %v", err)
	}
	id := strconv.FormatInt(britta.ID, 10)
	admin := p.SignInAdmin(acmeHost, "admin@acme.test")
	p.post(acmeHost, "/admin/users/"+id+"/relink", url.Values{}, "/admin/users?done=relink&id="+id, admin)
	if body := p.get(acmeHost, "/admin/users?done=relink&id="+id, admin); !strings.Contains(body, "Re-linked britta.simon@contoso.com") {
		t.Fatalf("no banner: %s", body)
	}
	if _, err := p.App.Sessions.Lookup(ctx, p.acme.ID, session.User, oldToken, session.UserPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the previous owner's session survived the re-link: %v", err)
	}
	u, _, err := p.App.Users.SignIn(ctx, p.acme.ID, successor, users.Policy{AutoCreate: true})
	if err != nil || u.ID != britta.ID || u.ObjectID != "obj-new" {
		t.Fatalf("after re-link: %+v, %v", u, err)
	}
	if got := p.auditEntries(p.acme); len(got) != 1 || got[0] != "admin@acme.test user.relink User: britta.simon@contoso.com; Account ID: "+id {
		t.Fatalf("audit %q", got)
	}
}

func TestUserActionsAnswer404ForAccountsNotOfThisSite(t *testing.T) {
	p := newPortal(t)
	foreign, foreignToken := p.signInUser(p.globex, "someone@globex.test", "obj-g")
	admin := p.SignInAdmin(acmeHost, "admin@acme.test")
	for _, action := range []string{"deactivate", "reactivate", "relink"} {
		for _, id := range []string{strconv.FormatInt(foreign.ID, 10), "987654", "abc", "-1", "99999999999999999999"} {
			resp := p.Do("POST", acmeHost, "/admin/users/"+id+"/"+action, url.Values{}, admin)
			if body := readBody(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") {
				t.Errorf("%s of user %s: status %d", action, id, resp.StatusCode)
			}
		}
	}
	if u, _ := p.App.Users.ByID(context.Background(), p.globex.ID, foreign.ID); !u.Active || u.ObjectID != "obj-g" {
		t.Errorf("globex's account was changed from acme: %+v", u)
	}
	if _, err := p.App.Sessions.Lookup(context.Background(), p.globex.ID, session.User, foreignToken, session.UserPolicy); err != nil {
		t.Errorf("globex's user was signed out from acme: %v", err)
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Errorf("refused actions were audited: %q", got)
	}
	// The confirmation page of another site's account does not exist either.
	if resp := p.Do("GET", acmeHost, "/admin/users/"+strconv.FormatInt(foreign.ID, 10)+"/deactivate", nil, admin); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of another site's account's confirmation: status %d", resp.StatusCode)
	}
}

func TestUsersPageBannerIsOnlyForAnAccountOfThisSite(t *testing.T) {
	p := newPortal(t)
	foreign, _ := p.signInUser(p.globex, "someone@globex.test", "")
	body := p.get(acmeHost, "/admin/users?done=deactivate&id="+strconv.FormatInt(foreign.ID, 10), p.SignInAdmin(acmeHost, "admin@acme.test"))
	if strings.Contains(body, "someone@globex.test") || strings.Contains(body, "banner") {
		t.Fatalf("a crafted link shows another site's account: %s", body)
	}
}

// Before a re-link the admin sees the account and the refused sign-in side
// by side; when they differ only by look-alike characters, a warning says
// so and names the character.
func TestRelinkPageShowsBothIdentitiesAndWarnsOfLookAlikes(t *testing.T) {
	p := newPortal(t)
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "obj-1")
	id := strconv.FormatInt(britta.ID, 10)
	admin := p.SignInAdmin(acmeHost, "admin@acme.test")

	body := p.get(acmeHost, "/admin/users/"+id+"/relink", admin)
	if !strings.Contains(body, `id="no-refusal"`) || !strings.Contains(body, `action="/admin/users/`+id+`/relink"`) {
		t.Fatalf("without a refused sign-in: %s", body)
	}

	// A look-alike's refused sign-in, as the ACS records it.
	lookAlikeUID := "britta.si\u0307mon@contoso.com"
	p.record(sso.Event{SiteID: p.acme.ID, Reference: "LOOK-ALIK-E001", Result: sso.ResultRefused, Reason: sso.ReasonLookAlike,
		UserID: &britta.ID, ClaimedUID: lookAlikeUID, ClaimedEmail: lookAlikeUID, ClaimedName: "Britta Simon", ClaimedObjectID: "obj-evil", ClientIP: "198.51.100.7"})
	body = p.get(acmeHost, "/admin/users/"+id+"/relink", admin)
	for _, want := range []string{
		`id="look-alike"`, "these identities only look alike", escaped("U+0307 COMBINING DOT ABOVE"),
		"britta.simon@contoso.com", lookAlikeUID, "obj-1", "obj-evil", "LOOK-ALIK-E001", "198.51.100.7", "(looks alike, differs)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the re-link page lacks %q", want)
		}
	}

	// The same uid from another person in the IdP: no look-alike warning,
	// but the changed object is said.
	p.record(sso.Event{SiteID: p.acme.ID, Reference: "SAME-UIDX-E002", Result: sso.ResultRefused, Reason: sso.ReasonIdentityChanged,
		UserID: &britta.ID, ClaimedUID: "britta.simon@contoso.com", ClaimedEmail: "britta.simon@contoso.com", ClaimedObjectID: "obj-2"})
	body = p.get(acmeHost, "/admin/users/"+id+"/relink", admin)
	if strings.Contains(body, `id="look-alike"`) || !strings.Contains(body, `id="object-changed"`) || !strings.Contains(body, "obj-2") || !strings.Contains(body, "SAME-UIDX-E002") {
		t.Errorf("for an identity change: %s", body)
	}
	// Another site's account: not found.
	foreign, _ := p.signInUser(p.globex, "someone@globex.test", "obj-g")
	if resp := p.Do("GET", acmeHost, "/admin/users/"+strconv.FormatInt(foreign.ID, 10)+"/relink", nil, admin); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another site's account: status %d", resp.StatusCode)
	}
}
