package admin_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/jackc/pgx/v5/pgxpool"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

const (
	ssoAcmeHost      = "acme.localhost:8080"
	ssoGlobexHost    = "globex.localhost:8080"
	ssoAdminPassword = "a good long password"
	// The Azure-shaped fixture's identity provider.
	azureEntityID = "https://sts.windows.net/8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e/"
	azureSSOURL   = "https://login.microsoftonline.com/8f3b2c1d-4e5a-4b6c-9d7e-0f1a2b3c4d5e/saml2"
)

// ssoPortal is the whole portal over a fresh database with two sites, acme
// and globex, and acme's admin signed in.
type ssoPortal struct {
	t      *testing.T
	pool   *pgxpool.Pool
	srv    *server.Server
	sso    *sso.Service
	acme   sites.Site
	globex sites.Site
	admin  *http.Cookie // acme's admin session
}

// ssoPortalOptions change how the portal is built.
type ssoPortalOptions struct {
	fetch sso.Fetcher // FetchMetadata; nil keeps the server's default (SSRF rules on)
	clock *dsig.Clock // the SSO service's clock; nil is the real one
}

func newSSOPortal(t *testing.T, o ssoPortalOptions) *ssoPortal {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	box, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := sites.ParseBaseURL("http://localhost:8080")
	log := slog.New(slog.DiscardHandler)
	p := &ssoPortal{t: t, pool: pool, sso: sso.New(pool, box, hosts, log, o.clock)}
	store, err := sites.NewStore(pool)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		site *sites.Site
		name string
	}{{&p.acme, "acme"}, {&p.globex, "globex"}} {
		if *s.site, err = store.Create(ctx, s.name, "admin@"+s.name+".test", ssoAdminPassword); err != nil {
			t.Fatal(err)
		}
	}
	p.srv, err = server.New(server.Options{Pool: pool, Hosts: hosts, Log: log, SSO: p.sso, FetchMetadata: o.fetch})
	if err != nil {
		t.Fatal(err)
	}
	p.admin = p.signIn(ssoAcmeHost, "admin@acme.test")
	return p
}

// signIn signs an admin in on host and returns the session cookie.
func (p *ssoPortal) signIn(host, email string) *http.Cookie {
	p.t.Helper()
	resp := p.serve(p.request("POST", host, "/admin/login", url.Values{"email": {email}, "password": {ssoAdminPassword}}))
	for _, c := range resp.Cookies() {
		if c.Name == "admin_session" && c.Value != "" {
			return c
		}
	}
	p.t.Fatalf("admin sign-in on %s: status %d, no cookie", host, resp.StatusCode)
	return nil
}

func (p *ssoPortal) request(method, host, path string, form url.Values) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://"+host+path, body)
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return req
}

func (p *ssoPortal) serve(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	p.srv.ServeHTTP(rec, req)
	return rec.Result()
}

// get fetches an acme page as its signed-in admin.
func (p *ssoPortal) get(path string) (*http.Response, string) {
	p.t.Helper()
	req := p.request("GET", ssoAcmeHost, path, nil)
	req.AddCookie(p.admin)
	resp := p.serve(req)
	return resp, readAll(p.t, resp)
}

// post sends an acme form as its signed-in admin.
func (p *ssoPortal) post(path string, form url.Values) (*http.Response, string) {
	p.t.Helper()
	req := p.request("POST", ssoAcmeHost, path, form)
	req.AddCookie(p.admin)
	resp := p.serve(req)
	return resp, readAll(p.t, resp)
}

// upload posts a metadata file to the Import SAML Metadata form.
func (p *ssoPortal) upload(filename string, data []byte) (*http.Response, string) {
	p.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("metadata", filename)
	if err != nil {
		p.t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	req := httptest.NewRequest("POST", "http://"+ssoAcmeHost+"/admin/sso/import", &buf)
	req.Host = ssoAcmeHost
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(p.admin)
	resp := p.serve(req)
	return resp, readAll(p.t, resp)
}

// importFile uploads metadata, confirms the review and checks it worked.
func (p *ssoPortal) importFile(data []byte) {
	p.t.Helper()
	resp, body := p.upload("metadata.xml", data)
	review := p.followToReview(resp, body)
	resp, body = p.post(review, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/sso?done=imported" {
		p.t.Fatalf("confirm import: status %d location %q: %.500s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

// followToReview checks an import answered 303 to its review page and
// returns the review page's path.
func (p *ssoPortal) followToReview(resp *http.Response, body string) string {
	p.t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/admin/sso/import/[0-9a-f]{32}$`).MatchString(loc) {
		p.t.Fatalf("import: status %d location %q, want 303 to the review: %.800s", resp.StatusCode, loc, pageError(body))
	}
	return loc
}

func (p *ssoPortal) settings() sso.Settings {
	p.t.Helper()
	set, err := p.sso.Settings(context.Background(), p.acme.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	return set
}

// auditActions lists acme's audit entries' actions, oldest first.
func (p *ssoPortal) auditActions() []string {
	p.t.Helper()
	entries, err := audit.New(p.pool, time.Now).Recent(context.Background(), p.acme.ID, 1000, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[len(entries)-1-i] = e.Action
	}
	return out
}

// spMetadata is what /saml/metadata publishes for acme.
func (p *ssoPortal) spMetadata() string {
	p.t.Helper()
	resp := p.serve(p.request("GET", ssoAcmeHost, "/saml/metadata", nil))
	return readAll(p.t, resp)
}

// authnRequest opens acme's home signed out and returns the AuthnRequest
// the portal redirects to the IdP with.
func (p *ssoPortal) authnRequest() *etree.Element {
	p.t.Helper()
	resp := p.serve(p.request("GET", ssoAcmeHost, "/", nil))
	if resp.StatusCode != http.StatusFound {
		p.t.Fatalf("GET /: status %d, want 302 to the IdP: %.300s", resp.StatusCode, readAll(p.t, resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		p.t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(loc.Query().Get("SAMLRequest"))
	if err != nil {
		p.t.Fatal(err)
	}
	xmlBytes, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		p.t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(xmlBytes); err != nil {
		p.t.Fatal(err)
	}
	return doc.Root()
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
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

// fieldBlock returns the <div class="field…"> of the page that holds the
// control with the given id: its label, control, help and error.
func fieldBlock(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("the page has no control %q", id)
	}
	start := strings.LastIndex(body[:i], `<div class="field`)
	end := strings.Index(body[i:], `</div>`)
	if start < 0 || end < 0 {
		t.Fatalf("control %q is not inside a field", id)
	}
	return body[start : i+end]
}

// pageError picks the banners and field errors out of a page, for failure
// messages.
func pageError(body string) string {
	var out []string
	for _, m := range regexp.MustCompile(`class="(?:field-error|banner bad)"[^>]*>([^<]*)<`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		return body
	}
	return strings.Join(out, " | ")
}
