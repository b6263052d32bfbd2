package sso_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// adminRequest is a request of acme's admin (cookie) in browser b, on
// the site's own origin: a page, or a form post.
func (p *portal) adminRequest(b *browser, method, path string, form url.Values, cookie *http.Cookie) *http.Response {
	p.t.Helper()
	return p.serveIn(b, portaltest.Request(method, acmeHost, path, form, cookie))
}

// TestStagedIdentityProviderIsTestedThenActivated follows an admin who
// moves a site with SSO on to a new identity provider: the import from its
// metadata URL is staged (the review says so), users keep signing in with
// the old IdP and the new one is refused, Test SSO of the staged IdP goes
// to it and passes (and says it tested the staged one), Activate puts it
// in use in one audited step, and pressed again finds nothing to do.
func TestStagedIdentityProviderIsTestedThenActivated(t *testing.T) {
	next := ssotest.NewIdP(t)
	const metadataURL = "https://login.microsoftonline.com/next/federationmetadata/2007-06/federationmetadata.xml"
	p := newPortal(t, portaltest.Configure(func(a *app.App) {
		a.FetchMetadata = func(context.Context, string) ([]byte, error) { return next.MetadataXML(), nil }
	}))
	admin := p.SignInAdmin(acmeHost, portaltest.AdminEmail("acme"))
	ctx := context.Background()

	resp := p.adminRequest(p.browser, "POST", "/admin/sso/import-url", url.Values{"metadata_url": {metadataURL}}, admin)
	review := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(review, "/admin/sso/import/") {
		t.Fatalf("import from URL: status %d location %q: %s", resp.StatusCode, review, body(t, resp))
	}
	page := body(t, p.adminRequest(p.browser, "GET", review, nil, admin))
	if !strings.Contains(page, `data-staged="true"`) || !strings.Contains(page, "this import is staged, not used yet") {
		t.Errorf("the review does not say the import is staged: %s", page)
	}
	resp = p.adminRequest(p.browser, "POST", review, url.Values{}, admin)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin/sso?done=staged#pending" {
		t.Fatalf("confirm the import: status %d location %q", resp.StatusCode, loc)
	}
	set, _ := p.sso.Settings(ctx, p.acme.ID)
	if set.IdPEntityID != p.idp.EntityID || set.PendingEntityID != next.EntityID || set.PendingMetadataURL != metadataURL || set.MetadataURL != "" {
		t.Fatalf("after staging: live %q, staged %q from %q, live metadata URL %q", set.IdPEntityID, set.PendingEntityID, set.PendingMetadataURL, set.MetadataURL)
	}

	// Users still sign in with the IdP in use; the staged one is not
	// trusted for them.
	if resp := p.postACS(acmeHost, p.respond(azure("")), ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the IdP in use: status %d: %s", resp.StatusCode, body(t, resp))
	}
	if resp := p.postACS(acmeHost, ssotest.Encode(next.Response(t, azure(""))), ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in with the staged IdP before activation: status %d, want 403", resp.StatusCode)
	}

	// Test SSO of the staged IdP: the request goes to it, its answer passes.
	resp = p.adminRequest(p.browser, "GET", "/admin/sso/test?config=staged", nil, admin)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, next.SSOURL+"?") {
		t.Fatalf("Test SSO of the staged IdP: status %d location %q, want the staged IdP %s", resp.StatusCode, loc, next.SSOURL)
	}
	req, relayState := p.authnRequest(resp)
	resp = p.postACS(acmeHost, ssotest.Encode(next.Response(t, azure(req.SelectAttrValue("ID", "")))), relayState)
	page = body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Test SSO: all checks passed") || !strings.Contains(page, `id="tested-staged"`) {
		t.Fatalf("the staged IdP's answer to Test SSO: status %d: %s", resp.StatusCode, page)
	}
	// A plain Test SSO still tests the IdP in use: the staged IdP's
	// answer to it is refused.
	req, relayState = p.startTestSSO(p.browser)
	page = body(t, p.postACS(acmeHost, ssotest.Encode(next.Response(t, azure(req.SelectAttrValue("ID", "")))), relayState))
	if !strings.Contains(page, "Test SSO: a check failed") {
		t.Errorf("the staged IdP answered a Test SSO of the IdP in use: %s", page)
	}

	// Activate, as the page's form sends it.
	activate := portaltest.FormValues(t, body(t, p.adminRequest(p.browser, "GET", "/admin/sso", nil, admin)), "activate-pending-form")
	resp = p.adminRequest(p.browser, "POST", "/admin/sso/pending/activate", activate, admin)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/admin/sso?done=activated" {
		t.Fatalf("Activate: status %d location %q: %s", resp.StatusCode, loc, body(t, resp))
	}
	set, _ = p.sso.Settings(ctx, p.acme.ID)
	if set.IdPEntityID != next.EntityID || set.HasPending() || set.MetadataURL != metadataURL {
		t.Fatalf("after Activate: live %q, staged %v, metadata URL %q", set.IdPEntityID, set.HasPending(), set.MetadataURL)
	}
	if resp := p.postACS(acmeHost, ssotest.Encode(next.Response(t, azure(""))), ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the activated IdP: status %d: %s", resp.StatusCode, body(t, resp))
	}
	if resp := p.postACS(acmeHost, p.respond(azure("")), ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in with the old IdP after activation: status %d, want 403", resp.StatusCode)
	}
	var actions []string
	rows, err := p.pool.Query(ctx, `SELECT action FROM admin_audit WHERE site_id = $1 ORDER BY id`, p.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		actions = append(actions, a)
	}
	if strings.Join(actions, " ") != "sso.stage-idp sso.activate-idp" {
		t.Errorf("audit %q, want the staging and the activation", actions)
	}

	// Pressed again: nothing staged, nothing done.
	resp = p.adminRequest(p.browser, "POST", "/admin/sso/pending/activate", activate, admin)
	if page := body(t, resp); resp.StatusCode != http.StatusConflict || !strings.Contains(page, "no identity provider is staged any more") {
		t.Errorf("Activate pressed again: status %d", resp.StatusCode)
	}
}

