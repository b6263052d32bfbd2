package devidp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5/pgxpool"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

const (
	testPassword = "correct horse battery staple"
	acmeEntityID = "http://acme.localhost:8080/saml/metadata"
	acmeACS      = "http://acme.localhost:8080/saml/acs"
	idpBase      = "http://idp.localhost:8080"
)

// harness is a development IdP served by httptest, the crewjam service
// provider playing the portal's acme site, and a browser-like client.
type harness struct {
	idp    *IdP
	sp     *saml.ServiceProvider
	client *http.Client
}

func newBox(t *testing.T) *seal.Box {
	t.Helper()
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func newIdP(t *testing.T, pool *pgxpool.Pool, box *seal.Box, sps map[string]*saml.EntityDescriptor) *IdP {
	t.Helper()
	base, _ := url.Parse(idpBase)
	var mu sync.Mutex
	idp, err := New(context.Background(), pool, Config{
		BaseURL:  base,
		Password: testPassword,
		Box:      box,
		ServiceProvider: func(_ context.Context, entityID string) (*saml.EntityDescriptor, error) {
			mu.Lock()
			defer mu.Unlock()
			if md, ok := sps[entityID]; ok {
				return md, nil
			}
			return nil, errors.New("no such site")
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return idp
}

// newSP returns a service provider configured as the portal configures a
// site: signed AuthnRequests (RSA-SHA256), emailAddress NameIDs, SHA-1
// refused, HTTP-POST ACS only.
func newSP(t *testing.T, entityID, acs string, idpMetadata []byte) *saml.ServiceProvider {
	t.Helper()
	key, cert := selfSigned(t, "sp")
	md := &saml.EntityDescriptor{}
	if err := xml.Unmarshal(idpMetadata, md); err != nil {
		t.Fatalf("parse IdP metadata: %v", err)
	}
	acsURL, _ := url.Parse(acs)
	metadataURL, _ := url.Parse(entityID)
	return &saml.ServiceProvider{
		EntityID:                         entityID,
		Key:                              key,
		Certificate:                      cert,
		MetadataURL:                      *metadataURL,
		AcsURL:                           *acsURL,
		IDPMetadata:                      md,
		AuthnNameIDFormat:                saml.EmailAddressNameIDFormat,
		SignatureMethod:                  dsig.RSASHA256SignatureMethod,
		RejectSHA1Signatures:             true,
		AllowIDPInitiated:                true,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
	}
}

func selfSigned(t *testing.T, name string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key, ssotest.SelfSign(t, key, &x509.Certificate{
		Subject:   pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(24 * time.Hour),
	})
}

// browser returns a client that sends every request, whatever its
// *.localhost host, to srv (Go's resolver does not resolve *.localhost),
// keeps cookies, and does not follow redirects.
func browser(t *testing.T, srv *httptest.Server) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Listener.Addr().String()
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{
		Jar:           jar,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	pool := dbtest.New(t)
	sps := map[string]*saml.EntityDescriptor{}
	idp := newIdP(t, pool, newBox(t), sps)
	metadata, err := idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	sp := newSP(t, acmeEntityID, acmeACS, metadata)
	sps[acmeEntityID] = sp.Metadata()
	srv := httptest.NewServer(idp)
	t.Cleanup(srv.Close)
	return &harness{idp: idp, sp: sp, client: browser(t, srv)}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(t *testing.T, req *http.Request) page {
	t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (h *harness) get(t *testing.T, u string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.do(t, req)
}

func (h *harness) post(t *testing.T, u string, form url.Values) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(t, req)
}

// startSignIn makes the signed HTTP-Redirect AuthnRequest the portal sends
// and returns its URL and ID.
func (h *harness) startSignIn(t *testing.T, relayState string) (string, string) {
	t.Helper()
	req, err := h.sp.MakeAuthenticationRequest(h.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	u, err := req.Redirect(relayState, h.sp)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), req.ID
}

var (
	samlResponseField = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)
	relayStateField   = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
	formAction        = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
)

// postedResponse extracts what the auto-submitting form would post to the
// ACS: its action, the decoded SAMLResponse and the RelayState.
func postedResponse(t *testing.T, p page) (action string, response []byte, relayState string) {
	t.Helper()
	m := samlResponseField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no SAMLResponse in the page (HTTP %d):\n%s", p.status, p.body)
	}
	response, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatalf("SAMLResponse is not base64: %v", err)
	}
	if a := formAction.FindStringSubmatch(p.body); a != nil {
		action = html.UnescapeString(a[1])
	}
	if r := relayStateField.FindStringSubmatch(p.body); r != nil {
		relayState = html.UnescapeString(r[1])
	}
	return action, response, relayState
}

func TestNewCreatesTheKeyOnceAndReusesIt(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	box := newBox(t)
	sps := map[string]*saml.EntityDescriptor{}

	// Several processes starting at once must end up with one key.
	const starts = 4
	certs := make([]*x509.Certificate, starts)
	var wg sync.WaitGroup
	for n := range starts {
		wg.Go(func() { certs[n] = newIdP(t, pool, box, sps).server.IDP.Certificate })
	}
	wg.Wait()
	againIdP := newIdP(t, pool, box, sps)
	again := againIdP.server.IDP.Certificate
	for n, cert := range append(certs, again) {
		if !cert.Equal(certs[0]) {
			t.Fatalf("start %d uses another certificate than start 0", n)
		}
	}

	var rows int
	var sealed []byte
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM devidp_key").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(context.Background(), "SELECT private_key_sealed FROM devidp_key").Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("devidp_key has %d rows, want 1", rows)
	}
	der, err := x509.MarshalPKCS8PrivateKey(againIdP.server.IDP.Key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, der[len(der)-64:]) {
		t.Fatal("the stored private key is in plain text")
	}
}

func TestNewRefusesAKeySealedUnderAnotherSecret(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	newIdP(t, pool, newBox(t), nil)
	base, _ := url.Parse(idpBase)
	_, err := New(context.Background(), pool, Config{
		BaseURL: base, Password: testPassword, Box: newBox(t),
		ServiceProvider: func(context.Context, string) (*saml.EntityDescriptor, error) { return nil, errors.New("none") },
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("New with another secret key: %v, want seal.ErrOpen", err)
	}
}

func TestMetadataDescribesTheIdP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	raw, err := h.idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	md := &saml.EntityDescriptor{}
	if err := xml.Unmarshal(raw, md); err != nil {
		t.Fatal(err)
	}
	if md.EntityID != idpBase+"/metadata" || md.EntityID != h.idp.EntityID() {
		t.Errorf("entity ID %q, EntityID() %q", md.EntityID, h.idp.EntityID())
	}
	if !md.ValidUntil.IsZero() {
		t.Errorf("metadata expires at %s; an imported copy must not expire", md.ValidUntil)
	}
	if len(md.IDPSSODescriptors) != 1 {
		t.Fatalf("%d IDPSSODescriptors", len(md.IDPSSODescriptors))
	}
	d := md.IDPSSODescriptors[0]
	if len(d.KeyDescriptors) != 1 || d.KeyDescriptors[0].Use != "signing" {
		t.Errorf("key descriptors %+v, want one signing key", d.KeyDescriptors)
	}
	if got := h.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding); got != idpBase+"/sso" {
		t.Errorf("HTTP-Redirect SSO location %q", got)
	}
	served := h.get(t, idpBase+"/metadata")
	if served.body != string(raw) || served.header.Get("Content-Type") != "application/samlmetadata+xml" {
		t.Errorf("GET /metadata (%s) differs from MetadataXML:\n%s", served.header.Get("Content-Type"), served.body)
	}
}

