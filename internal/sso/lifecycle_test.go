package sso_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/audit"
	"github.com/meetings-portal/portal/internal/sso"
	"github.com/meetings-portal/portal/internal/sso/idpmeta"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// metadataWith is IdP metadata for entityID and ssoURL listing the
// certificates of signers, in order.
func metadataWith(entityID, ssoURL string, signers ...*ssotest.IdP) []byte {
	var keys strings.Builder
	for _, s := range signers {
		fmt.Fprintf(&keys, `<KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>%s</X509Certificate></X509Data></KeyInfo></KeyDescriptor>`,
			base64.StdEncoding.EncodeToString(s.Cert.Raw))
	}
	return []byte(fmt.Sprintf(`<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">`+
		`<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">%s`+
		`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>`+
		`</IDPSSODescriptor></EntityDescriptor>`, entityID, keys.String(), ssoURL))
}

func TestDraftIsAppliedOnlyOnConfirmationAndOnlyOnce(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	next := ssotest.NewIdP(t)
	draft, err := p.sso.CreateDraft(ctx, p.acme.ID, metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp, next), "")
	if err != nil {
		t.Fatal(err)
	}
	if set, _ := p.sso.Settings(ctx, p.acme.ID); len(set.Certificates) != 1 {
		t.Fatalf("a draft changed the configuration: %d certificates", len(set.Certificates))
	}
	if _, _, err := p.sso.ApplyDraft(ctx, p.globex.ID, draft.ID, "admin@globex.test"); !errors.Is(err, sso.ErrDraftNotFound) {
		t.Fatalf("acme's draft applied on globex: %v", err)
	}
	// SSO is on at acme: the import is staged, and in use once activated.
	if _, staged, err := p.sso.ApplyDraft(ctx, p.acme.ID, draft.ID, "admin@acme.test"); err != nil || !staged {
		t.Fatalf("apply: staged %v, %v", staged, err)
	}
	set, _ := p.sso.Settings(ctx, p.acme.ID)
	if len(set.Certificates) != 1 || len(set.PendingCertificates) != 2 {
		t.Fatalf("after apply: %d certificates in use and %d staged, want 1 and 2", len(set.Certificates), len(set.PendingCertificates))
	}
	if _, err := p.sso.ActivatePending(ctx, p.acme.ID, set.PendingToken(), "admin@acme.test"); err != nil {
		t.Fatal(err)
	}
	if set, _ := p.sso.Settings(ctx, p.acme.ID); len(set.Certificates) != 2 || set.HasPending() {
		t.Fatalf("after activating: %d certificates, staged %v; want 2 and nothing staged", len(set.Certificates), set.HasPending())
	}
	if _, _, err := p.sso.ApplyDraft(ctx, p.acme.ID, draft.ID, "admin@acme.test"); !errors.Is(err, sso.ErrDraftApplied) {
		t.Fatalf("second apply: %v", err)
	}
	var metaErr *idpmeta.Error
	if _, err := p.sso.CreateDraft(ctx, p.acme.ID, []byte("not xml"), ""); !errors.As(err, &metaErr) {
		t.Fatalf("bad metadata: %v", err)
	}
}

func TestRefreshFollowsRolloverKeepsOldConfigOnFailureAndProposesNewEndpoints(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	const metadataURL = "https://login.example/federationmetadata.xml"
	if _, err := p.sso.ImportMetadata(ctx, p.acme.ID, metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp), metadataURL); err != nil {
		t.Fatal(err)
	}
	serving := metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp, ssotest.NewIdP(t))
	var fetchErr error
	fetch := func(_ context.Context, url string) ([]byte, error) {
		if url != metadataURL {
			t.Errorf("fetched %s", url)
		}
		return serving, fetchErr
	}

	// Azure's rollover: old and new side by side.
	if err := p.sso.Refresh(ctx, p.acme.ID, audit.Portal, fetch); err != nil {
		t.Fatal(err)
	}
	set, _ := p.sso.Settings(ctx, p.acme.ID)
	if len(set.Certificates) != 2 || set.HasProposal() || set.MetadataFetchedAt == nil {
		t.Fatalf("after rollover: %d certificates, proposal %v, fetched %v", len(set.Certificates), set.HasProposal(), set.MetadataFetchedAt)
	}

	// An outage keeps everything and says so.
	fetchErr = errors.New("connection refused")
	if err := p.sso.Refresh(ctx, p.acme.ID, audit.Portal, fetch); err == nil {
		t.Fatal("refresh during an outage succeeded")
	}
	set, _ = p.sso.Settings(ctx, p.acme.ID)
	if len(set.Certificates) != 2 || set.RefreshError != "connection refused" || set.RefreshFailedAt == nil {
		t.Fatalf("after outage: %d certificates, error %q at %v", len(set.Certificates), set.RefreshError, set.RefreshFailedAt)
	}

	// A new entity ID is proposed, not applied; sign-ins keep working.
	fetchErr = nil
	stranger := ssotest.NewIdP(t)
	serving = metadataWith("https://sts.windows.net/new-tenant/", "https://login.microsoftonline.com/new-tenant/saml2", stranger)
	if err := p.sso.Refresh(ctx, p.acme.ID, audit.Portal, fetch); err != nil {
		t.Fatal(err)
	}
	set, _ = p.sso.Settings(ctx, p.acme.ID)
	if set.IdPEntityID != p.idp.EntityID || set.ProposedEntityID != "https://sts.windows.net/new-tenant/" || set.RefreshError != "" {
		t.Fatalf("after entity change: entity %q proposed %q error %q", set.IdPEntityID, set.ProposedEntityID, set.RefreshError)
	}
	// The new document's keys are not trusted before the admin accepts it.
	if len(set.Certificates) != 2 || set.Certificates[0].Equal(stranger.Cert) || set.Certificates[1].Equal(stranger.Cert) {
		t.Fatal("a proposal's certificate was trusted before it was accepted")
	}
	if resp := p.postACS(acmeHost, p.respond(azure("")), ""); resp.StatusCode != 303 {
		t.Fatalf("sign-in while a proposal waits: %d", resp.StatusCode)
	}
	if changed, err := p.sso.AcceptProposal(ctx, p.acme.ID, set.ProposalID(), "admin@acme.test"); err != nil || !changed {
		t.Fatalf("accept: changed %v, %v", changed, err)
	}
	set, _ = p.sso.Settings(ctx, p.acme.ID)
	if set.IdPEntityID != "https://sts.windows.net/new-tenant/" || set.HasProposal() {
		t.Fatalf("after accept: %q, proposal %v", set.IdPEntityID, set.HasProposal())
	}
	if len(set.Certificates) != 1 || !set.Certificates[0].Equal(stranger.Cert) {
		t.Fatalf("after accept: %d certificates, want exactly the proposal's", len(set.Certificates))
	}
}

