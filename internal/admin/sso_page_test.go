package admin_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// The tutorial's AuthnContextClassRef values.
const tutorialAuthnContext = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport;urn:oasis:names:tc:SAML:2.0:ac:classes:X509"

// optionsForm is the options form as acme's SSO page shows it now, as a
// browser sends it.
func (p *portal) optionsForm() url.Values {
	p.t.Helper()
	return portaltest.FormValues(p.t, p.get(acmeHost, "/admin/sso", p.acmeAdmin), "sso-options")
}

// statusForm is the Status step's form (SSO on or off) as acme's SSO page
// shows it now.
func (p *portal) statusForm() url.Values {
	p.t.Helper()
	return portaltest.FormValues(p.t, p.get(acmeHost, "/admin/sso", p.acmeAdmin), "sso-enabled")
}

func TestSSOPageShowsEveryControlWithAVisibleLabel(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	resp, body := p.adminGet("/admin/sso")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !strings.Contains(body, `<a href="/admin">Site administration</a> › Common Site Settings › <span aria-current="page">SSO Configuration</span>`) {
		t.Error("no breadcrumb Site administration › Common Site Settings › SSO Configuration")
	}
	labels := map[string]string{
		"protocol": "Federation Protocol", "profile": "SSO Profile", "metadata": "Metadata file",
		"metadata_url": "Import from URL", "entity_id": "IdP entity ID", "sso_url": "SSO URL", "slo_url": "SLO URL",
		"certificates": "Signing certificates", "sp_entity_id": "Identifier (Entity ID)", "sp_acs_url": "Reply URL (ACS URL)",
		"sp_sign_on_url": "Sign-on URL", "nameid_format": "NameID Format", "authn_context": "AuthnContextClassRef",
		"require_mfa": "Require multi-factor sign-in", "mfa_contexts": "MFA AuthnContextClassRef",
		"sign_requests": "AuthnRequest Signed", "auto_create": "Auto Account Creation",
		"auto_update": "Auto Account Update", "attendee": "Create new accounts as attendees",
		"default_target": "Default target page after sign-in", "error_page_url": "Customer SSO error page URL",
		"enabled": "SSO enabled",
	}
	for id, text := range labels {
		if !regexp.MustCompile(`<label for="` + id + `">` + regexp.QuoteMeta(text)).MatchString(body) {
			t.Errorf("no visible label %q for %s", text, id)
		}
	}
	// Every control on the page has a label (hidden inputs have none).
	for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]*\bid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(body, `<label for="`+m[1]+`">`) {
			t.Errorf("control %s has no label", m[1])
		}
	}
	for _, want := range []string{
		`<option value="SAML 2.0" selected>SAML 2.0</option>`,
		`<option value="sp-idp" selected>SP- and IdP-initiated</option>`,
		`<option value="` + sso.NameIDEmail + `" selected>emailAddress</option>`,
		`href="/admin/sso/test" target="_blank" rel="noopener">Test SSO</a>`,
		`href="/admin/sso/export" download="acme-sp-metadata.xml">Export metadata</a>`,
		`href="/admin/sso/sp-certificate" download="acme-sp-certificate.pem">Download certificate</a>`,
		`value="http://acme.localhost:8080/saml/metadata" readonly`,
		`value="http://acme.localhost:8080/saml/acs" readonly`,
		`value="http://acme.my.localhost:8080" readonly`,
		"Create next SP certificate", azureEntityID, azureSSOURL,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, ` src="/static/`) {
			t.Errorf("inline script %s on the page (the CSP forbids it)", tag)
		}
	}
	if strings.Contains(body, "style=") {
		t.Error("inline style on the page (the CSP forbids it)")
	}
}

