package sso_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// TestDailyRefreshRecordsWhatItChangesAsThePortal runs the daily job over
// a metadata URL that rolls its certificates over, goes down, comes back
// naming another tenant: each change is one audit entry by "portal", and a
// refresh that changes nothing, or fails again the same way, records none.
func TestDailyRefreshRecordsWhatItChangesAsThePortal(t *testing.T) {
	p := newPortal(t)
	ctx := context.Background()
	const metadataURL = "https://login.example/federationmetadata.xml"
	if _, err := p.sso.ImportMetadata(ctx, p.acme.ID, metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp), metadataURL); err != nil {
		t.Fatal(err)
	}
	serving := metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp)
	var fetchErr error
	fetch := func(context.Context, string) ([]byte, error) { return serving, fetchErr }
	p.Clock.Set(time.Now().UTC())
	day := func() {
		t.Helper()
		p.Clock.Advance(25 * time.Hour)
		if _, err := p.sso.RefreshDue(ctx, 10, fetch); err != nil {
			t.Fatal(err)
		}
	}
	entries := func() []string {
		t.Helper()
		list, err := p.App.Audit.Recent(ctx, p.acme.ID, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := len(list) - 1; i >= 0; i-- {
			out = append(out, list[i].Actor+" "+list[i].Action+" "+list[i].Details.String())
		}
		return out
	}

	day() // nothing changed
	next := ssotest.NewIdP(t)
	serving = metadataWith(p.idp.EntityID, p.idp.SSOURL, p.idp, next)
	day() // rollover: a certificate added
	day() // nothing changed
	fetchErr = errors.New("connection refused")
	day() // the outage starts
	day() // and goes on: the same error
	fetchErr = errors.New("tls: certificate expired")
	day() // another error
	fetchErr = nil
	serving = metadataWith("https://sts.windows.net/new-tenant/", "https://login.microsoftonline.com/new-tenant/saml2", next)
	day() // a new entity ID: proposed
	day() // the same proposal again

	got := entries()
	want := []string{
		"portal sso.refresh-metadata IdP signing certificates are now ",
		"portal sso.refresh-metadata Metadata URL: " + metadataURL + "; Failed: connection refused; The configuration in use has not changed.",
		"portal sso.refresh-metadata Metadata URL: " + metadataURL + "; Failed: tls: certificate expired; The configuration in use has not changed.",
		"portal sso.refresh-metadata the metadata now names entity ID https://sts.windows.net/new-tenant/",
	}
	if len(got) != len(want) {
		t.Fatalf("audit:\n%s\nwant %d entries", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("entry %d: %q, want it to start %q", i+1, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "(added ") || strings.Contains(got[0], "removed") {
		t.Errorf("the rollover entry does not say which certificate was added: %q", got[0])
	}

	// An admin's Refresh now is recorded even when it changes nothing.
	if err := p.sso.Refresh(ctx, p.acme.ID, "admin@acme.test", fetch); err != nil {
		t.Fatal(err)
	}
	if got := entries(); len(got) != len(want)+1 || !strings.HasPrefix(got[len(got)-1], "admin@acme.test sso.refresh-metadata fetched "+metadataURL+": nothing changed") {
		t.Errorf("after Refresh now: %q", got[len(got)-1])
	}
}
