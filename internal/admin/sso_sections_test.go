package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

// everySetting is every setting the SSO page's sections save, for
// comparing before and after.
func everySetting(s sso.Settings) string {
	return savedOptions(s) + fmt.Sprintf(" uid=%q email=%q first=%q last=%q group_claim=%q hosts=%q attendees=%q",
		s.AttrUID, s.AttrEmail, s.AttrFirstName, s.AttrLastName, s.GroupClaim, s.HostGroups, s.AttendeeGroups)
}

// TestSSOEachSectionSavedAloneLeavesEveryOtherSettingUnchanged: with
// every setting away from its default, the admin opens the page, changes
// one field of one section and presses that section's Save, leaving every
// other field as it came: exactly that setting changes, whatever the other
// sections hold (a section's form does not carry them).
func TestSSOEachSectionSavedAloneLeavesEveryOtherSettingUnchanged(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	if _, err := p.App.SSO.UpdateSettings(context.Background(), p.acme.ID, func(s *sso.Settings) error {
		s.Enabled, s.AutoUpdate, s.RequireMFA, s.SLOEnabled, s.NewUserRole = true, true, true, true, "attendee"
		s.AuthnContext = strings.Split(tutorialAuthnContext, ";")
		s.DefaultTarget, s.ErrorPageURL = "/meet/welcome", "https://help.acme.example/sso"
		s.AttrUID, s.HostGroups, s.AttendeeGroups = []string{"employeeid", "uid"}, []string{"g-hosts"}, []string{"g-a", "g-b"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		form  string
		edit  func(url.Values)
		apply func(*sso.Settings)
	}{
		{"sso-options", func(v url.Values) { v.Del("require_mfa") }, func(s *sso.Settings) { s.RequireMFA = false }},
		{"sso-options", func(v url.Values) { v.Set("authn_context", "urn:oasis:names:tc:SAML:2.0:ac:classes:X509") },
			func(s *sso.Settings) { s.AuthnContext = []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:X509"} }},
		{"sso-mapping", func(v url.Values) { v.Set("host_groups", "g-hosts\r\ng-more-hosts") },
			func(s *sso.Settings) { s.HostGroups = []string{"g-hosts", "g-more-hosts"} }},
		{"sso-mapping", func(v url.Values) { v.Set("attr_uid", "uid") }, func(s *sso.Settings) { s.AttrUID = []string{"uid"} }},
		{"sso-enabled", func(v url.Values) { v.Del("enabled") }, func(s *sso.Settings) { s.Enabled = false }},
		{"sso-enabled", func(v url.Values) { v.Set("enabled", "on") }, func(s *sso.Settings) { s.Enabled = true }},
	}
	for _, c := range cases {
		before := p.settings()
		form := portaltest.FormValues(t, p.get(acmeHost, "/admin/sso", p.acmeAdmin), c.form)
		for key := range form {
			if key != "section" && key != "revision" && key != "opened" && !strings.Contains(strings.Join(sectionInputs(c.form), " "), key) {
				t.Errorf("form %s carries %s, a setting of another section", c.form, key)
			}
		}
		c.edit(form)
		resp, body := p.adminPost("/admin/sso", form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: status %d: %s", c.form, resp.StatusCode, pageError(body))
		}
		want := before
		c.apply(&want)
		if got := everySetting(p.settings()); got != everySetting(want) {
			t.Errorf("%s saved:\n %s\nwant\n %s", c.form, got, everySetting(want))
		}
	}
}

// sectionInputs are the setting inputs each form of the page may carry.
func sectionInputs(form string) []string {
	switch form {
	case "sso-options":
		return []string{"protocol", "profile", "nameid_format", "authn_context", "require_mfa", "mfa_contexts", "sign_requests",
			"auto_create", "auto_update", "attendee", "default_target", "error_page_url", "slo_enabled", "require_encryption"}
	case "sso-mapping":
		return []string{"attr_uid", "attr_email", "attr_first_name", "attr_last_name", "group_claim", "host_groups", "attendee_groups"}
	}
	return []string{"enabled"}
}

// TestSSOSectionSaveOverAnotherAdminsChangeIsRefused: the revision check
// holds for every section: admin A's page is older than admin B's save of
// another section, so A's save is refused with what B changed, and nothing
// of A's is written.
func TestSSOSectionSaveOverAnotherAdminsChangeIsRefused(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	second := p.secondAdmin()
	opened := p.pageForm(p.acmeAdmin, "sso-mapping")
	status := p.pageForm(second, "sso-enabled")
	status.Set("enabled", "on")
	p.post(acmeHost, "/admin/sso", status, "/admin/sso?done=saved", second)

	opened.Set("host_groups", "g-hosts")
	resp, body := p.adminPost("/admin/sso", opened)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", resp.StatusCode, pageError(body))
	}
	if rows := conflictRows(body); len(rows) != 1 || rows[0] != "SSO enabled | off | on" {
		t.Errorf("conflict rows %q", rows)
	}
	if set := p.settings(); len(set.HostGroups) != 0 || !set.Enabled {
		t.Errorf("after the refused save: hosts %q enabled %v", set.HostGroups, set.Enabled)
	}
	if !strings.Contains(fieldBlock(t, body, "host_groups"), ">g-hosts</textarea>") {
		t.Error("the admin's edit is not kept in the form")
	}
}

// TestSSOFormOfNoKnownSectionIsRefused: a post without a section (a page
// from before the sections) changes nothing.
func TestSSOFormOfNoKnownSectionIsRefused(t *testing.T) {
	p := newPortal(t)
	before := everySetting(p.settings())
	form := p.optionsForm()
	form.Del("section")
	form.Set("require_mfa", "on")
	resp, _ := p.adminPost("/admin/sso", form)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if after := everySetting(p.settings()); after != before {
		t.Errorf("settings changed:\n %s\n %s", before, after)
	}
}

// TestSSOEnablingWithoutAnIdPIsRefusedUnderStatus: SSO cannot be turned on
// before an identity provider is set up; the error is at the switch and
// in the summary at the top.
func TestSSOEnablingWithoutAnIdPIsRefusedUnderStatus(t *testing.T) {
	p := newPortal(t)
	form := p.statusForm()
	form.Set("enabled", "on")
	resp, body := p.adminPost("/admin/sso", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !strings.Contains(body, `<li><a href="#enabled">No identity provider is set up yet`) ||
		!strings.Contains(fieldBlock(t, body, "enabled"), `id="enabled-error"`) {
		t.Error("the refusal is not at the switch and in the summary")
	}
	if p.settings().Enabled {
		t.Error("SSO was enabled")
	}
}

// TestSSOManualEntryIsEmptyUntilAskedAndStagedWhileSSOIsOn: the manual
// form is not prefilled with the imported IdP unless the admin asks to
// edit it; with SSO off an import goes live (the review says so), with SSO
// on a hand-entered IdP is staged and shown with Test SSO, Activate and
// Discard, and the IdP in use does not change.
func TestSSOManualEntryIsEmptyUntilAskedAndStagedWhileSSOIsOn(t *testing.T) {
	p := newPortal(t)
	resp, body := p.upload("metadata.xml", fixture(t, "azure-federation-metadata.xml"))
	review := p.followToReview(resp, body)
	if _, page := p.adminGet(review); !strings.Contains(page, `data-staged="false"`) || !strings.Contains(page, "This import goes live at once") {
		t.Error("the review with SSO off does not say the import goes live")
	}
	p.adminPost(review, url.Values{})

	if manual := p.pageForm(p.acmeAdmin, "sso-idp"); manual.Get("entity_id") != "" || manual.Get("certificates") != "" {
		t.Errorf("the manual form is prefilled: %v", manual)
	}
	edit := portaltest.FormValues(t, p.get(acmeHost, "/admin/sso?edit=idp", p.acmeAdmin), "sso-idp")
	if edit.Get("entity_id") != azureEntityID || !strings.Contains(edit.Get("certificates"), "BEGIN CERTIFICATE") {
		t.Fatalf("Edit by hand does not show the IdP in use: %v", edit)
	}

	status := p.statusForm()
	status.Set("enabled", "on")
	p.post(acmeHost, "/admin/sso", status, "/admin/sso?done=saved", p.acmeAdmin)
	edit = portaltest.FormValues(t, p.get(acmeHost, "/admin/sso?edit=idp", p.acmeAdmin), "sso-idp")
	edit.Set("entity_id", "https://sts.windows.net/00000000-1111-2222-3333-444444444444/")
	p.post(acmeHost, "/admin/sso/idp", edit, "/admin/sso?done=staged#pending", p.acmeAdmin)
	set := p.settings()
	if set.IdPEntityID != azureEntityID || set.PendingEntityID != "https://sts.windows.net/00000000-1111-2222-3333-444444444444/" {
		t.Fatalf("after saving by hand with SSO on: live %q, staged %q", set.IdPEntityID, set.PendingEntityID)
	}
	_, page := p.adminGet("/admin/sso?done=staged")
	for _, want := range []string{`id="pending"`, `href="/admin/sso/test?config=staged"`, `id="activate-pending"`, `id="discard-pending"`, "Staged: SSO is on"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if got := p.auditActions(); strings.Join(got, " ") != "sso.import-metadata sso.save-options sso.stage-idp" {
		t.Errorf("audit %v", got)
	}
	discard := p.pageForm(p.acmeAdmin, "discard-pending-form")
	p.post(acmeHost, "/admin/sso/pending/discard", discard, "/admin/sso?done=discarded", p.acmeAdmin)
	if set := p.settings(); set.HasPending() || set.IdPEntityID != azureEntityID {
		t.Errorf("after Discard: staged %v, live %q", set.HasPending(), set.IdPEntityID)
	}
}
