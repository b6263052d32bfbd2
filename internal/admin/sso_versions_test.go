package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

// secondAdmin adds admin b@acme.test to acme and signs them in.
func (p *portal) secondAdmin() *http.Cookie {
	p.t.Helper()
	if err := p.App.Sites.CreateAdmin(context.Background(), p.acme.ID, "b@acme.test", adminPassword); err != nil {
		p.t.Fatal(err)
	}
	return p.SignInAdmin(acmeHost, "b@acme.test")
}

// pageForm is the form with the given id on acme's SSO page as the admin
// with cookie sees it.
func (p *portal) pageForm(cookie *http.Cookie, formID string) url.Values {
	p.t.Helper()
	return portaltest.FormValues(p.t, p.get(acmeHost, "/admin/sso", cookie), formID)
}

// conflictRows are the rows of the page's "changed by someone else" table,
// as "Setting | when opened | now".
func conflictRows(body string) []string {
	var rows []string
	for _, row := range strings.Split(body, `<tr class="conflict-change">`)[1:] {
		row = row[:strings.Index(row, "</tr>")]
		var cells []string
		for _, cell := range strings.Split(row, "</t")[:3] {
			cell = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(cell[strings.Index(cell, ">")+1:], "")
			cells = append(cells, strings.TrimSpace(cell))
		}
		rows = append(rows, strings.Join(cells, " | "))
	}
	return rows
}

func TestSSOSaveOverAnotherAdminsChangeIsRefusedWithWhatChangedAndKeepsTheEdit(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	adminA, adminB := p.acmeAdmin, p.secondAdmin()

	// A opens the page; B turns on multi-factor sign-in and saves.
	formA := p.pageForm(adminA, "sso-options")
	formB := p.pageForm(adminB, "sso-options")
	formB.Set("require_mfa", "on")
	p.post(acmeHost, "/admin/sso", formB, "/admin/sso?done=saved", adminB)

	// A changes only the default target page and saves.
	formA.Set("default_target", "/meet/welcome")
	resp, body := p.PostForm(acmeHost, "/admin/sso", formA, adminA)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("A's save over B's change: status %d, want 409: %s", resp.StatusCode, pageError(body))
	}
	if !strings.Contains(body, "changed by someone else since you opened this page") || strings.Contains(body, "banner good") {
		t.Errorf("A is not told that someone else changed the settings: %s", pageError(body))
	}
	if rows := conflictRows(body); !slices.Equal(rows, []string{"Require multi-factor sign-in | off | on"}) {
		t.Errorf("what changed: %q, want only MFA off → on", rows)
	}
	set := p.settings()
	if !set.RequireMFA || set.DefaultTarget != "/" {
		t.Fatalf("after the refused save: MFA %t, default target %q; want B's MFA kept and nothing of A's saved", set.RequireMFA, set.DefaultTarget)
	}
	// The form shows the settings as they are now, with A's edit kept.
	again := portaltest.FormValues(t, body, "sso-options")
	if again.Get("require_mfa") != "on" || again.Get("default_target") != "/meet/welcome" {
		t.Errorf("the form after the conflict: MFA %q, default target %q; want on and A's /meet/welcome", again.Get("require_mfa"), again.Get("default_target"))
	}
	// Saving it again applies A's edit on top of B's.
	p.post(acmeHost, "/admin/sso", again, "/admin/sso?done=saved", adminA)
	if set := p.settings(); !set.RequireMFA || set.DefaultTarget != "/meet/welcome" {
		t.Errorf("after A saved again: MFA %t, default target %q", set.RequireMFA, set.DefaultTarget)
	}
	want := []string{
		"b@acme.test sso.save-options Require multi-factor sign-in: off → on",
		"admin@acme.test sso.save-options Default target page after sign-in: / → /meet/welcome",
	}
	if got := p.auditEntries(p.acme)[:2]; !slices.Equal(got, []string{want[1], want[0]}) {
		t.Errorf("audit (newest first) %q, want %q", got, want)
	}
}

func TestSSOSaveConflictOnTheSameSettingKeepsTheAdminsValue(t *testing.T) {
	p := newPortal(t)
	adminA, adminB := p.acmeAdmin, p.secondAdmin()
	formA, formB := p.pageForm(adminA, "sso-options"), p.pageForm(adminB, "sso-options")
	formB.Set("default_target", "/meet/b")
	formB.Del("auto_create")
	p.post(acmeHost, "/admin/sso", formB, "/admin/sso?done=saved", adminB)

	formA.Set("default_target", "/meet/a")
	resp, body := p.PostForm(acmeHost, "/admin/sso", formA, adminA)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("status %d, want 409", resp.StatusCode)
	}
	rows := conflictRows(body)
	if !slices.Equal(rows, []string{"Auto Account Creation | on | off",
		"Default target page after sign-in | / | /meet/b (you changed it too: your value is in the form)"}) {
		t.Errorf("what changed: %q", rows)
	}
	again := portaltest.FormValues(t, body, "sso-options")
	if again.Get("default_target") != "/meet/a" || again.Has("auto_create") {
		t.Errorf("the form after the conflict: default target %q, auto_create %q; want A's /meet/a and B's off", again.Get("default_target"), again.Get("auto_create"))
	}
	if set := p.settings(); set.DefaultTarget != "/meet/b" || set.AutoCreate {
		t.Errorf("the refused save changed the settings: %+v", set)
	}
}

