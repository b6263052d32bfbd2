package xmlguard_test

import (
	"errors"
	"testing"

	"github.com/beevik/etree"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// TestCheckLogout: a logout message passes only in the one shape the SAML
// schema and the bindings allow; querySigned says its signature is in the
// HTTP-Redirect query string rather than in the XML.
func TestCheckLogout(t *testing.T) {
	f := newFixture(t)
	request := func(t *testing.T) *etree.Document {
		return f.idp.LogoutRequest(t, ssotest.Logout{Destination: "http://acme.localhost:8080/saml/slo", SessionIndexes: []string{"_s1"}})
	}
	response := func(t *testing.T) *etree.Document {
		return f.idp.LogoutResponse(t, ssotest.Logout{Destination: "http://acme.localhost:8080/saml/slo", InResponseTo: "id-1"})
	}
	signed := func(t *testing.T, doc *etree.Document) *etree.Document { return f.idp.SignMessage(t, doc, nil) }
	tests := []struct {
		name        string
		doc         func(t *testing.T) []byte
		querySigned bool
		reason      string // "" accepted
	}{
		{"LogoutRequest signed in the query", func(t *testing.T) []byte { return ssotest.Bytes(t, request(t)) }, true, ""},
		{"LogoutRequest signed in the XML", func(t *testing.T) []byte { return ssotest.Bytes(t, signed(t, request(t))) }, false, ""},
		{"LogoutResponse signed in the XML", func(t *testing.T) []byte { return ssotest.Bytes(t, signed(t, response(t))) }, false, ""},
		{"LogoutRequest unsigned (HTTP-POST)", func(t *testing.T) []byte { return ssotest.Bytes(t, request(t)) }, false, xmlguard.ReasonUnsigned},
		{"a Response is not a logout message", func(t *testing.T) []byte { return f.signedBytes(t) }, false, xmlguard.ReasonNotLogoutMessage},
		{"DOCTYPE", func(t *testing.T) []byte {
			return ssotest.WithDoctype(ssotest.Bytes(t, request(t)), ssotest.ExternalEntity)
		}, true, xmlguard.ReasonDoctype},
		{"an EncryptedID", func(t *testing.T) []byte {
			doc := request(t)
			nameID := doc.Root().SelectElement("NameID")
			enc := etree.NewElement("saml:EncryptedID")
			enc.CreateAttr("xmlns:saml", xmlguard.AssertionNS)
			enc.CreateElement("xenc:EncryptedData").CreateAttr("xmlns:xenc", xmlguard.XEncNS)
			doc.Root().InsertChildAt(nameID.Index(), enc)
			doc.Root().RemoveChild(nameID)
			return ssotest.Bytes(t, doc)
		}, true, xmlguard.ReasonEncrypted},
		{"no NameID", func(t *testing.T) []byte {
			doc := request(t)
			doc.Root().RemoveChild(doc.Root().SelectElement("NameID"))
			return ssotest.Bytes(t, doc)
		}, true, xmlguard.ReasonUnexpectedElement},
		{"SessionIndex before the NameID", func(t *testing.T) []byte {
			doc := request(t)
			index := doc.Root().SelectElement("SessionIndex")
			doc.Root().RemoveChild(index)
			doc.Root().InsertChildAt(doc.Root().SelectElement("NameID").Index(), index)
			return ssotest.Bytes(t, doc)
		}, true, xmlguard.ReasonUnexpectedElement},
		{"a signature inside the NameID", func(t *testing.T) []byte {
			doc := signed(t, request(t))
			sig := doc.Root().SelectElement("Signature")
			doc.Root().RemoveChild(sig)
			doc.Root().SelectElement("NameID").AddChild(sig)
			return ssotest.Bytes(t, doc)
		}, false, xmlguard.ReasonSignaturePlacement},
		{"an assertion inside", func(t *testing.T) []byte {
			doc := request(t)
			a := etree.NewElement("Assertion")
			a.CreateAttr("xmlns", xmlguard.AssertionNS)
			doc.Root().SelectElement("NameID").AddChild(a)
			return ssotest.Bytes(t, doc)
		}, true, xmlguard.ReasonEncrypted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := xmlguard.CheckLogout(tc.doc(t), tc.querySigned)
			var guard *xmlguard.Error
			switch {
			case tc.reason == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.reason != "" && (!errors.As(err, &guard) || guard.Reason != tc.reason):
				t.Fatalf("error %v, want reason %s", err, tc.reason)
			}
		})
	}
}
