package sso

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// decryptCase is one EncryptedAssertion given to decryptAssertion.
type decryptCase struct {
	name string
	// edit changes a freshly encrypted assertion; nil leaves it valid.
	edit   func(t testing.TB, encrypted *etree.Element)
	cipher xmlenc.BlockCipher
	// to encrypts to the other key pair, which the site does not hold.
	toOther bool
}

var decryptCases = []decryptCase{
	{name: "valid (AES-256-GCM)"},
	{name: "wrong key", toOther: true},
	{name: "tampered GCM ciphertext", edit: flip("./EncryptedData/CipherData/CipherValue", 40)},
	{name: "tampered CBC padding", cipher: xmlenc.AES128CBC, edit: flipLastBlock},
	{name: "tampered key", edit: flip("./EncryptedData/KeyInfo/EncryptedKey/CipherData/CipherValue", 10)},
	{name: "key not base64", edit: setText("./EncryptedData/KeyInfo/EncryptedKey/CipherData/CipherValue", "%%%")},
	{name: "key of the wrong length", edit: setText("./EncryptedData/KeyInfo/EncryptedKey/CipherData/CipherValue", base64.StdEncoding.EncodeToString(make([]byte, 100)))},
	{name: "content not base64", edit: setText("./EncryptedData/CipherData/CipherValue", "%%%")},
	{name: "content too short", edit: setText("./EncryptedData/CipherData/CipherValue", "AAAA")},
}

func flip(path string, at int) func(testing.TB, *etree.Element) {
	return func(t testing.TB, encrypted *etree.Element) {
		el := encrypted.FindElement(path)
		raw, err := base64.StdEncoding.DecodeString(el.Text())
		if err != nil {
			t.Fatal(err)
		}
		raw[at] ^= 0x55
		el.SetText(base64.StdEncoding.EncodeToString(raw))
	}
}

// flipLastBlock changes the IV-independent last byte of a CBC ciphertext's
// next-to-last block, which scrambles the last plaintext byte: the padding
// length.
func flipLastBlock(t testing.TB, encrypted *etree.Element) {
	el := encrypted.FindElement("./EncryptedData/CipherData/CipherValue")
	raw, err := base64.StdEncoding.DecodeString(el.Text())
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-17] ^= 0xff
	el.SetText(base64.StdEncoding.EncodeToString(raw))
}

func setText(path, text string) func(testing.TB, *etree.Element) {
	return func(_ testing.TB, encrypted *etree.Element) { encrypted.FindElement(path).SetText(text) }
}

// decryptFixture is the site's two keys (active and next, as during a
// rollover) and a key pair the site does not hold.
type decryptFixture struct {
	keys  []*rsa.PrivateKey
	cert  *x509.Certificate
	other *x509.Certificate
}

func newDecryptFixture(t testing.TB) decryptFixture {
	t.Helper()
	var f decryptFixture
	for range 2 {
		key, err := rsa.GenerateKey(rand.Reader, spKeyBits)
		if err != nil {
			t.Fatal(err)
		}
		f.keys = append(f.keys, key)
	}
	f.cert = ssotest.SelfSign(t, f.keys[0], &x509.Certificate{Subject: pkix.Name{CommonName: "sp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)})
	other := ssotest.NewIdP(t)
	f.other = other.Cert
	return f
}

// encrypted is a signed-looking assertion encrypted as c says.
func (f decryptFixture) encrypted(t testing.TB, c decryptCase) *etree.Element {
	t.Helper()
	assertion := etree.NewElement("Assertion")
	assertion.CreateAttr("xmlns", "urn:oasis:names:tc:SAML:2.0:assertion")
	assertion.CreateAttr("ID", "_a")
	assertion.CreateElement("Issuer").SetText("https://sts.windows.net/x/")
	o := ssotest.Options{EncryptTo: f.cert, Cipher: c.cipher}
	if c.toOther {
		o.EncryptTo = f.other
	}
	encrypted := ssotest.Encrypt(t, assertion, o)
	// Parse it again, as the ACS has it: namespaces resolved in a document.
	doc := etree.NewDocument()
	out := etree.NewDocument()
	out.SetRoot(encrypted)
	raw, err := out.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	if c.edit != nil {
		c.edit(t, doc.Root())
	}
	return doc.Root()
}

// TestDecryptionFailuresAreOneRefusal: every way decryption fails is the
// same refusal, reason and text (no decryption oracle), with both the
// site's keys tried; a valid one decrypts with either key.
func TestDecryptionFailuresAreOneRefusal(t *testing.T) {
	f := newDecryptFixture(t)
	for _, c := range decryptCases {
		t.Run(c.name, func(t *testing.T) {
			plaintext, err := decryptAssertion(f.encrypted(t, c), f.keys)
			if c.edit == nil && !c.toOther {
				if err != nil || !strings.HasPrefix(string(plaintext), "<Assertion") {
					t.Fatalf("a valid assertion: %v %q", err, plaintext)
				}
				return
			}
			var refusal *RefusalError
			if !errors.As(err, &refusal) || refusal != errUndecryptable {
				t.Fatalf("error %v, want the one refusal for every decryption failure", err)
			}
		})
	}
	// The second key decrypts too (the "next" key, during a rollover).
	swapped := []*rsa.PrivateKey{f.keys[1], f.keys[0]}
	if _, err := decryptAssertion(f.encrypted(t, decryptCase{}), swapped); err != nil {
		t.Errorf("an assertion encrypted to the second key: %v", err)
	}
}

// BenchmarkDecryptionFailures measures the work of each way decryption
// fails, against a valid decryption, with the two keys of a rollover:
// go test -run x -bench DecryptionFailures ./internal/sso/
func BenchmarkDecryptionFailures(b *testing.B) {
	f := newDecryptFixture(b)
	for _, c := range decryptCases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				el := f.encrypted(b, c)
				b.StartTimer()
				_, _ = decryptAssertion(el, f.keys)
			}
		})
	}
}
