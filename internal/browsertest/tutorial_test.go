package browsertest_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// The tutorial's values (azure-ad-webex-sso-tutorial.md, "Configure Cisco
// Webex Meetings SSO") and the Azure-shaped fixture's tenant.
const (
	tutorialAuthnContext = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport;urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
	fixtureTenant        = "8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e"
	fixtureDir           = "../sso/idpmeta/testdata"
)

// TestTutorialAdminConfiguresSSOAndAUserSignsIn follows the tutorial's
// "Configure Cisco Webex Meetings SSO" in the browser: the admin signs in,
// opens Common Site Settings → SSO Configuration, imports Azure's Federation
// Metadata XML, sets AuthnContextClassRef, ticks Auto Account Creation and
// SSO enabled, saves and exports the SP metadata; then B.Simon signs in from
// the Azure My Apps tile and the admin sees the sign-in on the events page.
func TestTutorialAdminConfiguresSSOAndAUserSignsIn(t *testing.T) {
	env := browsertest.New(t)
	svc := env.App.SSO
	email, password := portaltest.AdminEmail("acme"), portaltest.AdminPassword
	site := env.CreateSite("acme")
	ctx, siteURL := env.Ctx, env.SiteURL("acme")

	// 1. Go to https://<customername>.webex.com/admin with the admin's credentials.
	doStep(t, "sign in as the site admin", chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.admin`)),
	))

	// 2. Common Site Settings → SSO Configuration.
	doStep(t, "open SSO Configuration", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`nav.admin a[href="/admin/sso"]`)),
		chromedp.WaitVisible(chromedp.ID("metadata")),
	))
	shows(t, "the SSO Configuration page", textOf(t, ctx, "main"),
		"Common Site Settings › SSO Configuration", "Federation Protocol", "SAML 2.0", "Import SAML Metadata", "Export")
	env.Screenshot("sso-1-configuration")

	// 3a. Import SAML Metadata: the Federation Metadata XML downloaded from Azure.
	metadataFile, err := filepath.Abs(filepath.Join(fixtureDir, "azure-federation-metadata.xml"))
	if err != nil {
		t.Fatal(err)
	}
	doStep(t, "upload the Federation Metadata XML", chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("metadata"), []string{metadataFile}),
		chromedp.Click(chromedp.ID("import-file")),
		chromedp.WaitVisible(chromedp.ID("confirm-import")),
	))
	review := textOf(t, ctx, "main")
	shows(t, "the review", review, "Review SAML metadata", "https://sts.windows.net/"+fixtureTenant+"/",
		"https://login.microsoftonline.com/"+fixtureTenant+"/saml2", "Signing certificates (2)",
		fingerprint(t, "azure-signing-1.crt.pem"), fingerprint(t, "azure-signing-2.crt.pem"))
	env.Screenshot("sso-2-review-metadata")
	shows(t, "the review", textOf(t, ctx, "#goes-live"), "This import goes live at once")
	// The review has a banner too: wait for the page the import lands on.
	doStep(t, "confirm the import", chromedp.Do(ctx, chromedp.Click(chromedp.ID("confirm-import"))))
	env.WaitForURL(siteURL + "/admin/sso?done=imported")
	doStep(t, "the imported page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".banner.good"))))
	shows(t, "the page after the import", textOf(t, ctx, "main"), "The identity provider's metadata was imported.")

	// 3b–3c. AuthnContextClassRef (the tutorial's preset), Auto Account
	// Creation, saved with Sign-in options.
	doStep(t, "fill in the settings", chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("authn_context-preset")),
		tickCheckbox("auto_create"),
	))
	env.Screenshot("sso-3-settings")
	// The page already shows the import's banner: wait for the page that
	// Save redirects to, not for any banner.
	doStep(t, "save", chromedp.Do(ctx, chromedp.Click(chromedp.ID("save"))))
	env.WaitForURL(siteURL + "/admin/sso?done=saved")
	doStep(t, "the saved page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".banner.good"))))
	shows(t, "the page after Save", textOf(t, ctx, "main"), "Saved. The new settings apply from the next sign-in.")
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("authn_context"))); err != nil || v != strings.ReplaceAll(tutorialAuthnContext, ";", "\n") {
		t.Errorf("AuthnContextClassRef after Save: %q (%v)", v, err)
	}
	// 3d–3e. SSO enabled, under Status, saved on its own.
	doStep(t, "enable SSO", chromedp.Do(ctx,
		tickCheckbox("enabled"),
		chromedp.Click(chromedp.ID("save-status")),
	))
	// The address is the same as after the first Save: wait for what
	// the new page says.
	waitForText(t, ctx, "#status-enabled", "On: users of this site sign in")
	env.Screenshot("sso-4-saved")

	// 3f. Export: the SP metadata file the admin uploads in Azure.
	exported := downloadLink(t, ctx, "export", "acme-sp-metadata.xml")
	var spMetadata saml.EntityDescriptor
	if err := xml.Unmarshal(exported, &spMetadata); err != nil {
		t.Fatalf("the exported SP metadata does not parse: %v", err)
	}
	if spMetadata.EntityID != siteURL+"/saml/metadata" || len(spMetadata.SPSSODescriptors) != 1 ||
		len(spMetadata.SPSSODescriptors[0].AssertionConsumerServices) != 1 ||
		spMetadata.SPSSODescriptors[0].AssertionConsumerServices[0].Location != siteURL+"/saml/acs" {
		t.Errorf("the exported SP metadata names entity ID %q and ACS %+v", spMetadata.EntityID, spMetadata.SPSSODescriptors)
	}

	set, err := svc.Settings(context.Background(), site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !set.Enabled || !set.AutoCreate || strings.Join(set.AuthnContext, ";") != tutorialAuthnContext || len(set.Certificates) != 2 {
		t.Fatalf("saved settings: %+v", set)
	}

	// B.Simon clicks the app's tile in Azure My Apps: Azure posts a signed
	// response to the ACS (IdP-initiated), and Auto Account Creation makes
	// the account.
	myApps := azureMyApps(t, svc.ACSURL("acme"), svc.EntityID("acme"))
	doStep(t, "sign in from the My Apps tile", chromedp.Do(ctx,
		chromedp.Navigate(myApps.URL),
		chromedp.Click(chromedp.ID("tile")),
	))
	waitForText(t, ctx, "main", "Welcome, B Simon")

	// The sign-in is on the events page.
	doStep(t, "open Sign-in events", chromedp.Do(ctx,
		chromedp.Navigate(siteURL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`nav.admin`)),
		chromedp.Click(chromedp.CSS(`nav.admin a[href="/admin/events"]`)),
	))
	env.WaitForURL(siteURL + "/admin/events")
	doStep(t, "the events page", chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("main h1"))))
	shows(t, "the events page", textOf(t, ctx, "main"), "Sign-in events", "B.Simon@contoso.com", "IdP-initiated", "Signed in")
	env.Screenshot("sso-5-sign-in-events")

	if v := env.CSPViolations(); len(v) != 0 {
		t.Errorf("Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}

func doStep(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read %s: %v", css, err)
	}
	return s
}

func shows(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(s, want) {
			t.Errorf("%s does not show %q; it shows:\n%s", what, want, s)
		}
	}
}

// waitForText waits until the element shows want, across navigations.
func waitForText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	var last string
	for {
		if s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css), chromedp.AtLeast(0))); err == nil {
			if strings.Contains(s, want) {
				return
			}
			last = s
		}
		select {
		case <-ctx.Done():
			loc, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Location())
			t.Fatalf("waiting for %q in %s: %v; the browser is at %s showing:\n%s", want, css, ctx.Err(), loc, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tickCheckbox makes sure a checkbox is ticked, clicking it as the admin would.
func tickCheckbox(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		checked, err := chromedp.Evaluate[bool](`document.getElementById(`+fmt.Sprintf("%q", id)+`).checked`)(ctx, target)
		if err != nil || checked {
			return err
		}
		_, err = chromedp.Click(chromedp.ID(id))(ctx, target)
		return err
	})
}

// downloadLink clicks the link with the given id, lets the browser save the
// file, and returns the file's bytes; the file must be named filename.
func downloadLink(t *testing.T, ctx context.Context, id, filename string) []byte {
	t.Helper()
	dir := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	doStep(t, "download "+filename, chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: boolPtr(true),
			})
			return err
		}),
		chromedp.Click(chromedp.ID(id)),
	))
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download %s: %v", filename, err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("download %s was cancelled", filename)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, filename))
	if err != nil {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("the download is not saved as %s: %v (the directory holds %v)", filename, err, entries)
	}
	return data
}

func boolPtr(v bool) *bool { return &v }

func fingerprint(t *testing.T, pemFile string) string {
	t.Helper()
	return idpmeta.Describe(readCertificate(t, pemFile)).SHA256
}

func readPEM(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s is not PEM", name)
	}
	return block.Bytes
}

func readCertificate(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(readPEM(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// azureIdP is the tenant of the Azure-shaped fixture, signing with its first
// test key (azure-signing-1), as Azure does during the rollover the
// metadata shows.
func azureIdP(t *testing.T) *ssotest.IdP {
	t.Helper()
	der := readPEM(t, "azure-signing-1.key.pem")
	key, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		parsed, err8 := x509.ParsePKCS8PrivateKey(der)
		if err8 != nil {
			t.Fatalf("azure-signing-1.key.pem: %v / %v", err, err8)
		}
		key = parsed.(*rsa.PrivateKey)
	}
	return &ssotest.IdP{
		TenantID: fixtureTenant,
		EntityID: "https://sts.windows.net/" + fixtureTenant + "/",
		SSOURL:   "https://login.microsoftonline.com/" + fixtureTenant + "/saml2",
		Key:      key,
		Cert:     readCertificate(t, "azure-signing-1.crt.pem"),
	}
}

// tilePage is Azure My Apps reduced to one tile: a form that posts B.Simon's
// signed SAML response to the portal's ACS, as Azure's auto-submitting form
// does (a button here, so that the page needs no script).
var tilePage = template.Must(template.New("tile").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>My Apps</title></head>
<body><p>My Apps</p>
<form method="post" action="{{.ACS}}">
<input type="hidden" name="SAMLResponse" value="{{.Response}}">
<button type="submit" id="tile">Cisco Webex Meetings</button>
</form></body></html>`))

// azureMyApps serves the tile page; every visit gets a fresh response
// (an assertion can be used only once).
func azureMyApps(t *testing.T, acs, audience string) *httptest.Server {
	t.Helper()
	idp := azureIdP(t)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		response := ssotest.Encode(idp.Response(t, ssotest.Options{ACS: acs, Audience: audience}))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = tilePage.Execute(w, struct{ ACS, Response string }{acs, response})
	}))
	t.Cleanup(ts.Close)
	return ts
}
