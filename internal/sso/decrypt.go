package sso

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"

	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// Encrypted assertions (Azure AD's "token encryption").
//
// The IdP encrypts the assertion to one of the site's SP keys, published
// for encryption in the SP metadata (provider.go). The ACS then:
//
//  1. checks the EncryptedAssertion's shape and algorithms (xmlguard.Check):
//     AES-128/256 in GCM or CBC mode, RSA-OAEP key transport, exactly one
//     EncryptedKey; RSA 1.5 is refused before any private-key operation;
//  2. refuses a CBC ciphertext in an unsigned Response, before decrypting:
//     CBC authenticates nothing, and decrypting unauthenticated CBC is what
//     padding and format oracles need (saml-core errata E93, §6.2; Jager and
//     Somorovsky 2011);
//  3. has crewjam check what it checks of the Response before decrypting —
//     the Response's signature, with the configured certificates only, and
//     its Destination, InResponseTo, Issuer, IssueInstant and status — by
//     parsing it with no decryption key (authenticateBeforeDecrypting);
//  4. decrypts with the site's keys (decryptAssertion), every key tried
//     whatever happens, every failure the same refusal;
//  5. puts the plaintext assertion in the Response in place of the
//     EncryptedAssertion, without the Response's signature (which covered
//     the ciphertext, not this), and runs every check on that document:
//     xmlguard.CheckDecrypted (the schema order, no nested encryption, the
//     assertion's signature placement and one Reference, and that it is
//     signed at all), then crewjam's ParseXMLResponse — the assertion's
//     signature with the configured certificates only, the conditions, the
//     replay cache — exactly as for a plain response.
//
// So an encrypted assertion must be signed inside the encryption: anyone
// can encrypt to the SP's public key, so encryption proves nothing of who
// made the assertion.

// errUndecryptable is every failure to decrypt: a key the site does not
// hold, a damaged or altered ciphertext, bad padding, a wrong-length key,
// plaintext that is not an assertion. One reason and one text for all of
// them, so that a sender of altered ciphertexts learns nothing from the
// refusal (no decryption oracle).
var errUndecryptable = refuse(ReasonUndecryptable,
	"the EncryptedAssertion could not be decrypted with this site's SP keys: it was encrypted to another key, or it was damaged or altered")

// openEncrypted returns the response with its EncryptedAssertion replaced
// by the decrypted assertion, checked by xmlguard.CheckDecrypted, for
// crewjam to verify as a plain response. decoded passed xmlguard.Check.
func (s *Service) openEncrypted(p *provider, decoded []byte, possibleIDs []string) ([]byte, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(decoded); err != nil {
		return nil, refuse(ReasonMalformed, "%v", err)
	}
	root := doc.Root()
	encrypted := xmlguard.EncryptedAssertion(root)
	signature := xmlguard.Child(root, xmlguard.Name{Space: xmlguard.DSigNS, Local: "Signature"})
	method := xmlguard.Child(encrypted, xmlguard.Name{Space: xmlguard.XEncNS, Local: "EncryptedData"}, xmlguard.Name{Space: xmlguard.XEncNS, Local: "EncryptionMethod"})
	if algorithm := method.SelectAttrValue("Algorithm", ""); xmlguard.IsCBC(algorithm) && signature == nil {
		return nil, refuse(ReasonUnauthenticatedCBC, "the assertion is encrypted with %s, which authenticates nothing, and the Response is not signed", algorithm)
	}
	if err := s.authenticateBeforeDecrypting(p, decoded, possibleIDs); err != nil {
		return nil, err
	}
	keys, err := s.decryptionKeys(p)
	if err != nil {
		return nil, err
	}
	plaintext, err := decryptAssertion(encrypted, keys)
	if err != nil {
		return nil, err
	}
	// The plaintext goes in as the bytes that were encrypted, not as a
	// tree parsed and written again: the checks below and crewjam then
	// read the very bytes whose signature is verified.
	marker, err := newMarker()
	if err != nil {
		return nil, err
	}
	root.InsertChildAt(encrypted.Index(), etree.NewElement(marker))
	root.RemoveChild(encrypted)
	if signature != nil {
		root.RemoveChild(signature)
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("write the decrypted response: %w", err)
	}
	out = bytes.Replace(out, []byte("<"+marker+"/>"), plaintext, 1)
	if err := xmlguard.CheckDecrypted(out); err != nil {
		return nil, err
	}
	return out, nil
}

// newMarker is an element name no document contains: where the plaintext
// goes.
func newMarker() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("marker: %w", err)
	}
	return "portal-decrypted-" + hex.EncodeToString(b), nil
}

// authenticateBeforeDecrypting has crewjam run, on the response as
// received, every check it makes before it decrypts — the Response's
// signature against the configured certificates only (when it is signed),
// then its Destination, InResponseTo, Issuer, IssueInstant and status, and
// RequireSignedResponseForCBC — by parsing it with no decryption key: a
// response that passes them fails there, at decryption, and anything else
// is refused. That is how the Response's signature is checked by crewjam
// before any ciphertext it covers is decrypted. Nothing is recorded: the
// replay cache is consulted only once an assertion is verified.
func (s *Service) authenticateBeforeDecrypting(p *provider, decoded []byte, possibleIDs []string) error {
	sp := *p.sp
	sp.Key, sp.EncryptionKey, sp.DecryptionKeys = nil, nil, nil
	sp.ReplayCache = nil
	_, err := sp.ParseXMLResponse(decoded, possibleIDs, sp.AcsURL)
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && errors.Is(ire.PrivateErr, saml.ErrDecryptionFailed) {
		return nil
	}
	if err == nil {
		// Cannot happen: with no key, nothing decrypts.
		return errors.New("crewjam accepted an encrypted response without a decryption key")
	}
	return err
}

