package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sites"
)

func TestAdminsPageListsThisSitesAdmins(t *testing.T) {
	p := newPortal(t)
	if err := p.App.Sites.CreateAdmin(context.Background(), p.acme.ID, "second@acme.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	body := p.get(acmeHost, "/admin/admins", p.SignInAdmin(acmeHost, "admin@acme.test"))
	second := p.admin(p.acme, "second@acme.test")
	self := p.admin(p.acme, "admin@acme.test")
	for _, want := range []string{`<a href="/admin">Site administration</a>`, "admin@acme.test", "second@acme.test",
		`href="/admin/admins/` + strconv.FormatInt(second.ID, 10) + `/remove"`, `<label for="email">`, `<label for="password">`} {
		if !strings.Contains(body, want) {
			t.Errorf("admins page lacks %q", want)
		}
	}
	// No remove button for oneself.
	if strings.Contains(body, `/admin/admins/`+strconv.FormatInt(self.ID, 10)+`/remove"`) {
		t.Error("the page offers to remove the signed-in admin")
	}
	if strings.Contains(body, "admin@globex.test") || rowCount(t, body, "admins") != 2 {
		t.Error("acme's admins page lists another site's admin")
	}
}

func TestAddAdminRefusesBadInputNextToTheFieldKeepingTheEmail(t *testing.T) {
	p := newPortal(t)
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	cases := []struct {
		name, email, password string
		field, message        string
	}{
		{"not an e-mail", "not-an-email", adminPassword, "email-error", "Enter an e-mail address such as name@example.com."},
		{"e-mail with a name", "Bob <bob@acme.test>", adminPassword, "email-error", "Enter an e-mail address"},
		{"empty e-mail", "", adminPassword, "email-error", "Enter an e-mail address"},
		{"short password", "new@acme.test", "elevenchars", "password-error", "The initial password must be at least 12 characters."},
		{"empty password", "new@acme.test", "", "password-error", "at least 12 characters"},
		{"already an admin", "ADMIN@acme.test", adminPassword, "email-error", "This e-mail address is already an admin of this site."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := p.Do("POST", acmeHost, "/admin/admins", url.Values{"email": {c.email}, "password": {c.password}}, cookie)
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(body, `<p class="field-error" id="`+c.field+`">`) || !strings.Contains(body, c.message) {
				t.Errorf("no %q next to %s: %s", c.message, c.field, body)
			}
			if c.email != "" && !strings.Contains(body, `value="`+escaped(c.email)+`"`) {
				t.Errorf("the e-mail %q is not kept", c.email)
			}
			if c.password != "" && strings.Contains(body, c.password) {
				t.Error("the password is sent back into the page")
			}
		})
	}
	if list, _ := p.App.Sites.ListAdmins(context.Background(), p.acme.ID); len(list) != 1 {
		t.Fatalf("refused additions created admins: %v", list)
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Fatalf("refused additions were audited: %q", got)
	}
}

func TestAddedAdminCanSignInAndTheAdditionIsAudited(t *testing.T) {
	p := newPortal(t)
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	p.post(acmeHost, "/admin/admins", url.Values{"email": {" New.Admin@Acme.test "}, "password": {adminPassword}}, "/admin/admins?done=added&entry=1", cookie)
	body := p.get(acmeHost, "/admin/admins?done=added&entry=1", cookie)
	if !strings.Contains(body, "Added new.admin@acme.test as an admin.") {
		t.Fatalf("after adding: %s", body)
	}
	p.SignInAdmin(acmeHost, "new.admin@acme.test")
	if _, err := p.App.Sites.Authenticate(context.Background(), p.globex.ID, "new.admin@acme.test", adminPassword); !errors.Is(err, sites.ErrBadCredentials) {
		t.Fatal("the new admin can sign in to another site")
	}
	if got := p.auditEntries(p.acme); len(got) != 1 || got[0] != "admin@acme.test admin.add Admin: new.admin@acme.test" {
		t.Fatalf("audit %q", got)
	}
}

