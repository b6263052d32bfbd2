package browsertest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// importFixture configures site's identity provider from the Azure-shaped
// metadata fixture, as an import on the page does.
func importFixture(t *testing.T, env *browsertest.Env, siteID int64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, "azure-federation-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.SSO.ImportMetadata(context.Background(), siteID, data, ""); err != nil {
		t.Fatal(err)
	}
}

// TestSSOStepsPageFitsDesktopAndPhone opens SSO Configuration at 1280×800
// and at a phone's 390×844: the four steps are there, in the tutorial's
// order, and nothing is wider than the window (no horizontal scrolling).
// With PORTAL_SCREENSHOTS_DIR=docs/screenshots the two screenshots are
// the README's.
func TestSSOStepsPageFitsDesktopAndPhone(t *testing.T) {
	env := browsertest.New(t)
	site := env.CreateSite("acme")
	importFixture(t, env, site.ID)
	ctx, siteURL := env.Ctx, env.SiteURL("acme")
	signInAdmin(t, ctx, siteURL, portaltest.AdminEmail("acme"))

	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{
		{"admin-sso-desktop", 1280, 800, false},
		{"admin-sso-mobile", 390, 844, true},
	} {
		viewport := []chromedp.EmulateViewportOption{}
		if size.mobile {
			viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		doStep(t, "open the page at "+size.name, chromedp.Do(ctx,
			chromedp.EmulateViewport(size.width, size.height, viewport...),
			chromedp.Navigate(siteURL+"/admin/sso"),
			chromedp.WaitVisible(chromedp.ID("step-status")),
		))
		headings, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("section.step h2")).map(h => h.textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"1 Give these to your identity provider", "2 Identity provider", "3 Sign-in options", "4 Status"}
		if strings.Join(headings, "|") != strings.Join(want, "|") {
			t.Errorf("%s: the steps are %q, want %q", size.name, headings, want)
		}
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if err != nil {
			t.Fatal(err)
		}
		if fits[0] > fits[1] {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 8).map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s: the page is %d px wide in a %d px window (horizontal scrolling); too wide: %v", size.name, fits[0], fits[1], wide)
		}
		env.Screenshot(size.name)
	}
}

// TestSSOCopyButtonsCopyTheValuesForTheIdentityProvider presses each copy
// button of step 1: the value lands on the clipboard, the button says
// Copied and the aria-live region tells a screen reader.
func TestSSOCopyButtonsCopyTheValuesForTheIdentityProvider(t *testing.T) {
	env := browsertest.New(t)
	env.CreateSite("acme")
	ctx, siteURL := env.Ctx, env.SiteURL("acme")
	signInAdmin(t, ctx, siteURL, portaltest.AdminEmail("acme"))
	for _, permission := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: permission}, Setting: browser.PermissionSettingGranted, Origin: siteURL,
		}); err != nil {
			t.Fatalf("grant %s: %v", permission, err)
		}
	}
	doStep(t, "open the page", chromedp.Do(ctx, chromedp.Navigate(siteURL+"/admin/sso"), chromedp.WaitVisible(chromedp.ID("step-sp"))))
	for _, c := range []struct{ id, value string }{
		{"sp_entity_id", siteURL + "/saml/metadata"},
		{"sp_acs_url", siteURL + "/saml/acs"},
		{"sp_sign_on_url", strings.Replace(siteURL, "acme.", "acme.my.", 1)},
		{"sp_slo_url", siteURL + "/saml/slo"},
	} {
		button := `button[data-copy="` + c.id + `"]`
		doStep(t, "copy "+c.id, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(button)), chromedp.Click(chromedp.CSS(button))))
		waitForText(t, ctx, button, "Copied")
		waitForText(t, ctx, "#copy-status", "copied to the clipboard")
		clip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("read the clipboard: %v", err)
		}
		if clip != c.value {
			t.Errorf("after Copy of %s the clipboard holds %q, want %q", c.id, clip, c.value)
		}
	}
}

// TestSSOImportErrorMovesTheFocusToTheBanner uploads a file that is not
// metadata: the page comes back with the error summary at the top, which
// has the focus and links to the file field; the field is marked invalid
// and described by its error.
func TestSSOImportErrorMovesTheFocusToTheBanner(t *testing.T) {
	env := browsertest.New(t)
	env.CreateSite("acme")
	ctx, siteURL := env.Ctx, env.SiteURL("acme")
	signInAdmin(t, ctx, siteURL, portaltest.AdminEmail("acme"))
	notMetadata := filepath.Join(t.TempDir(), "notes.xml")
	if err := os.WriteFile(notMetadata, []byte("<notes><note>not SAML metadata</note></notes>"), 0o644); err != nil {
		t.Fatal(err)
	}
	doStep(t, "upload a file that is not metadata", chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin/sso"),
		chromedp.WaitVisible(chromedp.ID("metadata")),
		chromedp.SetUploadFiles(chromedp.ID("metadata"), []string{notMetadata}),
		chromedp.Click(chromedp.ID("import-file")),
		chromedp.WaitVisible(chromedp.ID("error-summary")),
	))
	waitForFocus(t, ctx, "error-summary")
	shows(t, "the error summary", textOf(t, ctx, "#error-summary"), "The metadata was not imported.")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#error-summary a").getAttribute("href")`))
	if err != nil || href != "#metadata" {
		t.Errorf("the summary links to %q (%v), want #metadata", href, err)
	}
	attrs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("metadata").getAttribute("aria-invalid"), document.getElementById("metadata").getAttribute("aria-describedby")]`))
	if err != nil || attrs[0] != "true" || !strings.Contains(attrs[1], "metadata-error") {
		t.Errorf("the file field has aria-invalid %q and aria-describedby %q (%v)", attrs[0], attrs[1], err)
	}
	env.Screenshot("admin-sso-import-error")
}

// waitForFocus waits until the element with id has the focus.
func waitForFocus(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	for range 50 {
		focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
		if err == nil && focused == id {
			return
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	focused, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : "none"`))
	t.Fatalf("the focus is on %s, want #%s", focused, id)
}
