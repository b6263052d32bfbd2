package browsertest_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

func TestAdminSignsInAndSeesSSOConfiguration(t *testing.T) {
	env := browsertest.New(t)
	email, password := portaltest.AdminEmail("acme"), portaltest.AdminPassword
	env.CreateSite("acme")
	ctx := env.Ctx

	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/login"]`)),
	); err != nil {
		t.Fatalf("open the sign-in page: %v", err)
	}
	env.Screenshot("admin-sign-in")

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.admin`)),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	home, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Common Site Settings", "SSO Configuration", email} {
		if !strings.Contains(home, want) {
			t.Errorf("admin home does not show %q; it shows:\n%s", want, home)
		}
	}
	env.Screenshot("admin-home")

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`nav.admin a[href="/admin/sso"]`))); err != nil {
		t.Fatalf("open SSO Configuration: %v", err)
	}
	env.WaitForURL(env.SiteURL("acme") + "/admin/sso")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "SSO Configuration" {
		t.Errorf("SSO Configuration page heading %q", heading)
	}
	env.Screenshot("admin-sso-configuration")

	if v := env.CSPViolations(); len(v) != 0 {
		t.Errorf("Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}
