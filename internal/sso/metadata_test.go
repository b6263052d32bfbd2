package sso_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

const (
	metadataNS   = "urn:oasis:names:tc:SAML:2.0:metadata"
	httpPost     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
	rsaSHA256    = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	emailNameID  = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	globexEntity = "http://globex.localhost:8080/saml/metadata"
)

// spMetadata fetches a site's metadata and returns its EntityDescriptor and
// the signing certificates of its SPSSODescriptor.
func (p *portal) spMetadata(host string) (*etree.Element, []*x509.Certificate) {
	p.t.Helper()
	resp := p.get(host, "/saml/metadata")
	b := body(p.t, resp)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("GET /saml/metadata: status %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/samlmetadata+xml" {
		p.t.Errorf("Content-Type %q, want application/samlmetadata+xml", ct)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(b); err != nil {
		p.t.Fatalf("metadata is not XML: %v", err)
	}
	root := doc.Root()
	if root.Tag != "EntityDescriptor" || root.NamespaceURI() != metadataNS {
		p.t.Fatalf("root is %s, want md:EntityDescriptor", root.FullTag())
	}
	var certs []*x509.Certificate
	for _, kd := range root.FindElements("./SPSSODescriptor/KeyDescriptor") {
		if kd.SelectAttrValue("use", "") != "signing" {
			continue
		}
		for _, c := range kd.FindElements(".//X509Certificate") {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Text()), ""))
			if err != nil {
				p.t.Fatalf("X509Certificate: %v", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				p.t.Fatalf("X509Certificate: %v", err)
			}
			certs = append(certs, cert)
		}
	}
	return root, certs
}

