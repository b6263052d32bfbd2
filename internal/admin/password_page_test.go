package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAdminChangesOwnPassword(t *testing.T) {
	p := newPortal(t)
	other := p.SignInAdmin(acmeHost, "admin@acme.test") // another browser of the same admin
	globex := p.SignInAdmin(globexHost, "admin@globex.test")
	newPassword := "a brand new passphrase 42"

	if body := p.get(acmeHost, "/admin/password", p.acmeAdmin); !strings.Contains(body, `<label for="current_password">`) {
		t.Fatal("no password form")
	}
	for _, tc := range []struct {
		name       string
		form       url.Values
		field, msg string
	}{
		{"no current", url.Values{"new_password": {newPassword}, "confirm_password": {newPassword}}, "current_password", "Enter your current password."},
		{"short", url.Values{"current_password": {adminPassword}, "new_password": {"short"}, "confirm_password": {"short"}}, "new_password", "at least 12 characters"},
		{"differ", url.Values{"current_password": {adminPassword}, "new_password": {newPassword}, "confirm_password": {newPassword + "x"}}, "confirm_password", "The two new passwords differ."},
		{"same", url.Values{"current_password": {adminPassword}, "new_password": {adminPassword}, "confirm_password": {adminPassword}}, "new_password", "must differ"},
		{"wrong current", url.Values{"current_password": {"not my password at all"}, "new_password": {newPassword}, "confirm_password": {newPassword}}, "current_password", "This is not your current password."},
	} {
		resp, body := p.adminPost("/admin/password", tc.form)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.msg) || !strings.Contains(body, `id="`+tc.field+`-error"`) {
			t.Errorf("%s: status %d, want 422 with %q on %s", tc.name, resp.StatusCode, tc.msg, tc.field)
		}
		if strings.Contains(body, newPassword) || strings.Contains(body, adminPassword) {
			t.Errorf("%s: a password typed comes back into the page", tc.name)
		}
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Fatalf("refused changes were audited: %q", got)
	}

	p.post(acmeHost, "/admin/password", url.Values{"current_password": {adminPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}}, "/admin?done=password", p.acmeAdmin)
	if body := p.get(acmeHost, "/admin?done=password", p.acmeAdmin); !strings.Contains(body, "Your password is changed.") {
		t.Error("no banner, or this session ended")
	}
	// The other session of the same admin has ended; another site's admin is untouched.
	if resp := p.Do("GET", acmeHost, "/admin/users", nil, other); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin's other session still works: status %d", resp.StatusCode)
	}
	if resp, _ := p.Get(globexHost, "/admin/users", globex); resp.StatusCode != http.StatusOK {
		t.Errorf("globex's admin was signed out: status %d", resp.StatusCode)
	}
	// The new password signs in, the old one does not.
	if _, err := p.App.Sites.Authenticate(context.Background(), p.acme.ID, "admin@acme.test", newPassword); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
	if _, err := p.App.Sites.Authenticate(context.Background(), p.acme.ID, "admin@acme.test", adminPassword); err == nil {
		t.Error("the old password still works")
	}
	got := p.auditEntries(p.acme)
	if len(got) != 1 || got[0] != "admin@acme.test admin.change-password Admin: admin@acme.test; Other sessions ended: 1" {
		t.Errorf("audit %q", got)
	}
	// Signed out, the form cannot be posted.
	if !sentToSignIn("POST", p.Do("POST", acmeHost, "/admin/password", url.Values{"current_password": {newPassword}})) {
		t.Error("signed out, the form was not answered with the sign-in form")
	}
}

// TestOwnPasswordFormPostedTwiceIsTheChangeItMade: a double click posts the
// form twice; the second post finds the current password changed by the
// first, and is answered as the change that happened, not as a wrong
// password. It is still counted against the account (the new password
// field must not be an uncounted way to guess), and audited once.
func TestOwnPasswordFormPostedTwiceIsTheChangeItMade(t *testing.T) {
	p := newPortal(t)
	newPassword := "a brand new passphrase 42"
	form := url.Values{"current_password": {adminPassword}, "new_password": {newPassword}, "confirm_password": {newPassword}}
	p.post(acmeHost, "/admin/password", form, "/admin?done=password", p.acmeAdmin)
	p.post(acmeHost, "/admin/password", form, "/admin?done=password", p.acmeAdmin)
	if got := p.auditEntries(p.acme); len(got) != 1 {
		t.Errorf("audit %q, want the one change", got)
	}
	// A guess in the new-password field that is not the password is the
	// wrong-password answer.
	guess := url.Values{"current_password": {"not my password at all"}, "new_password": {"another guess 12345"}, "confirm_password": {"another guess 12345"}}
	if resp, body := p.adminPost("/admin/password", guess); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "This is not your current password.") {
		t.Errorf("a wrong current password: status %d", resp.StatusCode)
	}
}
