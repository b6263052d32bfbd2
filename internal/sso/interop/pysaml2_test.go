package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	dsig "github.com/russellhaering/goxmldsig"
)

const (
	// Debian's interpreter: the python3 first on PATH on the build machines is
	// a pyenv install that does not see Debian's python3-pysaml2 package.
	pythonPath = "/usr/bin/python3"
	xmlsecPath = "/usr/bin/xmlsec1"
	idpScript  = "testdata/pysaml2_idp.py"

	idpEntityID = "https://idp.pysaml2.example/idp"
	idpSSOURL   = "https://idp.pysaml2.example/sso/redirect"
	idpSLOURL   = "https://idp.pysaml2.example/slo"

	// The site acme as PORTAL_BASE_URL=http://localhost:8080 serves it.
	spEntityID = "http://acme.localhost:8080/saml/metadata"
	spAcsURL   = "http://acme.localhost:8080/saml/acs"

	userNameID = "B.Simon@contoso.com"

	attrNameFormatURI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
)

// userAttributes are the four attributes of the Azure AD walkthrough's claims
// table, which just-in-time account creation reads by these exact names.
var userAttributes = map[string][]string{
	"firstname": {"B"},
	"lastname":  {"Simon"},
	"email":     {"B.Simon@contoso.com"},
	"uid":       {"B.Simon@contoso.com"},
}

const installHint = "install Debian's python3-pysaml2 and xmlsec1 " +
	"(apt-get install -y python3-pysaml2 xmlsec1; CI installs them)"

// requirePySAML2 fails (never skips) when the IdP under test is missing: an
// interop test that silently skips in CI proves nothing. A missing saml2
// module is caught by runIdP, on the first real call, to avoid paying for
// one more Python start-up per test.
func requirePySAML2(t *testing.T) {
	t.Helper()
	for _, p := range []string{pythonPath, xmlsecPath} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s not found: %s", p, installHint)
		}
	}
}

// keyPair is an RSA key and self-signed certificate, also written as PEM
// files for pysaml2, which only takes file paths.
type keyPair struct {
	key      *rsa.PrivateKey
	cert     *x509.Certificate
	keyFile  string
	certFile string
}

func newKeyPair(t *testing.T, cn string) keyPair {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert := ssotest.SelfSign(t, key, &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(24 * time.Hour),
		KeyUsage:  x509.KeyUsageDigitalSignature,
	})
	der := cert.Raw
	dir := t.TempDir()
	kp := keyPair{
		key:      key,
		cert:     cert,
		keyFile:  filepath.Join(dir, cn+".key"),
		certFile: filepath.Join(dir, cn+".crt"),
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(kp.keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kp.certFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return kp
}

// idpRequest is the JSON the script reads on stdin; see its docstring.
type idpRequest struct {
	Command       string              `json:"command"`
	IdPEntityID   string              `json:"idp_entity_id"`
	SSOURL        string              `json:"sso_url"`
	KeyFile       string              `json:"key_file"`
	CertFile      string              `json:"cert_file"`
	SPMetadata    string              `json:"sp_metadata,omitempty"`
	NameID        string              `json:"name_id,omitempty"`
	Attributes    map[string][]string `json:"attributes,omitempty"`
	InResponseTo  string              `json:"in_response_to,omitempty"`
	SignResponse  bool                `json:"sign_response,omitempty"`
	SignAssertion bool                `json:"sign_assertion,omitempty"`
	SHA1          bool                `json:"sha1,omitempty"`
	// AttributeNames is "literal" (the default) or "pysaml2-default".
	AttributeNames string  `json:"attribute_names,omitempty"`
	SAMLRequest    string  `json:"saml_request,omitempty"`
	RelayState     *string `json:"relay_state,omitempty"`
	SigAlg         string  `json:"sig_alg,omitempty"`
	Signature      string  `json:"signature,omitempty"`
	// Single Logout and encryption (see the script's docstring).
	SLOURL          string   `json:"slo_url,omitempty"`
	Encrypt         bool     `json:"encrypt,omitempty"`
	ContentCipher   string   `json:"content_cipher,omitempty"`
	KeyTransport    string   `json:"key_transport,omitempty"`
	EncryptCertFile string   `json:"encrypt_cert_file,omitempty"`
	Binding         string   `json:"binding,omitempty"`
	SessionIndexes  []string `json:"session_indexes,omitempty"`
	Destination     string   `json:"destination,omitempty"`
	SAMLResponse    string   `json:"saml_response,omitempty"`
}

// runIdP runs the pysaml2 script once and decodes its JSON reply into out.
// req is one idpRequest, or a slice of them (out then a slice of replies):
// Python and pysaml2 take about a second to start, so a table of cases is
// sent in one process.
func runIdP(t *testing.T, req any, out any) {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pythonPath, idpScript)
	cmd.Stdin = bytes.NewReader(in)
	// The script imports its attribute map from testdata: keep Python from
	// leaving a __pycache__ in the source tree.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "No module named 'saml2'") {
			t.Fatalf("%s cannot import pysaml2: %s", pythonPath, installHint)
		}
		t.Fatalf("pysaml2: %v\nrequest: %s\nstderr:\n%s", err, in, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("pysaml2: bad reply %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
	}
}

