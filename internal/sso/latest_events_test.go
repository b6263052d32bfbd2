package sso_test

import (
	"context"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/sso"
)

func TestLatestOutcomesAreTheSitesNewestSuccessAndRefusal(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	svc, _, acme, globex := newClockedService(t, now)

	success, refused, err := svc.LatestOutcomes(ctx, acme.ID)
	if err != nil || success != nil || refused != nil {
		t.Fatalf("a site without events: %v, %v, %v; want nil, nil, nil", success, refused, err)
	}
	record := func(siteID int64, result, nameID string) {
		t.Helper()
		if err := svc.RecordEvent(ctx, sso.Event{SiteID: siteID, Reference: "AAAA-BBBB-CCCC", Result: result, NameID: nameID}); err != nil {
			t.Fatal(err)
		}
	}
	record(acme.ID, sso.ResultSuccess, "first")
	record(acme.ID, sso.ResultRefused, "refused first")
	record(acme.ID, sso.ResultSuccess, "second")
	record(acme.ID, sso.ResultTest, "a test")
	record(globex.ID, sso.ResultSuccess, "globex")

	success, refused, err = svc.LatestOutcomes(ctx, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	if success == nil || success.NameID != "second" || success.SiteID != acme.ID {
		t.Errorf("newest success = %+v, want acme's second", success)
	}
	if refused == nil || refused.NameID != "refused first" || refused.SiteID != acme.ID {
		t.Errorf("newest refusal = %+v, want acme's one", refused)
	}

	// A site with successes only has no newest refusal, whatever the
	// other site has.
	success, refused, err = svc.LatestOutcomes(ctx, globex.ID)
	if err != nil || success == nil || success.NameID != "globex" || refused != nil {
		t.Errorf("globex: %+v, %+v, %v; want its success and no refusal", success, refused, err)
	}
}
