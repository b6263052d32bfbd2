package browsertest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

// dialogs answers the tab's confirm() dialogs as answer says, and keeps
// their messages.
type dialogs struct {
	mu       sync.Mutex
	messages []string
	accept   bool
}

func answerDialogs(t *testing.T, ctx context.Context) *dialogs {
	t.Helper()
	d := &dialogs{}
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			d.mu.Lock()
			d.messages = append(d.messages, ev.Message)
			accept := d.accept
			d.mu.Unlock()
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
		}
	}()
	return d
}

// answer sets the answer to the next dialogs and forgets the messages seen.
func (d *dialogs) answer(accept bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accept, d.messages = accept, nil
}

func (d *dialogs) seen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.messages...)
}

// TestStagedIdPTestedThenActivatedInTheBrowser: with SSO on against one
// IdP, the admin imports the development IdP's metadata: the review says
// it is staged, the page shows it with Test SSO; the test signs in at the
// development IdP and reports it tested the staged IdP; Activate asks
// first, naming the IdP, and then puts it in use. Turning SSO off asks
// first too, and a No leaves it on.
func TestStagedIdPTestedThenActivatedInTheBrowser(t *testing.T) {
	env := browsertest.New(t)
	site := env.CreateSite("acme")
	importFixture(t, env, site.ID)
	if _, err := env.App.SSO.UpdateSettings(context.Background(), site.ID, func(s *sso.Settings) error { s.Enabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	devIdP := env.StartDevIdP(demoPassword)
	metadata, err := devIdP.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	metadataFile := filepath.Join(t.TempDir(), "dev-idp-metadata.xml")
	if err := os.WriteFile(metadataFile, metadata, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, siteURL := env.Ctx, env.SiteURL("acme")
	confirms := answerDialogs(t, ctx)
	signInAdmin(t, ctx, siteURL, portaltest.AdminEmail("acme"))

	doStep(t, "import the new IdP's metadata", chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin/sso"),
		chromedp.WaitVisible(chromedp.ID("metadata")),
		chromedp.SetUploadFiles(chromedp.ID("metadata"), []string{metadataFile}),
		chromedp.Click(chromedp.ID("import-file")),
		chromedp.WaitVisible(chromedp.ID("confirm-import")),
	))
	shows(t, "the review", textOf(t, ctx, "#goes-live"), "this import is staged, not used yet")
	doStep(t, "stage it", chromedp.Do(ctx, chromedp.Click(chromedp.ID("confirm-import"))))
	env.WaitForURL(siteURL + "/admin/sso?done=staged#pending")
	doStep(t, "the staged IdP", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("pending"))))
	shows(t, "the staged IdP", textOf(t, ctx, "#pending"), devIdP.EntityID(), "Test SSO with the staged identity provider")
	env.Screenshot("admin-sso-staged")

	// Test SSO of the staged IdP (the link opens a tab; here the same one).
	doStep(t, "Test SSO of the staged IdP", chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin/sso/test?config=staged"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "b.simon"),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	))
	waitForText(t, ctx, "main", "Test SSO: all checks passed")
	shows(t, "the test result", textOf(t, ctx, "main"), "staged identity provider", "What signing in would do")
	env.Screenshot("sso-test-result-staged")

	// Activate: asked first, naming the IdP.
	confirms.answer(true)
	doStep(t, "activate", chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin/sso"),
		chromedp.WaitVisible(chromedp.ID("activate-pending")),
		chromedp.Click(chromedp.ID("activate-pending")),
	))
	env.WaitForURL(siteURL + "/admin/sso?done=activated")
	if seen := confirms.seen(); len(seen) != 1 || !strings.Contains(seen[0], "Activate the staged identity provider "+devIdP.EntityID()) {
		t.Errorf("Activate asked %q", seen)
	}
	set, err := env.App.SSO.Settings(context.Background(), site.ID)
	if err != nil || set.IdPEntityID != devIdP.EntityID() || set.HasPending() {
		t.Fatalf("after Activate: live %q, staged %v (%v)", set.IdPEntityID, set.HasPending(), err)
	}

	// Turning SSO off asks first; No leaves it on.
	confirms.answer(false)
	doStep(t, "untick SSO enabled, answer No", chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("enabled")),
		chromedp.Click(chromedp.ID("enabled")),
		chromedp.Click(chromedp.ID("save-status")),
	))
	if seen := confirms.seen(); len(seen) != 1 || !strings.Contains(seen[0], "Turn single sign-on off?") || !strings.Contains(seen[0], devIdP.EntityID()) {
		t.Errorf("turning SSO off asked %q", seen)
	}
	// A form sent anyway would leave the page: give it the time to.
	doStep(t, "wait", chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond)))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != siteURL+"/admin/sso?done=activated" {
		t.Errorf("after No the browser is at %q (%v)", loc, err)
	}
	if set, _ := env.App.SSO.Settings(context.Background(), site.ID); !set.Enabled {
		t.Error("SSO was turned off though the admin answered No")
	}
	confirms.answer(true)
	doStep(t, "again, answer Yes", chromedp.Do(ctx, chromedp.Click(chromedp.ID("save-status"))))
	env.WaitForURL(siteURL + "/admin/sso?done=saved")
	if set, _ := env.App.SSO.Settings(context.Background(), site.ID); set.Enabled {
		t.Error("SSO is still on after Yes")
	}
}