func TestRemoveAdminEndsTheirSessionsAtOnce(t *testing.T) {
	p := newPortal(t)
	if err := p.App.Sites.CreateAdmin(context.Background(), p.acme.ID, "second@acme.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	first := p.SignInAdmin(acmeHost, "admin@acme.test")
	second := p.SignInAdmin(acmeHost, "second@acme.test")
	secondID := p.admin(p.acme, "second@acme.test").ID
	p.get(acmeHost, "/admin/users", second)

	p.post(acmeHost, "/admin/admins/"+strconv.FormatInt(secondID, 10)+"/remove", url.Values{}, "/admin/admins?done=removed&entry=1", first)
	if body := p.get(acmeHost, "/admin/admins?done=removed&entry=1", first); !strings.Contains(body, "Removed second@acme.test: they are no longer an admin and are signed out everywhere.") ||
		strings.Contains(body, `id="admin-`+strconv.FormatInt(secondID, 10)+`"`) {
		t.Fatalf("after removal: %s", body)
	}
	if resp := p.Do("GET", acmeHost, "/admin/users", nil, second); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("the removed admin's session still works: status %d", resp.StatusCode)
	}
	var left int
	if err := p.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions WHERE site_id = $1 AND kind = 'admin' AND subject_id = $2`,
		p.acme.ID, secondID).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d sessions of the removed admin left (%v)", left, err)
	}
	if got := p.auditEntries(p.acme); len(got) != 1 || got[0] != "admin@acme.test admin.remove Admin: second@acme.test" {
		t.Fatalf("audit %q", got)
	}
}

func TestRemoveAdminRefusals(t *testing.T) {
	p := newPortal(t)
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	self := p.admin(p.acme, "admin@acme.test")
	globexAdmin := p.admin(p.globex, "admin@globex.test")

	// Alone on the site, an admin is both themselves and the last admin:
	// the page explains the first.
	resp := p.Do("POST", acmeHost, "/admin/admins/"+strconv.FormatInt(self.ID, 10)+"/remove", url.Values{}, cookie)
	if body := readBody(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "You cannot remove yourself.") {
		t.Fatalf("removing oneself: status %d: %s", resp.StatusCode, body)
	}
	for _, id := range []string{strconv.FormatInt(globexAdmin.ID, 10), "987654", "abc"} {
		resp := p.Do("POST", acmeHost, "/admin/admins/"+id+"/remove", url.Values{}, cookie)
		if body := readBody(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") {
			t.Errorf("removing admin %s: status %d", id, resp.StatusCode)
		}
	}
	if _, err := p.App.Sites.AdminByID(context.Background(), p.globex.ID, globexAdmin.ID); err != nil {
		t.Fatalf("globex's admin was removed from acme: %v", err)
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Fatalf("refused removals were audited: %q", got)
	}
	p.get(acmeHost, "/admin/admins", cookie)
}

// Two admins removing each other at the same moment: one removal wins, the
// site keeps an admin, and the loser's request is refused, never a 500.
func TestConcurrentRemovalsLeaveTheSiteAnAdmin(t *testing.T) {
	p := newPortal(t)
	if err := p.App.Sites.CreateAdmin(context.Background(), p.acme.ID, "second@acme.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	first, second := p.SignInAdmin(acmeHost, "admin@acme.test"), p.SignInAdmin(acmeHost, "second@acme.test")
	firstID, secondID := p.admin(p.acme, "admin@acme.test").ID, p.admin(p.acme, "second@acme.test").ID
	statuses := make(chan int, 2)
	for _, c := range []struct {
		cookie *http.Cookie
		target int64
	}{{first, secondID}, {second, firstID}} {
		go func() {
			statuses <- p.Do("POST", acmeHost, "/admin/admins/"+strconv.FormatInt(c.target, 10)+"/remove", url.Values{}, c.cookie).StatusCode
		}()
	}
	a, b := <-statuses, <-statuses
	if list, _ := p.App.Sites.ListAdmins(context.Background(), p.acme.ID); len(list) != 1 {
		t.Fatalf("%d admins left (statuses %d, %d)", len(list), a, b)
	}
	if a >= 500 || b >= 500 || (a != http.StatusSeeOther && b != http.StatusSeeOther) {
		t.Fatalf("statuses %d, %d", a, b)
	}
}