func TestSSOSaveRefusesInvalidOptionsNextToTheFieldAndChangesNothing(t *testing.T) {
	cases := []struct {
		name     string
		set      url.Values
		field    string // the control whose error is shown
		message  string
		keptID   string // a control whose entered value must be shown again
		keptText string
	}{
		{"AuthnContextClassRef not a URI", url.Values{"authn_context": {"PasswordProtectedTransport; urn:ok:x"}}, "authn_context",
			`"PasswordProtectedTransport" is not an absolute URI`, "authn_context", "PasswordProtectedTransport\nurn:ok:x"},
		{"default target on another host", url.Values{"default_target": {"//evil.example/x"}}, "default_target",
			"Enter a page of this site, starting with /", "default_target", "//evil.example/x"},
		{"default target a full URL", url.Values{"default_target": {"https://evil.example/"}}, "default_target",
			"Enter a page of this site, starting with /", "default_target", "https://evil.example/"},
		{"error page not https", url.Values{"error_page_url": {"http://errors.example.com/sso"}}, "error_page_url",
			"Enter an https:// address", "error_page_url", "http://errors.example.com/sso"},
		{"error page javascript", url.Values{"error_page_url": {"javascript:alert(1)"}}, "error_page_url",
			"Enter an https:// address", "error_page_url", "javascript:alert(1)"},
		{"unknown NameID format", url.Values{"nameid_format": {"urn:oasis:names:tc:SAML:2.0:nameid-format:transient"}, "default_target": {"/meet/x"}}, "nameid_format",
			"Choose emailAddress, unspecified or persistent.", "default_target", "/meet/x"},
		{"MFA list not URIs", url.Values{"mfa_contexts": {"mfa please"}}, "mfa_contexts",
			`"mfa please" is not an absolute URI`, "mfa_contexts", "mfa please"},
		{"several at once", url.Values{"authn_context": {"nope"}, "error_page_url": {"ftp://x"}}, "error_page_url",
			"Enter an https:// address", "authn_context", "nope"},
	}
	p := newPortal(t)
	before := p.settings()
	opened := p.optionsForm()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range opened {
				form[k] = v
			}
			for k, v := range c.set {
				form[k] = v
			}
			resp, body := p.adminPost("/admin/sso", form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %.300s", resp.StatusCode, pageError(body))
			}
			block := fieldBlock(t, body, c.field)
			if !strings.Contains(block, `class="field-error" id="`+c.field+`-error">`) || !strings.Contains(block, escaped(c.message)) {
				t.Errorf("no error %q next to %s; its field shows:\n%s", c.message, c.field, block)
			}
			if kept := fieldBlock(t, body, c.keptID); !strings.Contains(kept, `value="`+escaped(c.keptText)+`"`) && !strings.Contains(kept, `>`+escaped(c.keptText)+`</textarea>`) {
				t.Errorf("the entered %s %q was not kept:\n%s", c.keptID, c.keptText, kept)
			}
			if !strings.Contains(body, "Nothing was saved") || strings.Contains(body, "banner good") {
				t.Error("no 'Nothing was saved' banner, or a success banner")
			}
			after := p.settings()
			if !after.UpdatedAt.Equal(before.UpdatedAt) || after.Enabled || len(after.AuthnContext) != 0 || after.DefaultTarget != "/" || after.ErrorPageURL != "" {
				t.Errorf("a refused Save changed the settings: %+v", after)
			}
		})
	}
	if a := p.auditActions(); len(a) != 0 {
		t.Errorf("refused Saves were audited: %v", a)
	}
}

