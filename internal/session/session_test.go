package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/session"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/web"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*session.Store, *clock, sites.Site, sites.Site) {
	t.Helper()
	pool := dbtest.New(t)
	siteStore := sites.NewStore(pool)
	acme, err := siteStore.Create(context.Background(), "acme", "admin@acme.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	globex, err := siteStore.Create(context.Background(), "globex", "admin@globex.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	return session.NewStore(pool, c.now), c, acme, globex
}

// setupOne is one site, its sessions' store on a clock, and the database.
func setupOne(t *testing.T) (*pgxpool.Pool, *session.Store, *clock, sites.Site) {
	t.Helper()
	pool := dbtest.New(t)
	acme, err := sites.NewStore(pool).Create(context.Background(), "acme", "admin@acme.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	return pool, session.NewStore(pool, c.now), c, acme
}

func TestAdminSessionIdleAndAbsoluteExpiry(t *testing.T) {
	ctx := context.Background()
	store, c, acme, _ := setup(t)
	p := session.AdminPolicy

	token, err := store.Create(ctx, nil, acme.ID, session.Admin, 1, p)
	if err != nil {
		t.Fatal(err)
	}
	// Activity every 20 minutes keeps it alive past the 30-minute idle limit...
	for i := 0; i < 10; i++ {
		c.t = c.t.Add(20 * time.Minute)
		if _, err := store.Lookup(ctx, acme.ID, session.Admin, token, p); err != nil {
			t.Fatalf("active session expired after %d steps: %v", i+1, err)
		}
	}
	// ...but 31 idle minutes end it.
	c.t = c.t.Add(31 * time.Minute)
	if _, err := store.Lookup(ctx, acme.ID, session.Admin, token, p); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("idle session: %v, want ErrNotFound", err)
	}

	// Absolute: 12 hours after sign-in, however active.
	token, _ = store.Create(ctx, nil, acme.ID, session.Admin, 1, p)
	start := c.t
	for c.t.Before(start.Add(12*time.Hour - 10*time.Minute)) {
		c.t = c.t.Add(10 * time.Minute)
		if _, err := store.Lookup(ctx, acme.ID, session.Admin, token, p); err != nil {
			t.Fatalf("session ended early at %v: %v", c.t.Sub(start), err)
		}
	}
	c.t = start.Add(12 * time.Hour)
	if _, err := store.Lookup(ctx, acme.ID, session.Admin, token, p); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("session past 12 hours: %v, want ErrNotFound", err)
	}
}

func TestSessionTokenIsBoundToSiteAndKind(t *testing.T) {
	ctx := context.Background()
	store, _, acme, globex := setup(t)
	token, _ := store.Create(ctx, nil, acme.ID, session.Admin, 1, session.AdminPolicy)

	if _, err := store.Lookup(ctx, globex.ID, session.Admin, token, session.AdminPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("acme token on globex: %v, want ErrNotFound", err)
	}
	if _, err := store.Lookup(ctx, acme.ID, session.User, token, session.UserPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("admin token as a user session: %v, want ErrNotFound", err)
	}
	if err := store.Delete(ctx, acme.ID, session.Admin, token); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Lookup(ctx, acme.ID, session.Admin, token, session.AdminPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("deleted session: %v, want ErrNotFound", err)
	}
}

func TestDeleteExpiredRemovesOnlyDeadSessionsInBoundedBatches(t *testing.T) {
	ctx := context.Background()
	store, c, acme, _ := setup(t)
	for i := 0; i < 5; i++ {
		if _, err := store.Create(ctx, nil, acme.ID, session.User, int64(i), session.UserPolicy); err != nil {
			t.Fatal(err)
		}
	}
	live, _ := store.Create(ctx, nil, acme.ID, session.User, 99, session.UserPolicy)
	c.t = c.t.Add(9 * time.Hour)
	if _, err := store.Lookup(ctx, acme.ID, session.User, live, session.UserPolicy); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("9 idle hours should end a user session: %v", err)
	}
	n, err := store.DeleteExpired(ctx, 3)
	if err != nil || n != 3 {
		t.Fatalf("first batch: %d, %v; want 3", n, err)
	}
	n, _ = store.DeleteExpired(ctx, 3)
	if n != 3 {
		t.Fatalf("second batch: %d, want 3", n)
	}
	n, _ = store.DeleteExpired(ctx, 3)
	if n != 0 {
		t.Fatalf("third batch: %d, want 0", n)
	}
}