// TestMetadataDescribesTheSiteSP checks acme's /saml/metadata against what
// Azure's "Upload metadata file" and issue 3 need.
func TestMetadataDescribesTheSiteSP(t *testing.T) {
	p := newPortal(t)
	root, certs := p.spMetadata(acmeHost)

	if got := root.SelectAttrValue("entityID", ""); got != acmeEntityID {
		t.Errorf("entityID %q, want %q", got, acmeEntityID)
	}
	// An exported file must not expire (crewjam stamps validUntil two days
	// ahead unless told not to). cacheDuration is only a refresh hint.
	for _, el := range append([]*etree.Element{root}, root.FindElements("//*")...) {
		if v := el.SelectAttr("validUntil"); v != nil {
			t.Errorf("%s has validUntil=%q: an exported metadata file would expire", el.Tag, v.Value)
		}
	}
	sps := root.FindElements("./SPSSODescriptor")
	if len(sps) != 1 {
		t.Fatalf("%d SPSSODescriptor elements, want 1", len(sps))
	}
	sp := sps[0]
	if sp.SelectAttrValue("AuthnRequestsSigned", "") != "true" || sp.SelectAttrValue("WantAssertionsSigned", "") != "true" {
		t.Errorf("AuthnRequestsSigned=%q WantAssertionsSigned=%q, want both true",
			sp.SelectAttrValue("AuthnRequestsSigned", ""), sp.SelectAttrValue("WantAssertionsSigned", ""))
	}
	// Only the HTTP-POST binding: advertising HTTP-Artifact would invite the
	// IdP to make the SP call out to it.
	acs := sp.FindElements("./AssertionConsumerService")
	if len(acs) != 1 {
		t.Fatalf("%d AssertionConsumerService elements, want exactly 1 (HTTP-POST)", len(acs))
	}
	if b, l := acs[0].SelectAttrValue("Binding", ""), acs[0].SelectAttrValue("Location", ""); b != httpPost || l != acmeACS {
		t.Errorf("AssertionConsumerService Binding %q Location %q, want %q %q", b, l, httpPost, acmeACS)
	}
	var formats []string
	for _, f := range sp.FindElements("./NameIDFormat") {
		formats = append(formats, strings.TrimSpace(f.Text()))
	}
	if len(formats) != 1 || formats[0] != emailNameID {
		t.Errorf("NameIDFormat %q, want only emailAddress", formats)
	}
	// The SP key signs, and decrypts what the IdP encrypts to it: one
	// KeyDescriptor for each use, the same certificate, and for encryption
	// the algorithms accepted (AES-GCM first), never RSA 1.5.
	var uses []string
	for _, kd := range sp.FindElements("./KeyDescriptor") {
		uses = append(uses, kd.SelectAttrValue("use", ""))
	}
	if strings.Join(uses, " ") != "signing encryption" {
		t.Errorf("KeyDescriptor uses %q, want signing then encryption", uses)
	}
	encryption := sp.FindElement("./KeyDescriptor[@use='encryption']")
	var methods []string
	for _, m := range encryption.FindElements("./EncryptionMethod") {
		methods = append(methods, m.SelectAttrValue("Algorithm", ""))
	}
	wantMethods := []string{
		"http://www.w3.org/2009/xmlenc11#aes128-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm",
		"http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
		"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p", "http://www.w3.org/2009/xmlenc11#rsa-oaep",
	}
	if strings.Join(methods, " ") != strings.Join(wantMethods, " ") {
		t.Errorf("encryption methods\n %q\nwant\n %q", methods, wantMethods)
	}
	if got := strings.Join(strings.Fields(encryption.FindElement(".//X509Certificate").Text()), ""); got != base64.StdEncoding.EncodeToString(certs[0].Raw) {
		t.Errorf("the encryption certificate is not the signing one")
	}
	// Single Logout at /saml/slo, with the two bindings an IdP may use.
	var slo []string
	for _, e := range sp.FindElements("./SingleLogoutService") {
		slo = append(slo, e.SelectAttrValue("Binding", "")+" "+e.SelectAttrValue("Location", ""))
	}
	wantSLO := []string{
		"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect http://acme.localhost:8080/saml/slo",
		"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST http://acme.localhost:8080/saml/slo",
	}
	if strings.Join(slo, "|") != strings.Join(wantSLO, "|") {
		t.Errorf("SingleLogoutService %q, want %q", slo, wantSLO)
	}
	if len(certs) != 1 {
		t.Fatalf("%d signing certificates, want 1", len(certs))
	}
	key, ok := certs[0].PublicKey.(*rsa.PublicKey)
	if !ok || key.N.BitLen() < 2048 {
		t.Fatalf("signing key %T, want RSA of 2048 bits or more", certs[0].PublicKey)
	}

	// The certificate is the one that verifies the AuthnRequest's redirect
	// signature.
	verifyRedirectSignature(t, p, acmeHost, key)

	// globex is another SP: its own entity ID and its own key.
	other, otherCerts := p.spMetadata(globexHost)
	if got := other.SelectAttrValue("entityID", ""); got != globexEntity {
		t.Errorf("globex entityID %q, want %q", got, globexEntity)
	}
	if len(otherCerts) != 1 || bytes.Equal(otherCerts[0].Raw, certs[0].Raw) {
		t.Errorf("globex publishes acme's certificate")
	}
	if l := other.FindElement("./SPSSODescriptor/AssertionConsumerService").SelectAttrValue("Location", ""); l != "http://globex.localhost:8080/saml/acs" {
		t.Errorf("globex ACS %q", l)
	}
}

