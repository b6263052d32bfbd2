package browsertest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/sso"
)

const demoPassword = "demo users' password"

func TestUserSignsInThroughTheDevelopmentIdPAndLandsOnTheDeepLink(t *testing.T) {
	env := browsertest.New(t)
	trustDevIdP(t, env, func(s *sso.Settings) { s.Enabled = true })

	// A deep link: the user lands there after signing in at the IdP.
	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/meet/b.simon"),
		chromedp.WaitVisible(chromedp.ID("user")),
	); err != nil {
		t.Fatalf("open the site and reach the IdP's sign-in form: %v", err)
	}
	env.Screenshot("idp-sign-in")
	// The portal bound the sign-in to this browser with a Secure,
	// SameSite=None cookie on plain http: Chromium keeps it because
	// *.localhost is a secure context, and sends it with the development
	// IdP's cross-site POST from idp.localhost (the sign-in below needs it).
	got, err := chromedp.Call(env.Ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{env.SiteURL("acme") + "/saml/acs"}})
	if err != nil {
		t.Fatal(err)
	}
	cookies := got.Cookies
	bound := false
	for _, c := range cookies {
		bound = bound || (c.Name == sso.BindingCookie && c.Secure && c.HTTPOnly && c.SameSite == network.CookieSameSiteNone)
	}
	if !bound {
		t.Fatalf("the browser holds no Secure, SameSite=None binding cookie for the site: %+v", cookies)
	}
	if err := chromedp.Do(env.Ctx,
		chromedp.SendKeys(chromedp.ID("user"), "b.simon"),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	); err != nil {
		t.Fatalf("sign in at the IdP: %v", err)
	}
	// The IdP's own "Signing you in…" page has a heading too: wait until the
	// form has posted and the portal has redirected to the deep link.
	env.WaitForURL(env.SiteURL("acme") + "/meet/b.simon")
	if err := chromedp.Do(env.Ctx, chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
		t.Fatal(err)
	}
	location, err := chromedp.Run(env.Ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	room, err := chromedp.Run(env.Ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if location != env.SiteURL("acme")+"/meet/b.simon" || !strings.Contains(room, "Your personal room") {
		t.Fatalf("after sign-in the browser is at %s showing:\n%s", location, room)
	}
	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/"),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)),
	); err != nil {
		t.Fatal(err)
	}
	home, err := chromedp.Run(env.Ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(home, "Welcome, B Simon") {
		t.Fatalf("home page does not greet B Simon:\n%s", home)
	}
	env.Screenshot("meetings-home")
}

// TestSingleLogoutThroughTheDevelopmentIdP: a user signed in through the
// development IdP presses Sign out on a site with Single Logout on: the
// browser goes through the IdP, which ends its own session, and lands on
// the signed-out page; opening the site again asks the IdP for the
// password instead of signing straight back in.
func TestSingleLogoutThroughTheDevelopmentIdP(t *testing.T) {
	env := browsertest.New(t)
	trustDevIdP(t, env, func(s *sso.Settings) { s.Enabled, s.SLOEnabled = true, true })

	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "b.simon"),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	); err != nil {
		t.Fatalf("sign in at the IdP: %v", err)
	}
	env.WaitForURL(env.SiteURL("acme") + "/")
	if err := chromedp.Do(env.Ctx, chromedp.WaitVisible(chromedp.CSS(`header.top button.link`))); err != nil {
		t.Fatal(err)
	}
	env.Screenshot("slo-1-signed-in")

	// The layout's Sign out.
	if err := chromedp.Do(env.Ctx, chromedp.Click(chromedp.CSS(`header.top button.link`))); err != nil {
		t.Fatalf("press Sign out: %v", err)
	}
	env.WaitForURL(env.SiteURL("acme") + "/signed-out?slo=done")
	text, err := chromedp.Run(env.Ctx, chromedp.Text(chromedp.ID("signed-out")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "You have signed out of this site and of your company's identity provider.") || !strings.Contains(text, "Sign in again") {
		t.Fatalf("the signed-out page says:\n%s", text)
	}
	env.Screenshot("slo-2-signed-out")

	// Opening the site again: the IdP asks for credentials (its session
	// ended too), rather than signing the user straight back in.
	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/"),
		chromedp.WaitVisible(chromedp.ID("password")),
	); err != nil {
		t.Fatalf("open the site again: %v", err)
	}
	location, err := chromedp.Run(env.Ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(location, env.App.Hosts.ServiceURL("idp")+"/sso?") {
		t.Fatalf("opening the site again shows %s, want the IdP's sign-in form", location)
	}
	env.Screenshot("slo-3-idp-asks-again")
}

// trustDevIdP starts the development IdP and creates site acme trusting
// it, with its settings changed by set.
func trustDevIdP(t *testing.T, env *browsertest.Env, set func(*sso.Settings)) {
	t.Helper()
	idp := env.StartDevIdP(demoPassword)
	ctx := context.Background()
	site := env.CreateSite("acme")
	metadata, err := idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.SSO.ImportMetadata(ctx, site.ID, metadata, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.SSO.UpdateSettings(ctx, site.ID, func(s *sso.Settings) error { set(s); return nil }); err != nil {
		t.Fatal(err)
	}
}
