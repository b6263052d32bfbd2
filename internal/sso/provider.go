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
)

// provider is one site's crewjam ServiceProvider, built per request from the
// settings in PostgreSQL so that a saved change applies to the next sign-in
// in every process, with no cache to invalidate.
type provider struct {
	sp       *saml.ServiceProvider
	settings Settings
	keys     []spKey
}

// withKeys loads (and opens) the SP keys, which only signing and the
// metadata need. The ACS verifies and never decrypts (xmlguard refuses
// encrypted content), so it skips that query and the private-key work.
func (s *Service) provider(ctx context.Context, site sites.Site, withKeys bool) (*provider, error) {
	set, err := s.Settings(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	var keys []spKey
	if withKeys {
		if keys, err = s.spKeys(ctx, site); err != nil {
			return nil, err
		}
	}
	metadataURL, _ := url.Parse(s.EntityID(site.Name))
	acsURL, _ := url.Parse(s.ACSURL(site.Name))
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
	for _, c := range set.Certificates {
		keyDescriptors = append(keyDescriptors, saml.KeyDescriptor{
			Use: "signing",
			KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
				{Data: base64.StdEncoding.EncodeToString(c.Raw)},
			}}},
		})
	}
	return &saml.EntityDescriptor{
		EntityID: set.IdPEntityID,
		IDPSSODescriptors: []saml.IDPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
				ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
				KeyDescriptors:             keyDescriptors,
			}},
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

// descriptor is crewjam's SP metadata with two changes: no encryption key is
// advertised (the portal asks for signed, not encrypted, assertions), and a
// "next" certificate, during an SP certificate rollover, is published beside
// the active one so the IdP trusts both before the switch.
func (p *provider) descriptor() *saml.EntityDescriptor {
	desc := p.sp.Metadata()
	sso := &desc.SPSSODescriptors[0]
	var kept []saml.KeyDescriptor
	for _, kd := range sso.KeyDescriptors {
		if kd.Use == "signing" {
			kept = append(kept, kd)
		}
	}
	for _, k := range p.keys[1:] {
		kept = append(kept, saml.KeyDescriptor{
			Use: "signing",
			KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
				{Data: base64.StdEncoding.EncodeToString(k.cert.Raw)},
			}}},
		})
	}
	sso.KeyDescriptors = kept
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
