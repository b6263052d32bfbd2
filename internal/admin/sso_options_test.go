package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
)

// savedOptions is every option the SSO page's Save writes, for comparing
// settings before and after.
func savedOptions(s sso.Settings) string {
	return fmt.Sprintf("enabled=%t auto_create=%t auto_update=%t idp_initiated=%t authn_context=%q nameid=%s sign_requests=%t role=%s default_target=%q error_page=%q require_mfa=%t mfa_contexts=%q slo=%t require_encryption=%t",
		s.Enabled, s.AutoCreate, s.AutoUpdate, s.IdPInitiated, s.AuthnContext, s.NameIDFormat, s.SignRequests,
		s.NewUserRole, s.DefaultTarget, s.ErrorPageURL, s.RequireMFA, s.MFAContexts, s.SLOEnabled, s.RequireEncryption)
}

// TestSSOSaveChangesExactlyTheOneOptionChanged does what an admin does: open
// the page, change one thing, leave every other field as the page rendered
// it, Save. Exactly that option changes, and the audit entry says so.
func TestSSOSaveChangesExactlyTheOneOptionChanged(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	cases := []struct {
		name  string
		edit  func(url.Values)
		apply func(*sso.Settings)
		audit string
	}{
		{"require multi-factor sign-in, nothing else (AuthnContextClassRef left empty)",
			func(v url.Values) { v.Set("require_mfa", "on") }, func(s *sso.Settings) { s.RequireMFA = true },
			"Require multi-factor sign-in: off → on"},
		{"SP-initiated only", func(v url.Values) { v.Set("profile", "sp") }, func(s *sso.Settings) { s.IdPInitiated = false },
			"SSO Profile: SP- and IdP-initiated → SP-initiated"},
		{"NameID format", func(v url.Values) { v.Set("nameid_format", sso.NameIDPersistent) }, func(s *sso.Settings) { s.NameIDFormat = sso.NameIDPersistent },
			"NameID Format: emailAddress → persistent"},
		{"AuthnContextClassRef", func(v url.Values) { v.Set("authn_context", tutorialAuthnContext) },
			func(s *sso.Settings) { s.AuthnContext = strings.Split(tutorialAuthnContext, ";") },
			"AuthnContextClassRef: (empty) → " + tutorialAuthnContext},
		{"MFA AuthnContextClassRef values", func(v url.Values) { v.Set("mfa_contexts", "https://refeds.org/profile/mfa") },
			func(s *sso.Settings) { s.MFAContexts = []string{"https://refeds.org/profile/mfa"} },
			"MFA AuthnContextClassRef values: " + strings.Join(sso.DefaultMFAContexts, ";") + " → https://refeds.org/profile/mfa"},
		{"AuthnRequest Signed off", func(v url.Values) { v.Del("sign_requests") }, func(s *sso.Settings) { s.SignRequests = false },
			"AuthnRequest Signed: on → off"},
		{"Auto Account Creation off", func(v url.Values) { v.Del("auto_create") }, func(s *sso.Settings) { s.AutoCreate = false },
			"Auto Account Creation: on → off"},
		{"Auto Account Update on", func(v url.Values) { v.Set("auto_update", "on") }, func(s *sso.Settings) { s.AutoUpdate = true },
			"Auto Account Update: off → on"},
		{"attendees", func(v url.Values) { v.Set("attendee", "on") }, func(s *sso.Settings) { s.NewUserRole = "attendee" },
			"Create new accounts as attendees: off → on"},
		{"default target page", func(v url.Values) { v.Set("default_target", "/meet/welcome") }, func(s *sso.Settings) { s.DefaultTarget = "/meet/welcome" },
			"Default target page after sign-in: / → /meet/welcome"},
		{"error page URL", func(v url.Values) { v.Set("error_page_url", "https://help.acme.example/sso") },
			func(s *sso.Settings) { s.ErrorPageURL = "https://help.acme.example/sso" },
			"Customer SSO error page URL: (empty) → https://help.acme.example/sso"},
		// Azure's metadata has a logout URL (SingleLogoutService).
		{"Single Logout", func(v url.Values) { v.Set("slo_enabled", "on") }, func(s *sso.Settings) { s.SLOEnabled = true },
			"Single Logout: off → on"},
		{"Require encrypted assertions", func(v url.Values) { v.Set("require_encryption", "on") }, func(s *sso.Settings) { s.RequireEncryption = true },
			"Require encrypted assertions: off → on"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := p.settings()
			form := p.optionsForm()
			c.edit(form)
			resp, body := p.adminPost("/admin/sso", form)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=saved" {
				t.Fatalf("Save: status %d: %s", resp.StatusCode, pageError(body))
			}
			want := before
			c.apply(&want)
			after := p.settings()
			if savedOptions(after) != savedOptions(want) {
				t.Errorf("after the Save:\n %s\nwant\n %s", savedOptions(after), savedOptions(want))
			}
			if after.Revision != before.Revision+1 {
				t.Errorf("revision %d → %d, want one more", before.Revision, after.Revision)
			}
			if got := p.auditEntries(p.acme)[0]; got != "admin@acme.test sso.save-options "+c.audit {
				t.Errorf("audit entry %q, want the one change %q", got, c.audit)
			}
		})
	}
	// Status: SSO on, from its own form.
	before := p.settings()
	form := p.statusForm()
	form.Set("enabled", "on")
	p.post(acmeHost, "/admin/sso", form, "/admin/sso?done=saved", p.acmeAdmin)
	want := before
	want.Enabled = true
	if after := p.settings(); savedOptions(after) != savedOptions(want) {
		t.Errorf("after turning SSO on:\n %s\nwant\n %s", savedOptions(after), savedOptions(want))
	}
	if got := p.auditEntries(p.acme)[0]; got != "admin@acme.test sso.save-options SSO enabled: off → on" {
		t.Errorf("audit entry %q", got)
	}
}

