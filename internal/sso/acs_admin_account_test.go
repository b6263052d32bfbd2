package sso_test

import (
	"net/http"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// TestAccountAddedByAnAdminSignsInWithAutoAccountCreationOff does what the
// refusal page tells a user to do: ask the admin for an account. The admin
// turns Auto Account Creation off and adds the account on the Users page;
// the user then signs in through the ACS with Azure's response, and the
// account is linked to their Azure object. Anyone else is still refused.
func TestAccountAddedByAnAdminSignsInWithAutoAccountCreationOff(t *testing.T) {
	p := newPortal(t)
	admin := p.SignInAdmin(acmeHost, portaltest.AdminEmail("acme"))
	_, page := p.Portal.Get(acmeHost, "/admin/sso", admin)
	options := portaltest.FormValues(t, page, "sso-options")
	options.Del("auto_create")
	if resp, body := p.PostForm(acmeHost, "/admin/sso", options, admin); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("turning Auto Account Creation off: status %d: %.300s", resp.StatusCode, body)
	}

	claims := claims("erin@contoso.com", "erin@contoso.com", "Erin", "Fox", "0a1b2c3d-0000-4000-8000-0000000000e1")
	p.refusedSignIn("erin@contoso.com", claims, sso.ReasonNoAccount, "Ask your site administrator")

	_, page = p.Portal.Get(acmeHost, "/admin/users", admin)
	add := portaltest.FormValues(t, page, "add-user-form")
	add.Set("email", "Erin@Contoso.com")
	add.Set("first_name", "Erin")
	add.Set("last_name", "Fox")
	if resp, body := p.PostForm(acmeHost, "/admin/users", add, admin); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users?done=added" {
		t.Fatalf("Add user: status %d location %q: %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	cookie := p.signIn("erin@contoso.com", claims)
	u, ok := p.account("erin@contoso.com")
	if !ok || u.CreatedBy != "admin" || u.ObjectID != "0a1b2c3d-0000-4000-8000-0000000000e1" || u.LastSignInAt == nil {
		t.Fatalf("the added account after its sign-in: %+v (found %t)", u, ok)
	}
	if e := p.lastEvent(p.acme); e.Result != sso.ResultSuccess || e.UserID == nil || *e.UserID != u.ID {
		t.Errorf("sign-in event %+v", e)
	}
	if resp := p.get(acmeHost, "/", cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("the meetings home after the sign-in: status %d", resp.StatusCode)
	}
	if p.countUsers(p.acme) != 1 {
		t.Errorf("%d accounts, want the one added", p.countUsers(p.acme))
	}
	p.refusedSignIn("frank@contoso.com", ssotest.NewIdP(t).AzureClaims("frank@contoso.com", "Frank", "Gray", "0a1b2c3d-0000-4000-8000-0000000000f1"),
		sso.ReasonNoAccount, "Ask your site administrator")
}