func TestSSOSaveTakesEffectOnTheNextSignIn(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	form := p.optionsForm()
	form.Set("authn_context", " urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport ; urn:oasis:names:tc:SAML:2.0:ac:classes:X509 ")
	form.Set("nameid_format", sso.NameIDPersistent)
	form.Set("auto_update", "on")
	form.Set("attendee", "on")
	form.Set("default_target", "/meet/welcome")
	form.Set("error_page_url", "https://help.acme.example/sso")
	form.Set("profile", "sp")
	resp, body := p.adminPost("/admin/sso", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=saved" {
		t.Fatalf("Save: status %d location %q: %s", resp.StatusCode, resp.Header.Get("Location"), pageError(body))
	}
	status := p.statusForm()
	status.Set("enabled", "on")
	p.post(acmeHost, "/admin/sso", status, "/admin/sso?done=saved", p.acmeAdmin)
	_, body = p.adminGet("/admin/sso?done=saved")
	if !strings.Contains(body, `<div class="banner good" role="status">Saved.`) {
		t.Error("no success banner after Save")
	}
	if !strings.Contains(fieldBlock(t, body, "authn_context"), `>`+strings.ReplaceAll(tutorialAuthnContext, ";", "\n")+`</textarea>`) {
		t.Error("the saved AuthnContextClassRef is not shown trimmed")
	}
	set := p.settings()
	if !set.Enabled || !set.AutoCreate || !set.AutoUpdate || set.IdPInitiated || set.NewUserRole != "attendee" ||
		set.DefaultTarget != "/meet/welcome" || set.ErrorPageURL != "https://help.acme.example/sso" || set.NameIDFormat != sso.NameIDPersistent {
		t.Errorf("settings after Save: %+v", set)
	}

	// The next sign-in, with no restart, asks for both contexts.
	req := p.authnRequest()
	var refs []string
	for _, el := range req.FindElements("//RequestedAuthnContext/AuthnContextClassRef") {
		refs = append(refs, el.Text())
	}
	if strings.Join(refs, ";") != tutorialAuthnContext {
		t.Errorf("AuthnRequest asks for %v, want the tutorial's two contexts", refs)
	}
	if policy := req.FindElement("//NameIDPolicy"); policy == nil || policy.SelectAttrValue("Format", "") != sso.NameIDPersistent {
		t.Errorf("NameIDPolicy %v, want persistent", policy)
	}
	if got := p.auditActions(); !slices.Equal(got, []string{"sso.import-metadata", "sso.save-options", "sso.save-options"}) {
		t.Errorf("audit %v", got)
	}
}

func TestSSOImportRefusesBadMetadataAndKeepsTheOldConfiguration(t *testing.T) {
	p := newPortal(t)
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	before := p.settings()
	huge := append([]byte("<?xml version=\"1.0\"?>"), make([]byte, idpmeta.MaxBytes)...)
	cases := []struct {
		name    string
		data    []byte
		message string
	}{
		{"not XML", []byte("this is a PDF, honest"), "This file is not XML."},
		{"DTD and entities", fixture(t, "doctype.xml"), "This file contains a DOCTYPE"},
		{"SP metadata", fixture(t, "no-idpssodescriptor.xml"), "This file has no IDPSSODescriptor for SAML 2.0."},
		{"WS-Federation only", fixture(t, "wsfed-only.xml"), "This file has no IDPSSODescriptor for SAML 2.0."},
		{"javascript: SSO URL", fixture(t, "javascript-sso-url.xml"), "javascript:alert(1)"},
		{"just over 1 MiB", huge, "The file is larger than 1 MiB."},
		{"far over 1 MiB", make([]byte, 3*idpmeta.MaxBytes/2), "This file is larger than 1 MiB"},
		{"empty file", nil, "This file is not XML."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := p.upload("FederationMetadata.xml", c.data)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			block := fieldBlock(t, body, "metadata")
			if !strings.Contains(block, `id="metadata-error">`) || !strings.Contains(block, escaped(c.message)) {
				t.Errorf("no error %q next to the file field:\n%s", c.message, block)
			}
			after := p.settings()
			if after.IdPEntityID != before.IdPEntityID || len(after.Certificates) != 2 || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("a refused import changed the configuration: %+v", after)
			}
		})
	}
	if got := p.auditActions(); !slices.Equal(got, []string{"sso.import-metadata"}) {
		t.Errorf("audit %v", got)
	}
}

