package sso

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/url"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// provider is one site's crewjam ServiceProvider, built per request from the
// settings in PostgreSQL so that a saved change applies to the next sign-in
// in every process, with no cache to invalidate.
type provider struct {
	sp       *saml.ServiceProvider
	settings Settings
	keys     []spKey
}

// withKeys loads (and opens) the SP keys, which signing, decrypting and the
// metadata need. The ACS loads them only for an encrypted assertion
// (spKeys), so that a plain one costs no private-key work.
func (s *Service) provider(ctx context.Context, site sites.Site, withKeys bool) (*provider, error) {
	return s.providerFor(ctx, site, withKeys, false)
}

// providerFor is provider, with the staged identity provider in place of
// the live one when staged (a Test SSO of it; ErrNoPending without one).
func (s *Service) providerFor(ctx context.Context, site sites.Site, withKeys, staged bool) (*provider, error) {
	set, err := s.storedSettings(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	if staged {
		if !set.HasPending() {
			return nil, ErrNoPending
		}
		set = set.withPending()
	}
	var keys []spKey
	if withKeys {
		if keys, err = s.spKeys(ctx, site); err != nil {
			return nil, err
		}
	}
	metadataURL, _ := url.Parse(s.EntityID(site.Name))
	acsURL, _ := url.Parse(s.ACSURL(site.Name))
	sloURL, _ := url.Parse(s.SLOURL(site.Name))
	sp := &saml.ServiceProvider{
		EntityID:          s.EntityID(site.Name),
		MetadataURL:       *metadataURL,
		AcsURL:            *acsURL,
		IDPMetadata:       idpDescriptor(set),
		AuthnNameIDFormat: saml.NameIDFormat(set.NameIDFormat),
		AllowIDPInitiated: set.IdPInitiated,
		// Only HTTP-POST: advertising HTTP-Artifact would invite IdPs to
		// make the SP call out to them.
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		// Single Logout at /saml/slo, both bindings an IdP may answer or
		// ask with; the portal itself sends with HTTP-Redirect, the only
		// binding Azure AD accepts for logout.
		SloURL:         *sloURL,
		LogoutBindings: []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		// Logout messages are always signed, whatever the site says of
		// AuthnRequests: the Single Logout profile requires it on the
		// front-channel bindings (saml-profiles §4.4.3.1, §4.4.3.4), and an
		// unsigned LogoutRequest would let any page sign a user out at the
		// IdP.
		LogoutSignatureMethod: dsig.RSASHA256SignatureMethod,
		// An exported metadata file must not expire two days after download.
		MetadataOmitValidUntil: true,
		RejectSHA1Signatures:   true,
		// An assertion encrypted with CBC must come in a signed Response
		// (saml-core errata E93: CBC padding oracles).
		RequireSignedResponseForCBC: true,
		Clock:                       s.clock,
	}
	if len(keys) > 0 {
		sp.Key, sp.Certificate = keys[0].key, keys[0].cert
	}
	if set.SignRequests {
		sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	if len(set.AuthnContext) > 0 {
		sp.RequestedAuthnContext = &saml.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRefs: set.AuthnContext}
	}
	return &provider{sp: sp, settings: set, keys: keys}, nil
}

// idpDescriptor is the IdP as crewjam wants it: the entity ID, the SSO
// endpoint and exactly the signing certificates the admin configured. A
// certificate that arrives inside a response is never trusted.
func idpDescriptor(set Settings) *saml.EntityDescriptor {
	var keyDescriptors []saml.KeyDescriptor
	for _, der := range set.CertificatesDER {
		keyDescriptors = append(keyDescriptors, saml.KeyDescriptor{
			Use: "signing",
			KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
				{Data: base64.StdEncoding.EncodeToString(der)},
			}}},
		})
	}
	var slo []saml.Endpoint
	if set.SLOURL != "" {
		// The portal sends its logout messages with HTTP-Redirect only.
		slo = []saml.Endpoint{{Binding: saml.HTTPRedirectBinding, Location: set.SLOURL}}
	}
	return &saml.EntityDescriptor{
		EntityID: set.IdPEntityID,
		IDPSSODescriptors: []saml.IDPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{
				RoleDescriptor: saml.RoleDescriptor{
					ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
					KeyDescriptors:             keyDescriptors,
				},
				SingleLogoutServices: slo,
			},
			SingleSignOnServices: []saml.Endpoint{{Binding: saml.HTTPRedirectBinding, Location: set.SSOURL}},
		}},
	}
}

