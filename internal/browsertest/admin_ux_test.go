package browsertest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/session"
)

// text is the visible text of the first element sel matches.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// TestExpiredSessionReturnsToTheFormWithItsValues: an admin fills in Add
// user, their session expires, they press Add user: the sign-in form says
// the session expired; after signing in they are back on the Users page
// with what they had typed, and pressing Add user adds the account.
func TestExpiredSessionReturnsToTheFormWithItsValues(t *testing.T) {
	env := browsertest.New(t)
	site := env.CreateSite("acme")
	env.Clock.Set(time.Now())
	ctx := env.Ctx
	signInAdmin(t, ctx, env.SiteURL("acme"), "admin@acme.test")

	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/admin/users"),
		chromedp.WaitVisible(chromedp.ID("add-user-form")),
		chromedp.SendKeys(chromedp.ID("email"), "nia.park@contoso.com"),
		chromedp.SendKeys(chromedp.ID("first_name"), "Nia"),
		chromedp.SendKeys(chromedp.ID("last_name"), "Park"),
		chromedp.SetValue(chromedp.ID("role"), "attendee"),
	); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(session.AdminPolicy.Idle + time.Minute)
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("add-user")),
		chromedp.WaitVisible(chromedp.ID("session-expired")),
	); err != nil {
		t.Fatalf("submit with an expired session: %v", err)
	}
	if got := text(t, ctx, "#session-expired"); !strings.Contains(got, "Your session expired — sign in to continue") {
		t.Errorf("sign-in page says %q", got)
	}
	env.CheckAccessibility(ctx, "admin-session-expired")
	env.Screenshot("admin-session-expired")

	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("email"), "admin@acme.test"),
		chromedp.SendKeys(chromedp.ID("password"), portaltest.AdminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	env.WaitForURL(env.SiteURL("acme") + "/admin/users")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("resumed"))); err != nil {
		t.Fatalf("no notice that the form was given back: %v", err)
	}
	values, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["email", "first_name", "last_name", "role"].map(id => document.getElementById(id).value)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(values, "|") != "nia.park@contoso.com|Nia|Park|attendee" {
		t.Errorf("form given back with %q", values)
	}
	env.CheckAccessibility(ctx, "admin-session-resumed")
	env.Screenshot("admin-session-resumed")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("add-user"))); err != nil {
		t.Fatal(err)
	}
	env.WaitForURL(env.SiteURL("acme") + "/admin/users?done=added")
	list, err := env.App.Users.List(context.Background(), site.ID)
	if err != nil || len(list) != 1 || list[0].Email != "nia.park@contoso.com" || list[0].Role != "attendee" {
		t.Errorf("accounts %+v, %v", list, err)
	}
}

// TestDestructiveActionsAskFirstAndNameWhoWasAffected: Deactivate and
// Remove admin open a confirmation that says what will happen to whom;
// Cancel changes nothing; confirming does it, and the banner names them.
func TestDestructiveActionsAskFirstAndNameWhoWasAffected(t *testing.T) {
	env := browsertest.New(t)
	site := env.CreateSite("acme")
	britta, _ := env.SignInUser(site, "britta.simon@contoso.com", "Britta", "Simon", "host")
	if err := env.App.Sites.CreateAdmin(context.Background(), site.ID, "second@acme.test", portaltest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	ctx := env.Ctx
	signInAdmin(t, ctx, env.SiteURL("acme"), "admin@acme.test")

	// Deactivate: ask, cancel, ask again, confirm.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/admin/users"),
		chromedp.Click(chromedp.CSS(`a[href$="/deactivate"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#confirm"); !strings.Contains(got, "Deactivate britta.simon@contoso.com?") || !strings.Contains(got, "signed out everywhere") {
		t.Errorf("confirmation says %q", got)
	}
	env.Screenshot("admin-confirm-deactivate")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("cancel"))); err != nil {
		t.Fatal(err)
	}
	env.WaitForURL(env.SiteURL("acme") + "/admin/users")
	if u, _ := env.App.Users.ByID(context.Background(), site.ID, britta.ID); !u.Active {
		t.Fatal("Cancel deactivated the account")
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href$="/deactivate"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm-button")),
		chromedp.Click(chromedp.ID("confirm-button")),
		chromedp.WaitVisible(chromedp.CSS(".banner.good")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, ".banner.good"); !strings.Contains(got, "Deactivated britta.simon@contoso.com") {
		t.Errorf("banner %q", got)
	}
	if u, _ := env.App.Users.ByID(context.Background(), site.ID, britta.ID); u.Active {
		t.Error("the confirmed deactivation did not happen")
	}

	// Remove admin.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(env.SiteURL("acme")+"/admin/admins"),
		chromedp.Click(chromedp.CSS(`a[href$="/remove"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#confirm"); !strings.Contains(got, "Remove second@acme.test?") {
		t.Errorf("confirmation says %q", got)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("confirm-button")),
		chromedp.WaitVisible(chromedp.CSS(".banner.good")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, ".banner.good"); !strings.Contains(got, "Removed second@acme.test") {
		t.Errorf("banner %q", got)
	}
	if list, _ := env.App.Sites.ListAdmins(context.Background(), site.ID); len(list) != 1 {
		t.Errorf("%d admins left", len(list))
	}
}