// pysamlIdP is one pysaml2 IdP: its key pair, and the metadata it publishes.
type pysamlIdP struct {
	keys     keyPair
	metadata []byte
}

func newPySAMLIdP(t *testing.T) pysamlIdP {
	t.Helper()
	idp := pysamlIdP{keys: newKeyPair(t, "idp")}
	var reply struct {
		Metadata string `json:"metadata"`
	}
	runIdP(t, idp.request("metadata"), &reply)
	idp.metadata = []byte(reply.Metadata)
	return idp
}

func (idp pysamlIdP) request(command string) idpRequest {
	return idpRequest{
		Command:     command,
		IdPEntityID: idpEntityID,
		SSOURL:      idpSSOURL,
		SLOURL:      idpSLOURL,
		KeyFile:     idp.keys.keyFile,
		CertFile:    idp.keys.certFile,
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

// newSP builds the service provider exactly as the portal configures one for
// a site, trusting the IdP described by idpMetadata.
func newSP(t *testing.T, entityID string, keys keyPair, idpMetadata []byte) *saml.ServiceProvider {
	t.Helper()
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(idpMetadata, &ed); err != nil {
		t.Fatalf("parse pysaml2 IdP metadata: %v\n%s", err, idpMetadata)
	}
	return &saml.ServiceProvider{
		EntityID:                         entityID,
		Key:                              keys.key,
		Certificate:                      keys.cert,
		MetadataURL:                      mustURL(t, spEntityID),
		AcsURL:                           mustURL(t, spAcsURL),
		IDPMetadata:                      &ed,
		AuthnNameIDFormat:                saml.EmailAddressNameIDFormat,
		RejectSHA1Signatures:             true,
		SignatureMethod:                  dsig.RSASHA256SignatureMethod,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		MetadataOmitValidUntil:           true,
	}
}

func spMetadataXML(t *testing.T, sp *saml.ServiceProvider) string {
	t.Helper()
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// responseOpts says what pysaml2 puts in one response.
type responseOpts struct {
	signWith       keyPair // the key pysaml2 signs with
	spMetadata     string  // the SP pysaml2 answers (audience, ACS)
	inResponseTo   string  // empty for IdP-initiated
	signResponse   bool
	signAssertion  bool
	attributeNames string
	sha1           bool // RSA-SHA1 and SHA-1 digests instead of SHA-256
}

// makeResponses has pysaml2 make one response per opts, in one process, and
// returns their decoded XML.
func (idp pysamlIdP) makeResponses(t *testing.T, opts []responseOpts) [][]byte {
	t.Helper()
	reqs := make([]idpRequest, len(opts))
	for i, o := range opts {
		req := idp.request("response")
		req.KeyFile, req.CertFile = o.signWith.keyFile, o.signWith.certFile
		req.SPMetadata = o.spMetadata
		req.NameID = userNameID
		req.Attributes = userAttributes
		req.InResponseTo = o.inResponseTo
		req.SignResponse = o.signResponse
		req.SignAssertion = o.signAssertion
		req.AttributeNames = o.attributeNames
		req.SHA1 = o.sha1
		reqs[i] = req
	}
	var replies []struct {
		Response string `json:"response"`
	}
	runIdP(t, reqs, &replies)
	if len(replies) != len(reqs) {
		t.Fatalf("pysaml2 gave %d responses for %d requests", len(replies), len(reqs))
	}
	raws := make([][]byte, len(replies))
	for i, r := range replies {
		raw, err := base64.StdEncoding.DecodeString(r.Response)
		if err != nil {
			t.Fatalf("pysaml2 response %d is not base64: %v", i, err)
		}
		raws[i] = raw
	}
	return raws
}

// invalidResponseDetail digs out crewjam's private reason: its public error
// is deliberately vague, which makes a failing interop test unreadable.
func invalidResponseDetail(err error) string {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) {
		return ire.PrivateErr.Error()
	}
	return err.Error()
}

func TestPySAML2ResponseAccepted(t *testing.T) {
	t.Parallel()
	requirePySAML2(t)
	idp := newPySAMLIdP(t)
	spKeys := newKeyPair(t, "sp")

	tests := []struct {
		name          string
		idpInitiated  bool
		signResponse  bool
		signAssertion bool
	}{
		// Azure AD's default: only the assertion signed.
		{name: "sp-initiated/assertion-signed", signAssertion: true},
		{name: "sp-initiated/response-and-assertion-signed", signResponse: true, signAssertion: true},
		{name: "sp-initiated/response-signed", signResponse: true},
		{name: "idp-initiated/assertion-signed", idpInitiated: true, signAssertion: true},
		{name: "idp-initiated/response-and-assertion-signed", idpInitiated: true, signResponse: true, signAssertion: true},
	}
	// Set up every case first, so that pysaml2 answers them all in one run.
	sps := make([]*saml.ServiceProvider, len(tests))
	possibleIDs := make([][]string, len(tests))
	opts := make([]responseOpts, len(tests))
	for i, tc := range tests {
		sp := newSP(t, spEntityID, spKeys, idp.metadata)
		var inResponseTo string
		if tc.idpInitiated {
			sp.AllowIDPInitiated = true
		} else {
			// A real AuthnRequest, so that InResponseTo is crewjam's own ID
			// and the destination comes from pysaml2's metadata.
			authnReq, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
			if err != nil {
				t.Fatal(err)
			}
			if authnReq.Destination != idpSSOURL {
				t.Fatalf("AuthnRequest Destination = %q, want pysaml2's SSO URL %q from its metadata", authnReq.Destination, idpSSOURL)
			}
			inResponseTo = authnReq.ID
			possibleIDs[i] = []string{authnReq.ID}
		}
		sps[i] = sp
		opts[i] = responseOpts{
			signWith:      idp.keys,
			spMetadata:    spMetadataXML(t, sp),
			inResponseTo:  inResponseTo,
			signResponse:  tc.signResponse,
			signAssertion: tc.signAssertion,
		}
	}
	raws := idp.makeResponses(t, opts)

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp, raw := sps[i], raws[i]
			assertion, err := sp.ParseXMLResponse(raw, possibleIDs[i], mustURL(t, spAcsURL))
			if err != nil {
				t.Fatalf("ParseXMLResponse refused pysaml2's response: %s\n%s", invalidResponseDetail(err), raw)
			}

			if assertion.Subject == nil || assertion.Subject.NameID == nil {
				t.Fatalf("no NameID in the assertion\n%s", raw)
			}
			if got := assertion.Subject.NameID.Value; got != userNameID {
				t.Errorf("NameID = %q, want %q", got, userNameID)
			}
			if got := assertion.Subject.NameID.Format; got != string(saml.EmailAddressNameIDFormat) {
				t.Errorf("NameID Format = %q, want %q", got, saml.EmailAddressNameIDFormat)
			}
			if got := sso.AttributeValues(assertion); !reflect.DeepEqual(got, userAttributes) {
				t.Errorf("attributes = %v, want %v\n%s", got, userAttributes, raw)
			}
			// Azure AD sends its custom claims with no NameFormat; pysaml2
			// always writes NameFormat uri, even for a bare name such as
			// "firstname" (its saml.Attribute default). So the portal must
			// match attributes on Name alone, whatever the NameFormat.
			for _, st := range assertion.AttributeStatements {
				for _, a := range st.Attributes {
					if a.NameFormat != attrNameFormatURI || a.FriendlyName != "" {
						t.Errorf("attribute %q: NameFormat %q FriendlyName %q, want %q and none", a.Name, a.NameFormat, a.FriendlyName, attrNameFormatURI)
					}
				}
			}
		})
	}
}

