package admin_test

// The harness of the Sign-in events, Users, Admins and Admin audit page
// tests: a whole portal over a fresh database with two sites, acme and
// globex, each with one admin. Names carry a "pages" prefix so they do not
// collide with the SSO Configuration page tests in this package.

import (
	"bytes"
	"context"
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
	pagesAcme     = "acme.localhost:8080"
	pagesGlobex   = "globex.localhost:8080"
	pagesPassword = "a good long password"
)

type pagesPortal struct {
	t        *testing.T
	pool     *pgxpool.Pool
	srv      *server.Server
	sso      *sso.Service
	sites    *sites.Store
	users    *users.Store
	sessions *session.Store
	audit    *audit.Log
	acme     sites.Site
	globex   sites.Site
}

func newPagesPortal(t *testing.T) *pagesPortal {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	box, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := sites.ParseBaseURL("http://localhost:8080")
	log := slog.New(slog.DiscardHandler)
	svc := sso.New(pool, box, hosts, log, nil)
	store, err := sites.NewStore(pool)
	if err != nil {
		t.Fatal(err)
	}
	sessions := session.NewStore(pool, time.Now)
	p := &pagesPortal{t: t, pool: pool, sso: svc, sites: store, sessions: sessions,
		users: users.NewStore(pool, sessions, time.Now), audit: audit.New(pool, time.Now)}
	if p.acme, err = store.Create(ctx, "acme", "admin@acme.test", pagesPassword); err != nil {
		t.Fatal(err)
	}
	if p.globex, err = store.Create(ctx, "globex", "admin@globex.test", pagesPassword); err != nil {
		t.Fatal(err)
	}
	if p.srv, err = server.New(server.Options{Pool: pool, Hosts: hosts, Log: log, SSO: svc}); err != nil {
		t.Fatal(err)
	}
	return p
}

// do serves one request as a browser on the same origin would.
func (p *pagesPortal) do(method, host, path string, form url.Values, cookies ...*http.Cookie) *http.Response {
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
	rec := httptest.NewRecorder()
	p.srv.ServeHTTP(rec, req)
	return rec.Result()
}

// get fetches a page and fails unless it answers 200.
func (p *pagesPortal) get(host, path string, cookies ...*http.Cookie) string {
	p.t.Helper()
	resp := p.do("GET", host, path, nil, cookies...)
	body := pagesBody(p.t, resp)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s%s: status %d: %.500s", host, path, resp.StatusCode, body)
	}
	return body
}

// post sends a form and fails unless it redirects to want.
func (p *pagesPortal) post(host, path string, form url.Values, want string, cookies ...*http.Cookie) {
	p.t.Helper()
	resp := p.do("POST", host, path, form, cookies...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		p.t.Fatalf("POST %s: status %d location %q, want 303 to %q: %.500s", path, resp.StatusCode,
			resp.Header.Get("Location"), want, pagesBody(p.t, resp))
	}
}

// signIn signs an admin in and returns the session cookie.
func (p *pagesPortal) signIn(host, email string) *http.Cookie {
	p.t.Helper()
	resp := p.do("POST", host, "/admin/login", url.Values{"email": {email}, "password": {pagesPassword}})
	for _, c := range resp.Cookies() {
		if c.Name == "admin_session" && c.Value != "" {
			return c
		}
	}
	p.t.Fatalf("admin sign-in of %s: status %d, no cookie", email, resp.StatusCode)
	return nil
}

// admin returns one admin of a site by e-mail.
func (p *pagesPortal) admin(site sites.Site, email string) sites.Admin {
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
func (p *pagesPortal) signInUser(site sites.Site, uid, objectID string) (users.User, string) {
	p.t.Helper()
	u, token, err := p.users.SignIn(context.Background(), site.ID, users.Identity{
		UID: uid, Email: uid, FirstName: "Britta", LastName: "Simon", ObjectID: objectID,
	}, users.Policy{AutoCreate: true})
	if err != nil {
		p.t.Fatal(err)
	}
	return u, token
}

func (p *pagesPortal) record(e sso.Event) {
	p.t.Helper()
	if err := p.sso.RecordEvent(context.Background(), e); err != nil {
		p.t.Fatal(err)
	}
}

// auditActions lists a site's audit entries as "actor action detail", newest first.
func (p *pagesPortal) auditActions(site sites.Site) []string {
	p.t.Helper()
	entries, err := p.audit.Recent(context.Background(), site.ID, 100, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Actor+" "+e.Action+" "+e.Detail)
	}
	return out
}

func pagesBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// pagesRowCount counts the rows of the table with the given id.
func pagesRowCount(t *testing.T, body, tableID string) int {
	t.Helper()
	start := strings.Index(body, `<table class="`+tableID+`" id="`+tableID+`">`)
	if start < 0 {
		return 0
	}
	rest := body[start:]
	end := strings.Index(rest, "</table>")
	return strings.Count(rest[:end], "<tr") - 1 // minus the header row
}

var pagesHrefPattern = regexp.MustCompile(`<a href="([^"]*)" rel="(prev|next)">`)

// pagesPagerLinks returns the Previous and Next links of a page, unescaped.
func pagesPagerLinks(body string) (prev, next string) {
	for _, m := range pagesHrefPattern.FindAllStringSubmatch(body, -1) {
		link := strings.ReplaceAll(m[1], "&amp;", "&")
		if m[2] == "prev" {
			prev = link
		} else {
			next = link
		}
	}
	return prev, next
}