func TestSPInitiatedSignInAsBSimon(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	signInURL, requestID := h.startSignIn(t, "opaque-relay-token")

	// The portal signs its requests and says so in its metadata: the
	// query-string signature must survive the sign-in form.
	if !strings.Contains(signInURL, "&Signature=") || !*h.sp.Metadata().SPSSODescriptors[0].AuthnRequestsSigned {
		t.Fatal("the test SP does not sign its AuthnRequests as the portal does")
	}
	login := h.get(t, signInURL)
	if login.status != http.StatusOK || !strings.Contains(login.body, `name="password"`) {
		t.Fatalf("GET AuthnRequest: HTTP %d, want the sign-in form:\n%s", login.status, login.body)
	}
	if strings.Contains(login.body, "SAMLResponse") {
		t.Fatal("a response was sent before signing in")
	}

	// The form has no action: a browser posts it back to the page's URL.
	posted := h.post(t, signInURL, url.Values{"user": {"b.simon"}, "password": {testPassword}})
	if posted.status != http.StatusOK {
		t.Fatalf("POST sign-in: HTTP %d:\n%s", posted.status, posted.body)
	}
	action, responseXML, relayState := postedResponse(t, posted)
	if action != acmeACS {
		t.Errorf("form posts to %q, want %q", action, acmeACS)
	}
	if relayState != "opaque-relay-token" {
		t.Errorf("RelayState %q, want it echoed", relayState)
	}

	assertion, err := h.sp.ParseXMLResponse(responseXML, []string{requestID}, mustURL(t, acmeACS))
	if err != nil {
		var invalid *saml.InvalidResponseError
		if errors.As(err, &invalid) {
			err = invalid.PrivateErr
		}
		t.Fatalf("the SP refuses the response: %v", err)
	}
	if got := assertion.Subject.NameID; got.Value != "B.Simon@contoso.com" || got.Format != string(saml.EmailAddressNameIDFormat) {
		t.Errorf("NameID %q (%s), want B.Simon@contoso.com (emailAddress)", got.Value, got.Format)
	}
	values := sso.AttributeValues(assertion)
	want := map[string]string{
		"firstname":       "B",
		"lastname":        "Simon",
		"email":           "B.Simon@contoso.com",
		"uid":             "B.Simon@contoso.com",
		claimGivenName:    "B",
		claimSurname:      "Simon",
		claimEmailAddress: "B.Simon@contoso.com",
		claimName:         "B.Simon@contoso.com",
		claimObjectID:     "5d0a3f4e-2b8c-4a61-9f27-1c6e8b3d7a90",
		claimAuthnMethods: authnMethodPassword,
		claimDisplayName:  "B Simon",
		claimTenantID:     demoTenantID,
	}
	for name, value := range want {
		if got := values[name]; len(got) != 1 || got[0] != value {
			t.Errorf("attribute %s = %q, want %q", name, got, value)
		}
	}
	for name := range values {
		if strings.HasPrefix(name, "urn:oid:") {
			t.Errorf("attribute %s: samlidp's default urn:oid: names leaked", name)
		}
	}
}

