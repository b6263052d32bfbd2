package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestAuditPageListsWhoChangedWhatAndWhen(t *testing.T) {
	p := newPortal(t)
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "")
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	id := strconv.FormatInt(britta.ID, 10)
	p.post(acmeHost, "/admin/users/"+id+"/deactivate", url.Values{}, "/admin/users?done=deactivate&id="+id, cookie)
	p.post(acmeHost, "/admin/admins", url.Values{"email": {"new@acme.test"}, "password": {adminPassword}}, "/admin/admins?done=added&entry=2", cookie)
	entries, err := p.App.Audit.Recent(context.Background(), p.acme.ID, 10, 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %v, %v", entries, err)
	}

	body := p.get(acmeHost, "/admin/audit", cookie)
	for _, want := range []string{`<a href="/admin">Site administration</a>`, "admin@acme.test", "Deactivated a user", "Added an admin",
		"<dt>Admin</dt><dd>new@acme.test</dd>", "<dt>User</dt><dd>britta.simon@contoso.com</dd>", "<dt>Account ID</dt><dd>" + id + "</dd>", utc(entries[0].OccurredAt)} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if strings.Index(body, `class="action-admin.add"`) > strings.Index(body, `class="action-user.deactivate"`) {
		t.Error("not newest first")
	}
	if body := p.get(globexHost, "/admin/audit", p.SignInAdmin(globexHost, "admin@globex.test")); rowCount(t, body, "audit") != 0 ||
		!strings.Contains(body, "No changes recorded yet.") {
		t.Error("globex's audit page shows acme's changes")
	}
}

func TestAuditPagePagesFiftyAtATimeAndEscapes(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	for i := range 60 {
		if err := p.App.Audit.Record(ctx, p.acme.ID, "admin@acme.test", "sso.save", fmt.Sprintf("change %02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.App.Audit.Record(ctx, p.acme.ID, "admin@acme.test", "sso.import-metadata", `entity ID "<script>alert(1)</script>"`); err != nil {
		t.Fatal(err)
	}
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	body := p.get(acmeHost, "/admin/audit", cookie)
	prev, next := pagerLinks(body)
	if n := rowCount(t, body, "audit"); n != 50 || prev != "" || next != "/admin/audit?page=2" {
		t.Fatalf("page 1: %d rows, prev %q, next %q", n, prev, next)
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("audit detail not escaped")
	}
	body = p.get(acmeHost, next, cookie)
	prev, next = pagerLinks(body)
	if n := rowCount(t, body, "audit"); n != 11 || prev != "/admin/audit" || next != "" || !strings.Contains(body, "change 00") {
		t.Fatalf("page 2: %d rows, prev %q, next %q", n, prev, next)
	}
}