// TestStagedIdentityProviderIsDiscardedAndOnlyTheOneShown: Discard drops
// the staged IdP and changes nothing in use; an Activate or Discard from a
// page that showed another staged IdP is refused.
func TestStagedIdentityProviderIsDiscardedAndOnlyTheOneShown(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	stage := func(idp *ssotest.IdP) sso.Settings {
		t.Helper()
		draft, err := p.sso.CreateDraft(ctx, p.acme.ID, idp.MetadataXML(), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, staged, err := p.sso.ApplyDraft(ctx, p.acme.ID, draft.ID, "admin@acme.test"); err != nil || !staged {
			t.Fatalf("stage: %v %v", staged, err)
		}
		set, _ := p.sso.Settings(ctx, p.acme.ID)
		return set
	}
	first := stage(ssotest.NewIdP(t))
	second := stage(ssotest.NewIdP(t))
	if _, err := p.sso.ActivatePending(ctx, p.acme.ID, first.PendingToken(), "admin@acme.test"); err != sso.ErrPendingChanged {
		t.Errorf("activating the IdP staged first, replaced since: %v", err)
	}
	if err := p.sso.DiscardPending(ctx, p.acme.ID, second.PendingToken(), "admin@acme.test"); err != nil {
		t.Fatal(err)
	}
	if set, _ := p.sso.Settings(ctx, p.acme.ID); set.HasPending() || set.IdPEntityID != p.idp.EntityID {
		t.Errorf("after Discard: staged %v, live %q", set.HasPending(), set.IdPEntityID)
	}
	if err := p.sso.DiscardPending(ctx, p.acme.ID, second.PendingToken(), "admin@acme.test"); err != sso.ErrNoPending {
		t.Errorf("Discard again: %v", err)
	}
}

// TestSettingsOfASiteWithNoRowAreTheColumnDefaults: a site nobody
// configured reads the same settings before and after its row is written
// with the table's defaults (migrations 0002–0054), so the code's defaults
// and the columns' cannot drift apart — the claim mapping included.
func TestSettingsOfASiteWithNoRowAreTheColumnDefaults(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	site := p.CreateSite("initech")
	before, err := p.sso.Settings(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if before.Revision != 0 {
		t.Fatalf("the site has a settings row already (revision %d)", before.Revision)
	}
	if _, err := p.pool.Exec(ctx, `INSERT INTO sso_settings (site_id, mfa_contexts) VALUES ($1, $2)`, site.ID, sso.DefaultMFAContexts); err != nil {
		t.Fatal(err)
	}
	p.sso.CacheOff()
	after, err := p.sso.Settings(ctx, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	mapping := func(s sso.Settings) string {
		return strings.Join([]string{strings.Join(s.AttrUID, ";"), strings.Join(s.AttrEmail, ";"), strings.Join(s.AttrFirstName, ";"),
			strings.Join(s.AttrLastName, ";"), s.GroupClaim, strings.Join(s.HostGroups, ";"), strings.Join(s.AttendeeGroups, ";"),
			s.PendingEntityID}, " | ")
	}
	if mapping(before) != mapping(after) || after.AutoCreate != before.AutoCreate || after.NameIDFormat != before.NameIDFormat ||
		after.DefaultTarget != before.DefaultTarget || after.SignRequests != before.SignRequests || after.IdPInitiated != before.IdPInitiated {
		t.Errorf("defaults without a row:\n %s %+v\nthe row's defaults:\n %s %+v", mapping(before), before, mapping(after), after)
	}
}
