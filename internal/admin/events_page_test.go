package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/web"
)

func TestEventsPageListsNewestFirstWithFlowResultAndTheExplanation(t *testing.T) {
	p := newPortal(t)
	now := time.Now().UTC().Truncate(time.Second)
	explanation := "The signature did not verify with the configured certificates (fingerprints AB:CD). The IdP may have rolled over its certificate: re-import the metadata."
	p.record(sso.Event{SiteID: p.acme.ID, OccurredAt: now.Add(-3 * time.Minute), Reference: "AAAA-AAAA-AAAA", Flow: sso.FlowSP,
		Result: sso.ResultSuccess, NameID: "first@contoso.com"})
	p.record(sso.Event{SiteID: p.acme.ID, OccurredAt: now.Add(-2 * time.Minute), Reference: "BBBB-BBBB-BBBB", Flow: sso.FlowIdP,
		Result: sso.ResultRefused, Reason: sso.ReasonSignatureInvalid, Detail: explanation, NameID: "second@contoso.com"})
	p.record(sso.Event{SiteID: p.acme.ID, OccurredAt: now.Add(-1 * time.Minute), Reference: "CCCC-CCCC-CCCC",
		Result: sso.ResultRefused, Reason: sso.ReasonMalformed, Detail: "The response is not XML."})
	p.record(sso.Event{SiteID: p.globex.ID, OccurredAt: now, Reference: "GGGG-GGGG-GGGG", Flow: sso.FlowSP,
		Result: sso.ResultSuccess, NameID: "someone@globex.test"})

	body := p.get(acmeHost, "/admin/events", p.SignInAdmin(acmeHost, "admin@acme.test"))
	if n := rowCount(t, body, "events"); n != 3 {
		t.Fatalf("%d rows, want acme's 3 events: %s", n, body)
	}
	c, b, a := strings.Index(body, "CCCC-CCCC-CCCC"), strings.Index(body, "BBBB-BBBB-BBBB"), strings.Index(body, "AAAA-AAAA-AAAA")
	if !(c >= 0 && c < b && b < a) {
		t.Errorf("not newest first: positions %d %d %d", c, b, a)
	}
	for _, want := range []string{
		`<a href="/admin">Site administration</a>`,
		utc(now.Add(-2 * time.Minute)),
		"first@contoso.com", "SP-initiated", "IdP-initiated", "Unknown", "Signed in", "Refused",
		"signature-invalid", "malformed-response",
		"The signature did not verify with the configured certificates (fingerprints AB:CD). The IdP may have rolled over its certificate: re-import the metadata.",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("events page lacks %q", want)
		}
	}
	if strings.Contains(body, "GGGG-GGGG-GGGG") || strings.Contains(body, "someone@globex.test") {
		t.Error("acme's events page shows a globex event")
	}
}

func TestEventsPageFiltersByResultAndUser(t *testing.T) {
	p := newPortal(t)
	seed := []sso.Event{
		{Reference: "SUCC-ESS1-AAAA", Result: sso.ResultSuccess, NameID: "Britta.Simon@contoso.com", Flow: sso.FlowSP},
		{Reference: "REFU-SED1-AAAA", Result: sso.ResultRefused, Reason: sso.ReasonExpired, NameID: "britta.simon@contoso.com", Flow: sso.FlowSP},
		{Reference: "REFU-SED2-AAAA", Result: sso.ResultRefused, Reason: sso.ReasonAudienceMismatch, NameID: "other@contoso.com", Flow: sso.FlowIdP},
		{Reference: "TEST-TEST-AAAA", Result: sso.ResultTest, NameID: "admin.test@contoso.com", Flow: sso.FlowSP},
	}
	for _, e := range seed {
		e.SiteID = p.acme.ID
		p.record(e)
	}
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	cases := []struct {
		name, query string
		want        []string
	}{
		{"everything", "", []string{"SUCC-ESS1-AAAA", "REFU-SED1-AAAA", "REFU-SED2-AAAA", "TEST-TEST-AAAA"}},
		{"refused", "result=refused", []string{"REFU-SED1-AAAA", "REFU-SED2-AAAA"}},
		{"success", "result=success", []string{"SUCC-ESS1-AAAA"}},
		{"test", "result=test", []string{"TEST-TEST-AAAA"}},
		{"unknown result filters nothing", "result=bogus", []string{"SUCC-ESS1-AAAA", "REFU-SED1-AAAA", "REFU-SED2-AAAA", "TEST-TEST-AAAA"}},
		{"user, any case, part of the NameID", "user=BRITTA", []string{"SUCC-ESS1-AAAA", "REFU-SED1-AAAA"}},
		{"user and result", "user=britta&result=refused", []string{"REFU-SED1-AAAA"}},
		{"no match", "user=nobody", nil},
	}
	all := []string{"SUCC-ESS1-AAAA", "REFU-SED1-AAAA", "REFU-SED2-AAAA", "TEST-TEST-AAAA"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := p.get(acmeHost, "/admin/events?"+c.query, cookie)
			for _, ref := range all {
				wanted := false
				for _, w := range c.want {
					wanted = wanted || w == ref
				}
				if strings.Contains(body, ref) != wanted {
					t.Errorf("%s shown = %v, want %v", ref, !wanted, wanted)
				}
			}
			if c.want == nil && !strings.Contains(body, "No sign-in events match these filters.") {
				t.Error("an empty result does not say so")
			}
		})
	}
	// The chosen filters stay in the form.
	body := p.get(acmeHost, "/admin/events?result=refused&user=britta", cookie)
	if !strings.Contains(body, `<option value="refused" selected>`) || !strings.Contains(body, `name="user" value="britta"`) {
		t.Errorf("filters not kept in the form: %s", body)
	}
}

