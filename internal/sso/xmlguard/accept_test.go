package xmlguard_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// TestPipelineAcceptsAzureResponse is the positive control: the response
// exactly as Azure AD shapes it, with each of Azure's signing options and
// in both flows, passes xmlguard and the library, and the NameID and claims
// come back as sent.
func TestPipelineAcceptsAzureResponse(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name         string
		signing      ssotest.Signing
		inResponseTo string
		wrap         bool // base64 wrapped at 76 columns, as some IdPs post it
	}{
		{name: "SPInitiatedAssertionSigned", signing: ssotest.SignAssertion, inResponseTo: requestID},
		{name: "SPInitiatedResponseSigned", signing: ssotest.SignResponse, inResponseTo: requestID},
		{name: "SPInitiatedBothSigned", signing: ssotest.SignBoth, inResponseTo: requestID},
		{name: "IdPInitiatedAssertionSigned", signing: ssotest.SignAssertion},
		{name: "LineWrappedFormValue", signing: ssotest.SignAssertion, inResponseTo: requestID, wrap: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := f.response(t, func(o *ssotest.Options) {
				o.Signing = tt.signing
				o.InResponseTo = tt.inResponseTo
			})
			if tt.wrap {
				form = wrap(form, 76)
			}
			reason, assertion, err := pipeline(f.newSP(t, nil), form)
			if err != nil {
				t.Fatalf("refused: reason %q, %v (library: %v)", reason, err, privateErr(err))
			}
			if got := assertion.Subject.NameID.Value; got != ssotest.DefaultNameID {
				t.Errorf("NameID = %q, want %q", got, ssotest.DefaultNameID)
			}
			if got := assertion.Subject.NameID.Format; got != ssotest.NameIDEmailAddress {
				t.Errorf("NameID Format = %q", got)
			}
			want := map[string]string{
				"firstname":              "B",
				"lastname":               "Simon",
				"email":                  ssotest.DefaultNameID,
				"uid":                    ssotest.DefaultNameID,
				ssotest.ClaimObjectID:    ssotest.DefaultObjectID,
				ssotest.ClaimTenantID:    f.idp.TenantID,
				ssotest.ClaimDisplayName: "B Simon",
				ssotest.ClaimName:        ssotest.DefaultNameID,
			}
			for name, value := range want {
				if got := attributeValues(assertion, name); !slices.Equal(got, []string{value}) {
					t.Errorf("attribute %s = %q, want [%q]", name, got, value)
				}
			}
		})
	}
}

// TestPipelineRefusesReplayedAssertion posts the same valid response twice
// to one site: the replay cache refuses the second.
func TestPipelineRefusesReplayedAssertion(t *testing.T) {
	f := newFixture(t)
	sp := f.newSP(t, nil)
	form := f.response(t, nil)
	if _, _, err := pipeline(sp, form); err != nil {
		t.Fatalf("first post refused: %v", privateErr(err))
	}
	_, _, err := pipeline(sp, form)
	if err == nil {
		t.Fatal("second post of the same assertion was accepted")
	}
	if !errors.Is(privateErr(err), saml.ErrAssertionReplayed) {
		t.Errorf("second post refused for another reason: %v", privateErr(err))
	}
}

// TestPipelineRefusesResponseForAnotherSite posts acme's valid response to
// globex's ACS, where the same IdP is trusted: tenant isolation rests on
// Audience, Recipient and Destination.
func TestPipelineRefusesResponseForAnotherSite(t *testing.T) {
	f := newFixture(t)
	form := f.response(t, nil)
	globex := f.newSP(t, func(sp *saml.ServiceProvider) {
		sp.EntityID = "http://globex.localhost:8080/saml/metadata"
		sp.AcsURL = mustParseURL(t, "http://globex.localhost:8080/saml/acs")
		sp.MetadataURL = mustParseURL(t, sp.EntityID)
	})
	if _, _, err := pipeline(globex, form); err == nil {
		t.Fatal("globex accepted a response issued for acme")
	}
}

func wrap(s string, width int) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteString("\r\n")
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}
