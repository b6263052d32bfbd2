package admin_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestUsersPageSearchesAndPages(t *testing.T) {
	p := newPortal(t)
	for i := range 55 {
		p.SignInUser(p.acme, fmt.Sprintf("user%02d@contoso.com", i), "Britta", fmt.Sprintf("Simon%02d", i), "host")
	}
	p.SignInUser(p.acme, "under_score@fabrikam.com", "Ada", "Lovelace", "attendee")
	p.SignInUser(p.globex, "user99@contoso.com", "Secret", "Globex", "host")

	body := p.get(acmeHost, "/admin/users", p.acmeAdmin)
	if _, next := pagerLinks(body); rowCount(t, body, "users") != 50 || next != "/admin/users?page=2" {
		t.Fatalf("page 1: %d rows, next %q", rowCount(t, body, "users"), next)
	}
	body = p.get(acmeHost, "/admin/users?page=2", p.acmeAdmin)
	if prev, next := pagerLinks(body); rowCount(t, body, "users") != 6 || prev != "/admin/users" || next != "" {
		t.Fatalf("page 2: %d rows, prev %q next %q", rowCount(t, body, "users"), prev, next)
	}
	for _, tc := range []struct {
		q    string
		rows int
		has  string
	}{
		{"USER0", 10, "user00@contoso.com"},         // uid, any case
		{"lovelace", 1, "under_score@fabrikam.com"}, // last name
		{"britta simon07", 1, "user07@contoso.com"}, // full name
		{"_", 1, "under_score@fabrikam.com"},        // _ is an underscore, not any character
		{"%", 0, ""},                                // % is a percent sign
		{"user99", 0, ""},                           // globex's account is not acme's
	} {
		body := p.get(acmeHost, "/admin/users?q="+url.QueryEscape(tc.q), p.acmeAdmin)
		if n := rowCount(t, body, "users"); n != tc.rows || (tc.has != "" && !strings.Contains(body, tc.has)) {
			t.Errorf("search %q: %d rows, want %d with %q", tc.q, n, tc.rows, tc.has)
		}
		if tc.rows == 0 && !strings.Contains(body, "No account matches") {
			t.Errorf("search %q: no message for no match", tc.q)
		}
	}
	// The pager keeps the search.
	body = p.get(acmeHost, "/admin/users?q=contoso", p.acmeAdmin)
	if _, next := pagerLinks(body); next != "/admin/users?page=2&q=contoso" {
		t.Errorf("next page of a search: %q", next)
	}
}

func TestUsersExportIsCSVOfTheSearch(t *testing.T) {
	p := newPortal(t)
	p.SignInUser(p.acme, "b.simon@contoso.com", "=cmd|' /C calc'!A0", "Simon, \"B\"", "attendee")
	p.SignInUser(p.acme, "ada@fabrikam.com", "Ada", "Lovelace", "host")
	p.SignInUser(p.globex, "secret@globex.test", "Secret", "Globex", "host")

	resp, body := p.adminGet("/admin/users.csv?q=contoso")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != "attachment; filename=acme-users.csv" {
		t.Fatalf("status %d headers %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v", err)
	}
	if len(rows) != 2 || rows[0][0] != "uid" {
		t.Fatalf("rows %q", rows)
	}
	if r := rows[1]; r[0] != "b.simon@contoso.com" || r[2] != "'=cmd|' /C calc'!A0" || r[3] != "Simon, \"B\"" || r[4] != "attendee" || r[6] != "Active" {
		t.Errorf("row %q", r)
	}
	_, all := p.adminGet("/admin/users.csv")
	if rows, _ := csv.NewReader(strings.NewReader(all)).ReadAll(); len(rows) != 3 || strings.Contains(all, "secret@globex.test") {
		t.Errorf("export of all: %q", rows)
	}
	if page := p.get(acmeHost, "/admin/users?q=contoso", p.acmeAdmin); !strings.Contains(page, `href="/admin/users.csv?q=contoso"`) {
		t.Error("the export link drops the search")
	}
}