func TestPySAML2ResponseRefused(t *testing.T) {
	t.Parallel()
	requirePySAML2(t)
	idp := newPySAMLIdP(t)
	spKeys := newKeyPair(t, "sp")
	otherKeys := newKeyPair(t, "other-idp")

	tests := []struct {
		name string
		// signWith is the key pysaml2 signs with; the SP trusts idp.keys.
		signWith keyPair
		// audience is the SP entity ID pysaml2 makes the response for.
		audience      string
		signResponse  bool
		signAssertion bool
		sha1          bool
		wantErr       string
	}{
		{
			// pysaml2 embeds the other certificate in KeyInfo: the SP
			// must trust only the certificate from the IdP metadata.
			name:          "signed by another key/assertion",
			signWith:      otherKeys,
			audience:      spEntityID,
			signAssertion: true,
			wantErr:       "signature",
		},
		{
			name:          "signed by another key/response and assertion",
			signWith:      otherKeys,
			audience:      spEntityID,
			signResponse:  true,
			signAssertion: true,
			wantErr:       "signature",
		},
		{
			name:          "wrong audience",
			signWith:      idp.keys,
			audience:      "http://other.localhost:8080/saml/metadata",
			signAssertion: true,
			wantErr:       "audience",
		},
		{
			// What a pysaml2 IdP left at its defaults sends: refused only
			// because the SP sets RejectSHA1Signatures.
			name:          "sha1",
			signWith:      idp.keys,
			audience:      spEntityID,
			signResponse:  true,
			signAssertion: true,
			sha1:          true,
			wantErr:       "sha-1",
		},
		{
			name:     "unsigned",
			signWith: idp.keys,
			audience: spEntityID,
			wantErr:  "signature",
		},
	}
	// The SP under test trusts idp.keys and is acme's.
	sp := newSP(t, spEntityID, spKeys, idp.metadata)
	sp.AllowIDPInitiated = true

	opts := make([]responseOpts, len(tests))
	for i, tc := range tests {
		// pysaml2 addresses the response to whatever SP its metadata
		// names; an SP with another entity ID but the same ACS gets it to
		// make a response that differs from a good one only in the
		// Audience.
		target := newSP(t, tc.audience, spKeys, idp.metadata)
		opts[i] = responseOpts{
			signWith:      tc.signWith,
			spMetadata:    spMetadataXML(t, target),
			signResponse:  tc.signResponse,
			signAssertion: tc.signAssertion,
			sha1:          tc.sha1,
		}
	}
	raws := idp.makeResponses(t, opts)

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := raws[i]
			_, err := sp.ParseXMLResponse(raw, nil, mustURL(t, spAcsURL))
			if err == nil {
				t.Fatalf("ParseXMLResponse accepted a response it must refuse\n%s", raw)
			}
			detail := invalidResponseDetail(err)
			t.Logf("refused: %s", detail)
			if !strings.Contains(strings.ToLower(detail), tc.wantErr) {
				t.Errorf("refused for %q, want a reason mentioning %q", detail, tc.wantErr)
			}
		})
	}
}

