package admin_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
)

// TestInputPostgreSQLRefusesIsABadRequestNotAnError sends what PostgreSQL
// cannot store — a NUL, invalid UTF-8 — and what no one types, to the
// forms and filters, signed in and not: each is refused with a 400 page
// that says which field, nothing is changed, and nothing is logged as an
// error.
func TestInputPostgreSQLRefusesIsABadRequestNotAnError(t *testing.T) {
	// The requests are served one at a time: a plain buffer will do.
	logs := &bytes.Buffer{}
	p := newPortalWith(t, options{log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	manual := p.pageForm(p.acmeAdmin, "sso-idp")
	manual.Set("sso_url", "https://idp.example.com/sso")
	manual.Set("certificates", string(fixture(t, "azure-signing-1.crt.pem")))
	options := p.optionsForm()
	with := func(form url.Values, field, value string) url.Values {
		out := url.Values{}
		for k, v := range form {
			out[k] = v
		}
		out.Set(field, value)
		return out
	}
	cases := []struct {
		name, method, target string
		body                 string // a raw URL-encoded form, for bytes url.Values would not send as they are
		form                 url.Values
		signedIn             bool
		message              string
	}{
		{name: "sign-in e-mail with a NUL", method: "POST", target: "/admin/login", body: "email=a%00b@acme.test&password=x",
			message: "The field “E-mail address” contains a control character (U+0000)"},
		{name: "sign-in password not UTF-8", method: "POST", target: "/admin/login", body: "email=admin@acme.test&password=%FF%FE",
			message: "The field “Password” is not valid UTF-8 text"},
		{name: "events user not UTF-8", method: "GET", target: "/admin/events?user=%FF", signedIn: true,
			message: "The field “User” is not valid UTF-8 text"},
		{name: "events reference with a NUL", method: "GET", target: "/admin/events?reference=%00", signedIn: true,
			message: "The field “Reference” contains a control character (U+0000)"},
		{name: "events result with an escape", method: "GET", target: "/admin/events?result=%1B%5B2J", signedIn: true,
			message: "The field “Result” contains a control character (U+001B)"},
		{name: "manual IdP entity ID with a NUL", method: "POST", target: "/admin/sso/idp", signedIn: true,
			form: with(manual, "entity_id", "https://idp.example.com/\x00"), message: "The field “IdP entity ID” contains a control character (U+0000)"},
		{name: "default target page not UTF-8", method: "POST", target: "/admin/sso", signedIn: true,
			form: with(options, "default_target", "/meet/\xc3"), message: "The field “Default target page after sign-in” is not valid UTF-8 text"},
		{name: "AuthnContextClassRef too long", method: "POST", target: "/admin/sso", signedIn: true,
			form: with(options, "authn_context", "urn:"+strings.Repeat("x", 5000)), message: "The field “AuthnContextClassRef” is longer than 4096 characters"},
		{name: "add user first name with a C1 control", method: "POST", target: "/admin/users", signedIn: true,
			form: url.Values{"email": {"c@acme.test"}, "first_name": {"Zo\u0085e"}}, message: "The field “First name” contains a control character (U+0085)"},
		{name: "a field name with a NUL", method: "POST", target: "/admin/admins", signedIn: true, body: "email=c@acme.test&pass%00word=x",
			message: `The field “"pass\x00word"”`},
		{name: "a path with a NUL", method: "GET", target: "/admin/sso/import/%00", signedIn: true,
			message: "The address contains a control character (U+0000)"},
		{name: "a path not UTF-8", method: "GET", target: "/meet/%FF", message: "The address is not valid UTF-8 text"},
		{name: "broken encoding", method: "GET", target: "/admin/events?user=%zz", signedIn: true, message: "its encoding is broken"},
	}
	before := p.settings()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cookies []*http.Cookie
			if c.signedIn {
				cookies = append(cookies, p.acmeAdmin)
			}
			req := portaltest.Request(c.method, acmeHost, c.target, c.form, cookies...)
			if c.body != "" {
				req = portaltest.Request(c.method, acmeHost, c.target, url.Values{}, cookies...)
				req.Body = io.NopCloser(strings.NewReader(c.body))
				req.ContentLength = int64(len(c.body))
			}
			resp := p.Serve(req)
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %.300s", resp.StatusCode, pageError(body))
			}
			if !strings.Contains(body, escaped(c.message)) && !strings.Contains(body, c.message) {
				t.Errorf("the page does not say %q:\n%s", c.message, pageError(body))
			}
		})
	}
	if after := p.settings(); after.Revision != before.Revision || after.IdPEntityID != "" {
		t.Errorf("refused input changed the settings: %+v", after)
	}
	if users, _ := p.App.Users.List(t.Context(), p.acme.ID); len(users) != 0 {
		t.Errorf("refused input made an account: %+v", users)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("bad input was logged as an error:\n%s", logs.String())
	}

	// Text people do type goes through: accents, scripts, emoji, a tab.
	resp, body := p.adminGet("/admin/events?user=" + url.QueryEscape("Zoë 李 ✓\t"))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a search in other scripts: status %d: %s", resp.StatusCode, pageError(body))
	}
}
