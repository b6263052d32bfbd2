package sso_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
	"github.com/meetings-portal/portal/internal/users"
)

func TestRequireMFAAcceptsOnlyAssertionsShowingMFA(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) { s.RequireMFA = true })
	claims := func(method string) map[string][]string {
		c := p.idp.AzureClaims(ssotest.DefaultNameID, "B", "Simon", ssotest.DefaultObjectID)
		c[users.ClaimAuthnMethods] = []string{method}
		return c
	}
	password := p.respond(withAttributes(azure(""), claims("http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password")))
	resp := p.postACS(acmeHost, password, "")
	if b := body(t, resp); resp.StatusCode != http.StatusForbidden || hasUserCookie(resp) || !strings.Contains(b, "multi-factor") {
		t.Fatalf("password-only sign-in: status %d: %s", resp.StatusCode, b)
	}
	if e := p.lastEvent(p.acme); e.Reason != sso.ReasonMFARequired {
		t.Fatalf("event %+v", e)
	}
	mfa := p.respond(withAttributes(azure(""), claims(users.AzureMFAMethod)))
	if resp := p.postACS(acmeHost, mfa, ""); resp.StatusCode != http.StatusSeeOther || !hasUserCookie(resp) {
		t.Fatalf("Azure MFA sign-in: status %d: %s", resp.StatusCode, body(t, resp))
	}
	// Another IdP's way: an AuthnContextClassRef from the site's MFA list.
	p.set(p.acme, func(s *sso.Settings) {
		s.MFAContexts = []string{"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}
	})
	again := p.respond(withAttributes(azure(""), claims("http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password")))
	if resp := p.postACS(acmeHost, again, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("MFA by AuthnContextClassRef: status %d: %s", resp.StatusCode, body(t, resp))
	}
}

func withAttributes(o ssotest.Options, attrs map[string][]string) ssotest.Options {
	o.Attributes = attrs
	return o
}

func TestDefaultTargetAttendeeRoleAndCustomerErrorPage(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) {
		s.DefaultTarget = "/meet/b.simon"
		s.NewUserRole = "attendee"
		s.ErrorPageURL = "https://help.contoso.com/sso-error?lang=en"
	})
	resp := p.postACS(acmeHost, p.respond(azure("")), "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/meet/b.simon" {
		t.Fatalf("IdP-initiated with no RelayState: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var role string
	if err := p.pool.QueryRow(context.Background(), `SELECT role FROM users WHERE site_id = $1`, p.acme.ID).Scan(&role); err != nil || role != "attendee" {
		t.Fatalf("role %q, %v", role, err)
	}
	// A refused sign-in goes to the customer's page with the reference.
	resp = p.postACS(acmeHost, "not base64!", "")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != "help.contoso.com" || loc.Query().Get("lang") != "en" {
		t.Fatalf("refusal: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	e := p.lastEvent(p.acme)
	if loc.Query().Get("reference") != e.Reference || loc.Query().Get("reason") != e.Reason {
		t.Fatalf("redirect %s does not carry event %+v", loc, e)
	}
}

func TestUnsignedAuthnRequestsWhenTheSiteSaysSo(t *testing.T) {
	p := newPortal(t)
	p.set(p.acme, func(s *sso.Settings) { s.SignRequests = false })
	resp := p.get(acmeHost, "/")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("Signature") != "" || loc.Query().Get("SigAlg") != "" {
		t.Fatalf("request still signed: %s", loc)
	}
	meta := body(t, p.get(acmeHost, "/saml/metadata"))
	if !strings.Contains(meta, `AuthnRequestsSigned="false"`) {
		t.Fatalf("metadata still says requests are signed")
	}
}

func TestUpdateSettingsRefusesBadValuesAndChangesNothing(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	before, _ := p.sso.Settings(ctx, p.acme.ID)
	_, err := p.sso.UpdateSettings(ctx, p.acme.ID, func(s *sso.Settings) error {
		s.AutoCreate = false
		s.AuthnContext = []string{"not a uri"}
		s.MFAContexts = []string{"urn:ok", "no"}
		s.DefaultTarget = "//evil.example"
		s.ErrorPageURL = "http://plain.example"
		s.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
		s.NewUserRole = "owner"
		return nil
	})
	var fields sso.FieldErrors
	if !errors.As(err, &fields) {
		t.Fatalf("err %v, want FieldErrors", err)
	}
	// Keyed by the SSO Configuration page's input names, so each message
	// shows beside its own field.
	for _, f := range []string{"authn_context", "mfa_contexts", "default_target", "error_page_url", "nameid_format", "attendee"} {
		if fields[f] == "" {
			t.Errorf("no error for %s: %v", f, fields)
		}
	}
	after, _ := p.sso.Settings(ctx, p.acme.ID)
	if after.AutoCreate != before.AutoCreate || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatal("a refused save changed the settings")
	}
}

func TestSplitAuthnContextReadsTheTutorialValues(t *testing.T) {
	for _, tc := range []struct {
		typed string
		want  []string
	}{
		{"", []string{}},
		{" ; ;", []string{}},
		{" urn:a ; urn:b ; ", []string{"urn:a", "urn:b"}},
		{"urn:a\r\nurn:b\n", []string{"urn:a", "urn:b"}},
	} {
		if got := sso.SplitAuthnContext(tc.typed); !slices.Equal(got, tc.want) || got == nil {
			t.Errorf("SplitAuthnContext(%q) = %#v, want %#v", tc.typed, got, tc.want)
		}
	}
}

func TestEnablingSSOWithoutAnIdentityProviderIsRefused(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	bare := p.CreateSite("initech")
	_, err := p.sso.UpdateSettings(ctx, bare.ID, func(s *sso.Settings) error { s.Enabled = true; return nil })
	var fields sso.FieldErrors
	if !errors.As(err, &fields) || fields["enabled"] == "" {
		t.Fatalf("err %v, want a field error on enabled", err)
	}
	if _, err := p.sso.UpdateSettings(ctx, p.globex.ID, func(s *sso.Settings) error { s.Enabled = true; return nil }); err != nil {
		t.Fatalf("globex has an IdP: %v", err)
	}
}

func TestAResponseForOneSiteIsRefusedByAnotherSiteTrustingTheSameIdP(t *testing.T) {
	// Two sites of one company, both connected to the same Azure tenant.
	p := newPortal(t)
	if err := p.sso.SaveIdP(context.Background(), p.globex.ID, &idpmeta.IdP{EntityID: p.idp.EntityID, SSOURL: p.idp.SSOURL, Certificates: []*x509.Certificate{p.idp.Cert}}); err != nil {
		t.Fatal(err)
	}
	resp := p.postACS(globexHost, p.respond(azure("")), "")
	if resp.StatusCode != http.StatusForbidden || hasUserCookie(resp) {
		t.Fatalf("acme's response at globex: %d", resp.StatusCode)
	}
	if e := p.lastEvent(p.globex); e.Reason != sso.ReasonDestinationMismatch && e.Reason != sso.ReasonAudienceMismatch {
		t.Fatalf("event %+v", e)
	}
	if p.countUsers(p.globex) != 0 {
		t.Fatal("an account was created on globex")
	}
}
