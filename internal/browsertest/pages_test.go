package browsertest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// pageVisit opens one page in a window and checks it.
type pageVisit struct {
	env  *browsertest.Env
	t    *testing.T
	seen map[string]bool
}

// open navigates ctx to url, waits for css, runs the accessibility check
// on the page (failing on serious and critical violations) and, with
// PORTAL_SCREENSHOTS=1, saves it as docs/screenshots/<name>-<width>.png.
func (p *pageVisit) open(ctx context.Context, name, url, css string) {
	p.t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		p.t.Fatalf("%s: open %s: %v", name, url, err)
	}
	p.check(ctx, name, css)
}

// check is open for the page ctx is already on.
func (p *pageVisit) check(ctx context.Context, name, css string) {
	p.t.Helper()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		p.t.Fatalf("%s: %s not shown (at %s): %v", name, css, loc, err)
	}
	p.env.CheckAccessibility(ctx, name)
	p.env.DocScreenshot(ctx, name)
	p.seen[name] = true
}

// docViewport makes ctx's viewport the documentation screenshots' size.
func docViewport(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(browsertest.DocWidth, browsertest.DocHeight)); err != nil {
		t.Fatal(err)
	}
}

// TestEveryPageIsAccessible visits every page a user, a guest and a site
// admin can reach — as make run's demo site has them: SSO through the
// development IdP, a meeting scheduled, an invitation kept, Test SSO run,
// metadata waiting for review — and runs axe-core on each (WCAG 2.1 A and
// AA, and best practices): a serious or critical violation fails the
// test, naming the page, the rule and the element. With
// PORTAL_SCREENSHOTS=1 it also refreshes docs/screenshots/<page>-1280.png.
func TestEveryPageIsAccessible(t *testing.T) {
	env := browsertest.New(t)
	acme := devIdPSite(t, env)
	site, err := env.App.Sites.ByName(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	p := &pageVisit{env: env, t: t, seen: map[string]bool{}}
	user, admin, guest := env.Ctx, env.NewWindow(), env.NewWindow()
	for _, ctx := range []context.Context{user, admin, guest} {
		docViewport(t, ctx)
	}

	// Signed out.
	p.open(guest, "landing", env.BaseURL+"/", "main h1")
	p.open(guest, "no-site", strings.Replace(env.SiteURL("acme"), "acme.", "nobody.", 1)+"/", "main h1")
	p.open(guest, "admin-sign-in", acme+"/admin", `form[action="/admin/login"]`)
	p.open(guest, "signed-out", acme+"/signed-out", "main h1")
	p.open(guest, "not-found", acme+"/admin/no-such-page", "main h1")
	// The development IdP's sign-in page, where make run's users start.
	p.open(guest, "dev-idp-sign-in", acme+"/", "#user")
	// A refused sign-in: a response that is not SAML, posted to the ACS.
	if err := chromedp.Do(guest, chromedp.Navigate(acme+"/signed-out"), chromedp.WaitVisible(chromedp.CSS("main h1")),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const f = document.createElement("form");
			f.method = "post"; f.action = "/saml/acs";
			const i = document.createElement("input");
			i.type = "hidden"; i.name = "SAMLResponse"; i.value = btoa("<not-saml/>");
			f.append(i); document.body.append(f); f.submit();
		})()`)); err != nil {
		t.Fatal(err)
	}
	env.WaitForURLOf(guest, acme+"/saml/acs")
	p.check(guest, "sign-in-refused", "main h1")

	// A user: the meetings home, preferences, sessions, scheduling, a
	// meeting, its edit and cancel pages, past meetings.
	signInToHome(t, env, user, acme, "b.simon")
	p.check(user, "meetings-home-empty", "#schedule-meeting")
	p.open(user, "preferences", acme+"/preferences", "main h1")
	p.open(user, "schedule", acme+"/meetings/new", "#topic")
	if err := chromedp.Do(user,
		chromedp.SendKeys(chromedp.ID("topic"), "Weekly design review"),
		chromedp.SendKeys(chromedp.ID("invitees"), "alice.lee@contoso.com"),
		chromedp.Click(chromedp.ID("who_can_join-guests")),
		chromedp.Click(chromedp.ID("schedule-submit")),
	); err != nil {
		t.Fatalf("schedule a meeting: %v", err)
	}
	number := scheduled(t, user)
	p.check(user, "meeting", "#add-to-calendar")
	p.open(user, "meetings-home", acme+"/", "#upcoming")
	p.open(user, "meeting-edit", acme+"/meetings/"+number+"/edit", "#topic")
	p.open(user, "meeting-cancel", acme+"/meetings/"+number+"/cancel", "main h1")
	p.open(user, "past-meetings", acme+"/meetings/past", "main h1")
	// A weekly meeting: editing it first asks which occurrences.
	if err := chromedp.Do(user,
		chromedp.Navigate(acme+"/meetings/new"),
		chromedp.WaitVisible(chromedp.ID("topic")),
		chromedp.SendKeys(chromedp.ID("topic"), "Weekly sync"),
		chromedp.SetValue(chromedp.ID("recurrence"), "weekly"),
		chromedp.SetValue(chromedp.ID("recurrence_count"), "4"),
		chromedp.Click(chromedp.ID("schedule-submit")),
	); err != nil {
		t.Fatalf("schedule a weekly meeting: %v", err)
	}
	weekly := scheduled(t, user)
	p.open(user, "meeting-edit-scope", acme+"/meetings/"+weekly+"/edit", `input[name="scope"]`)
	// The host starts it; a guest opens the join link and waits in the lobby.
	if err := chromedp.Do(user, chromedp.Navigate(acme+"/meetings/"+number), chromedp.WaitVisible(chromedp.ID("start")),
		chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	waitForText(t, user, "#live-status", "You are in the meeting.")
	p.check(user, "meeting-live", "#live-status")
	p.open(guest, "join", acme+"/j/"+number, "#sign-in")
	p.open(guest, "join-unknown-meeting", acme+"/j/100000000", "main h1")
	// A site without single sign-on says so to its visitors.
	env.CreateSite("globex")
	p.open(guest, "sso-unavailable", env.SiteURL("globex")+"/", "main h1")

	// An admin: every page of the administration.
	signInAdmin(t, admin, acme, portaltest.AdminEmail("acme"))
	p.check(admin, "admin-home", "nav.admin")
	skipLinkLeadsToMain(t, admin)
	p.open(admin, "admin-sso", acme+"/admin/sso", "main h1")
	// docs/AZURE.md's first step shows the values the admin gives Azure.
	if err := chromedp.Do(admin, chromedp.Evaluate[chromedp.Void](`(document.getElementById("sp-heading") || document.body).scrollIntoView()`)); err != nil {
		t.Fatal(err)
	}
	env.DocScreenshot(admin, "admin-sso-sp-values")
	metadata, err := os.ReadFile(filepath.Join(fixtureDir, "azure-federation-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	draft, err := env.App.SSO.CreateDraft(context.Background(), site.ID, metadata, "")
	if err != nil {
		t.Fatal(err)
	}
	p.open(admin, "admin-sso-review", acme+"/admin/sso/import/"+draft.ID, "main h1")
	// Test SSO: the development IdP asks who, the result page answers.
	if err := chromedp.Do(admin, chromedp.Navigate(acme+"/admin/sso/test")); err != nil {
		t.Fatal(err)
	}
	signInAtDevIdP(t, admin, "a.lee")
	env.WaitForURLOf(admin, acme+"/saml/acs")
	waitForText(t, admin, "main h1", "Test SSO")
	p.check(admin, "admin-sso-test", "main h1")
	p.open(admin, "admin-events", acme+"/admin/events", "main h1")
	event, err := chromedp.Run(admin, chromedp.Evaluate[string](`(document.querySelector('#events a[href^="/admin/events/"]') || {}).href || ""`))
	if err != nil || event == "" {
		t.Fatalf("no event detail link on the events page (%v)", err)
	}
	p.open(admin, "admin-event", event, "main h1")
	p.open(admin, "admin-users", acme+"/admin/users", "main h1")
	deactivate, err := chromedp.Run(admin, chromedp.Evaluate[string](`(document.querySelector('a[href$="/deactivate"]') || {}).href || ""`))
	if err != nil || deactivate == "" {
		t.Fatalf("no Deactivate link on the users page (%v)", err)
	}

	relink, err := chromedp.Run(admin, chromedp.Evaluate[string](`(document.querySelector('a[href$="/relink"]') || {}).href || ""`))
	if err != nil || relink == "" {
		t.Fatalf("no Re-link link on the users page (%v)", err)
	}
	p.open(admin, "admin-users-relink", relink, "main h1")
	p.open(admin, "admin-users-deactivate", deactivate, "main h1")
	if err := env.App.Sites.CreateAdmin(context.Background(), site.ID, "second.admin@acme.test", portaltest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	p.open(admin, "admin-admins", acme+"/admin/admins", "main h1")
	remove, err := chromedp.Run(admin, chromedp.Evaluate[string](`(document.querySelector('a[href$="/remove"]') || {}).href || ""`))
	if err != nil || remove == "" {
		t.Fatalf("no Remove link on the admins page (%v)", err)
	}
	p.open(admin, "admin-admins-remove", remove, "main h1")
	p.open(admin, "admin-password", acme+"/admin/password", "main h1")
	p.open(admin, "admin-audit", acme+"/admin/audit", "main h1")
	p.open(admin, "admin-meetings", acme+"/admin/meetings", "main h1")
	p.open(admin, "admin-meetings-settings", acme+"/admin/meetings/settings", "main h1")
	p.open(admin, "admin-mail", acme+"/admin/mail", "main h1")

	if len(p.seen) < 32 {
		t.Errorf("only %d pages checked", len(p.seen))
	}
	if v := env.CSPViolations(); len(v) != 0 {
		t.Errorf("Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}

// skipLinkLeadsToMain checks, on the page ctx is on, that the first Tab
// reaches the skip link, shown with a visible focus outline, and that
// following it moves the focus to the main content.
func skipLinkLeadsToMain(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const a = document.activeElement, s = getComputedStyle(a), r = a.getBoundingClientRect();
		return a.className + " " + (r.top >= 0 && r.height > 0 ? "visible" : "hidden") + " outline:" + s.outlineStyle;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if focused != "skip-link visible outline:solid" {
		t.Errorf("after the first Tab the focus is on %q, want the skip link, visible, outlined", focused)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); err != nil || id != "main" {
		t.Errorf("after following the skip link the focus is on %q (%v), want main", id, err)
	}
}