// TestSSOSaveRoundTripsEveryEmptyValue empties each text field of the
// page, alone, after it held a value: the Save succeeds, the page shows the
// field empty (the default target page: its meaning, /), and the setting is
// what empty means.
func TestSSOSaveRoundTripsEveryEmptyValue(t *testing.T) {
	p := newPortal(t)
	cases := []struct {
		field, value, shown string
		empty               func(sso.Settings) bool
	}{
		{"authn_context", tutorialAuthnContext, "", func(s sso.Settings) bool { return len(s.AuthnContext) == 0 }},
		{"mfa_contexts", "https://refeds.org/profile/mfa", "", func(s sso.Settings) bool { return len(s.MFAContexts) == 0 }},
		{"default_target", "/meet/welcome", "/", func(s sso.Settings) bool { return s.DefaultTarget == "/" }},
		{"error_page_url", "https://help.acme.example/sso", "", func(s sso.Settings) bool { return s.ErrorPageURL == "" }},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			form := p.optionsForm()
			form.Set(c.field, c.value)
			p.post(acmeHost, "/admin/sso", form, "/admin/sso?done=saved", p.acmeAdmin)
			form = p.optionsForm()
			if strings.Join(sso.SplitAuthnContext(form.Get(c.field)), ";") != c.value {
				t.Fatalf("the page shows %s %q after saving %q", c.field, form.Get(c.field), c.value)
			}
			form.Set(c.field, "")
			resp, body := p.adminPost("/admin/sso", form)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("Save with %s empty: status %d: %s", c.field, resp.StatusCode, pageError(body))
			}
			if shown := p.optionsForm().Get(c.field); shown != c.shown {
				t.Errorf("after saving it empty the page shows %s %q, want %q", c.field, shown, c.shown)
			}
			if !c.empty(p.settings()) {
				t.Errorf("%s saved empty is %s", c.field, savedOptions(p.settings()))
			}
		})
	}
	// Every switch off at once, every list empty: still a valid Save.
	form := p.optionsForm()
	for _, box := range []string{"require_mfa", "sign_requests", "auto_create", "auto_update", "attendee", "slo_enabled", "require_encryption"} {
		form.Del(box)
	}
	for _, text := range []string{"authn_context", "mfa_contexts", "default_target", "error_page_url"} {
		form.Set(text, "")
	}
	p.post(acmeHost, "/admin/sso", form, "/admin/sso?done=saved", p.acmeAdmin)
	want := `enabled=false auto_create=false auto_update=false idp_initiated=true authn_context=[] nameid=` + sso.NameIDEmail +
		` sign_requests=false role=host default_target="/" error_page="" require_mfa=false mfa_contexts=[] slo=false require_encryption=false`
	if got := savedOptions(p.settings()); got != want {
		t.Errorf("everything off and empty:\n %s\nwant\n %s", got, want)
	}
}

// TestSingleLogoutNeedsTheIdPsLogoutURL: Single Logout cannot be turned on
// for an identity provider with no logout URL; the page says where to get
// one and keeps what was typed.
func TestSingleLogoutNeedsTheIdPsLogoutURL(t *testing.T) {
	p := newPortal(t)
	form := p.optionsForm()
	form.Set("slo_enabled", "on")
	form.Set("default_target", "/meet/welcome")
	resp, body := p.adminPost("/admin/sso", form)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "has no logout URL (SLO URL) yet") ||
		!strings.Contains(body, `id="slo_enabled" name="slo_enabled" checked`) || !strings.Contains(body, `value="/meet/welcome"`) {
		t.Fatalf("status %d: %s", resp.StatusCode, pageError(body))
	}
	if p.settings().SLOEnabled || p.settings().DefaultTarget != "/" {
		t.Fatal("a refused Save changed the settings")
	}
	// With Azure's metadata, which names the logout URL, it saves, and the
	// page shows the URL beside the switch.
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	form = p.optionsForm()
	form.Set("slo_enabled", "on")
	p.post(acmeHost, "/admin/sso", form, "/admin/sso?done=saved", p.acmeAdmin)
	_, body = p.adminGet("/admin/sso")
	if !p.settings().SLOEnabled || !strings.Contains(body, `<span class="mono" id="idp-logout-url">https://login.microsoftonline.com/`) ||
		!strings.Contains(body, `id="sp_slo_url" value="http://acme.localhost:8080/saml/slo"`) {
		t.Errorf("after saving Single Logout on: %v", p.settings().SLOEnabled)
	}
}