func TestSSOSaveSentTwiceSavesOnceAndRecordsOnce(t *testing.T) {
	p := newPortal(t)
	form := p.optionsForm()
	form.Set("auto_update", "on")
	// A double click: the same form, twice at once, then once more.
	var wg sync.WaitGroup
	answers := make([]string, 3)
	for i := range 2 {
		wg.Go(func() {
			resp := p.Do("POST", acmeHost, "/admin/sso", form, p.acmeAdmin)
			answers[i] = resp.Status + " " + resp.Header.Get("Location")
		})
	}
	wg.Wait()
	resp := p.Do("POST", acmeHost, "/admin/sso", form, p.acmeAdmin)
	answers[2] = resp.Status + " " + resp.Header.Get("Location")
	for i, a := range answers {
		if a != "303 See Other /admin/sso?done=saved" {
			t.Errorf("press %d: %s, want 303 to done=saved", i+1, a)
		}
	}
	if !p.settings().AutoUpdate {
		t.Error("Auto Account Update is not on")
	}
	if got := p.auditEntries(p.acme); !slices.Equal(got, []string{"admin@acme.test sso.save-options Auto Account Update: off → on"}) {
		t.Errorf("audit %q, want one entry", got)
	}
}

func TestSSOManualIdPSaveOverAnImportIsRefused(t *testing.T) {
	p := newPortal(t)
	form := p.pageForm(p.acmeAdmin, "sso-idp")
	// Meanwhile someone imports Azure's metadata.
	p.importFile(fixture(t, "azure-federation-metadata.xml"))

	form.Set("entity_id", "https://idp.example.com/")
	form.Set("sso_url", "https://idp.example.com/sso")
	form.Set("certificates", string(fixture(t, "azure-signing-1.crt.pem")))
	resp, body := p.adminPost("/admin/sso/idp", form)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", resp.StatusCode, pageError(body))
	}
	rows := strings.Join(conflictRows(body), "\n")
	for _, want := range []string{"IdP entity ID | (empty) | " + azureEntityID, "IdP SSO URL | (empty) | " + azureSSOURL, "IdP signing certificates | (empty) | "} {
		if !strings.Contains(rows, want) {
			t.Errorf("what changed lacks %q:\n%s", want, rows)
		}
	}
	if got := portaltest.FormValues(t, body, "sso-idp"); got.Get("entity_id") != "https://idp.example.com/" {
		t.Errorf("the typed entity ID was not kept: %q", got.Get("entity_id"))
	}
	if set := p.settings(); set.IdPEntityID != azureEntityID {
		t.Errorf("the refused save replaced the imported IdP: %s", set.IdPEntityID)
	}
}

func TestAcceptTakesOnlyTheProposalThePageShowed(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	azure := string(fixture(t, "azure-federation-metadata.xml"))
	if _, err := p.App.SSO.ImportMetadata(ctx, p.acme.ID, []byte(azure), "https://login.example/metadata.xml"); err != nil {
		t.Fatal(err)
	}
	tenant := func(id string) sso.Fetcher {
		doc := strings.ReplaceAll(azure, "8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e", id)
		return func(context.Context, string) ([]byte, error) { return []byte(doc), nil }
	}
	if err := p.App.SSO.Refresh(ctx, p.acme.ID, "portal", tenant("0a1b2c3d-0000-4000-8000-00000000000a")); err != nil {
		t.Fatal(err)
	}
	shown := p.pageForm(p.acmeAdmin, "accept-proposal-form")
	// A later refresh finds yet another tenant before the admin accepts.
	if err := p.App.SSO.Refresh(ctx, p.acme.ID, "portal", tenant("0a1b2c3d-0000-4000-8000-00000000000b")); err != nil {
		t.Fatal(err)
	}
	resp, body := p.adminPost("/admin/sso/refresh/accept", shown)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "a later refresh found a different identity provider") {
		t.Fatalf("accepting a proposal that was replaced: status %d: %s", resp.StatusCode, pageError(body))
	}
	if set := p.settings(); set.IdPEntityID != azureEntityID {
		t.Fatalf("the replaced proposal was applied: %s", set.IdPEntityID)
	}
	// The page now shows the new proposal; accepting it, twice, works once.
	current := portaltest.FormValues(t, body, "accept-proposal-form")
	want := []string{"303 See Other /admin/sso?done=accepted", "303 See Other /admin/sso?done=accepted"}
	if got := p.pressTwice("/admin/sso/refresh/accept", current); !slices.Equal(got, want) {
		t.Errorf("Accept pressed twice: %q", got)
	}
	if set := p.settings(); set.IdPEntityID != "https://sts.windows.net/0a1b2c3d-0000-4000-8000-00000000000b/" || set.HasProposal() {
		t.Errorf("after Accept: %s, proposal %t", set.IdPEntityID, set.HasProposal())
	}
	if got := p.auditWith("sso.accept-refresh"); len(got) != 1 {
		t.Errorf("sso.accept-refresh entries %q, want one", got)
	}
}
