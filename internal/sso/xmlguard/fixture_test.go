package xmlguard_test

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/sso/xmlguard"
)

// The portal's acme site, as configured in development.
const (
	spEntityID = "http://acme.localhost:8080/saml/metadata"
	acsURL     = "http://acme.localhost:8080/saml/acs"
	requestID  = "id-3f9a1c7e5b2d4a6c8e0f1a2b3c4d5e6f"
	evilNameID = "admin@contoso.com"
)

// fixture is one trusted Azure-style IdP and the moment its responses are
// issued; the SP's clock is a few seconds later, as over a real network.
type fixture struct {
	idp *ssotest.IdP
	now time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return &fixture{
		idp: ssotest.NewIdP(t),
		now: time.Now().UTC().Truncate(time.Second),
	}
}

// options are those of an SP-initiated sign-in at the acme site.
func (f *fixture) options() ssotest.Options {
	return ssotest.Options{
		ACS:          acsURL,
		Audience:     spEntityID,
		InResponseTo: requestID,
		Now:          f.now,
	}
}

// response builds a signed response with the default options changed by
// edit.
func (f *fixture) response(t testing.TB, edit func(*ssotest.Options)) string {
	t.Helper()
	o := f.options()
	if edit != nil {
		edit(&o)
	}
	return ssotest.Encode(f.idp.Response(t, o))
}

// newSP returns a ServiceProvider configured as the portal configures one
// for a site: emailAddress NameIDs, SHA-1 refused, a replay cache, and its
// own clock (never crewjam's package globals).
func (f *fixture) newSP(t testing.TB, edit func(*saml.ServiceProvider)) *saml.ServiceProvider {
	t.Helper()
	metadata := &saml.EntityDescriptor{}
	if err := xml.Unmarshal(f.idp.MetadataXML(), metadata); err != nil {
		t.Fatalf("parsing IdP metadata: %v", err)
	}
	sp := &saml.ServiceProvider{
		EntityID:                spEntityID,
		AcsURL:                  mustParseURL(t, acsURL),
		MetadataURL:             mustParseURL(t, spEntityID),
		IDPMetadata:             metadata,
		AuthnNameIDFormat:       saml.EmailAddressNameIDFormat,
		RejectSHA1Signatures:    true,
		RejectUnknownConditions: false,
		AllowIDPInitiated:       true,
		ReplayCache:             newMemoryReplayCache(),
		Clock:                   dsig.NewFakeClockAt(f.now.Add(5 * time.Second)),
	}
	if edit != nil {
		edit(sp)
	}
	return sp
}

// pipeline is what the ACS does with a posted form value: xmlguard first,
// then crewjam/saml.
func pipeline(sp *saml.ServiceProvider, formValue string) (guardReason string, assertion *saml.Assertion, err error) {
	decoded, err := xmlguard.Decode(formValue)
	if err != nil {
		var refusal *xmlguard.Error
		if !errors.As(err, &refusal) {
			return "", nil, err
		}
		return refusal.Reason, nil, err
	}
	assertion, err = sp.ParseXMLResponse(decoded, []string{requestID}, sp.AcsURL)
	return "", assertion, err
}

// libraryAlone runs crewjam/saml without xmlguard, to pin what the library
// does by itself. reached is false when the form value is not even base64.
func libraryAlone(sp *saml.ServiceProvider, formValue string) (assertion *saml.Assertion, reached bool, err error) {
	decoded, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(formValue), ""))
	if err != nil {
		return nil, false, err
	}
	assertion, err = sp.ParseXMLResponse(decoded, []string{requestID}, sp.AcsURL)
	return assertion, true, err
}

// privateErr unwraps crewjam's deliberately opaque error for test logs.
func privateErr(err error) error {
	var invalid *saml.InvalidResponseError
	if errors.As(err, &invalid) {
		return invalid.PrivateErr
	}
	return err
}

func mustParseURL(t testing.TB, raw string) url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return *u
}

// memoryReplayCache is the in-memory stand-in for the portal's PostgreSQL
// replay cache.
type memoryReplayCache struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newMemoryReplayCache() *memoryReplayCache {
	return &memoryReplayCache{seen: map[string]time.Time{}}
}

func (c *memoryReplayCache) Consume(assertionID string, expiresAt time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[assertionID]; ok {
		return saml.ErrAssertionReplayed
	}
	c.seen[assertionID] = expiresAt
	return nil
}

// attributeValues returns the values of the named attribute.
func attributeValues(assertion *saml.Assertion, name string) []string {
	var values []string
	for _, statement := range assertion.AttributeStatements {
		for _, attribute := range statement.Attributes {
			if attribute.Name == name {
				for _, value := range attribute.Values {
					values = append(values, value.Value)
				}
			}
		}
	}
	return values
}