var referenceOnPage = regexp.MustCompile(`class="ref">([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})<`)

// A user refused at the ACS reads a reference off the error page; the
// admin types it (in any case, with or without the "Reference:" label) and
// finds that one event.
func TestEventsPageFindsTheEventOfAUsersErrorPageReference(t *testing.T) {
	p := newPortal(t)
	for range 3 {
		p.record(sso.Event{SiteID: p.acme.ID, Reference: web.NewReference(), Result: sso.ResultRefused, Reason: sso.ReasonExpired, NameID: "noise@contoso.com"})
	}
	resp := p.Do("POST", acmeHost, "/saml/acs", url.Values{"SAMLResponse": {"bm90IGEgU0FNTCByZXNwb25zZQ=="}})
	errorPage := readBody(t, resp)
	m := referenceOnPage.FindStringSubmatch(errorPage)
	if m == nil {
		t.Fatalf("the refusal page (status %d) shows no reference: %s", resp.StatusCode, errorPage)
	}
	ref := m[1]
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")
	for _, typed := range []string{ref, strings.ToLower(ref), strings.ReplaceAll(ref, "-", ""), "Reference: " + ref, "  " + strings.ReplaceAll(ref, "-", " ") + " "} {
		t.Run(typed, func(t *testing.T) {
			body := p.get(acmeHost, "/admin/events?reference="+url.QueryEscape(typed), cookie)
			if n := rowCount(t, body, "events"); n != 1 || !strings.Contains(body, ref) {
				t.Fatalf("%d rows for reference %q, want the one event %s: %s", n, typed, ref, body)
			}
			if !strings.Contains(body, `name="reference" value="`+ref+`"`) {
				t.Error("the reference box does not show the normalised reference")
			}
		})
	}
	// Another site's admin does not find it with the reference.
	body := p.get(globexHost, "/admin/events?reference="+ref, p.SignInAdmin(globexHost, "admin@globex.test"))
	if rowCount(t, body, "events") != 0 {
		t.Fatal("globex's events page finds acme's event by reference")
	}
}

