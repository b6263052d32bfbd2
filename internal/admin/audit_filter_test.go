package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestAuditPageFiltersByActionAndAdminAndKeepsFiltersInPaging(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	for i := range 55 {
		actor := "admin@acme.test"
		if i%5 == 0 {
			actor = "Second@Acme.test"
		}
		action := "user.deactivate"
		if i%2 == 0 {
			action = "admin.add"
		}
		if err := p.App.Audit.Record(ctx, p.acme.ID, actor, action, "Entry: "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		query    string
		rows     int
		next     string
		mustNot  string
		selected string
	}{
		{"action=admin.add", 28, "", `class="action-user.deactivate"`, `<option value="admin.add" selected>`},
		{"admin=second@acme.test", 11, "", "<td data-label=\"Who\" class=\"address\">admin@acme.test", ""},
		{"action=user.deactivate&admin=second@acme.test", 5, "", `class="action-admin.add"`, ""},
		{"", 50, "/admin/audit?page=2", "", ""},
		// An unknown action filters nothing.
		{"action=drop.table", 50, "/admin/audit?page=2", "", `<option value="">All changes</option>`},
	} {
		body := p.get(acmeHost, "/admin/audit?"+tc.query, p.acmeAdmin)
		if n := rowCount(t, body, "audit"); n != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.query, n, tc.rows)
		}
		if _, next := pagerLinks(body); next != tc.next {
			t.Errorf("%s: next %q, want %q", tc.query, next, tc.next)
		}
		if tc.mustNot != "" && strings.Contains(body, tc.mustNot) {
			t.Errorf("%s: the page shows %q", tc.query, tc.mustNot)
		}
		if tc.selected != "" && !strings.Contains(body, tc.selected) {
			t.Errorf("%s: the filter lacks %q", tc.query, tc.selected)
		}
	}
	// Paging keeps the filters.
	for i := range 60 {
		if err := p.App.Audit.Record(ctx, p.acme.ID, "admin@acme.test", "sso.save-options", "MFA: off → on; run: "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	body := p.get(acmeHost, "/admin/audit?action=sso.save-options&admin=ADMIN@acme.test", p.acmeAdmin)
	if _, next := pagerLinks(body); next != "/admin/audit?action=sso.save-options&admin=ADMIN%40acme.test&page=2" {
		t.Errorf("next page link %q drops the filters", next)
	}
	if !strings.Contains(body, "Changed the SSO options") || !strings.Contains(body, "<dt>MFA</dt><dd>off → on</dd>") {
		t.Error("the entry is not in words with its details as a list")
	}
	body = p.get(acmeHost, "/admin/audit?action=sso.save-options&admin=ADMIN@acme.test&page=2", p.acmeAdmin)
	if n := rowCount(t, body, "audit"); n != 10 {
		t.Errorf("page 2 of the filtered list: %d rows, want 10", n)
	}
	// Another site's log is never listed, whatever the filter.
	globex := p.SignInAdmin(globexHost, "admin@globex.test")
	if body := p.get(globexHost, "/admin/audit?admin=admin@acme.test", globex); rowCount(t, body, "audit") != 0 {
		t.Error("globex's audit page lists acme's entries")
	}
}

// A failed admin sign-in is in the audit, without the password typed and
// with the address typed normalised; the per-account lockout still holds.
func TestFailedAdminSignInIsAudited(t *testing.T) {
	p := newPortal(t)
	secret := "my-Secret-guess-123"
	for range 5 {
		resp, _ := p.signInFrom("198.51.100.7", "  Admin@ACME.test ", secret)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: status %d", resp.StatusCode)
		}
	}
	resp, _ := p.signInFrom("198.51.100.7", "admin@acme.test", adminPassword)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the lockout no longer holds: status %d", resp.StatusCode)
	}
	entries := p.recentAudit(p.acme)
	if len(entries) != 5 {
		t.Fatalf("%d entries, want 5 (the locked-out attempt checks no password and is not one)", len(entries))
	}
	for _, e := range entries {
		if e.Action != "admin.sign-in-failed" || e.Actor != "admin@acme.test" || strings.Contains(e.Details.String(), secret) {
			t.Errorf("entry %+v", e)
		}
		if e.Value("From") != "198.51.100.7" {
			t.Errorf("entry without the client address: %+v", e)
		}
	}
	if entries[0].Value("Failures in a row") != "5" || entries[0].Value("Account locked for") == "" {
		t.Errorf("the last failure does not say the account is locked: %+v", entries[0])
	}
	// A long junk address is shortened.
	p.signInFrom("198.51.100.8", strings.Repeat("x", 300), "whatever")
	if e := p.recentAudit(p.acme)[0]; len(e.Actor) > 80 {
		t.Errorf("actor of %d bytes", len(e.Actor))
	}
	body := p.get(acmeHost, "/admin/audit?action=admin.sign-in-failed", p.acmeAdmin)
	if !strings.Contains(body, "Failed admin sign-in") || strings.Contains(body, secret) {
		t.Error("the audit page does not show the failed sign-ins, or shows the password")
	}
}

