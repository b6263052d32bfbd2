package sso_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/users"
)

// testSSOPage runs Test SSO as acme's admin with a response carrying
// attributes, and returns the result page.
func (p *portal) testSSOPage(attributes map[string][]string) string {
	p.t.Helper()
	req, relayState := p.startTestSSO(p.browser)
	resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) {
		o.InResponseTo, o.NameID, o.Attributes = req.SelectAttrValue("ID", ""), ssotest.DefaultNameID, attributes
	}), relayState)
	page := body(p.t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Test SSO: all checks passed") {
		p.t.Fatalf("Test SSO: status %d: %s", resp.StatusCode, page)
	}
	return page
}

// section is the part of page from the element with id to the next
// closing tag named end.
func section(t *testing.T, page, id, end string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no #%s on the page: %s", id, page)
	}
	page = page[i:]
	return page[:strings.Index(page, end)]
}

// TestTestSSOExplainsWhatSigningInWouldDo: the Test SSO page says which
// claim became each value of the account, and whether the account would be
// created, matched, updated or refused and why — and the test changes no
// account. MFA is reported as seen or not.
func TestTestSSOExplainsWhatSigningInWouldDo(t *testing.T) {
	p := newPortal(t)
	const email = "b.simon@contoso.com"
	claims := p.idp.AzureClaims(email, "Britta", "Simon", ssotest.DefaultObjectID)
	p.set(p.acme, func(s *sso.Settings) { s.HostGroups = []string{"g-hosts"} })
	claims[users.ClaimGroups] = []string{"g-hosts"}

	// No account yet, Auto Account Creation on: created, as a host by
	// the group.
	page := p.testSSOPage(claims)
	outcome := section(t, page, "outcome", "</div>")
	if !strings.Contains(outcome, `data-action="create"`) || !strings.Contains(outcome, "The account would be created") ||
		!strings.Contains(outcome, `<span id="outcome-role">host</span>`) {
		t.Errorf("a new user: %s", outcome)
	}
	mapped := section(t, page, "mapped-claims", "</table>")
	for _, want := range []string{
		`First name</th><td class="mono" data-label="Value">Britta</td><td class="mono" data-label="From the claim">firstname</td>`,
		`Last name</th><td class="mono" data-label="Value">Simon</td><td class="mono" data-label="From the claim">lastname</td>`,
		`E-mail</th><td class="mono" data-label="Value">` + email + `</td><td class="mono" data-label="From the claim">email</td>`,
		`User ID (uid)</th><td class="mono" data-label="Value">` + email + `</td><td class="mono" data-label="From the claim">uid</td>`,
		`Object ID</th><td class="mono" data-label="Value">` + ssotest.DefaultObjectID + `</td><td class="mono" data-label="From the claim">` + users.ClaimObjectID,
		`Role from groups</th><td class="mono" data-label="Value">host (group g-hosts)</td><td class="mono" data-label="From the claim">` + users.ClaimGroups,
	} {
		if !strings.Contains(mapped, want) {
			t.Errorf("the mapped claims lack %s:\n%s", want, mapped)
		}
	}
	if !strings.Contains(page, `<p id="mfa"><strong>Not seen</strong>`) || !strings.Contains(page, `href="/admin/sso" id="back-to-settings"`) {
		t.Error("no MFA line or no link back to the settings")
	}
	if n := p.countUsers(p.acme); n != 0 {
		t.Fatalf("Test SSO created %d account(s)", n)
	}

	// The account exists: matched; with Auto Account Update and a new
	// name, updated, saying what changes; deactivated, refused.
	p.signIn(email, p.idp.AzureClaims(email, "Britta", "Simon", ssotest.DefaultObjectID))
	if outcome := section(t, p.testSSOPage(claims), "outcome", "</div>"); !strings.Contains(outcome, `data-action="match"`) ||
		!strings.Contains(outcome, "Auto Account Update is off") {
		t.Errorf("an existing user: %s", outcome)
	}
	p.set(p.acme, func(s *sso.Settings) { s.AutoUpdate = true })
	renamed := p.idp.AzureClaims(email, "Brit", "Simon", ssotest.DefaultObjectID)
	renamed["http://schemas.microsoft.com/claims/authnmethodsreferences"] = []string{users.AzureMFAMethod}
	page = p.testSSOPage(renamed)
	if outcome := section(t, page, "outcome", "</div>"); !strings.Contains(outcome, `data-action="update"`) ||
		!strings.Contains(outcome, "<li>First name: Britta → Brit</li>") {
		t.Errorf("an existing user renamed: %s", outcome)
	}
	if !strings.Contains(page, `<p id="mfa"><strong>Seen</strong>`) {
		t.Error("Azure's multipleauthn is not reported as MFA seen")
	}
	if u, _ := p.account(email); u.FirstName != "Britta" {
		t.Errorf("Test SSO updated the account: first name %q", u.FirstName)
	}

	// Another person in Azure (another object ID): refused, with Re-link.
	other := p.idp.AzureClaims(email, "Britta", "Simon", "11111111-2222-3333-4444-555555555555")
	if outcome := section(t, p.testSSOPage(other), "outcome", "</div>"); !strings.Contains(outcome, `data-action="refuse"`) ||
		!strings.Contains(outcome, "Re-link") {
		t.Errorf("another object ID: %s", outcome)
	}

	// A new user with Auto Account Creation off: refused, saying how to
	// let them in.
	p.set(p.acme, func(s *sso.Settings) { s.AutoCreate = false })
	newcomer := p.idp.AzureClaims("new@contoso.com", "New", "Comer", "")
	if outcome := section(t, p.testSSOPage(newcomer), "outcome", "</div>"); !strings.Contains(outcome, `data-action="refuse"`) ||
		!strings.Contains(outcome, "Auto Account Creation is off") {
		t.Errorf("a new user without Auto Account Creation: %s", outcome)
	}
}
