package sso_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

// newClockedService returns a service over a fresh database whose clock
// stands still at now, with the sites acme and globex.
func newClockedService(t *testing.T, now time.Time) (*sso.Service, *pgxpool.Pool, sites.Site, sites.Site) {
	t.Helper()
	tp := portaltest.New(t)
	tp.Clock.Set(now)
	acme, globex := tp.CreateSite("acme"), tp.CreateSite("globex")
	return tp.App.SSO, tp.App.Pool, acme, globex
}

func TestDeleteOldEventsRemovesOnlyEventsPastRetentionInBoundedBatches(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	svc, pool, acme, globex := newClockedService(t, now)
	retention := 90 * 24 * time.Hour
	seed := func(site sites.Site, age time.Duration, n int, name string) {
		for range n {
			if err := svc.RecordEvent(ctx, sso.Event{SiteID: site.ID, OccurredAt: now.Add(-age), Reference: "AAAA-BBBB-CCCC",
				Result: sso.ResultSuccess, NameID: name}); err != nil {
				t.Fatal(err)
			}
		}
	}
	seed(acme, retention+time.Hour, 5, "old")
	seed(globex, retention+24*time.Hour, 2, "old")
	seed(acme, retention-time.Hour, 3, "kept")
	seed(globex, time.Minute, 1, "kept")

	var batches []int64
	for {
		n, err := svc.DeleteOldEvents(ctx, 3, retention)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		batches = append(batches, n)
		if len(batches) > 10 {
			t.Fatal("DeleteOldEvents never finishes")
		}
	}
	if len(batches) != 3 || batches[0] != 3 || batches[1] != 3 || batches[2] != 1 {
		t.Fatalf("batches %v, want [3 3 1]", batches)
	}
	var left, old int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE name_id = 'old') FROM signin_events`).Scan(&left, &old); err != nil {
		t.Fatal(err)
	}
	if left != 4 || old != 0 {
		t.Fatalf("%d events left (%d old), want the 4 recent ones", left, old)
	}
	if _, err := svc.DeleteOldEvents(ctx, 10, 0); err == nil {
		t.Fatal("a zero retention was accepted: it would delete every event")
	}
}