func TestConfirmationsNameWhatHappensAndToWhom(t *testing.T) {
	p := newPortal(t)
	britta, _ := p.signInUser(p.acme, "britta.simon@contoso.com", "")
	if err := p.App.Sites.CreateAdmin(context.Background(), p.acme.ID, "second@acme.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	second := p.admin(p.acme, "second@acme.test")
	for path, want := range map[string][]string{
		"/admin/users/" + strconv.FormatInt(britta.ID, 10) + "/deactivate": {"Deactivate britta.simon@contoso.com?", "signed out everywhere",
			`<form method="post" action="/admin/users/` + strconv.FormatInt(britta.ID, 10) + `/deactivate">`, `href="/admin/users" id="cancel"`},
		"/admin/admins/" + strconv.FormatInt(second.ID, 10) + "/remove": {"Remove second@acme.test?", "cannot sign in at /admin",
			`<form method="post" action="/admin/admins/` + strconv.FormatInt(second.ID, 10) + `/remove">`, `href="/admin/admins" id="cancel"`},
	} {
		body := p.get(acmeHost, path, p.acmeAdmin)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
	}
	// Asking changes nothing.
	if u, _ := p.App.Users.ByID(context.Background(), p.acme.ID, britta.ID); !u.Active {
		t.Error("the confirmation page deactivated the account")
	}
	if got := p.auditEntries(p.acme); len(got) != 0 {
		t.Errorf("the confirmation pages recorded %q", got)
	}
	// Another site's admin has no confirmation page here.
	globexAdmin := p.admin(p.globex, "admin@globex.test")
	if resp, _ := p.adminGet("/admin/admins/" + strconv.FormatInt(globexAdmin.ID, 10) + "/remove"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another site's admin's confirmation: status %d", resp.StatusCode)
	}
}

// The banner after a removal names the admin from the audit entry of this
// site; an entry id of another site, or of another action, names no one.
func TestAdminsBannerNamesOnlyFromThisSitesEntry(t *testing.T) {
	p := newPortal(t)
	globex := p.SignInAdmin(globexHost, "admin@globex.test")
	p.post(globexHost, "/admin/admins", url.Values{"email": {"secret.name@globex.test"}, "password": {adminPassword}}, "/admin/admins?done=added&entry=1", globex)
	for _, q := range []string{"done=added&entry=1", "done=removed&entry=1", "done=added&entry=x"} {
		if body := p.get(acmeHost, "/admin/admins?"+q, p.acmeAdmin); strings.Contains(body, "secret.name") || strings.Contains(body, `class="banner good"`) {
			t.Errorf("%s: acme's page shows globex's entry", q)
		}
	}
}
