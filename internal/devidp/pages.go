package devidp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

// contentSecurityPolicy is the portal's policy: no inline script or style,
// so the auto-submitting form needs /autosubmit.js; form-action lets the
// form post the SAMLResponse to a site's ACS, on whatever host and port the
// portal's base URL names (the ACS itself comes from the trusted SP metadata).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"form-action 'self' http: https:; frame-ancestors 'none'"

// setPageHeaders sets the headers of every HTML page the IdP serves.
func setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	// The pages carry SAML messages and sign-in forms: never cached, and the
	// SAMLRequest in the URL is not leaked to other sites in a Referer.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

const autosubmitJS = `// Posts the SAML message form as soon as the page is parsed. It lives in a
// file, not inline, because the Content-Security-Policy forbids inline script.
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('saml-post');
  if (form) { form.submit(); }
});
`

const stylesheet = `body { font-family: system-ui, sans-serif; background: #f3f2f1; color: #1b1b1b; margin: 0; }
main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem 2.5rem; box-shadow: 0 2px 6px rgba(0,0,0,.2); }
h1 { font-size: 1.5rem; font-weight: 600; margin-top: 0; }
label { display: block; margin-top: 1rem; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; margin-top: .25rem; font-size: 1rem; }
button, .tile { margin-top: 1.5rem; padding: .5rem 1.5rem; font-size: 1rem; background: #0067b8; color: #fff; border: 0; cursor: pointer; text-decoration: none; display: inline-block; }
.error { color: #a80000; border-left: 4px solid #a80000; padding-left: .5rem; }
.warning { background: #fff4ce; padding: .5rem; }
.hint, .small { color: #605e5c; font-size: .875rem; }
ul.tiles { list-style: none; padding: 0; }
`

// The page templates share a layout; none has inline script or style.
const layoutHTML = `{{define "layout"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{template "title" .}} · Development identity provider</title>
<link rel="stylesheet" href="/devidp.css">
{{block "script" .}}{{end}}
</head>
<body>
<main>
{{template "main" .}}
<p class="warning small">Development identity provider (<code>portal serve --dev-idp</code>). Never use it in production.</p>
</main>
</body>
</html>
{{end}}`

// loginHTML is executed by samlidp with {Toast, URL, SAMLRequest,
// RelayState}. The form has no action, so it posts back to the URL the page
// was served from: for an HTTP-Redirect AuthnRequest that URL still carries
// the SAMLRequest with its query-string signature (re-posting the request
// XML, as samlidp's own form does, would drop that signature and a portal
// site, which signs its requests, would be refused); for IdP-initiated
// sign-in it is /start?sp=…. An HTTP-POST AuthnRequest travels in the
// hidden fields.
const loginHTML = `{{define "title"}}Sign in{{end}}
{{define "main"}}<h1>Sign in</h1>
{{with .Toast}}<p class="error" role="alert">{{.}}</p>{{end}}
<form method="post">
<label for="user">Username or e-mail address</label>
<input type="text" id="user" name="user" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
{{if .SAMLRequest}}<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">
<input type="hidden" name="RelayState" value="{{.RelayState}}">{{end}}
<button type="submit">Sign in</button>
</form>
<p class="hint">Demo users: <code>b.simon</code> (B.Simon@contoso.com) and <code>a.lee</code> (alice.lee@contoso.com). The password was printed by <code>make run</code>.</p>
{{end}}`

// responseFormHTML carries a SAML Response to the service provider with the
// HTTP-POST binding; it is executed with saml.IdpAuthnRequestForm (sign-in
// and logout responses). /autosubmit.js submits it, and the Continue button
// does without JavaScript.
const responseFormHTML = `{{define "title"}}Continue{{end}}
{{define "script"}}<script src="/autosubmit.js" defer></script>{{end}}
{{define "main"}}<h1>Signing you in…</h1>
<form method="post" action="{{.URL}}" id="saml-post">
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{with .RelayState}}<input type="hidden" name="RelayState" value="{{.}}">{{end}}
<noscript><p>JavaScript is off: press Continue to go on.</p></noscript>
<button type="submit">Continue</button>
</form>
{{end}}`

// logoutRequestFormHTML is responseFormHTML for the LogoutRequests the IdP
// sends while it signs a user out of every site (saml.IdpLogoutRequestForm).
const logoutRequestFormHTML = `{{define "title"}}Continue{{end}}
{{define "script"}}<script src="/autosubmit.js" defer></script>{{end}}
{{define "main"}}<h1>Signing you out…</h1>
<form method="post" action="{{.URL}}" id="saml-post">
<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}">
<noscript><p>JavaScript is off: press Continue to go on.</p></noscript>
<button type="submit">Continue</button>
</form>
{{end}}`

const logoutCompleteHTML = `{{define "title"}}Signed out{{end}}
{{define "main"}}<h1>You are signed out</h1>
{{with .Failed}}<p class="error">These applications could not be signed out: {{range $i, $e := .}}{{if $i}}, {{end}}{{$e}}{{end}}</p>{{end}}
{{end}}`

