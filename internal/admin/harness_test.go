package admin_test

// The harness of every test in this package: the whole portal over a fresh
// database with two sites, acme and globex, each with one admin, and acme's
// admin signed in.

import (
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/users"
)

const (
	acmeHost      = "acme.localhost:8080"
	globexHost    = "globex.localhost:8080"
	adminPassword = portaltest.AdminPassword // every site admin's password
)

type portal struct {
	*portaltest.Portal
	t         *testing.T
	acme      sites.Site
	globex    sites.Site
	acmeAdmin *http.Cookie // the session of acme's admin, admin@acme.test
}

// options change how the portal is built.
type options struct {
	fetch sso.Fetcher  // FetchMetadata; nil keeps the portal's (SSRF rules on)
	log   *slog.Logger // where the portal logs; nil discards
}

// newPortal builds the portal with the defaults.
func newPortal(t *testing.T) *portal {
	t.Helper()
	return newPortalWith(t, options{})
}

func newPortalWith(t *testing.T, o options) *portal {
	t.Helper()
	var opts []portaltest.Option
	if o.fetch != nil {
		opts = append(opts, portaltest.Configure(func(a *app.App) { a.FetchMetadata = o.fetch }))
	}
	if o.log != nil {
		opts = append(opts, portaltest.WithLog(o.log))
	}
	p := &portal{Portal: portaltest.New(t, opts...), t: t}
	p.acme, p.globex = p.CreateSite("acme"), p.CreateSite("globex")
	p.acmeAdmin = p.SignInAdmin(acmeHost, "admin@acme.test")
	return p
}

// get fetches a page and fails unless it answers 200.
func (p *portal) get(host, path string, cookies ...*http.Cookie) string {
	p.t.Helper()
	resp, body := p.Get(host, path, cookies...)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET %s%s: status %d: %.500s", host, path, resp.StatusCode, body)
	}
	return body
}

// post sends a form and fails unless it redirects to want.
func (p *portal) post(host, path string, form url.Values, want string, cookies ...*http.Cookie) {
	p.t.Helper()
	resp, body := p.PostForm(host, path, form, cookies...)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		p.t.Fatalf("POST %s: status %d location %q, want 303 to %q: %.500s", path, resp.StatusCode,
			resp.Header.Get("Location"), want, body)
	}
}

// adminGet fetches an acme page as its signed-in admin, whatever the answer.
func (p *portal) adminGet(path string) (*http.Response, string) {
	p.t.Helper()
	return p.Get(acmeHost, path, p.acmeAdmin)
}

// adminPost sends an acme form as its signed-in admin, whatever the answer.
func (p *portal) adminPost(path string, form url.Values) (*http.Response, string) {
	p.t.Helper()
	return p.PostForm(acmeHost, path, form, p.acmeAdmin)
}

// admin returns one admin of a site by e-mail.
func (p *portal) admin(site sites.Site, email string) sites.Admin {
	p.t.Helper()
	list, err := p.App.Sites.ListAdmins(context.Background(), site.ID)
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
	u, token, err := p.App.Users.SignIn(context.Background(), site.ID, users.Identity{
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
	if err := p.App.SSO.RecordEvent(context.Background(), e); err != nil {
		p.t.Fatal(err)
	}
}

// recentAudit returns a site's audit entries, newest first.
func (p *portal) recentAudit(site sites.Site) []audit.Entry {
	p.t.Helper()
	entries, err := p.App.Audit.Recent(context.Background(), site.ID, 1000, 0)
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
		out = append(out, e.Actor+" "+e.Action+" "+e.Details.String())
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
	return portaltest.Body(t, resp)
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
	loc := regexp.MustCompile(`<table class="[^"]*\b` + tableID + `\b[^"]*" id="` + tableID + `">`).FindStringIndex(body)
	if loc == nil {
		return 0
	}
	rest := body[loc[0]:]
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

// sentToSignIn reports whether a request without a live admin session of
// the site was answered as one: redirected to the sign-in form, or, for a
// form posted with a session cookie that no longer opens a session, the
// sign-in form itself (401), saying the session expired.
func sentToSignIn(method string, resp *http.Response) bool {
	if method != http.MethodPost || resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/admin"
	}
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	body := b.String()
	return resp.StatusCode == http.StatusUnauthorized && strings.Contains(body, `action="/admin/login"`) && strings.Contains(body, "Your session expired")
}
