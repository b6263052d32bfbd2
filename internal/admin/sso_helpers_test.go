package admin_test

// The SSO Configuration page tests' helpers over the package's harness:
// metadata uploads and imports, IdP fixtures, and what the portal publishes.

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

const (
	// The Azure-shaped fixture's identity provider.
	azureEntityID = "https://sts.windows.net/8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e/"
	azureSSOURL   = "https://login.microsoftonline.com/8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e/saml2"
)

// upload posts a metadata file to the Import SAML Metadata form.
func (p *portal) upload(filename string, data []byte) (*http.Response, string) {
	p.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("metadata", filename)
	if err != nil {
		p.t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req := httptest.NewRequest("POST", "http://"+acmeHost+"/admin/sso/import", &buf)
	req.Host = acmeHost
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(p.acmeAdmin)
	resp := p.Serve(req)
	return resp, readBody(p.t, resp)
}

// importFile uploads metadata, confirms the review and checks it worked.
func (p *portal) importFile(data []byte) {
	p.t.Helper()
	resp, body := p.upload("metadata.xml", data)
	review := p.followToReview(resp, body)
	resp, body = p.adminPost(review, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=imported" {
		p.t.Fatalf("confirm import: status %d location %q: %.500s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// followToReview checks an import answered 303 to its review page and
// returns the review page's path.
func (p *portal) followToReview(resp *http.Response, body string) string {
	p.t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/admin/sso/import/[0-9a-f]{32}$`).MatchString(loc) {
		p.t.Fatalf("import: status %d location %q, want 303 to the review: %.800s", resp.StatusCode, loc, pageError(body))
	}
	return loc
}

// settings returns acme's SSO settings.
func (p *portal) settings() sso.Settings {
	p.t.Helper()
	set, err := p.App.SSO.Settings(context.Background(), p.acme.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	return set
}

// spMetadata is what /saml/metadata publishes for acme.
func (p *portal) spMetadata() string {
	p.t.Helper()
	resp := p.Do("GET", acmeHost, "/saml/metadata", nil)
	return readBody(p.t, resp)
}

// authnRequest opens acme's home signed out and returns the AuthnRequest
// the portal redirects to the IdP with.
func (p *portal) authnRequest() *etree.Element {
	p.t.Helper()
	resp := p.Do("GET", acmeHost, "/", nil)
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("GET /: status %d, want 302 to the IdP: %.300s", resp.StatusCode, readBody(p.t, resp))
	}
	request, _ := ssotest.AuthnRequest(p.t, resp.Header.Get("Location"))
	return request
}

// fixture reads a file of idpmeta's test data.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sso", "idpmeta", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