// TestPySAML2AcceptsSignedAuthnRequest is the other direction: pysaml2, as an
// IdP holding our SP metadata, parses the AuthnRequest the portal sends with
// the HTTP-Redirect binding and verifies its RSA-SHA256 query signature with
// the certificate from that metadata.
func TestPySAML2AcceptsSignedAuthnRequest(t *testing.T) {
	t.Parallel()
	requirePySAML2(t)
	idp := newPySAMLIdP(t)
	spKeys := newKeyPair(t, "sp")
	sp := newSP(t, spEntityID, spKeys, idp.metadata)

	// An opaque token, as the portal sends; '+' and '/' check that both
	// sides percent-encode the signed query string alike.
	const relayState = "Zm9v+YmFy/YmF6="
	redirect, err := sp.MakeRedirectAuthenticationRequest(relayState)
	if err != nil {
		t.Fatal(err)
	}
	if got := redirect.Scheme + "://" + redirect.Host + redirect.Path; got != idpSSOURL {
		t.Fatalf("redirect to %q, want pysaml2's SSO URL %q", got, idpSSOURL)
	}
	q := redirect.Query()
	rs := q.Get("RelayState")

	req := idp.request("parse_authn_request")
	req.SPMetadata = spMetadataXML(t, sp)
	req.SAMLRequest = q.Get("SAMLRequest")
	req.RelayState = &rs
	req.SigAlg = q.Get("SigAlg")
	req.Signature = q.Get("Signature")
	if req.SigAlg != dsig.RSASHA256SignatureMethod {
		t.Fatalf("SigAlg = %q, want %q", req.SigAlg, dsig.RSASHA256SignatureMethod)
	}

	// The same request with a tampered RelayState must fail the signature
	// check, or a pass above proves nothing.
	tampered := req
	tamperedRS := rs + "x"
	tampered.RelayState = &tamperedRS

	var replies []struct {
		ID             string `json:"id"`
		Issuer         string `json:"issuer"`
		ACSURL         string `json:"acs_url"`
		NameIDFormat   string `json:"name_id_format"`
		SignatureValid bool   `json:"signature_valid"`
	}
	runIdP(t, []idpRequest{req, tampered}, &replies)
	if len(replies) != 2 {
		t.Fatalf("pysaml2 gave %d replies, want 2", len(replies))
	}
	reply := replies[0]
	if !reply.SignatureValid {
		t.Error("pysaml2 did not verify the AuthnRequest's redirect-binding signature")
	}
	if reply.Issuer != spEntityID {
		t.Errorf("Issuer = %q, want %q", reply.Issuer, spEntityID)
	}
	if reply.ACSURL != spAcsURL {
		t.Errorf("AssertionConsumerServiceURL = %q, want %q", reply.ACSURL, spAcsURL)
	}
	if reply.NameIDFormat != string(saml.EmailAddressNameIDFormat) {
		t.Errorf("NameIDPolicy Format = %q, want %q", reply.NameIDFormat, saml.EmailAddressNameIDFormat)
	}
	if !strings.HasPrefix(reply.ID, "id-") {
		t.Errorf("request ID = %q, want crewjam's id-… form", reply.ID)
	}
	if replies[1].SignatureValid {
		t.Error("pysaml2 verified a redirect signature over a tampered RelayState")
	}
}