// decryptionKeys are the site's SP private keys, the active one first:
// every key the SP metadata publishes decrypts, so an IdP that encrypts to
// the "next" key during a rollover, or still to the "previous" one after
// it, is understood.
func (s *Service) decryptionKeys(p *provider) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, len(p.keys))
	for i, k := range p.keys {
		keys[i] = k.key
	}
	if len(keys) == 0 {
		return nil, ErrNoSPKey
	}
	return keys, nil
}

// decryptAssertion decrypts an EncryptedAssertion that xmlguard accepted
// (one EncryptedData, one EncryptedKey wrapped with RSA-OAEP) with the
// site's keys and returns the plaintext.
//
// Every failure is errUndecryptable, and every failure costs about the same
// work, so that neither the answer nor its time tells a sender of altered
// ciphertexts why it failed: the key is unwrapped with every key the site
// holds, even once one has worked (RSA-OAEP decryption in Go is constant
// time, and fails the same way for a wrong key and for bad OAEP padding); a
// key ciphertext that is not even base64, or not the key's length, is
// still put through the RSA operation (as zeros); and when no key unwraps,
// the content is still decrypted, with a random key, so that the AES work
// and its failure happen too. The certificate the EncryptedKey names in its
// KeyInfo is ignored: crewjam's xmlenc would skip the RSA work for a key
// that does not match it, which is a timing difference.
func decryptAssertion(encrypted *etree.Element, keys []*rsa.PrivateKey) ([]byte, error) {
	// Every element is found first, by namespace, while the tree is whole:
	// encrypted is then taken apart (the caller discards it), and xmlenc
	// reads the parts by local name.
	data := xmlguard.Child(encrypted, xmlguard.Name{Space: xmlguard.XEncNS, Local: "EncryptedData"})
	keyName := xmlguard.Name{Space: xmlguard.XEncNS, Local: "EncryptedKey"}
	dataKeyInfo := xmlguard.Child(data, xmlguard.Name{Space: xmlguard.DSigNS, Local: "KeyInfo"})
	wrapped := xmlguard.Child(dataKeyInfo, keyName)
	if wrapped == nil {
		wrapped = xmlguard.Child(encrypted, keyName)
	}
	wrappedKeyInfo := xmlguard.Child(wrapped, xmlguard.Name{Space: xmlguard.DSigNS, Local: "KeyInfo"})
	cipherValue := xmlguard.Child(wrapped, xmlguard.Name{Space: xmlguard.XEncNS, Local: "CipherData"}, xmlguard.Name{Space: xmlguard.XEncNS, Local: "CipherValue"})
	if data == nil || wrapped == nil || cipherValue == nil {
		// xmlguard.Check accepts no EncryptedAssertion without them.
		return nil, errUndecryptable
	}
	if wrappedKeyInfo != nil {
		wrapped.RemoveChild(wrappedKeyInfo)
	}
	// The content is decrypted with the key given, not one found in it.
	if dataKeyInfo != nil {
		data.RemoveChild(dataKeyInfo)
	}
	raw, decodeErr := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(cipherValue.Text()), ""))

	var contentKey []byte
	for _, key := range keys {
		if decodeErr != nil || len(raw) != key.Size() {
			cipherValue.SetText(base64.StdEncoding.EncodeToString(make([]byte, key.Size())))
		}
		unwrapped, err := xmlenc.Decrypt(key, wrapped)
		if err == nil && contentKey == nil && decodeErr == nil && len(raw) == key.Size() {
			contentKey = unwrapped
		}
		if decodeErr == nil {
			cipherValue.SetText(base64.StdEncoding.EncodeToString(raw))
		}
	}
	unwrapped := contentKey != nil
	if !unwrapped {
		contentKey = make([]byte, 32)
		if _, err := rand.Read(contentKey); err != nil {
			return nil, fmt.Errorf("random key: %w", err)
		}
		if size := contentKeySize(data); size > 0 {
			contentKey = contentKey[:size]
		}
	}
	plaintext, err := xmlenc.Decrypt(contentKey, data)
	if err != nil || !unwrapped {
		return nil, errUndecryptable
	}
	// What decrypted must be one saml:Assertion element: anything else
	// (text, another root) is refused as any other failure is.
	check := etree.NewDocument()
	if err := check.ReadFromBytes(plaintext); err != nil || check.Root() == nil ||
		check.Root().Tag != "Assertion" || check.Root().NamespaceURI() != xmlguard.AssertionNS {
		return nil, errUndecryptable
	}
	return plaintext, nil
}

// contentKeySize is the key length of the EncryptedData's algorithm.
func contentKeySize(data *etree.Element) int {
	method := xmlguard.Child(data, xmlguard.Name{Space: xmlguard.XEncNS, Local: "EncryptionMethod"})
	switch method.SelectAttrValue("Algorithm", "") {
	case xmlguard.AES128GCM, xmlguard.AES128CBC:
		return 16
	case xmlguard.AES256GCM, xmlguard.AES256CBC:
		return 32
	}
	return 0
}