func TestRefreshDueSkipsSitesFetchedRecently(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	calls := 0
	fetch := func(context.Context, string) ([]byte, error) {
		calls++
		return metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp), nil
	}
	if _, err := p.sso.ImportMetadata(ctx, p.acme.ID, metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp), "https://idp.example/md"); err != nil {
		t.Fatal(err)
	}
	if n, err := p.sso.RefreshDue(ctx, 10, fetch); err != nil || n != 0 || calls != 0 {
		t.Fatalf("just imported: refreshed %d (%d calls), %v", n, calls, err)
	}
	if _, err := p.pool.Exec(ctx, `UPDATE sso_settings SET metadata_fetched_at = now() - interval '25 hours' WHERE site_id = $1`, p.acme.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := p.sso.RefreshDue(ctx, 10, fetch); err != nil || n != 1 || calls != 1 {
		t.Fatalf("a day later: refreshed %d (%d calls), %v", n, calls, err)
	}
}

func TestSPCertificateRollover(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	published := func() int {
		return strings.Count(body(t, p.get(acmeHost, "/saml/metadata")), `<KeyDescriptor use="signing">`)
	}
	certs, err := p.sso.SPCertificates(ctx, p.acme.ID)
	if err != nil || len(certs) != 1 || certs[0].State != "active" {
		t.Fatalf("start: %+v %v", certs, err)
	}
	first := certs[0]
	if changed, err := p.sso.CreateNextSPKey(ctx, p.acme, first.ID, "admin@acme.test"); err != nil || !changed {
		t.Fatalf("next key: changed %v, %v", changed, err)
	}
	// The same press again (the page listed only the first key) is done.
	if changed, err := p.sso.CreateNextSPKey(ctx, p.acme, first.ID, "admin@acme.test"); err != nil || changed {
		t.Fatalf("the same press again: changed %v, %v", changed, err)
	}
	// A press from a page that listed the next key already is out of order.
	certs, _ = p.sso.SPCertificates(ctx, p.acme.ID)
	next := certs[1]
	var rollover *sso.RolloverError
	if _, err := p.sso.CreateNextSPKey(ctx, p.acme, next.ID, "admin@acme.test"); !errors.As(err, &rollover) {
		t.Fatalf("second next key: %v", err)
	}
	if published() != 2 {
		t.Fatalf("next certificate not published beside the active one")
	}
	if changed, err := p.sso.ActivateSPKey(ctx, p.acme.ID, next.ID, "admin@acme.test"); err != nil || !changed {
		t.Fatalf("activate: changed %v, %v", changed, err)
	}
	certs, _ = p.sso.SPCertificates(ctx, p.acme.ID)
	if len(certs) != 2 || certs[0].State != "active" || certs[0].SHA256 == first.SHA256 || certs[1].State != "previous" {
		t.Fatalf("after activate: %+v", certs)
	}
	if _, err := p.sso.RemoveSPKey(ctx, p.acme.ID, certs[0].ID, "admin@acme.test"); !errors.As(err, &rollover) {
		t.Fatalf("removing the active key: %v", err)
	}
	if _, err := p.sso.RemoveSPKey(ctx, p.acme.ID, certs[1].ID, "admin@acme.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.sso.RemoveSPKey(ctx, p.acme.ID, certs[1].ID, "admin@acme.test"); !errors.Is(err, sso.ErrSPKeyGone) {
		t.Fatalf("removing it again: %v", err)
	}
	if published() != 1 {
		t.Fatal("previous certificate still published after removal")
	}
	// Sign-in still works with the new key signing requests.
	req, relay := p.startSignIn(acmeHost, "/")
	if resp := p.postACS(acmeHost, p.respond(azure(req.SelectAttrValue("ID", ""))), relay); resp.StatusCode != 303 {
		t.Fatalf("sign-in after rollover: %d", resp.StatusCode)
	}
}