// TestResponseIsSignedLikeAzure: only the assertion is signed, with
// RSA-SHA256 and SHA-256 digests, as Azure AD's default "Sign SAML
// assertion" does.
func TestResponseIsSignedLikeAzure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	signInURL, _ := h.startSignIn(t, "")
	_, responseXML, _ := postedResponse(t, h.post(t, signInURL, url.Values{"user": {"b.simon"}, "password": {testPassword}}))

	var response saml.Response
	if err := xml.Unmarshal(responseXML, &response); err != nil {
		t.Fatal(err)
	}
	if response.Signature != nil {
		t.Error("the Response is signed; Azure signs only the assertion by default")
	}
	if response.Assertion == nil || response.Assertion.Signature == nil {
		t.Fatal("the assertion is not signed (or is missing)")
	}
	text := string(responseXML)
	if !strings.Contains(text, dsig.RSASHA256SignatureMethod) || !strings.Contains(text, "http://www.w3.org/2001/04/xmlenc#sha256") {
		t.Error("the signature is not RSA-SHA256 with SHA-256 digests")
	}
	if strings.Contains(text, "sha1") {
		t.Error("the response mentions SHA-1")
	}
	if strings.Contains(text, "EncryptedAssertion") {
		t.Error("the assertion is encrypted; Azure does not encrypt unless asked")
	}
}

func TestSignInRefusesAWrongPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	signInURL, _ := h.startSignIn(t, "")
	for _, creds := range []url.Values{
		{"user": {"b.simon"}, "password": {"not the password"}},
		{"user": {"nobody"}, "password": {testPassword}},
	} {
		p := h.post(t, signInURL, creds)
		if strings.Contains(p.body, "SAMLResponse") {
			t.Fatalf("user %q with a wrong password got a SAMLResponse", creds.Get("user"))
		}
		if !strings.Contains(p.body, "Invalid username or password") || !strings.Contains(p.body, `name="password"`) {
			t.Fatalf("user %q: want the form again with an error, got HTTP %d:\n%s", creds.Get("user"), p.status, p.body)
		}
	}
}