// TestPySAML2DefaultAttributeMapsRenameAttributes pins an interop quirk that
// matters in production: an IdP built on pysaml2 (SATOSA, for one) with its
// stock attribute maps does not send Name="uid" or Name="email". It renames
// the well-known ones to OIDs or eIDAS URIs (NameFormat uri) and keeps our
// name only in FriendlyName, so an account lookup by Name finds nothing
// unless the IdP admin configures literal names. The signature and the
// assertion are still fine.
func TestPySAML2DefaultAttributeMapsRenameAttributes(t *testing.T) {
	t.Parallel()
	requirePySAML2(t)
	idp := newPySAMLIdP(t)
	sp := newSP(t, spEntityID, newKeyPair(t, "sp"), idp.metadata)
	sp.AllowIDPInitiated = true

	raw := idp.makeResponses(t, []responseOpts{{
		signWith:       idp.keys,
		spMetadata:     spMetadataXML(t, sp),
		signAssertion:  true,
		attributeNames: "pysaml2-default",
	}})[0]
	assertion, err := sp.ParseXMLResponse(raw, nil, mustURL(t, spAcsURL))
	if err != nil {
		t.Fatalf("ParseXMLResponse refused pysaml2's response: %s\n%s", invalidResponseDetail(err), raw)
	}

	const uri = attrNameFormatURI
	want := map[string]saml.Attribute{
		"email":     {Name: "urn:oid:1.2.840.113549.1.9.1.1", FriendlyName: "email", NameFormat: uri},
		"firstname": {Name: "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName", FriendlyName: "firstname", NameFormat: uri},
		"uid":       {Name: "urn:oid:0.9.2342.19200300.100.1.1", FriendlyName: "uid", NameFormat: uri},
		// No map knows "lastname": it keeps its name, with NameFormat uri.
		"lastname": {Name: "lastname", NameFormat: uri},
	}
	got := map[string]saml.Attribute{}
	for _, st := range assertion.AttributeStatements {
		for _, a := range st.Attributes {
			key := a.FriendlyName
			if key == "" {
				key = a.Name
			}
			if len(a.Values) != 1 || a.Values[0].Value != userAttributes[key][0] {
				t.Errorf("attribute %q values = %v, want %v", key, a.Values, userAttributes[key])
			}
			got[key] = saml.Attribute{Name: a.Name, FriendlyName: a.FriendlyName, NameFormat: a.NameFormat}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attributes with pysaml2's default maps =\n%v\nwant\n%v", got, want)
	}
}
