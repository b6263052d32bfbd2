package browsertest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// signInAdmin signs an admin in on the tab ctx.
func signInAdmin(t *testing.T, ctx context.Context, siteURL, email string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/login"]`)),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), portaltest.AdminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.admin`)),
	); err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
}

// TestTwoAdminsEditingSSOSettingsInTwoBrowsers is issue 14's lost update,
// with two browser contexts (two admins, each with their own cookies):
// admin A opens SSO Configuration; admin B turns on "Require multi-factor
// sign-in" and saves; A changes only "Default target page" and saves. MFA
// stays on, A is shown what B changed with their own edit kept, and A's
// second Save applies it on top.
func TestTwoAdminsEditingSSOSettingsInTwoBrowsers(t *testing.T) {
	env := browsertest.New(t)
	site := env.CreateSite("acme")
	if err := env.App.Sites.CreateAdmin(context.Background(), site.ID, "b@acme.test", portaltest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	siteURL := env.SiteURL("acme")
	adminA := env.Ctx
	adminB, closeB := chromedp.NewContext(env.Ctx, chromedp.WithNewBrowserContext())
	defer closeB()
	signInAdmin(t, adminA, siteURL, portaltest.AdminEmail("acme"))
	signInAdmin(t, adminB, siteURL, "b@acme.test")

	// A opens the page and leaves it open.
	if err := chromedp.Do(adminA, chromedp.Navigate(siteURL+"/admin/sso"), chromedp.WaitVisible(chromedp.ID("sso-options"))); err != nil {
		t.Fatalf("A opens SSO Configuration: %v", err)
	}
	// B turns on multi-factor sign-in and saves.
	if err := chromedp.Do(adminB,
		chromedp.Navigate(siteURL+"/admin/sso"),
		chromedp.WaitVisible(chromedp.ID("sso-options")),
		chromedp.Click(chromedp.ID("require_mfa")),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.CSS(`.banner.good`)),
	); err != nil {
		t.Fatalf("B saves MFA on: %v", err)
	}
	if set, _ := env.App.SSO.Settings(context.Background(), site.ID); !set.RequireMFA {
		t.Fatal("B's save did not turn MFA on")
	}

	// A changes only the default target page, on the page opened before.
	if err := chromedp.Do(adminA,
		chromedp.SetValue(chromedp.ID("default_target"), "/meet/welcome"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("conflict")),
	); err != nil {
		t.Fatalf("A saves over B's change: %v", err)
	}
	env.Screenshot("sso-changed-by-someone-else")
	conflict, err := chromedp.Run(adminA, chromedp.Text(chromedp.ID("conflict")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(conflict, "Require multi-factor sign-in") || !strings.Contains(conflict, "Changed by someone else since you opened this page") {
		t.Errorf("A is not shown what B changed:\n%s", conflict)
	}
	set, err := env.App.SSO.Settings(context.Background(), site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !set.RequireMFA || set.DefaultTarget != "/" {
		t.Fatalf("after A's refused save: MFA %t, default target %q; want MFA still on and nothing of A's saved", set.RequireMFA, set.DefaultTarget)
	}
	mfa, err := chromedp.Run(adminA, chromedp.Evaluate[bool](`document.getElementById("require_mfa").checked`))
	if err != nil {
		t.Fatal(err)
	}
	target, err := chromedp.Run(adminA, chromedp.Value(chromedp.ID("default_target")))
	if err != nil {
		t.Fatal(err)
	}
	if !mfa || target != "/meet/welcome" {
		t.Errorf("A's form after the conflict: MFA ticked %t, default target %q; want B's MFA and A's /meet/welcome", mfa, target)
	}

	// A saves again: both changes hold.
	if err := chromedp.Do(adminA, chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.CSS(`.banner.good`))); err != nil {
		t.Fatalf("A saves again: %v", err)
	}
	if set, _ := env.App.SSO.Settings(context.Background(), site.ID); !set.RequireMFA || set.DefaultTarget != "/meet/welcome" {
		t.Errorf("after A's second save: MFA %t, default target %q", set.RequireMFA, set.DefaultTarget)
	}
}