// TestTransientNameIDRequestGetsAnErrorResponse: like Azure AD, a request
// for a NameID format the IdP does not issue is answered with a SAML error
// (InvalidNameIDPolicy) posted to the ACS, not with some other NameID.
func TestTransientNameIDRequestGetsAnErrorResponse(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.sp.AuthnNameIDFormat = saml.TransientNameIDFormat
	signInURL, _ := h.startSignIn(t, "")
	p := h.post(t, signInURL, url.Values{"user": {"b.simon"}, "password": {testPassword}})
	_, responseXML, _ := postedResponse(t, p)
	var response saml.Response
	if err := xml.Unmarshal(responseXML, &response); err != nil {
		t.Fatal(err)
	}
	if response.Assertion != nil || response.Status.StatusCode.StatusCode == nil ||
		response.Status.StatusCode.StatusCode.Value != saml.StatusInvalidNameIDPolicy {
		t.Fatalf("want an InvalidNameIDPolicy error without an assertion, got:\n%s", responseXML)
	}
	if got := p.header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
		t.Errorf("Content-Security-Policy %q", got)
	}
}

// TestSignInFormLeftOpenTooLongSaysSo: the AuthnRequest is checked again
// when the form comes back, so a form left open past saml.MaxIssueDelay is
// refused with a page that says what to do.
func TestSignInFormLeftOpenTooLongSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	signInURL, _ := h.startSignIn(t, "")
	// Served in this goroutine (no httptest server), so changing the clock
	// does not race with a request.
	h.idp.server.IDP.Clock = dsig.NewFakeClockAt(time.Now().Add(time.Hour))
	body := url.Values{"user": {"b.simon"}, "password": {testPassword}}.Encode()
	req := httptest.NewRequest(http.MethodPost, signInURL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.idp.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "SAMLResponse") ||
		!strings.Contains(rec.Body.String(), "expired while this page was open") {
		t.Fatalf("HTTP %d, want 400 and the expiry explained:\n%s", rec.Code, rec.Body.String())
	}
}

func TestSignInAcceptsTheUPNInAnyCase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	signInURL, requestID := h.startSignIn(t, "")
	_, responseXML, _ := postedResponse(t, h.post(t, signInURL, url.Values{"user": {"alice.LEE@contoso.com"}, "password": {testPassword}}))
	assertion, err := h.sp.ParseXMLResponse(responseXML, []string{requestID}, mustURL(t, acmeACS))
	if err != nil {
		t.Fatal(err)
	}
	if got := assertion.Subject.NameID.Value; got != "alice.lee@contoso.com" {
		t.Errorf("NameID %q, want alice.lee@contoso.com", got)
	}
	if got := sso.AttributeValues(assertion)["firstname"]; len(got) != 1 || got[0] != "Alice" {
		t.Errorf("firstname %q, want Alice", got)
	}
}

func TestSecondSignInUsesTheIdPSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first, _ := h.startSignIn(t, "")
	postedResponse(t, h.post(t, first, url.Values{"user": {"b.simon"}, "password": {testPassword}}))

	second, requestID := h.startSignIn(t, "")
	_, responseXML, _ := postedResponse(t, h.get(t, second))
	if _, err := h.sp.ParseXMLResponse(responseXML, []string{requestID}, mustURL(t, acmeACS)); err != nil {
		t.Fatalf("the SP refuses the response: %v", err)
	}
}

func TestIdPInitiatedSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := idpBase + "/start?" + url.Values{"sp": {acmeEntityID}, "RelayState": {"/meetings"}}.Encode()

	login := h.get(t, start)
	if !strings.Contains(login.body, `name="password"`) {
		t.Fatalf("GET %s: HTTP %d, want the sign-in form:\n%s", start, login.status, login.body)
	}
	action, responseXML, relayState := postedResponse(t, h.post(t, start, url.Values{"user": {"b.simon"}, "password": {testPassword}}))
	if action != acmeACS || relayState != "/meetings" {
		t.Errorf("form posts to %q with RelayState %q", action, relayState)
	}
	var response saml.Response
	if err := xml.Unmarshal(responseXML, &response); err != nil {
		t.Fatal(err)
	}
	if response.InResponseTo != "" {
		t.Errorf("an unsolicited response has InResponseTo %q", response.InResponseTo)
	}
	assertion, err := h.sp.ParseXMLResponse(responseXML, nil, mustURL(t, acmeACS))
	if err != nil {
		t.Fatalf("the SP refuses the unsolicited response: %v", err)
	}
	if got := assertion.Subject.NameID.Value; got != "B.Simon@contoso.com" {
		t.Errorf("NameID %q", got)
	}

	// The home page now shows the site as a My Apps tile.
	home := h.get(t, idpBase+"/")
	// html/template writes lower-case percent escapes.
	if !strings.Contains(strings.ToLower(home.body), strings.ToLower(`href="/start?sp=`+url.QueryEscape(acmeEntityID))) {
		t.Errorf("home page has no tile for %s:\n%s", acmeEntityID, home.body)
	}
}

func TestUnknownServiceProviderIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	metadata, err := h.idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	stranger := newSP(t, "http://evil.localhost:8080/saml/metadata", "http://evil.localhost:8080/saml/acs", metadata)
	req, err := stranger.MakeAuthenticationRequest(stranger.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	u, err := req.Redirect("", stranger)
	if err != nil {
		t.Fatal(err)
	}

	for name, p := range map[string]page{
		"SP-initiated":  h.get(t, u.String()),
		"IdP-initiated": h.get(t, idpBase+"/start?sp="+url.QueryEscape(stranger.EntityID)),
	} {
		if p.status < 400 || p.status >= 500 {
			t.Errorf("%s: HTTP %d, want a 4xx refusal", name, p.status)
		}
		if strings.Contains(p.body, "SAMLResponse") || strings.Contains(p.body, `name="password"`) {
			t.Errorf("%s: an unknown SP got a form:\n%s", name, p.body)
		}
	}
}

// TestPagesWorkUnderTheContentSecurityPolicy: no inline script bodies, no
// style attributes or elements, the policy header on every page, and the
// auto-submit script served from the IdP itself.
func TestPagesWorkUnderTheContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	signInURL, _ := h.startSignIn(t, "")
	pages := map[string]page{
		"sign-in form":   h.get(t, signInURL),
		"wrong password": h.post(t, signInURL, url.Values{"user": {"b.simon"}, "password": {"nope"}}),
		"response form":  h.post(t, signInURL, url.Values{"user": {"b.simon"}, "password": {testPassword}}),
		"home":           h.get(t, idpBase+"/"),
		"error":          h.get(t, idpBase+"/start?sp=nobody"),
	}
	inlineScript := regexp.MustCompile(`(?is)<script[^>]*>\s*[^<\s]`)
	for name, p := range pages {
		if got := p.header.Get("Content-Security-Policy"); got != contentSecurityPolicy {
			t.Errorf("%s: Content-Security-Policy %q", name, got)
		}
		if inlineScript.MatchString(p.body) {
			t.Errorf("%s has an inline script:\n%s", name, p.body)
		}
		if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<style") {
			t.Errorf("%s has inline style:\n%s", name, p.body)
		}
		if strings.Contains(p.body, "nonce=") || strings.Contains(p.body, "javascript:") || regexp.MustCompile(`\son[a-z]+=`).MatchString(p.body) {
			t.Errorf("%s relies on a nonce, javascript: URL or event handler attribute", name)
		}
	}
	if !strings.Contains(pages["response form"].body, `<script src="/autosubmit.js" defer></script>`) ||
		!strings.Contains(pages["response form"].body, `<button type="submit">Continue</button>`) {
		t.Errorf("the response form lacks the external auto-submit script or the Continue button:\n%s", pages["response form"].body)
	}
	script := h.get(t, idpBase+"/autosubmit.js")
	if script.status != http.StatusOK || !strings.HasPrefix(script.header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(script.body, "getElementById('saml-post')") {
		t.Errorf("/autosubmit.js: HTTP %d %s:\n%s", script.status, script.header.Get("Content-Type"), script.body)
	}
}

func TestAdminAPIIsNotServed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/users/", "/users/b.simon", "/services/", "/sessions/", "/shortcuts/", "/login"} {
		if p := h.get(t, idpBase+path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", path, p.status)
		}
	}
}

func mustURL(t *testing.T, s string) url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}