// Metadata is a site's SP metadata document, as served at /saml/metadata
// and exported for Azure's "Upload metadata file".
func (s *Service) Metadata(ctx context.Context, site sites.Site) ([]byte, error) {
	p, err := s.provider(ctx, site, true)
	if err != nil {
		return nil, err
	}
	desc := p.descriptor()
	out, err := xml.MarshalIndent(desc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode SP metadata: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// encryptionMethods are what the SP metadata offers an IdP that encrypts
// assertions, in order of preference: AES-GCM first (authenticated; CBC is
// malleable, saml-core errata E93, and is accepted only inside a signed
// Response, see decrypt.go), then AES-CBC for IdPs without GCM; RSA-OAEP key
// transport in its XML Encryption 1.0 and 1.1 forms. RSA 1.5 is not offered,
// and refused (Bleichenbacher's padding oracle).
var encryptionMethods = []saml.EncryptionMethod{
	{Algorithm: xmlguard.AES128GCM}, {Algorithm: xmlguard.AES256GCM},
	{Algorithm: xmlguard.AES128CBC}, {Algorithm: xmlguard.AES256CBC},
	{Algorithm: xmlguard.RSAOAEPMGF1P}, {Algorithm: xmlguard.RSAOAEP},
}

// descriptor is crewjam's SP metadata with the keys the portal publishes:
// every SP key pair the site holds, the active one first, both for signing
// and for encryption. During an SP certificate rollover the "next" key is
// published beside the active one, so the IdP trusts its signatures and may
// encrypt to it before the switch; after it, the "previous" one stays until
// an admin removes it. Every key published decrypts (decrypt.go).
func (p *provider) descriptor() *saml.EntityDescriptor {
	desc := p.sp.Metadata()
	sso := &desc.SPSSODescriptors[0]
	var signing, encryption []saml.KeyDescriptor
	for _, k := range p.keys {
		info := saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
			{Data: base64.StdEncoding.EncodeToString(k.cert.Raw)},
		}}}
		signing = append(signing, saml.KeyDescriptor{Use: "signing", KeyInfo: info})
		encryption = append(encryption, saml.KeyDescriptor{Use: "encryption", KeyInfo: info, EncryptionMethods: encryptionMethods})
	}
	sso.KeyDescriptors = append(signing, encryption...)
	return desc
}

// ServiceProviderByEntityID returns the SP metadata of the site whose entity
// ID is entityID: the development IdP uses it to trust the portal's sites.
func (s *Service) ServiceProviderByEntityID(ctx context.Context, siteStore *sites.Store, entityID string) (*saml.EntityDescriptor, error) {
	u, err := url.Parse(entityID)
	if err != nil || u.Path != "/saml/metadata" {
		return nil, fmt.Errorf("unknown service provider %q", entityID)
	}
	kind, name := s.hosts.Classify(u.Host)
	if kind != sites.HostSite || s.EntityID(name) != entityID {
		return nil, fmt.Errorf("unknown service provider %q", entityID)
	}
	site, err := siteStore.ByName(ctx, name)
	if err != nil {
		return nil, err
	}
	data, err := s.Metadata(ctx, site)
	if err != nil {
		return nil, err
	}
	var desc saml.EntityDescriptor
	if err := xml.NewDecoder(bytes.NewReader(data)).Decode(&desc); err != nil {
		return nil, fmt.Errorf("decode SP metadata: %w", err)
	}
	return &desc, nil
}
