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
	p := newPagesPortal(t)
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "")
	cookie := p.signIn(pagesAcme, "admin@acme.test")
	id := strconv.FormatInt(britta.ID, 10)
	p.post(pagesAcme, "/admin/users/"+id+"/deactivate", url.Values{}, "/admin/users?done=deactivate&id="+id, cookie)
	p.post(pagesAcme, "/admin/admins", url.Values{"email": {"new@acme.test"}, "password": {pagesPassword}}, "/admin/admins?done=added", cookie)
	entries, err := p.audit.Recent(context.Background(), p.acme.ID, 10, 0)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %v, %v", entries, err)
	}

	body := p.get(pagesAcme, "/admin/audit", cookie)
	for _, want := range []string{`<a href="/admin">Site administration</a>`, "admin@acme.test", "user.deactivate", "admin.add",
		"new@acme.test", "britta.simon@contoso.com (id " + id + ")", pagesUTC(entries[0].OccurredAt)} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %q", want)
		}
	}
	if strings.Index(body, "admin.add") > strings.Index(body, "user.deactivate") {
		t.Error("not newest first")
	}
	if body := p.get(pagesGlobex, "/admin/audit", p.signIn(pagesGlobex, "admin@globex.test")); strings.Contains(body, "user.deactivate") ||
		!strings.Contains(body, "No changes recorded yet.") {
		t.Error("globex's audit page shows acme's changes")
	}
}

func TestAuditPagePagesFiftyAtATimeAndEscapes(t *testing.T) {
	p := newPagesPortal(t)
	ctx := context.Background()
	for i := range 60 {
		if err := p.audit.Record(ctx, p.acme.ID, "admin@acme.test", "sso.save", fmt.Sprintf("change %02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.audit.Record(ctx, p.acme.ID, "admin@acme.test", "sso.import-metadata", `entity ID "<script>alert(1)</script>"`); err != nil {
		t.Fatal(err)
	}
	cookie := p.signIn(pagesAcme, "admin@acme.test")
	body := p.get(pagesAcme, "/admin/audit", cookie)
	prev, next := pagesPagerLinks(body)
	if n := pagesRowCount(t, body, "audit"); n != 50 || prev != "" || next != "/admin/audit?page=2" {
		t.Fatalf("page 1: %d rows, prev %q, next %q", n, prev, next)
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("audit detail not escaped")
	}
	body = p.get(pagesAcme, next, cookie)
	prev, next = pagesPagerLinks(body)
	if n := pagesRowCount(t, body, "audit"); n != 11 || prev != "/admin/audit" || next != "" || !strings.Contains(body, "change 00") {
		t.Fatalf("page 2: %d rows, prev %q, next %q", n, prev, next)
	}
}