const errorHTML = `{{define "title"}}Sign-in failed{{end}}
{{define "main"}}<h1>Sign-in could not continue</h1>
<p class="error" role="alert">{{.Message}}</p>
<p>Go back to the site and try again.</p>
<p class="small">Reference {{.Reference}} · HTTP {{.Status}}</p>
{{end}}`

const homeHTML = `{{define "title"}}My Apps{{end}}
{{define "main"}}<h1>My Apps</h1>
<p>This development identity provider signs in the demo users <code>b.simon</code> and <code>a.lee</code>.
Open a site, for example <a href="http://acme.localhost:8080/">http://acme.localhost:8080</a>, to sign in from the site (SP-initiated),
or use a tile below to sign in from here (IdP-initiated, like the Azure My Apps tile).</p>
{{if .}}<ul class="tiles">{{range .}}<li><a class="tile" href="/start?sp={{.}}">{{.}}</a></li>{{end}}</ul>
{{else}}<p class="hint">Sites appear here once they have sent a sign-in request to this IdP; or open <code>/start?sp=</code> followed by a site's entity ID (its <code>/saml/metadata</code> URL).</p>{{end}}
<p><a href="/logout" id="idp-sign-out">Sign out</a> of this identity provider and of every site signed in through it (IdP-initiated Single Logout).</p>
{{end}}`

// pages holds the parsed templates; each is the layout with one page.
type pages struct {
	login, responseForm, logoutRequestForm, logoutComplete, errorPage, home *template.Template
}

func parsePages() (*pages, error) {
	parse := func(name, page string) (*template.Template, error) {
		t, err := template.New(name).Parse(layoutHTML)
		if err == nil {
			_, err = t.Parse(page)
		}
		if err != nil {
			return nil, fmt.Errorf("devidp: parse %s template: %w", name, err)
		}
		// samlidp and crewjam execute the template by its name, so the
		// named template must render the whole layout.
		return t.New(name + "-page").Parse(`{{template "layout" .}}`)
	}
	var p pages
	var err error
	if p.login, err = parse("login", loginHTML); err != nil {
		return nil, err
	}
	if p.responseForm, err = parse("response-form", responseFormHTML); err != nil {
		return nil, err
	}
	if p.logoutRequestForm, err = parse("logout-request-form", logoutRequestFormHTML); err != nil {
		return nil, err
	}
	if p.logoutComplete, err = parse("logout-complete", logoutCompleteHTML); err != nil {
		return nil, err
	}
	if p.errorPage, err = parse("error", errorHTML); err != nil {
		return nil, err
	}
	if p.home, err = parse("home", homeHTML); err != nil {
		return nil, err
	}
	return &p, nil
}

// responseWriter implements saml.ResponseWriter: it sends the Response with
// the HTTP-POST binding in the CSP-clean form, and signs it as Azure AD
// does by default ("Sign SAML assertion"): only the assertion carries a
// signature, the Response around it does not. crewjam's own MakeResponse
// signs both; the portal must accept either, and this way `make run`
// exercises the Azure shape.
type responseWriter struct {
	form     *template.Template
	entityID string
}

// WriteResponse implements saml.ResponseWriter.
func (rw responseWriter) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	if req.ACSEndpoint == nil || req.ACSEndpoint.Binding != saml.HTTPPostBinding {
		return fmt.Errorf("devidp: only HTTP-POST assertion consumer services are supported")
	}
	if req.ResponseEl == nil {
		if err := rw.makeResponse(req); err != nil {
			return err
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	xml, err := doc.WriteToBytes()
	if err != nil {
		return fmt.Errorf("devidp: serialize response: %w", err)
	}
	var buf bytes.Buffer
	err = rw.form.Execute(&buf, saml.IdpAuthnRequestForm{
		URL:          req.ACSEndpoint.Location,
		SAMLResponse: base64.StdEncoding.EncodeToString(xml),
		RelayState:   req.RelayState,
	})
	if err != nil {
		return fmt.Errorf("devidp: render response form: %w", err)
	}
	setPageHeaders(w.Header())
	_, err = buf.WriteTo(w)
	return err
}

// makeResponse wraps the signed assertion in an unsigned Response.
func (rw responseWriter) makeResponse(req *saml.IdpAuthnRequest) error {
	if err := req.MakeAssertionEl(); err != nil {
		return fmt.Errorf("devidp: sign assertion: %w", err)
	}
	id, err := azureID()
	if err != nil {
		return err
	}
	response := &saml.Response{
		ID:           id,
		InResponseTo: req.Request.ID,
		Version:      "2.0",
		IssueInstant: req.Now,
		Destination:  req.ACSEndpoint.Location,
		Issuer:       &saml.Issuer{Value: rw.entityID},
		Status:       saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
	}
	el := response.Element()
	el.AddChild(req.AssertionEl)
	req.ResponseEl = el
	return nil
}

// azureID returns a message ID shaped like Azure's: "_" and a GUID. An XML
// ID must not start with a digit.
func azureID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("devidp: random ID: %w", err)
	}
	h := hex.EncodeToString(b)
	return "_" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
