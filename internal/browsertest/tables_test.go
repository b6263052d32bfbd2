package browsertest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/sso"
)

// longAddress is an e-mail address as long as real ones get, which a
// table must show whole on one line at desktop width.
const longAddress = "britta.simon-hoffmann@contoso-europe.example.com"

// seedTables gives acme users, audit entries and sign-in events with the
// long values that made the tables overflow: addresses, URLs, certificate
// fingerprints, refusal explanations.
func seedTables(t *testing.T, env *browsertest.Env) (eventID int64) {
	t.Helper()
	ctx := context.Background()
	site := env.CreateSite("acme")
	for i := range 4 {
		email := fmt.Sprintf("user%d.%s", i, longAddress)
		env.SignInUser(site, email, "Britta", "Simon-Hoffmann", "host")
	}
	fingerprint := strings.Repeat("9f86d081884c7d65", 4)
	url := "https://login.microsoftonline.com/0d3c2f4e-8e8a-4a5b-9a7c-2f0b5c6d7e8f/federationmetadata/2007-06/federationmetadata.xml?appid=" + strings.Repeat("a1b2", 10)
	for i := range 3 {
		if err := env.App.Audit.Record(ctx, site.ID, longAddress, "sso.import-metadata",
			"Entity ID: https://sts.windows.net/0d3c2f4e-8e8a-4a5b-9a7c-2f0b5c6d7e8f/; Metadata URL: "+url+"; Certificate SHA-256: "+fingerprint); err != nil {
			t.Fatal(err)
		}
		if _, err := env.App.Audit.RecordDetails(ctx, site.ID, longAddress, "user.deactivate", audit.Details{
			{Name: "User", Value: fmt.Sprintf("user%d.%s", i, longAddress)}, {Name: "Account ID", Value: "12"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		e := sso.Event{SiteID: site.ID, Reference: "7KQ2-M4XD-9PLA", Flow: sso.FlowSP, Result: sso.ResultRefused,
			Reason: "audience-mismatch", NameID: fmt.Sprintf("user%d.%s", i, longAddress), ClientIP: "203.0.113.9",
			Detail: "The response is addressed to " + url + ", not to this site's Identifier (Entity ID); check the Identifier in the identity provider's SAML settings."}
		if i == 2 {
			// Refused after its signature was verified: its claims are kept.
			e.Reason = sso.ReasonMFARequired
			e.Detail = "this site requires multi-factor sign-in, and the assertion shows none (authentication methods none; authentication context urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport)"
			e.Claims = map[string][]string{
				"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": {e.NameID},
				"http://schemas.microsoft.com/identity/claims/objectidentifier":      {"0d3c2f4e-8e8a-4a5b-9a7c-2f0b5c6d7e8f"},
				"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups":     {"6b1f4c5e-0000-4000-8000-000000000001", "6b1f4c5e-0000-4000-8000-000000000002"},
				sso.ClaimAuthnContext: {"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
			}
		}
		if err := env.App.SSO.RecordEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	events, err := env.App.SSO.RecentEvents(ctx, site.ID, sso.EventFilter{Limit: 1})
	if err != nil || len(events) == 0 {
		t.Fatalf("events %v, %v", events, err)
	}
	return events[0].ID
}

// TestAdminTablesFitDesktopAndPhoneWidths opens the audit, users and events
// pages at 1280×800 and 390×844: nothing scrolls sideways, and an e-mail
// address is never broken letter by letter (at desktop width it stays on
// one line; on a phone the rows are stacked as cards).
func TestAdminTablesFitDesktopAndPhoneWidths(t *testing.T) {
	env := browsertest.New(t)
	eventID := seedTables(t, env)
	ctx := env.Ctx
	signInAdmin(t, ctx, env.SiteURL("acme"), "admin@acme.test")

	pages := []struct{ path, table, address string }{
		{"/admin/audit", "audit", `#audit td.address`},
		{"/admin/users", "users", `#users td .address`},
		{"/admin/events", "events", `#events td .address`},
		{fmt.Sprintf("/admin/events/%d", eventID), "claims", `#event .address`},
		{"/admin/users/1/deactivate", "confirm", `#confirm`},
	}
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 800}, {"phone", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height)); err != nil {
			t.Fatal(err)
		}
		for _, page := range pages {
			if err := chromedp.Do(ctx,
				chromedp.Navigate(env.SiteURL("acme")+page.path),
				chromedp.WaitVisible(chromedp.ID(page.table)),
			); err != nil {
				t.Fatalf("%s at %s: %v", page.path, size.name, err)
			}
			fits, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
				const d = document.documentElement;
				return d.scrollWidth <= innerWidth ? "" : "scrollWidth " + d.scrollWidth + " > innerWidth " + innerWidth;
			})()`))
			if err != nil {
				t.Fatal(err)
			}
			if fits != "" {
				env.Screenshot(page.table + "-overflow-" + size.name)
				t.Errorf("%s at %s scrolls sideways: %s", page.path, size.name, fits)
			}
			// An address breaks, when its column is too narrow for it
			// whole, after a hyphen or once a line is full: never a line
			// of a few letters, as word-break: break-all made it.
			short, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).flatMap(el => {
				const text = el.firstChild;
				if (!text || text.nodeType !== Node.TEXT_NODE) return [];
				const lines = [];
				let start = 0, top = null;
				for (let i = 0; i < text.length; i++) {
					const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
					const t = Math.round(r.getBoundingClientRect().top);
					if (top !== null && t > top) { lines.push(text.data.slice(start, i)); start = i; }
					top = t;
				}
				return lines.filter(line => line.length < 16 && !line.endsWith("-")).map(line => el.textContent + ": " + JSON.stringify(line));
			})`, page.address)))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range short {
				t.Errorf("%s at %s: an address is broken into a short line: %s", page.path, size.name, s)
			}
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, page.address))); err != nil || n == 0 {
				t.Errorf("%s: no address cell %s (%v)", page.path, page.address, err)
			}
			name := "admin-" + page.table
			if page.table == "claims" {
				name = "admin-event"
			}
			if page.table != "confirm" {
				if size.name == "phone" {
					name += "-phone"
				}
				env.Screenshot(name)
			}
		}
	}
}