func certificateFile(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(fixture(t, name))
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSSOImportOfAzureMetadataIsReviewedThenApplied(t *testing.T) {
	fingerprints := []string{
		idpmeta.Describe(certificateFile(t, "azure-signing-1.crt.pem")).SHA256,
		idpmeta.Describe(certificateFile(t, "azure-signing-2.crt.pem")).SHA256,
	}
	for _, file := range []string{"azure-federation-metadata.xml", "azure-federation-metadata-bom.xml"} {
		t.Run(file, func(t *testing.T) {
			p := newPortal(t)
			resp, body := p.upload(file, fixture(t, file))
			review := p.followToReview(resp, body)
			if p.settings().Configured() {
				t.Fatal("the upload changed the configuration before the review was confirmed")
			}
			resp, body = p.adminGet(review)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("review: status %d", resp.StatusCode)
			}
			for _, want := range []string{
				`id="review-entity-id">` + azureEntityID, `id="review-sso-url">` + azureSSOURL,
				`id="review-slo-url">https://login.microsoftonline.com/8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e/saml2`,
				"Signing certificates (2)", fingerprints[0], fingerprints[1],
				"CN=Microsoft Azure Federated SSO Certificate", "2054-", "2055-",
				`<form method="post" action="` + review + `"`, `id="cancel-import" href="/admin/sso">Cancel</a>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the review lacks %s", want)
				}
			}
			if strings.Contains(body, "What will change") {
				t.Error("a first import shows changes")
			}
			resp, _ = p.adminPost(review, url.Values{})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=imported" {
				t.Fatalf("confirm: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			set := p.settings()
			if set.IdPEntityID != azureEntityID || set.SSOURL != azureSSOURL || len(set.Certificates) != 2 || set.MetadataURL != "" {
				t.Errorf("after the import: %+v", set)
			}
			_, body = p.adminGet("/admin/sso?done=imported")
			if !strings.Contains(body, "banner good") || !strings.Contains(body, fingerprints[1]) {
				t.Error("the page after the import shows no banner or not the certificates")
			}
			// The draft is used up: Import pressed again answers the same
			// and imports nothing more; the review is gone.
			if resp, _ := p.adminPost(review, url.Values{}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=imported" {
				t.Errorf("confirming the same draft twice: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, _ := p.adminGet(review); resp.StatusCode != http.StatusNotFound {
				t.Errorf("the review of an imported draft: status %d", resp.StatusCode)
			}
			if got := p.auditActions(); !slices.Equal(got, []string{"sso.import-metadata"}) {
				t.Errorf("audit %v", got)
			}
		})
	}
}

func TestSSOImportReviewSaysWhatWillChange(t *testing.T) {
	p := newPortal(t)
	old := certificateFile(t, "azure-signing-1.crt.pem")
	other := ssotest.NewIdP(t)
	if err := p.App.SSO.SaveIdP(context.Background(), p.acme.ID, &idpmeta.IdP{
		EntityID: "https://old-idp.example/", SSOURL: "https://old-idp.example/sso", Certificates: []*x509.Certificate{old, other.Cert},
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := p.upload("federationmetadata.xml", fixture(t, "azure-federation-metadata.xml"))
	_, body = p.adminGet(p.followToReview(resp, body))
	changes := body[strings.Index(body, `id="review-changes"`):]
	for _, want := range []string{
		"What will change", "https://old-idp.example/", azureEntityID, "https://old-idp.example/sso", azureSSOURL,
		"Certificates added", idpmeta.Describe(certificateFile(t, "azure-signing-2.crt.pem")).SHA256,
		"Certificates removed", idpmeta.Describe(other.Cert).SHA256,
	} {
		if !strings.Contains(changes, want) {
			t.Errorf("the review's changes lack %s", want)
		}
	}
	if strings.Contains(changes[strings.Index(changes, "Certificates added"):], idpmeta.Describe(old).SHA256) {
		t.Error("the certificate kept is listed as added or removed")
	}
	if p.settings().IdPEntityID != "https://old-idp.example/" {
		t.Error("the review changed the configuration")
	}
}

func TestSSOImportFromURLRefusesPrivateAddresses(t *testing.T) {
	p := newPortal(t)
	cases := []struct{ url, message string }{
		{"https://127.0.0.1/federationmetadata.xml", "leads to 127.0.0.1, an address on a private or local network"},
		{"https://localhost:8443/metadata", "an address on a private or local network"},
		{"https://169.254.169.254/latest/meta-data/", "leads to 169.254.169.254"},
		{"https://10.1.2.3/metadata", "leads to 10.1.2.3"},
		{"https://[::1]/metadata", "leads to ::1"},
		{"http://login.microsoftonline.com/x/federationmetadata.xml", "is not an https address"},
		{"file:///etc/passwd", "is not an https address"},
		{"", "The metadata URL is empty."},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			resp, body := p.adminPost("/admin/sso/import-url", url.Values{"metadata_url": {c.url}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			block := fieldBlock(t, body, "metadata_url")
			if !strings.Contains(block, `id="metadata_url-error">`) || !strings.Contains(block, escaped(c.message)) {
				t.Errorf("no error %q next to the URL:\n%s", c.message, block)
			}
			if !strings.Contains(block, `value="`+escaped(c.url)+`"`) {
				t.Errorf("the URL was not kept:\n%s", block)
			}
		})
	}
	if set := p.settings(); set.Configured() || set.MetadataURL != "" {
		t.Errorf("a refused fetch changed the configuration: %+v", set)
	}
}

func TestSSOImportFromURLIsReviewedAndKeptForRefresh(t *testing.T) {
	const metadataURL = "https://login.microsoftonline.com/8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e/federationmetadata/2007-06/federationmetadata.xml?appid=1"
	var fetched []string
	p := newPortalWith(t, options{fetch: func(ctx context.Context, u string) ([]byte, error) {
		fetched = append(fetched, u)
		return fixture(t, "azure-federation-metadata.xml"), nil
	}})
	resp, body := p.adminPost("/admin/sso/import-url", url.Values{"metadata_url": {" " + metadataURL + " "}})
	review := p.followToReview(resp, body)
	_, body = p.adminGet(review)
	if !strings.Contains(body, escaped(metadataURL)) || !strings.Contains(body, "Signing certificates (2)") {
		t.Errorf("the review does not show where the metadata came from or its certificates: %.2000s", body)
	}
	p.adminPost(review, url.Values{})
	if set := p.settings(); set.MetadataURL != metadataURL || set.MetadataFetchedAt == nil || set.IdPEntityID != azureEntityID {
		t.Errorf("after the import: %+v", set)
	}
	if !slices.Equal(fetched, []string{metadataURL}) {
		t.Errorf("fetched %v", fetched)
	}
	_, body = p.adminGet("/admin/sso")
	if !strings.Contains(body, `id="metadata-refresh"`) || !strings.Contains(body, "Refresh now") {
		t.Error("the page does not show the metadata URL block")
	}
}

func TestSSOManualIdPRefusalsAndSave(t *testing.T) {
	p := newPortal(t)
	cert1, cert2 := string(fixture(t, "azure-signing-1.crt.pem")), string(fixture(t, "azure-signing-2.crt.pem"))
	valid := portaltest.FormValues(t, p.get(acmeHost, "/admin/sso", p.acmeAdmin), "sso-idp")
	valid.Set("entity_id", "https://idp.example.com/")
	valid.Set("sso_url", "https://idp.example.com/sso")
	valid.Set("certificates", cert1)
	cases := []struct {
		name, field, value, errorField, message string
	}{
		{"javascript: SSO URL", "sso_url", "javascript:alert(1)", "sso_url", "The URL javascript:alert(1) is not an https address."},
		{"plain http SSO URL", "sso_url", "http://idp.example.com/sso", "sso_url", "is not an https address"},
		{"relative SLO URL", "slo_url", "/logout", "slo_url", "/logout"},
		{"no entity ID", "entity_id", "  ", "entity_id", "Enter the identity provider's entity ID"},
		{"not PEM", "certificates", "MIIC8DCCAdigAwIBAgIQ", "certificates", "certificate 1 is not PEM text"},
		{"a private key", "certificates", string(fixture(t, "azure-signing-1.key.pem")), "certificates", "not a CERTIFICATE"},
		{"a broken certificate", "certificates", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificates", "certificate 1 could not be read"},
		{"a good and a bad one", "certificates", cert1 + "\ngarbage", "certificates", "certificate 2 is not PEM text"},
		{"empty", "certificates", "", "certificates", "paste the identity provider's signing certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range valid {
				form[k] = v
			}
			form.Set(c.field, c.value)
			resp, body := p.adminPost("/admin/sso/idp", form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			block := fieldBlock(t, body, c.errorField)
			if !strings.Contains(block, `id="`+c.errorField+`-error">`) || !strings.Contains(block, escaped(c.message)) {
				t.Errorf("no error %q next to %s:\n%s", c.message, c.errorField, block)
			}
			if c.field != "certificates" && !strings.Contains(fieldBlock(t, body, "certificates"), escaped(strings.TrimSpace(cert1))) {
				t.Error("the pasted certificate was not kept")
			}
			if c.field != "entity_id" && !strings.Contains(fieldBlock(t, body, "entity_id"), `value="https://idp.example.com/"`) {
				t.Error("the entity ID was not kept")
			}
			if p.settings().IdPEntityID != "" {
				t.Error("a refused manual save changed the configuration")
			}
		})
	}
	form := valid
	form.Set("certificates", cert1+"\n"+cert2)
	form.Set("slo_url", "https://idp.example.com/slo")
	resp, _ := p.adminPost("/admin/sso/idp", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=idp-saved" {
		t.Fatalf("save: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	set := p.settings()
	if set.IdPEntityID != "https://idp.example.com/" || set.SSOURL != "https://idp.example.com/sso" || set.SLOURL != "https://idp.example.com/slo" || len(set.Certificates) != 2 {
		t.Errorf("after the manual save: %+v", set)
	}
	if got := p.auditActions(); !slices.Equal(got, []string{"sso.save-idp"}) {
		t.Errorf("audit %v", got)
	}
}

// htmlCertificate is a certificate whose subject is markup.
func htmlCertificate(t *testing.T, cn string) *x509.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return ssotest.SelfSign(t, key, &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn, Organization: []string{`"><img src=x onerror=alert(2)>`}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour),
	})
}

func TestSSOPagesEscapeMetadataValues(t *testing.T) {
	p := newPortal(t)
	idp := ssotest.NewIdP(t)
	idp.EntityID = `https://idp.example/<script>alert(1)</script>`
	idp.Cert = htmlCertificate(t, `<b onmouseover=alert(3)>Azure</b>`)
	resp, body := p.upload("evil.xml", idp.MetadataXML())
	review := p.followToReview(resp, body)
	_, reviewBody := p.adminGet(review)
	p.adminPost(review, url.Values{})
	_, pageBody := p.adminGet("/admin/sso")
	for name, body := range map[string]string{"review": reviewBody, "page": pageBody} {
		for _, raw := range []string{"<script>alert(1)", "<b onmouseover", "<img src=x"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s renders %q unescaped", name, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "&lt;b onmouseover=alert(3)") {
			t.Errorf("%s does not show the values escaped", name)
		}
		// The certificate expires within 30 days: a warning says so.
		if !strings.Contains(body, "certificate-warning") || !strings.Contains(body, "Expires on") {
			t.Errorf("%s gives no expiry warning for a certificate expiring in 10 days", name)
		}
	}
	// An admin's own input, quoted in an error, is escaped too.
	_, body = p.adminPost("/admin/sso/idp", url.Values{"entity_id": {"x"}, "sso_url": {`javascript:alert("<i>")`}, "certificates": {"<svg onload=alert(4)>"}})
	if strings.Contains(body, "<i>") || strings.Contains(body, "<svg") {
		t.Error("the manual form's errors render input unescaped")
	}
}

func TestSSOPagesAreOnlyForAdminsOfThisSite(t *testing.T) {
	p := newPortal(t)
	globexAdmin := p.SignInAdmin(globexHost, "admin@globex.test")
	requests := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/admin/sso", nil},
		{"GET", "/admin/sso/export", nil},
		{"GET", "/admin/sso/test", nil},
		{"GET", "/admin/sso/import/00000000000000000000000000000000", nil},
		{"POST", "/admin/sso", func() url.Values { f := p.optionsForm(); f.Set("default_target", "/pwned"); return f }()},
		{"POST", "/admin/sso/import-url", url.Values{"metadata_url": {"https://example.com/m"}}},
		{"POST", "/admin/sso/idp", url.Values{"entity_id": {"x"}}},
		{"POST", "/admin/sso/refresh", url.Values{}},
		{"POST", "/admin/sso/refresh/accept", url.Values{}},
		{"POST", "/admin/sso/sp-certificates/next", url.Values{}},
		{"POST", "/admin/sso/sp-certificates/1/activate", url.Values{}},
	}
	for _, r := range requests {
		for who, cookies := range map[string][]*http.Cookie{"globex's admin": {globexAdmin}, "nobody": nil} {
			if !sentToSignIn(r.method, p.Do(r.method, acmeHost, r.path, r.form, cookies...)) {
				t.Errorf("%s %s by %s: not sent to sign in", r.method, r.path, who)
			}
		}
	}
	if set := p.settings(); set.DefaultTarget != "/" {
		t.Error("another site's admin changed acme's settings")
	}
	certs, _ := p.App.SSO.SPCertificates(context.Background(), p.acme.ID)
	if len(certs) != 1 {
		t.Errorf("another site's admin changed acme's SP certificates: %v", certs)
	}
}

// publishedCertificates lists the certificates /saml/metadata publishes,
// each once (a key is published for signing and for encryption).
func (p *portal) publishedCertificates() []string {
	var out []string
	for _, m := range regexp.MustCompile(`<(?:\w+:)?X509Certificate[^>]*>([^<]+)</`).FindAllStringSubmatch(p.spMetadata(), -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

func TestSSORolloverChangesWhatTheMetadataPublishes(t *testing.T) {
	p := newPortal(t)
	_, body := p.adminGet("/admin/sso")
	original := p.publishedCertificates()
	if len(original) != 1 || !strings.Contains(body, `id="sp-expiry">The certificate that signs this site's requests expires on`) {
		t.Fatalf("before the rollover: %d certificates published; page expiry shown: %t", len(original), strings.Contains(body, "sp-expiry"))
	}
	// Out of order: only a next certificate can be activated.
	active, _ := p.App.SSO.SPCertificates(context.Background(), p.acme.ID)
	resp, body := p.adminPost("/admin/sso/sp-certificates/"+itoa(active[0].ID)+"/activate", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("activating the active certificate (done already): status %d %s", resp.StatusCode, pageError(body))
	}
	resp, body = p.adminPost("/admin/sso/sp-certificates/999999/activate", url.Values{})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "this certificate is no longer there") {
		t.Errorf("activating a certificate that does not exist: status %d %s", resp.StatusCode, pageError(body))
	}

	create := portaltest.FormValues(t, body, "create-sp-certificate-form")
	if resp, _ := p.adminPost("/admin/sso/sp-certificates/next", create); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create next: status %d", resp.StatusCode)
	}
	withNext := p.publishedCertificates()
	if len(withNext) != 2 || withNext[0] != original[0] && withNext[1] != original[0] {
		t.Fatalf("after Create next: %d certificates published", len(withNext))
	}
	_, body = p.adminGet("/admin/sso?done=sp-key-created")
	if !strings.Contains(body, `id="activate-sp-certificate"`) || strings.Contains(body, `id="create-sp-certificate"`) {
		t.Error("with a next certificate the page should offer Activate and not Create next")
	}
	next := p.spCertificate("next")
	if resp, body := p.adminPost("/admin/sso/sp-certificates/next", url.Values{"newest": {itoa(next.ID)}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "a next certificate already exists") {
		t.Errorf("a second next certificate from a page that listed the first: status %d", resp.StatusCode)
	}

	if resp, _ := p.adminPost("/admin/sso/sp-certificates/"+itoa(next.ID)+"/activate", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate: status %d", resp.StatusCode)
	}
	certs, err := p.App.SSO.SPCertificates(context.Background(), p.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	var previous int64
	for _, c := range certs {
		if c.State == "previous" {
			previous = c.ID
		}
	}
	if len(certs) != 2 || certs[0].State != "active" || previous == 0 || len(p.publishedCertificates()) != 2 {
		t.Fatalf("after Activate: %+v", certs)
	}
	if resp, _ := p.adminPost("/admin/sso/sp-certificates/"+itoa(certs[0].ID)+"/remove", url.Values{}); resp.StatusCode != http.StatusConflict {
		t.Errorf("removing the active certificate: status %d", resp.StatusCode)
	}
	if resp, _ := p.adminPost("/admin/sso/sp-certificates/"+itoa(previous)+"/remove", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove previous: status %d", resp.StatusCode)
	}
	final := p.publishedCertificates()
	if len(final) != 1 || final[0] == original[0] {
		t.Errorf("after the rollover the metadata publishes %d certificates, the original one: %t", len(final), len(final) == 1 && final[0] == original[0])
	}
	want := []string{"sso.sp-key-create", "sso.sp-key-activate", "sso.sp-key-remove"}
	if got := p.auditActions(); !slices.Equal(got, want) {
		t.Errorf("audit %v, want %v", got, want)
	}
}

func itoa(n int64) string { return big.NewInt(n).String() }

// spCertificate returns acme's SP certificate in state.
func (p *portal) spCertificate(state string) sso.SPCertificate {
	p.t.Helper()
	certs := p.spCertificates()
	for _, c := range certs {
		if c.State == state {
			return c
		}
	}
	p.t.Fatalf("acme has no %s SP certificate: %+v", state, certs)
	return sso.SPCertificate{}
}

func TestSSOExportDownloadsTheSameDocumentAsTheMetadataURL(t *testing.T) {
	p := newPortal(t)
	resp, body := p.adminGet("/admin/sso/export")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != `attachment; filename="acme-sp-metadata.xml"` {
		t.Fatalf("status %d, Content-Disposition %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if body != p.spMetadata() || !strings.Contains(body, `entityID="http://acme.localhost:8080/saml/metadata"`) {
		t.Errorf("the export differs from /saml/metadata: %.300s", body)
	}
}

func TestSSOTestButtonStartsATestSignInBeforeSSOIsEnabled(t *testing.T) {
	p := newPortal(t)
	if resp, body := p.adminGet("/admin/sso/test"); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Set up the identity provider first") {
		t.Errorf("Test SSO with no IdP: status %d", resp.StatusCode)
	}
	p.importFile(fixture(t, "azure-federation-metadata.xml"))
	resp, _ := p.adminGet("/admin/sso/test")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), azureSSOURL+"?SAMLRequest=") {
		t.Fatalf("Test SSO: status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var isTest bool
	if err := p.App.Pool.QueryRow(context.Background(), `SELECT is_test FROM pending_requests WHERE site_id = $1`, p.acme.ID).Scan(&isTest); err != nil || !isTest {
		t.Errorf("the pending request is not marked as a test (%v)", err)
	}
	if p.settings().Enabled {
		t.Error("Test SSO enabled SSO")
	}
}
