package meetings

import (
	"context"
	"io"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/mail/mailtest"
	"github.com/meetings-portal/portal/internal/users"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a database with two sites, users on them, a Store whose
// invitations go to an in-process SMTP server, and a clock at Monday 16
// March 2026, 08:00 UTC.
type fixture struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	clock  *testClock
	store  *Store
	outbox *mail.Outbox
	worker *mail.Worker
	smtp   *mailtest.Server

	site, otherSite Site
	host, invitee   users.User // invitee is invited by e-mail in scheduled()
	member          users.User // another user of the site
	attendee        users.User // role attendee
	stranger        users.User // a user of the other site
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ctx: context.Background(), pool: dbtest.New(t), clock: &testClock{t: time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC)}, smtp: mailtest.NewServer(t)}
	f.site = Site{ID: f.newSite(t, "acme"), URL: "https://acme.example.com"}
	f.otherSite = Site{ID: f.newSite(t, "other"), URL: "https://other.example.com"}
	f.host = f.newUser(t, f.site.ID, "ann.lee@acme.example.com", "Ann", "Lee", "host")
	f.invitee = f.newUser(t, f.site.ID, "bob@acme.example.com", "Bob", "Ray", "host")
	f.member = f.newUser(t, f.site.ID, "cy@acme.example.com", "Cy", "Doe", "host")
	f.attendee = f.newUser(t, f.site.ID, "dee@acme.example.com", "Dee", "Fox", "attendee")
	f.stranger = f.newUser(t, f.otherSite.ID, "bob@acme.example.com", "Bob", "Elsewhere", "host")
	f.outbox = mail.NewOutbox(f.pool, f.clock.now, true)
	f.store = NewStore(f.pool, f.outbox, f.clock.now)
	f.worker = &mail.Worker{
		Pool: f.pool, Now: f.clock.now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		From:   &netmail.Address{Name: "Meetings", Address: "meetings@acme.example.com"},
		Sender: &mail.SMTPSender{Config: mail.SMTPConfig{Addr: f.smtp.Addr}, Timeout: 10 * time.Second},
	}
	return f
}

func (f *fixture) newSite(t *testing.T, name string) int64 {
	t.Helper()
	var id int64
	if err := f.pool.QueryRow(f.ctx, `INSERT INTO sites (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) newUser(t *testing.T, siteID int64, email, first, last, role string) users.User {
	t.Helper()
	u := users.User{SiteID: siteID, UID: email, Email: email, FirstName: first, LastName: last, Role: role}
	if err := f.pool.QueryRow(f.ctx, `
INSERT INTO users (site_id, uid, email, first_name, last_name, role, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, now(), now()) RETURNING id`, siteID, u.UID, u.Email, u.FirstName, u.LastName, role).Scan(&u.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

// form validates a Schedule form in loc at the fixture's clock.
func (f *fixture) form(t *testing.T, loc *time.Location, values url.Values) Details {
	t.Helper()
	form := NewScheduleForm(values)
	if errs := form.Validate(f.clock.now(), loc); len(errs) > 0 {
		t.Fatalf("form refused: %v", errs)
	}
	return form.Details()
}

// scheduled schedules a meeting by the host, in Berlin, inviting invitee.
func (f *fixture) scheduled(t *testing.T, changes url.Values) Meeting {
	t.Helper()
	values := url.Values{"topic": {"Weekly sync"}, "date": {"2026-03-18"}, "start_time": {"10:00"}, "duration": {"30"}, "invitees": {f.invitee.Email}}
	for k, v := range changes {
		values[k] = v
	}
	m, err := f.store.Schedule(f.ctx, f.site, ViewerOf(f.host), f.form(t, mustLoad(t, "Europe/Berlin"), values))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) sendMail(t *testing.T) {
	t.Helper()
	if _, err := f.worker.SendDue(f.ctx); err != nil {
		t.Fatal(err)
	}
}
