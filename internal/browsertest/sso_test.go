package browsertest_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/devidp"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

const demoPassword = "demo users' password"

// withDevIdP serves the development IdP at idp.localhost:<port>, as
// `portal serve --dev-idp` does, and returns the SSO service it trusts.
func withDevIdP(t *testing.T, svc **sso.Service, idp **devidp.IdP) func(*server.Options) {
	return func(o *server.Options) {
		box, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		*svc = sso.New(o.Pool, box, o.Hosts, o.Log, nil)
		siteStore, _ := sites.NewStore(o.Pool)
		base, _ := url.Parse(o.Hosts.ServiceURL("idp"))
		*idp, err = devidp.New(context.Background(), o.Pool, devidp.Config{
			BaseURL: base, Password: demoPassword, Box: box, Logger: o.Log,
			ServiceProvider: func(ctx context.Context, entityID string) (*saml.EntityDescriptor, error) {
				return (*svc).ServiceProviderByEntityID(ctx, siteStore, entityID)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		o.SSO, o.DevIdP = *svc, *idp
	}
}

func TestUserSignsInThroughTheDevelopmentIdPAndLandsOnTheDeepLink(t *testing.T) {
	var svc *sso.Service
	var idp *devidp.IdP
	env := browsertest.New(t, withDevIdP(t, &svc, &idp))
	ctx := context.Background()
	site, err := env.Sites.Create(ctx, "acme", "admin@acme.test", "a good long password")
	if err != nil {
		t.Fatal(err)
	}
	metadata, err := idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ImportMetadata(ctx, site.ID, metadata, ""); err != nil {
		t.Fatal(err)
	}
	on := true
	if err := svc.SetOptions(ctx, site.ID, sso.Options{Enabled: &on}); err != nil {
		t.Fatal(err)
	}

	// A deep link: the user lands there after signing in at the IdP.
	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/meet/b.simon"),
		chromedp.WaitVisible(chromedp.ID("user")),
	); err != nil {
		t.Fatalf("open the site and reach the IdP's sign-in form: %v", err)
	}
	env.Screenshot("idp-sign-in")
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
