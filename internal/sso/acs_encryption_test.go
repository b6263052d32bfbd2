package sso_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// spCertificate is the certificate acme publishes for encryption (its
// active SP key).
func (p *portal) spCertificate(host string) *x509.Certificate {
	p.t.Helper()
	_, certs := p.spMetadata(host)
	return certs[0]
}

// encrypted is acme's IdP-initiated response with its assertion encrypted
// to the site's SP certificate, changed by change.
func (p *portal) encrypted(change func(o *ssotest.Options)) string {
	p.t.Helper()
	cert := p.spCertificate(acmeHost)
	return p.respondWith(func(o *ssotest.Options) {
		o.EncryptTo = cert
		if change != nil {
			change(o)
		}
	})
}

func rsaOAEP11() *xmlenc.RSA { r := xmlenc.OAEP_SHA256(); return &r }
func rsa15() *xmlenc.RSA     { r := xmlenc.PKCS1v15(); return &r }

// TestACSAcceptsEncryptedAssertions signs users in with assertions
// encrypted as the SP metadata offers: AES-GCM (in a response signed or
// not), AES-CBC (in a signed Response), RSA-OAEP 1.0 and 1.1.
func TestACSAcceptsEncryptedAssertions(t *testing.T) {
	p := newPortal(t)
	cases := []struct {
		name   string
		change func(o *ssotest.Options)
	}{
		{"AES-256-GCM, assertion signed (Azure's default)", nil},
		{"AES-128-GCM", func(o *ssotest.Options) { o.Cipher = xmlenc.AES128GCM }},
		{"AES-128-GCM, response and assertion signed", func(o *ssotest.Options) { o.Cipher = xmlenc.AES128GCM; o.Signing = ssotest.SignBoth }},
		{"AES-128-CBC in a signed Response", func(o *ssotest.Options) { o.Cipher = xmlenc.AES128CBC; o.Signing = ssotest.SignBoth }},
		{"AES-256-CBC in a signed Response", func(o *ssotest.Options) { o.Cipher = xmlenc.AES256CBC; o.Signing = ssotest.SignBoth }},
		{"RSA-OAEP (XML Encryption 1.1)", func(o *ssotest.Options) { o.KeyTransport = rsaOAEP11() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			resp := p.postACS(acmeHost, p.encrypted(c.change), "")
			if resp.StatusCode != http.StatusSeeOther || !hasUserCookie(resp) {
				t.Fatalf("status %d, want a sign-in: %s (event: %+v)", resp.StatusCode, body(t, resp), p.lastEvent(p.acme))
			}
			if e := p.lastEvent(p.acme); e.Result != sso.ResultSuccess || e.NameID != ssotest.DefaultNameID {
				t.Errorf("event %+v, want B.Simon's success", e)
			}
		})
	}
}