// verifyRedirectSignature checks the HTTP-Redirect binding signature of the
// AuthnRequest a user page of host redirects to (saml-bindings-2.0-os
// §3.4.4.1): RSA-SHA256 over "SAMLRequest=…&RelayState=…&SigAlg=…", each
// value URL-encoded exactly as sent.
func verifyRedirectSignature(t *testing.T, p *portal, host string, key *rsa.PublicKey) {
	t.Helper()
	resp := p.get(host, "/")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("GET /: status %d, want a redirect to the IdP", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	raw := map[string]string{}
	for _, part := range strings.Split(loc.RawQuery, "&") {
		name, value, _ := strings.Cut(part, "=")
		if _, dup := raw[name]; dup {
			t.Fatalf("query parameter %s appears twice", name)
		}
		raw[name] = value
	}
	for _, name := range []string{"SAMLRequest", "RelayState", "SigAlg", "Signature"} {
		if raw[name] == "" {
			t.Fatalf("redirect has no %s: %s", name, loc.RawQuery)
		}
	}
	if alg, _ := url.QueryUnescape(raw["SigAlg"]); alg != rsaSHA256 {
		t.Errorf("SigAlg %q, want %q", alg, rsaSHA256)
	}
	signed := "SAMLRequest=" + raw["SAMLRequest"] + "&RelayState=" + raw["RelayState"] + "&SigAlg=" + raw["SigAlg"]
	sigB64, err := url.QueryUnescape(raw["Signature"])
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		t.Fatalf("Signature is not base64: %v", err)
	}
	digest := sha256.Sum256([]byte(signed))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("the metadata's certificate does not verify the AuthnRequest signature: %v", err)
	}
	// And the signature covers the request: a changed RelayState fails.
	tampered := sha256.Sum256([]byte(strings.Replace(signed, "&RelayState="+raw["RelayState"], "&RelayState=x"+raw["RelayState"], 1)))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, tampered[:], sig) == nil {
		t.Errorf("the signature verifies a different RelayState")
	}
}

// TestSPKeyIsStoredSealed checks that the SP private key is at rest only
// under PORTAL_SECRET_KEY (AES-GCM), and that another secret key cannot
// open it.
func TestSPKeyIsStoredSealed(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	_, certs := p.spMetadata(acmeHost) // creates nothing new: the key exists since site creation

	var sealed []byte
	if err := p.pool.QueryRow(ctx, `SELECT sealed_key FROM sp_keys WHERE site_id = $1 AND state = 'active'`, p.acme.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	// Open it the way the portal does, to get the PKCS#8 DER to look for.
	// The seal context names the site (keys.go sealContext), so a sealed
	// key copied to another site's row does not open either.
	box, err := seal.New(portaltest.Key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := box.Open(sealed, "sp-key:site:"+strconv.FormatInt(p.acme.ID, 10))
	if err != nil {
		t.Fatalf("open with the portal's secret key: %v", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok || !priv.PublicKey.Equal(certs[0].PublicKey) {
		t.Fatalf("the sealed key is not the key of the published certificate")
	}
	if bytes.Contains(sealed, pkcs8) || bytes.Contains(sealed, priv.D.Bytes()) || bytes.Contains(sealed, priv.Primes[0].Bytes()) {
		t.Errorf("sp_keys.sealed_key holds the private key in plain text")
	}
	if _, err := box.Open(sealed, "sp-key:site:"+strconv.FormatInt(p.globex.ID, 10)); err == nil {
		t.Errorf("acme's sealed key opens as globex's")
	}

	// Another PORTAL_SECRET_KEY cannot open it, and the portal reports an
	// error rather than using some other key.
	otherBox, err := seal.New(bytes.Repeat([]byte{99}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otherBox.Open(sealed, "sp-key:site:"+strconv.FormatInt(p.acme.ID, 10)); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("opened with another secret key: %v", err)
	}
	hosts, _ := sites.ParseBaseURL(portaltest.BaseURL)
	other := sso.New(p.pool, otherBox, hosts, slog.New(slog.DiscardHandler), nil)
	if _, err := other.Metadata(ctx, p.acme); !errors.Is(err, seal.ErrOpen) {
		t.Errorf("a portal with another secret key: Metadata error %v, want seal.ErrOpen", err)
	}
	// The admin's list of SP certificates says which keys do not open.
	for _, c := range []struct {
		name       string
		svc        *sso.Service
		unreadable bool
	}{{"the portal's secret key", p.sso, false}, {"another secret key", other, true}} {
		listed, err := c.svc.SPCertificates(ctx, p.acme.ID)
		if err != nil || len(listed) != 1 || listed[0].Unreadable != c.unreadable || listed[0].State != sso.KeyActive {
			t.Errorf("SPCertificates with %s: %+v, %v; want the active one, unreadable %v", c.name, listed, err, c.unreadable)
		}
	}
}