// Requests with made-up cookies can keep resumes, but never stop a real
// admin's from being kept: past the bound, the oldest go, the newest stays
// and can be claimed.
func TestResumesPastTheBoundEvictTheOldest(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	acme, err := sites.NewStore(pool).Create(ctx, "acme", "admin@acme.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	resumes := session.NewResumes(pool, box, c.now)
	var first, last string
	for i := range 250 {
		c.t = c.t.Add(time.Second)
		token, err := resumes.Save(ctx, acme.ID, session.Admin, session.Resume{ReturnPath: fmt.Sprintf("/admin/users?page=%d", i)})
		if err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
		if i == 0 {
			first = token
		}
		last = token
	}
	var kept int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM session_resumes WHERE site_id = $1`, acme.ID).Scan(&kept); err != nil || kept != 200 {
		t.Errorf("%d resumes kept (%v), want 200", kept, err)
	}
	if path, ok, err := resumes.Claim(ctx, acme.ID, session.Admin, last, 1); err != nil || !ok || path != "/admin/users?page=249" {
		t.Errorf("the newest resume: %q %v %v", path, ok, err)
	}
	if _, ok, err := resumes.Claim(ctx, acme.ID, session.Admin, first, 1); err != nil || ok {
		t.Errorf("the oldest resume was still kept (%v)", err)
	}
}

// A page view within a minute of the last one reads the session and
// writes nothing (no new row version, no wait for the WAL); the first
// after a minute moves last_seen_at, from which the idle limit counts.
func TestLookupWritesOnlyWhenLastSeenIsToMove(t *testing.T) {
	ctx := context.Background()
	pool, store, c, acme := setupOne(t)
	p := session.AdminPolicy
	token, err := store.Create(ctx, nil, acme.ID, session.Admin, 1, p)
	if err != nil {
		t.Fatal(err)
	}
	version := func() (xmin string, lastSeen time.Time) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT xmin::text, last_seen_at FROM sessions WHERE site_id = $1`, acme.ID).Scan(&xmin, &lastSeen); err != nil {
			t.Fatal(err)
		}
		return xmin, lastSeen.UTC()
	}
	created, start := version()

	for _, step := range []struct {
		after    time.Duration
		wantSeen time.Time
		written  bool
	}{
		{after: 30 * time.Second, wantSeen: start},
		{after: 59 * time.Second, wantSeen: start},
		{after: 61 * time.Second, wantSeen: start.Add(61 * time.Second), written: true},
		{after: 90 * time.Second, wantSeen: start.Add(61 * time.Second)},
	} {
		before, _ := version()
		c.t = start.Add(step.after)
		sess, err := store.Lookup(ctx, acme.ID, session.Admin, token, p)
		if err != nil {
			t.Fatalf("at +%v: %v", step.after, err)
		}
		xmin, stored := version()
		if !sess.LastSeenAt.Equal(step.wantSeen) || !stored.Equal(step.wantSeen) {
			t.Errorf("at +%v: last seen %v returned, %v stored; want %v", step.after, sess.LastSeenAt, stored, step.wantSeen)
		}
		if (xmin != before) != step.written {
			t.Errorf("at +%v: row version %s → %s, want written=%v", step.after, before, xmin, step.written)
		}
	}
	if first, _ := version(); first == created {
		t.Error("the session was never written")
	}

	// The idle limit counts from the last move: 30 minutes after +61 s
	// the session is gone, although it was used at +90 s.
	c.t = start.Add(61*time.Second + 30*time.Minute + time.Second)
	if _, err := store.Lookup(ctx, acme.ID, session.Admin, token, p); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("idle past the limit: %v, want ErrNotFound", err)
	}
}

