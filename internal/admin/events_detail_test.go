package admin_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

// recordEvent stores a sign-in event of site and returns its id.
func (p *portal) recordEvent(site sites.Site, e sso.Event) int64 {
	p.t.Helper()
	e.SiteID = site.ID
	if err := p.App.SSO.RecordEvent(context.Background(), e); err != nil {
		p.t.Fatal(err)
	}
	events, err := p.App.SSO.RecentEvents(context.Background(), site.ID, sso.EventFilter{Limit: 1})
	if err != nil {
		p.t.Fatal(err)
	}
	return events[0].ID
}

func TestEventDetailShowsClaimsAndChecksOfThisSitesEventOnly(t *testing.T) {
	p := newPortal(t)
	id := p.recordEvent(p.acme, sso.Event{Reference: "7KQ2-M4XD-9PLA", Flow: sso.FlowSP, Result: sso.ResultRefused,
		Reason: sso.ReasonMFARequired, Detail: "this site requires multi-factor sign-in, and the assertion shows none",
		NameID: "b.simon@contoso.com", ClientIP: "203.0.113.9", ClaimedUID: "b.simon@contoso.com",
		Claims: map[string][]string{
			"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": {"b.simon@contoso.com"},
			"firstname":           {"<b>Britta</b>"},
			sso.ClaimAuthnContext: {"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
		}})
	body := p.get(acmeHost, "/admin/events/"+strconv.FormatInt(id, 10), p.acmeAdmin)
	for _, want := range []string{
		"Refused: SP-initiated", "7KQ2-M4XD-9PLA", "b.simon@contoso.com", "203.0.113.9", "mfa-required",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "&lt;b&gt;Britta&lt;/b&gt;",
		"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
		"<strong>Passed:</strong> It is signed by the identity provider",
		"<strong>Failed:</strong> Multi-factor sign-in is shown",
		"<strong>Not reached:</strong> The account may sign in",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	if strings.Contains(body, "<b>Britta") {
		t.Error("a claim value is not escaped")
	}
	// The events list links to it.
	if list := p.get(acmeHost, "/admin/events", p.acmeAdmin); !strings.Contains(list, `href="/admin/events/`+strconv.FormatInt(id, 10)+`"`) {
		t.Error("the events list does not link to the event")
	}
	// Another site's event, or no event, is 404 — never the event.
	globexID := p.recordEvent(p.globex, sso.Event{Reference: "AAAA-BBBB-CCCC", Flow: sso.FlowSP, Result: sso.ResultSuccess, NameID: "secret@globex.test"})
	for _, path := range []string{"/admin/events/" + strconv.FormatInt(globexID, 10), "/admin/events/999999", "/admin/events/x"} {
		resp, body := p.adminGet(path)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret@globex.test") {
			t.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
	}
	// Signed out: no event.
	if resp := p.Do("GET", acmeHost, "/admin/events/"+strconv.FormatInt(id, 10), nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: status %d", resp.StatusCode)
	}
}

func TestEventsExportIsFilteredEscapedCSV(t *testing.T) {
	p := newPortal(t)
	p.recordEvent(p.acme, sso.Event{Reference: "AAAA-AAAA-AAAA", Flow: sso.FlowSP, Result: sso.ResultSuccess, NameID: "b.simon@contoso.com"})
	p.recordEvent(p.acme, sso.Event{Reference: "BBBB-BBBB-BBBB", Flow: sso.FlowIdP, Result: sso.ResultRefused, Reason: sso.ReasonAudienceMismatch,
		Detail: `addressed to "https://x", not here`, NameID: "=HYPERLINK(\"http://evil\",\"click\")", ClaimedName: "+Mallory, the \"boss\"\nline 2"})
	p.recordEvent(p.globex, sso.Event{Reference: "CCCC-CCCC-CCCC", Flow: sso.FlowSP, Result: sso.ResultRefused, NameID: "secret@globex.test"})

	resp, body := p.adminGet("/admin/events.csv?result=refused")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=acme-sign-in-events.csv` {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	if len(rows) != 2 || rows[0][0] != "Time (UTC)" {
		t.Fatalf("rows %q, want the header and acme's one refused event", rows)
	}
	row := rows[1]
	if row[1] != "BBBB-BBBB-BBBB" || row[2] != "'=HYPERLINK(\"http://evil\",\"click\")" || row[4] != "Refused" ||
		row[5] != "audience-mismatch" || row[6] != `addressed to "https://x", not here` || row[10] != "'+Mallory, the \"boss\"\nline 2" {
		t.Errorf("row %q", row)
	}
	if strings.Contains(body, "secret@globex.test") {
		t.Error("the export holds another site's event")
	}
	// The page's export link carries the filters.
	page := p.get(acmeHost, "/admin/events?result=refused&user=simon", p.acmeAdmin)
	if !strings.Contains(page, `href="/admin/events.csv?result=refused&amp;user=simon"`) {
		t.Error("the export link drops the filters")
	}
	if resp, _ := p.Get(globexHost, "/admin/events.csv", p.acmeAdmin); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("acme's admin session exports globex's events: status %d", resp.StatusCode)
	}
}