// TestACSRefusesEncryptedAssertions: a decrypted assertion passes every
// check a plain one does (the structural guard, the signature with the
// configured certificates only, replay), and decryption fails closed, with
// one reason for every way it can fail.
func TestACSRefusesEncryptedAssertions(t *testing.T) {
	p := newPortal(t)
	other := ssotest.NewIdP(t) // a key pair the site does not hold
	cases := []struct {
		name   string
		build  func(t *testing.T, p *portal) string
		reason string
	}{
		{"tampered ciphertext", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					flipCipherValue(t, r, "./EncryptedAssertion/EncryptedData/CipherData/CipherValue", 40)
				}
			})
		}, sso.ReasonUndecryptable},
		{"tampered key", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					flipCipherValue(t, r, "./EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey/CipherData/CipherValue", 10)
				}
			})
		}, sso.ReasonUndecryptable},
		{"key ciphertext not base64", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					r.FindElement("./EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey/CipherData/CipherValue").SetText("%%%not base64%%%")
				}
			})
		}, sso.ReasonUndecryptable},
		{"encrypted to a key the site does not hold", func(t *testing.T, p *portal) string {
			return p.respondWith(func(o *ssotest.Options) { o.EncryptTo = other.Cert })
		}, sso.ReasonUndecryptable},
		{"an encrypted assertion wrapping an unsigned one (Response signed)", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) { o.Signing = ssotest.SignResponse })
		}, xmlguard.ReasonUnsigned},
		{"an encrypted assertion wrapping an unsigned one (nothing signed)", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) { o.Signing = ssotest.SignNothing })
		}, xmlguard.ReasonUnsigned},
		{"an encrypted assertion signed by another key", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) { o.SignWith = p.idp.Impostor(t) })
		}, sso.ReasonSignatureInvalid},
		{"RSA 1.5 key transport", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) { o.KeyTransport = rsa15() })
		}, xmlguard.ReasonEncryptionAlgorithm},
		{"3DES", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) { o.Cipher = xmlenc.TripleDES; o.Signing = ssotest.SignBoth })
		}, xmlguard.ReasonEncryptionAlgorithm},
		{"AES-CBC in an unsigned Response", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) { o.Cipher = xmlenc.AES128CBC })
		}, sso.ReasonUnauthenticatedCBC},
		{"AES-CBC in a Response signed by another key", func(t *testing.T, p *portal) string {
			// The Response's signature is checked before decrypting.
			return p.encrypted(func(o *ssotest.Options) {
				o.Cipher = xmlenc.AES128CBC
				o.Signing = ssotest.SignBoth
				o.SignWith = p.idp.Impostor(t)
			})
		}, sso.ReasonSignatureInvalid},
		{"the decrypted assertion carries a comment in its NameID (CVE-2017-11427)", func(t *testing.T, p *portal) string {
			// The signature still verifies: exclusive c14n drops comments.
			doc := ssotest.CommentInNameID(t, p.signedDoc(nil), "@")
			return ssotest.Encode(encryptAssertion(t, doc, p.spCertificate(acmeHost)))
		}, xmlguard.ReasonComment},
		{"the decrypted assertion hides a second, forged assertion (signature wrapping)", func(t *testing.T, p *portal) string {
			doc := p.signedDoc(nil)
			signed := doc.FindElement("//Assertion")
			forged := signed.Copy()
			forged.RemoveChild(forged.FindElement("./Signature"))
			forged.FindElement("./Subject/NameID").SetText(evilNameID)
			signed.FindElement("./Subject").AddChild(forged)
			return ssotest.Encode(encryptAssertion(t, doc, p.spCertificate(acmeHost)))
		}, xmlguard.ReasonAssertionCount},
		{"the decrypted assertion holds an encrypted NameID", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditAssertion = func(a *etree.Element) {
					subject := a.FindElement("./Subject")
					enc := etree.NewElement("EncryptedID")
					enc.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", xmlguard.XEncNS)
					subject.InsertChildAt(0, enc)
					subject.RemoveChild(subject.FindElement("./NameID"))
				}
			})
		}, xmlguard.ReasonEncrypted},
		{"the decrypted assertion is out of schema order", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditAssertion = func(a *etree.Element) {
					conditions := a.FindElement("./Conditions")
					a.RemoveChild(conditions)
					a.AddChild(conditions)
				}
			})
		}, xmlguard.ReasonUnexpectedElement},
		{"two EncryptedKeys", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					key := r.FindElement("./EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey").Copy()
					key.CreateAttr("xmlns:ds", xmlguard.DSigNS)
					r.FindElement("./EncryptedAssertion").AddChild(key)
				}
			})
		}, xmlguard.ReasonEncryptionMalformed},
		{"a signature on the EncryptedAssertion", func(t *testing.T, p *portal) string {
			return p.encrypted(func(o *ssotest.Options) {
				o.EditResponse = func(r *etree.Element) {
					sig := etree.NewElement("ds:Signature")
					sig.CreateAttr("xmlns:ds", xmlguard.DSigNS)
					r.FindElement("./EncryptedAssertion").AddChild(sig)
				}
			})
		}, xmlguard.ReasonEncryptionMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := p.forTest(t)
			before := p.lastEventID(p.acme)
			page := requireRefused(t, p, p.acme, before, p.postACS(acmeHost, c.build(t, p), ""), c.reason)
			if c.reason == sso.ReasonUndecryptable {
				// One text for every way decryption fails: no oracle.
				e := p.lastEvent(p.acme)
				if !strings.Contains(e.Detail, "could not be decrypted with this site's SP keys: it was encrypted to another key, or it was damaged or altered") {
					t.Errorf("detail %q", e.Detail)
				}
				if strings.Contains(page, "padding") || strings.Contains(e.Detail, "padding") || strings.Contains(e.Detail, "base64") {
					t.Errorf("the refusal says why decryption failed: %s", e.Detail)
				}
			}
		})
	}
	if n := p.countUsers(p.acme); n != 0 {
		t.Errorf("%d accounts made by refused responses", n)
	}
}

