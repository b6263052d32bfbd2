package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
)

func TestAddUserMakesAnAccountAndRefusesMistakesNextToTheField(t *testing.T) {
	p := newPortal(t)
	form := portaltest.FormValues(t, p.get(acmeHost, "/admin/users", p.acmeAdmin), "add-user-form")
	if form.Get("role") != "host" {
		t.Errorf("the form's role is %q, want host by default", form.Get("role"))
	}
	form.Set("email", " B.Simon@Contoso.com ")
	form.Set("first_name", "B")
	form.Set("last_name", "Simon")
	form.Set("role", "attendee")
	p.post(acmeHost, "/admin/users", form, "/admin/users?done=added", p.acmeAdmin)
	body := p.get(acmeHost, "/admin/users?done=added", p.acmeAdmin)
	if !strings.Contains(body, "The account was added.") || rowCount(t, body, "users") != 1 {
		t.Fatalf("after Add user: %s", pageError(body))
	}
	row := body[strings.Index(body, `<tr id="user-`):]
	row = row[:strings.Index(row, "</tr>")]
	for _, want := range []string{"B Simon", "b.simon@contoso.com", "Attendee", "by an admin", "never"} {
		if !strings.Contains(row, want) {
			t.Errorf("the account's row lacks %q:\n%s", want, row)
		}
	}
	if got := p.auditEntries(p.acme); len(got) != 1 || !strings.HasPrefix(got[0], "admin@acme.test user.create b.simon@contoso.com (e-mail b.simon@contoso.com, name \"B Simon\", role attendee") {
		t.Errorf("audit %q", got)
	}
	// On another site the same account is a different one: globex has none.
	if list, _ := p.App.Users.List(t.Context(), p.globex.ID); len(list) != 0 {
		t.Errorf("globex has accounts: %+v", list)
	}

	// Each mistake: the field typed, and the field whose message says what
	// is wrong.
	mistakes := map[string]struct {
		typed                    [2]string // input name, value
		errorField, errorMessage string
	}{
		"no e-mail":          {[2]string{"email", ""}, "email", "Enter an e-mail address"},
		"not an e-mail":      {[2]string{"email", "b.simon"}, "email", "Enter an e-mail address"},
		"the same uid again": {[2]string{"email", "b.simon@CONTOSO.com"}, "uid", "This site already has an account with this uid."},
		"a uid with a space": {[2]string{"uid", "b simon"}, "uid", "Enter the uid the identity provider sends"},
		// U+0130 (İ) would fold into an existing account's uid.
		"a look-alike uid": {[2]string{"uid", "b.s\u0130mon@contoso.com"}, "uid", "only looks like the account b.simon@contoso.com"},
		"an unknown role":  {[2]string{"role", "owner"}, "role", "Choose host or attendee."},
	}
	for name, m := range mistakes {
		t.Run(name, func(t *testing.T) {
			form := portaltest.FormValues(t, p.get(acmeHost, "/admin/users", p.acmeAdmin), "add-user-form")
			form.Set("email", "c.diaz@contoso.com")
			form.Set("first_name", "Carol")
			form.Set(m.typed[0], m.typed[1])
			resp, body := p.adminPost("/admin/users", form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			block := fieldBlock(t, body, m.errorField)
			if !strings.Contains(block, `id="`+m.errorField+`-error">`) || !strings.Contains(block, escaped(m.errorMessage)) {
				t.Errorf("no error %q next to %s:\n%s", m.errorMessage, m.errorField, block)
			}
			if kept := portaltest.FormValues(t, body, "add-user-form"); kept.Get("first_name") != "Carol" || kept.Get(m.typed[0]) != m.typed[1] && m.typed[0] != "role" {
				t.Errorf("what was typed was not kept: %v", kept)
			}
		})
	}
	if list, _ := p.App.Users.List(t.Context(), p.acme.ID); len(list) != 1 {
		t.Errorf("refused adds made accounts: %+v", list)
	}
	if got := p.auditEntries(p.acme); len(got) != 1 {
		t.Errorf("refused adds were audited: %q", got)
	}
}

func TestUserActionsPressedTwiceChangeAndRecordOnce(t *testing.T) {
	p := newPortal(t)
	u, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "obj-1")
	for _, action := range []string{"deactivate", "reactivate", "relink"} {
		want := "303 See Other /admin/users?done=" + action + "&id=" + itoa(u.ID)
		if got := p.pressTwice("/admin/users/"+itoa(u.ID)+"/"+action, url.Values{}); got[0] != want || got[1] != want {
			t.Errorf("%s pressed twice: %q, want both %q", action, got, want)
		}
		if got := p.auditWith("user." + action); len(got) != 1 {
			t.Errorf("user.%s entries %q, want one", action, got)
		}
	}
}
