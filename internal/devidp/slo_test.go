package devidp_test

import (
	"context"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sso"
)

const demoPassword = "demo users' password"

// localhostJar is a cookie jar that treats http://*.localhost as a secure
// context, as Chromium and Firefox do: it keeps and sends Secure cookies
// there (the portal's sign-in binding cookie is Secure on plain http, see
// sso.Binding), which net/http/cookiejar does only over https.
type localhostJar struct{ *cookiejar.Jar }

func secure(u *url.URL) *url.URL {
	s := *u
	s.Scheme = "https"
	return &s
}

func (j localhostJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	j.Jar.SetCookies(secure(u), cookies)
}
func (j localhostJar) Cookies(u *url.URL) []*http.Cookie { return j.Jar.Cookies(secure(u)) }

// browserFor is a client that sends every request, whatever its
// *.localhost host, to srv, keeps cookies like a browser, and does not
// follow redirects (follow does, and submits the IdP's forms).
func browserFor(t *testing.T, srv *httptest.Server) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Listener.Addr().String()
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Jar: localhostJar{jar}, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	autoForm     = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)" id="saml-post">(.*?)</form>`)
	hiddenInput  = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	passwordForm = regexp.MustCompile(`name="password"`)
	// The portal's page between sign-out and the IdP moves on by itself.
	metaRefresh = regexp.MustCompile(`<meta http-equiv="refresh" content="0;url=([^"]+)">`)
)

// visit is what a browser shows after following every redirect and
// auto-submitting form from one request: the last URL and its page.
type visit struct {
	url    string
	status int
	body   string
	trail  []string // every URL on the way
}

// follow sends req and follows redirects, meta refreshes and the IdP's
// auto-submitting forms (/autosubmit.js) as a browser does, until a page
// that waits for a person.
func follow(t *testing.T, client *http.Client, req *http.Request) visit {
	t.Helper()
	var v visit
	for range 20 {
		v.trail = append(v.trail, req.Method+" "+req.URL.String())
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		v.url, v.status, v.body = req.URL.String(), resp.StatusCode, string(b)
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
			continue
		}
		if m := metaRefresh.FindStringSubmatch(v.body); m != nil {
			req = get(t, html.UnescapeString(m[1]))
			continue
		}
		if m := autoForm.FindStringSubmatch(v.body); m != nil {
			form := url.Values{}
			for _, in := range hiddenInput.FindAllStringSubmatch(m[2], -1) {
				form.Set(in[1], html.UnescapeString(in[2]))
			}
			req = formPost(t, html.UnescapeString(m[1]), form)
			continue
		}
		return v
	}
	t.Fatalf("more than 20 steps: %v", v.trail)
	return v
}

func formPost(t *testing.T, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func get(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestSingleLogoutWithTheDevelopmentIdP runs Single Logout both ways
// between a portal site and the development IdP of `serve --dev-idp`, as a
// browser does: sign in at the site, sign out (the IdP session ends too, and
// the next visit asks for the password), then the IdP's own sign-out (the
// site's session ends).
func TestSingleLogoutWithTheDevelopmentIdP(t *testing.T) {
	p := portaltest.New(t, portaltest.Configure(func(a *app.App) {
		if _, err := a.StartDevIdP(context.Background(), demoPassword); err != nil {
			t.Fatal(err)
		}
	}))
	ctx := context.Background()
	site := p.CreateSite("acme")
	metadata, err := p.App.DevIdP.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.App.SSO.ImportMetadata(ctx, site.ID, metadata, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := p.App.SSO.UpdateSettings(ctx, site.ID, func(s *sso.Settings) error {
		s.Enabled, s.SLOEnabled = true, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p.Server)
	t.Cleanup(srv.Close)
	browser := browserFor(t, srv)
	acme, idp := "http://acme.localhost:8080", "http://idp.localhost:8080"

	signIn := func() {
		t.Helper()
		form := follow(t, browser, get(t, acme+"/"))
		if !passwordForm.MatchString(form.body) || !strings.HasPrefix(form.url, idp+"/sso?") {
			t.Fatalf("opening the site: at %s, want the IdP's sign-in form:\n%s", form.url, form.body)
		}
		home := follow(t, browser, formPost(t, form.url, url.Values{"user": {"b.simon"}, "password": {demoPassword}}))
		if home.url != acme+"/" || !strings.Contains(home.body, "Welcome, B Simon") {
			t.Fatalf("after signing in: at %s (%d): %v\n%s", home.url, home.status, home.trail, home.body)
		}
	}

	// SP-initiated: the site's Sign out goes through the IdP and lands on
	// the signed-out page; the IdP session is gone, so the site asks for
	// credentials again rather than signing in by itself.
	signIn()
	out := follow(t, browser, formPost(t, acme+"/logout", url.Values{}))
	if out.url != acme+"/signed-out?slo=done" || !strings.Contains(out.body, "You have signed out of this site and of your company&#39;s identity provider.") {
		t.Fatalf("after Sign out: at %s: %v\n%s", out.url, out.trail, out.body)
	}
	if !visited(out.trail, idp+"/slo?SAMLRequest=") {
		t.Errorf("the sign-out did not go to the IdP: %v", out.trail)
	}
	again := follow(t, browser, get(t, acme+"/"))
	if !passwordForm.MatchString(again.body) {
		t.Fatalf("after Single Logout, opening the site did not ask for credentials: at %s\n%s", again.url, again.body)
	}
	// newest is the site's newest event.
	newest := func() sso.Event {
		t.Helper()
		events, err := p.App.SSO.RecentEvents(ctx, site.ID, sso.EventFilter{Limit: 1})
		if err != nil || len(events) != 1 {
			t.Fatalf("events: %v %v", events, err)
		}
		return events[0]
	}
	if e := newest(); e.Flow != sso.FlowLogoutSP || e.Result != sso.ResultSuccess {
		t.Errorf("newest event %+v, want the confirmed sign-out", e)
	}

	// IdP-initiated: signing out at the IdP ends the site's session too.
	signIn()
	done := follow(t, browser, get(t, idp+"/logout"))
	if !strings.Contains(done.body, "You are signed out") || strings.Contains(done.body, "could not be signed out") {
		t.Fatalf("the IdP's sign-out: at %s: %v\n%s", done.url, done.trail, done.body)
	}
	if !visited(done.trail, acme+"/saml/slo?SAMLRequest=") {
		t.Errorf("the IdP did not send the site a LogoutRequest: %v", done.trail)
	}
	after := follow(t, browser, get(t, acme+"/"))
	if !passwordForm.MatchString(after.body) {
		t.Fatalf("after the IdP's sign-out the site still lets the browser in: at %s\n%s", after.url, after.body)
	}
	if e := newest(); e.Flow != sso.FlowLogoutIdP || e.Result != sso.ResultSuccess || !strings.Contains(e.Detail, "1 session(s) ended") {
		t.Errorf("newest event %+v, want the IdP's sign-out ending the session", e)
	}
}

// visited reports whether one of trail starts with a request to prefix.
func visited(trail []string, prefix string) bool {
	for _, step := range trail {
		if _, u, _ := strings.Cut(step, " "); strings.HasPrefix(u, prefix) {
			return true
		}
	}
	return false
}
