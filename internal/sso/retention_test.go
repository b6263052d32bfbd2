package sso_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso"
)

// newClockedService returns a service over a fresh database whose clock
// stands still at now, with the sites acme and globex.
func newClockedService(t *testing.T, now time.Time) (*sso.Service, *pgxpool.Pool, sites.Site, sites.Site) {
	t.Helper()
	ctx := context.Background()
	pool := dbtest.New(t)
	box, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := sites.ParseBaseURL("http://localhost:8080")
	svc := sso.New(pool, box, hosts, slog.New(slog.DiscardHandler), dsig.NewFakeClockAt(now))
	store, err := sites.NewStore(pool)
	if err != nil {
		t.Fatal(err)
	}
	var created [2]sites.Site
	for i, name := range []string{"acme", "globex"} {
		if created[i], err = store.Create(ctx, name, "admin@"+name+".test", "a good long password"); err != nil {
			t.Fatal(err)
		}
	}
	return svc, pool, created[0], created[1]
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
