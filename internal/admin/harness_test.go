package admin_test

// The harness of every test in this package: the whole portal over a fresh
// database with two sites, acme and globex, each with one admin, and acme's
// admin signed in.

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
)

const (
	acmeHost      = "acme.localhost:8080"
	globexHost    = "globex.localhost:8080"
	adminPassword = "a good long password" // every site admin's password
)

type portal struct {
	t         *testing.T
	pool      *pgxpool.Pool
	srv       *server.Server
	sso       *sso.Service
	sites     *sites.Store
	users     *users.Store
	sessions  *session.Store
	audit     *audit.Log
	acme      sites.Site
	globex    sites.Site
	acmeAdmin *http.Cookie // the session of acme's admin, admin@acme.test
}

// options change how the portal is built.
type options struct {
	fetch sso.Fetcher // FetchMetadata; nil keeps the server's default (SSRF rules on)
	clock *dsig.Clock // the SSO service's clock; nil is the real one
}

// newPortal builds the portal with the defaults.
func newPortal(t *testing.T) *portal {
	t.Helper()
	return newPortalWith(t, options{})
}

func newPortalWith(t *testing.T, o options) *portal {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	box, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := sites.ParseBaseURL("http://localhost:8080")
	log := slog.New(slog.DiscardHandler)
	store, err := sites.NewStore(pool)
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.NewStore(pool, time.Now)
	p := &portal{t: t, pool: pool, sso: sso.New(pool, box, hosts, log, o.clock), sites: store, sessions: sessions,
		users: users.NewStore(pool, sessions, time.Now), audit: audit.New(pool, time.Now)}
	if p.acme, err = store.Create(ctx, "acme", "admin@acme.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	if p.globex, err = store.Create(ctx, "globex", "admin@globex.test", adminPassword); err != nil {
		t.Fatal(err)
	}
	if p.srv, err = server.New(server.Options{Pool: pool, Hosts: hosts, Log: log, SSO: p.sso, FetchMetadata: o.fetch}); err != nil {
		t.Fatal(err)
	}
	p.acmeAdmin = p.signIn(acmeHost, "admin@acme.test")
	return p
}

// serve has the portal answer one request.
func (p *portal) serve(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	p.srv.ServeHTTP(rec, req)
	return rec.Result()
}

// do serves one request as a browser on the same origin would: a form, if
// any, is sent URL-encoded.
func (p *portal) do(method, host, path string, form url.Values, cookies ...*http.Cookie) *http.Response {
	p.t.Helper()
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
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return p.serve(req)
}

// get fetches a page and fails unless it answers 200.
func (p *portal) get(host, path string, cookies ...*http.Cookie) string {
	p.t.Helper()
	resp := p.do("GET", host, path, nil, cookies...)
	body := readBody(p.t, resp)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s%s: status %d: %.500s", host, path, resp.StatusCode, body)
	}
	return body
}

// post sends a form and fails unless it redirects to want.
func (p *portal) post(host, path string, form url.Values, want string, cookies ...*http.Cookie) {
	p.t.Helper()
	resp := p.do("POST", host, path, form, cookies...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		p.t.Fatalf("POST %s: status %d location %q, want 303 to %q: %.500s", path, resp.StatusCode,
			resp.Header.Get("Location"), want, readBody(p.t, resp))
	}
}

// adminGet fetches an acme page as its signed-in admin, whatever the answer.
func (p *portal) adminGet(path string) (*http.Response, string) {
	p.t.Helper()
	resp := p.do("GET", acmeHost, path, nil, p.acmeAdmin)
	return resp, readBody(p.t, resp)
}

// adminPost sends an acme form as its signed-in admin, whatever the answer.
func (p *portal) adminPost(path string, form url.Values) (*http.Response, string) {
	p.t.Helper()
	resp := p.do("POST", acmeHost, path, form, p.acmeAdmin)
	return resp, readBody(p.t, resp)
}

// signIn signs an admin in on host and returns the session cookie.
func (p *portal) signIn(host, email string) *http.Cookie {
	p.t.Helper()
	resp := p.do("POST", host, "/admin/login", url.Values{"email": {email}, "password": {adminPassword}})
	for _, c := range resp.Cookies() {
		if c.Name == "admin_session" && c.Value != "" {
			return c
		}
	}
	p.t.Fatalf("admin sign-in of %s on %s: status %d, no cookie", email, host, resp.StatusCode)
	return nil
}

// admin returns one admin of a site by e-mail.
func (p *portal) admin(site sites.Site, email string) sites.Admin {
	p.t.Helper()
	list, err := p.sites.ListAdmins(context.Background(), site.ID)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, a := range list {
		if a.Email == email {
			return a
		}
	}
	p.t.Fatalf("no admin %s on %s", email, site.Name)
	return sites.Admin{}
}

// signInUser gives a site a meeting user (as a first SSO sign-in would) and
// returns the account and its session token.
func (p *portal) signInUser(site sites.Site, uid, objectID string) (users.User, string) {
	p.t.Helper()
	u, token, err := p.users.SignIn(context.Background(), site.ID, users.Identity{
		UID: uid, Email: uid, FirstName: "Britta", LastName: "Simon", ObjectID: objectID,
	}, users.Policy{AutoCreate: true})
	if err != nil {
		p.t.Fatal(err)
	}
	return u, token
}

// record records a sign-in event.
func (p *portal) record(e sso.Event) {
	p.t.Helper()
	if err := p.sso.RecordEvent(context.Background(), e); err != nil {
		p.t.Fatal(err)
	}
}

// recentAudit returns a site's audit entries, newest first.
func (p *portal) recentAudit(site sites.Site) []audit.Entry {
	p.t.Helper()
	entries, err := p.audit.Recent(context.Background(), site.ID, 1000, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	return entries
}

// auditEntries lists a site's audit entries as "actor action detail",
// newest first.
func (p *portal) auditEntries(site sites.Site) []string {
	p.t.Helper()
	var out []string
	for _, e := range p.recentAudit(site) {
		out = append(out, e.Actor+" "+e.Action+" "+e.Detail)
	}
	return out
}

// auditActions lists acme's audit entries' actions, oldest first.
func (p *portal) auditActions() []string {
	p.t.Helper()
	entries := p.recentAudit(p.acme)
	out := make([]string, len(entries))
	for i, e := range entries {
		out[len(entries)-1-i] = e.Action
	}
	return out
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// escaped is s as html/template writes it in text and attribute values.
func escaped(s string) string {
	return strings.ReplaceAll(template.HTMLEscapeString(s), "+", "&#43;")
}

// utc is a time as the pages show it.
func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// rowCount counts the rows of the table with the given id.
func rowCount(t *testing.T, body, tableID string) int {
	t.Helper()
	start := strings.Index(body, `<table class="`+tableID+`" id="`+tableID+`">`)
	if start < 0 {
		return 0
	}
	rest := body[start:]
	end := strings.Index(rest, "</table>")
	return strings.Count(rest[:end], "<tr") - 1 // minus the header row
}

var pagerLinkPattern = regexp.MustCompile(`<a href="([^"]*)" rel="(prev|next)">`)

// pagerLinks returns the Previous and Next links of a page, unescaped.
func pagerLinks(body string) (prev, next string) {
	for _, m := range pagerLinkPattern.FindAllStringSubmatch(body, -1) {
		link := strings.ReplaceAll(m[1], "&amp;", "&")
		if m[2] == "prev" {
			prev = link
		} else {
			next = link
		}
	}
	return prev, next
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