// encryptAssertion replaces the Assertion of doc, as it is, by its
// encryption to cert (AES-256-GCM, RSA-OAEP), for attacks made on the
// signed assertion before it is encrypted.
func encryptAssertion(t *testing.T, doc *etree.Document, cert *x509.Certificate) *etree.Document {
	t.Helper()
	response := doc.Root()
	assertion := response.FindElement("./Assertion")
	encrypted := ssotest.Encrypt(t, assertion, ssotest.Options{EncryptTo: cert})
	response.InsertChildAt(assertion.Index(), encrypted)
	response.RemoveChild(assertion)
	return doc
}

// flipCipherValue changes one byte of the base64 CipherValue at path.
func flipCipherValue(t *testing.T, response *etree.Element, path string, at int) {
	t.Helper()
	el := response.FindElement(path)
	if el == nil {
		t.Fatalf("no %s in the response", path)
	}
	raw, err := base64.StdEncoding.DecodeString(el.Text())
	if err != nil {
		t.Fatal(err)
	}
	raw[at] ^= 0x55
	el.SetText(base64.StdEncoding.EncodeToString(raw))
}

// TestEncryptedAssertionIsNotReplayed: the replay cache holds the ID of
// the decrypted assertion.
func TestEncryptedAssertionIsNotReplayed(t *testing.T) {
	p := newPortal(t)
	response := p.encrypted(nil)
	if resp := p.postACS(acmeHost, response, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first post: status %d: %s", resp.StatusCode, body(t, resp))
	}
	before := p.lastEventID(p.acme)
	requireRefused(t, p, p.acme, before, p.postACS(acmeHost, response, ""), sso.ReasonReplayed)
}

// TestRequireEncryptedAssertions refuses a plain assertion when the site
// asks for encrypted ones, and still accepts an encrypted one.
func TestRequireEncryptedAssertions(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) { s.RequireEncryption = true })
	before := p.lastEventID(p.acme)
	requireRefused(t, p, p.acme, before, p.postACS(acmeHost, p.respond(azure("")), ""), sso.ReasonNotEncrypted)
	if resp := p.postACS(acmeHost, p.encrypted(nil), ""); resp.StatusCode != http.StatusSeeOther || !hasUserCookie(resp) {
		t.Fatalf("an encrypted assertion: status %d: %s", resp.StatusCode, body(t, resp))
	}
	// Off again, a plain one is accepted: the switch is what refused it.
	p.set(p.acme, func(s *sso.Settings) { s.RequireEncryption = false })
	if resp := p.postACS(acmeHost, p.respond(azure("")), ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a plain assertion with the option off: status %d", resp.StatusCode)
	}
}

// TestEncryptionKeysFollowTheSPRollover: during a rollover the SP metadata
// publishes the next key for encryption too, and an assertion encrypted to
// it is decrypted; after Activate, the previous one still decrypts until it
// is removed, when it no longer does.
func TestEncryptionKeysFollowTheSPRollover(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	if _, err := p.sso.CreateNextSPKey(ctx, p.acme, 0, "test"); err != nil {
		t.Fatal(err)
	}
	root, _ := p.spMetadata(acmeHost)
	var encryption []*x509.Certificate
	for _, kd := range root.FindElements("./SPSSODescriptor/KeyDescriptor[@use='encryption']") {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(kd.FindElement(".//X509Certificate").Text()), ""))
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		encryption = append(encryption, cert)
	}
	if len(encryption) != 2 {
		t.Fatalf("%d encryption certificates published during the rollover, want the active and the next", len(encryption))
	}
	active, next := encryption[0], encryption[1]
	for name, cert := range map[string]*x509.Certificate{"active": active, "next": next} {
		if resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) { o.EncryptTo = cert }), ""); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("encrypted to the %s key: status %d: %s", name, resp.StatusCode, body(t, resp))
		}
	}
	certs, err := p.sso.SPCertificates(ctx, p.acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.sso.ActivateSPKey(ctx, p.acme.ID, certs[1].ID, "test"); err != nil {
		t.Fatal(err)
	}
	if resp := p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) { o.EncryptTo = active }), ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("encrypted to the previous key after Activate: status %d: %s", resp.StatusCode, body(t, resp))
	}
	if _, err := p.sso.RemoveSPKey(ctx, p.acme.ID, certs[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	before := p.lastEventID(p.acme)
	requireRefused(t, p, p.acme, before, p.postACS(acmeHost, p.respondWith(func(o *ssotest.Options) { o.EncryptTo = active }), ""), sso.ReasonUndecryptable)
}