func TestEventsPagePagesFiftyAtATimeKeepingTheFilters(t *testing.T) {
	p := newPortal(t)
	start := time.Now().Add(-time.Hour)
	for i := range 120 {
		p.record(sso.Event{SiteID: p.acme.ID, OccurredAt: start.Add(time.Duration(i) * time.Second),
			Reference: fmt.Sprintf("PAGE-%04d-AAAA", i), Result: sso.ResultRefused, Reason: sso.ReasonExpired, NameID: "pager@contoso.com"})
	}
	for i := range 5 {
		p.record(sso.Event{SiteID: p.acme.ID, OccurredAt: start.Add(time.Duration(i) * time.Second),
			Reference: fmt.Sprintf("GOOD-%04d-AAAA", i), Result: sso.ResultSuccess, NameID: "pager@contoso.com"})
	}
	cookie := p.SignInAdmin(acmeHost, "admin@acme.test")

	body := p.get(acmeHost, "/admin/events?result=refused&user=pager", cookie)
	prev, next := pagerLinks(body)
	if rowCount(t, body, "events") != 50 || prev != "" || !strings.Contains(body, "PAGE-0119-AAAA") || strings.Contains(body, "PAGE-0069-AAAA") {
		t.Fatalf("page 1: %d rows, prev %q", rowCount(t, body, "events"), prev)
	}
	if next != "/admin/events?page=2&result=refused&user=pager" {
		t.Fatalf("page 1 Next link %q", next)
	}
	body = p.get(acmeHost, next, cookie)
	if prev, next = pagerLinks(body); rowCount(t, body, "events") != 50 || !strings.Contains(body, "PAGE-0069-AAAA") || prev != "/admin/events?result=refused&user=pager" {
		t.Fatalf("page 2: %d rows, prev %q", rowCount(t, body, "events"), prev)
	}
	body = p.get(acmeHost, next, cookie)
	prev, next = pagerLinks(body)
	if rowCount(t, body, "events") != 20 || next != "" || prev != "/admin/events?page=2&result=refused&user=pager" {
		t.Fatalf("page 3: %d rows, prev %q, next %q", rowCount(t, body, "events"), prev, next)
	}
	if strings.Contains(body, "GOOD-") || !strings.Contains(body, "PAGE-0000-AAAA") {
		t.Fatal("page 3 lost the result filter or the oldest event")
	}
	// Exactly 50 events: no Next link to an empty page.
	body = p.get(acmeHost, "/admin/events?user=pager&page=3", cookie)
	if _, next := pagerLinks(body); rowCount(t, body, "events") != 25 || next != "" {
		t.Fatalf("last unfiltered page: %d rows, next %q", rowCount(t, body, "events"), next)
	}
	// Nonsense page numbers are page 1, not an error.
	for _, page := range []string{"0", "-4", "x", "99999999999999999999"} {
		if resp := p.Do("GET", acmeHost, "/admin/events?page="+page, nil, cookie); resp.StatusCode != http.StatusOK {
			t.Errorf("page=%s: status %d", page, resp.StatusCode)
		}
	}
}

func TestEventsPageEscapesWhatTheIdPSent(t *testing.T) {
	p := newPortal(t)
	p.record(sso.Event{SiteID: p.acme.ID, Reference: "XSSX-XSSX-XSSX", Result: sso.ResultRefused, Reason: sso.ReasonNoAccount,
		NameID: `<script>alert(1)</script>`, Detail: `No account for "<img src=x onerror=alert(2)>" and Auto Account Creation is off.`})
	body := p.get(acmeHost, "/admin/events?user="+url.QueryEscape(`"><script>alert(3)</script>`), p.SignInAdmin(acmeHost, "admin@acme.test"))
	body += p.get(acmeHost, "/admin/events", p.SignInAdmin(acmeHost, "admin@acme.test"))
	for _, raw := range []string{"<script>alert(1)", "<img src=x", "<script>alert(3)"} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains %q unescaped", raw)
		}
	}
	for _, escaped := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "&lt;script&gt;alert(3)&lt;/script&gt;"} {
		if !strings.Contains(body, escaped) {
			t.Errorf("page lacks %q", escaped)
		}
	}
}

// TestEventsPageNamesSingleLogout: the events of Single Logout read as
// sign-outs, with their own flows.
func TestEventsPageNamesSingleLogout(t *testing.T) {
	p := newPortal(t)
	p.record(sso.Event{SiteID: p.acme.ID, Reference: "AAAA-BBBB-CCCC", Flow: sso.FlowLogoutIdP, Result: sso.ResultSuccess, NameID: "b.simon@contoso.com"})
	p.record(sso.Event{SiteID: p.acme.ID, Reference: "DDDD-EEEE-FFFF", Flow: sso.FlowLogoutSP, Result: sso.ResultRefused, Reason: sso.ReasonSignatureInvalid})
	_, body := p.adminGet("/admin/events")
	for _, want := range []string{"Single Logout from the IdP", "Signed out", "Single Logout from this site", "signature-invalid"} {
		if !strings.Contains(body, want) {
			t.Errorf("the events page does not show %q", want)
		}
	}
}