// A lookup that moves last_seen_at while a sign-out is deleting the
// session waits for it and finds nothing, as the plain UPDATE did: a
// session ended at that moment is not used once more.
func TestLookupLosesToASignOutInProgress(t *testing.T) {
	ctx := context.Background()
	pool, store, c, acme := setupOne(t)
	token, err := store.Create(ctx, nil, acme.ID, session.Admin, 1, session.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	signOut, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer signOut.Rollback(ctx)
	if _, err := signOut.Exec(ctx, `DELETE FROM sessions WHERE site_id = $1`, acme.ID); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(2 * time.Minute) // last_seen_at is to move: the lookup writes
	done := make(chan error, 1)
	go func() {
		_, err := store.Lookup(ctx, acme.ID, session.Admin, token, session.AdminPolicy)
		done <- err
	}()
	// Commit once the lookup waits for the deleted row.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the lookup did not wait for the sign-out: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the lookup never waited for the sign-out")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := signOut.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, session.ErrNotFound) {
		t.Errorf("lookup during a sign-out: %v, want ErrNotFound", err)
	}
}

// signedInAdmin is what an admin page reads: the session and its admin.
type signedInAdmin struct {
	session.Session
	sites.Admin
}

func TestLookupWithReadsTheAccountOrEndsTheSession(t *testing.T) {
	ctx := context.Background()
	pool, store, c, acme := setupOne(t)
	globex, err := sites.NewStore(pool).Create(ctx, "globex", "admin@globex.test", "a good long password", nil)
	if err != nil {
		t.Fatal(err)
	}
	var adminID int64
	if err := pool.QueryRow(ctx, `SELECT id FROM site_admins WHERE site_id = $1`, acme.ID).Scan(&adminID); err != nil {
		t.Fatal(err)
	}
	cookie := session.Cookie{Store: store, Name: "admin_session", Kind: session.Admin, Policy: session.AdminPolicy}
	subject := session.NewSubject[sites.Admin]("site_admins")
	token, err := store.Create(ctx, nil, acme.ID, session.Admin, adminID, session.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(site sites.Site, token string) (signedInAdmin, bool, *httptest.ResponseRecorder) {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/admin", nil)
		r.AddCookie(&http.Cookie{Name: "admin_session", Value: token})
		r = r.WithContext(web.WithSite(r.Context(), site))
		w := httptest.NewRecorder()
		sess, admin, ok, err := session.LookupWith(cookie, w, r, subject)
		if err != nil {
			t.Fatal(err)
		}
		return signedInAdmin{sess, admin}, ok, w
	}

	found, ok, w := lookup(acme, token)
	if !ok || found.Email != "admin@acme.test" || found.Admin.ID != adminID || found.Admin.SiteID != acme.ID ||
		found.SubjectID != adminID || found.Kind != session.Admin || found.Session.SiteID != acme.ID || found.PasswordHash == "" {
		t.Fatalf("lookup = %+v, %v; want the session of admin %d with its account", found, ok, adminID)
	}
	if got := w.Header().Get("Set-Cookie"); got != "" {
		t.Errorf("a live session's lookup set a cookie: %q", got)
	}
	if _, ok, _ := lookup(globex, token); ok {
		t.Error("acme's admin session opened globex")
	}
	userCookie := cookie
	userCookie.Kind = session.User
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: "admin_session", Value: token})
	if _, _, ok, _ := session.LookupWith(userCookie, httptest.NewRecorder(), r.WithContext(web.WithSite(r.Context(), acme)), subject); ok {
		t.Error("an admin session opened as a user session")
	}

	// Its account gone, the session opens nothing and the cookie is cleared.
	if _, err := pool.Exec(ctx, `DELETE FROM site_admins WHERE site_id = $1 AND id = $2`, acme.ID, adminID); err != nil {
		t.Fatal(err)
	}
	if _, ok, w := lookup(acme, token); ok || !strings.Contains(w.Header().Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("the session of a removed admin: ok %v, Set-Cookie %q; want false and the cookie cleared", ok, w.Header().Get("Set-Cookie"))
	}

	// A globex session naming acme's other admin's id is no session: the
	// account is read on the session's own site only.
	var acmeOther, globexAdmin int64
	if err := pool.QueryRow(ctx, `INSERT INTO site_admins (site_id, email, password_hash) VALUES ($1, 'second@acme.test', 'x') RETURNING id`,
		acme.ID).Scan(&acmeOther); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT id FROM site_admins WHERE site_id = $1`, globex.ID).Scan(&globexAdmin); err != nil {
		t.Fatal(err)
	}
	crossed, err := store.Create(ctx, nil, globex.ID, session.Admin, acmeOther, session.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if found, ok, _ := lookup(globex, crossed); ok {
		t.Errorf("a globex session of acme's admin %d opened as %+v", acmeOther, found.Admin)
	}

	// Each lookup moves last_seen_at (once a minute) as Lookup does: a
	// session in use outlives its first idle deadline; left idle, it ends.
	other, err := store.Create(ctx, nil, globex.ID, session.Admin, globexAdmin, session.AdminPolicy)
	if err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(session.AdminPolicy.Idle - time.Minute)
	if found, ok, _ := lookup(globex, other); !ok || found.Email != "admin@globex.test" {
		t.Fatalf("globex's admin session before its idle deadline: %+v, %v", found, ok)
	}
	c.t = c.t.Add(2 * time.Minute) // past the first deadline, within the moved one
	if _, ok, _ := lookup(globex, other); !ok {
		t.Error("a session in use ended at its first idle deadline: the lookup did not record the activity")
	}
	c.t = c.t.Add(session.AdminPolicy.Idle + time.Second)
	if _, ok, _ := lookup(globex, other); ok {
		t.Error("an idle session was accepted")
	}
}

func TestListOfReadsOnlyTheListedAccountsLiveSessions(t *testing.T) {
	ctx := context.Background()
	store, c, acme, globex := setup(t)
	p := session.UserPolicy
	create := func(siteID, subject int64) {
		t.Helper()
		if _, err := store.Create(ctx, nil, siteID, session.User, subject, p); err != nil {
			t.Fatal(err)
		}
	}
	create(acme.ID, 1)
	c.t = c.t.Add(time.Minute)
	create(acme.ID, 1)
	create(acme.ID, 2)
	create(acme.ID, 3)
	create(globex.ID, 2)
	if _, err := store.Create(ctx, nil, acme.ID, session.Admin, 2, session.AdminPolicy); err != nil {
		t.Fatal(err)
	}

	got, err := store.ListOf(ctx, acme.ID, session.User, []int64{1, 2, 4}, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[1]) != 2 || len(got[2]) != 1 || got[3] != nil {
		t.Fatalf("ListOf(acme, 1 2 4) = %v; want two sessions of 1 and one of 2, none of 3", got)
	}
	if !got[1][0].CreatedAt.After(got[1][1].CreatedAt) {
		t.Errorf("account 1's sessions are not newest first: %v", got[1])
	}
	for _, s := range append(got[1], got[2]...) {
		if s.SiteID != acme.ID || s.Kind != session.User {
			t.Errorf("listed %+v: another site's or kind's", s)
		}
	}
	if got, err := store.ListOf(ctx, acme.ID, session.User, nil, p); err != nil || len(got) != 0 {
		t.Errorf("no accounts: %v, %v; want none", got, err)
	}
	c.t = c.t.Add(p.Idle + time.Minute)
	if got, err := store.ListOf(ctx, acme.ID, session.User, []int64{1, 2}, p); err != nil || len(got) != 0 {
		t.Errorf("idle past the policy: %v, %v; want none", got, err)
	}
}
