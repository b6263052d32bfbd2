// Package portaltest runs the whole portal in-process for tests: a fresh
// database, the stores and services built by app.New (with the meetings'
// SFU on loopback), the HTTP handler of server.New, a fixed sealing key, a
// discard logger and a clock the test can move. Requests are served without a network, as a browser on the
// site's own origin would send them.
//
//	p := portaltest.New(t)
//	acme := p.CreateSite("acme")
//	admin := p.SignInAdmin(portaltest.Host("acme"), portaltest.AdminEmail("acme"))
//	resp := p.Do("GET", portaltest.Host("acme"), "/admin/sso", nil, admin)
package portaltest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/server"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/users"
)

// BaseURL is the portal's base URL unless the test sets another: site NAME
// is at http://NAME.localhost:8080.
const BaseURL = "http://localhost:8080"

// AdminPassword is the password of every admin CreateSite makes.
const AdminPassword = "a good long password"

// ClientAddr is the address requests come from.
const ClientAddr = "192.0.2.10:40000"

// Host is the Host header of site name under BaseURL.
func Host(name string) string { return name + ".localhost:8080" }

// AdminEmail is the first admin CreateSite makes for site name.
func AdminEmail(name string) string { return "admin@" + name + ".test" }

// Key is the sealing key of every test portal (PORTAL_SECRET_KEY).
var Key = bytes.Repeat([]byte{7}, seal.KeySize)

// Portal is a running portal.
type Portal struct {
	T      testing.TB
	App    *app.App
	Server *server.Server
	Clock  *Clock
}

// Option changes how the portal is built.
type Option func(*setup)

type setup struct {
	baseURL   string
	pool      *pgxpool.Pool
	log       *slog.Logger
	smtp      *mail.SMTPConfig
	media     meetings.MediaConfig
	configure []func(*app.App)
}

// WithBaseURL serves the portal at another base URL (https, a port of a
// real listener).
func WithBaseURL(u string) Option { return func(s *setup) { s.baseURL = u } }

// WithPool uses the test's own pool instead of a fresh database.
func WithPool(pool *pgxpool.Pool) Option { return func(s *setup) { s.pool = pool } }

// WithSMTP sends the portal's mail through the SMTP server at addr (a
// mailtest.Server), with a mail worker running as `portal serve` runs one.
func WithSMTP(addr string) Option {
	return func(s *setup) { s.smtp = &mail.SMTPConfig{Addr: addr} }
}

// WithInternalURL is where other portals of the test (WithPool) reach this
// one's server, which must then listen there: they forward it the media
// signalling of the meetings it hosts (PORTAL_INTERNAL_URL).
func WithInternalURL(u string) Option { return func(s *setup) { s.media.InternalURL = u } }

// WithLog sends the portal's log to log instead of discarding it.
func WithLog(log *slog.Logger) Option { return func(s *setup) { s.log = log } }

// Configure changes the built portal before its handler is made: a lower
// rate limit, a fake metadata fetcher, a development IdP.
func Configure(f func(*app.App)) Option {
	return func(s *setup) { s.configure = append(s.configure, f) }
}

// New builds the portal over a fresh, migrated database (or the pool of
// WithPool), and runs what `portal serve` runs beside the server: the
// meetings Watcher, the media heartbeat and, WithSMTP, the mail worker. Two portals on one pool
// are two portal processes on one database.
func New(t testing.TB, options ...Option) *Portal {
	t.Helper()
	s := setup{baseURL: BaseURL, log: slog.New(slog.DiscardHandler)}
	for _, o := range options {
		o(&s)
	}
	if s.pool == nil {
		s.pool = dbtest.New(t)
	}
	hosts, err := sites.ParseBaseURL(s.baseURL)
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(Key)
	if err != nil {
		t.Fatal(err)
	}
	clock := &Clock{}
	// The SFU listens on loopback only, on free ports.
	s.media.SFU.ListenIP = "127.0.0.1"
	a := app.New(s.pool, app.Config{Hosts: hosts, Box: box, Log: s.log, Now: clock.Now, SMTP: s.smtp, Media: s.media})
	for _, f := range s.configure {
		f(a)
	}
	if err := a.StartMedia(); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A test of a database outage cannot release the media rooms: the
		// claims lapse by themselves, as a crashed process's do.
		if err := a.Media.Close(context.Background()); err != nil && !database.Unavailable(err) {
			t.Errorf("close the media: %v", err)
		}
	})
	runInBackground(t, a.Watcher.Run)
	// Sites and SSO configuration are kept in memory as in production, so
	// that tests see what a process that caches serves.
	runInBackground(t, a.WatchConfig)
	runInBackground(t, a.Media.RunHeartbeat)
	if worker := a.MailWorker(); worker != nil {
		runInBackground(t, worker.Run)
	}
	return &Portal{T: t, App: a, Server: srv, Clock: clock}
}

// runInBackground runs job until the test ends, and waits for it to return
// before the database is dropped (cleanups run last-registered first).
func runInBackground(t testing.TB, job func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// CreateSite makes site name with its admin AdminEmail(name) (password
// AdminPassword) and its SP key, as `portal site create` does.
func (p *Portal) CreateSite(name string) sites.Site {
	p.T.Helper()
	site, err := p.App.CreateSite(context.Background(), name, AdminEmail(name), AdminPassword)
	if err != nil {
		p.T.Fatal(err)
	}
	return site
}

// Serve has the portal answer one request.
func (p *Portal) Serve(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	p.Server.ServeHTTP(rec, req)
	return rec.Result()
}

// Request is a request for host and path as a browser on the site's own
// origin sends it: from ClientAddr, a form (if any) URL-encoded and marked
// same-origin.
func Request(method, host, path string, form url.Values, cookies ...*http.Cookie) *http.Request {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://"+host+path, body)
	req.Host = host
	req.RemoteAddr = ClientAddr
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

// Do serves Request(method, host, path, form, cookies...).
func (p *Portal) Do(method, host, path string, form url.Values, cookies ...*http.Cookie) *http.Response {
	return p.Serve(Request(method, host, path, form, cookies...))
}

// Get serves a GET and returns the response and its body.
func (p *Portal) Get(host, path string, cookies ...*http.Cookie) (*http.Response, string) {
	p.T.Helper()
	resp := p.Do("GET", host, path, nil, cookies...)
	return resp, Body(p.T, resp)
}

// PostForm serves a POST of form and returns the response and its body.
func (p *Portal) PostForm(host, path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	p.T.Helper()
	resp := p.Do("POST", host, path, form, cookies...)
	return resp, Body(p.T, resp)
}

// SignInAdmin signs an admin in on host (password AdminPassword) and
// returns the session cookie.
func (p *Portal) SignInAdmin(host, email string) *http.Cookie {
	p.T.Helper()
	resp := p.Do("POST", host, "/admin/login", url.Values{"email": {email}, "password": {AdminPassword}})
	c := Cookie(resp, "admin_session")
	if c == nil {
		p.T.Fatalf("admin sign-in of %s on %s: status %d, no cookie", email, host, resp.StatusCode)
	}
	return c
}

// SignInUser signs a user of site in, as the ACS does after a sign-in
// through the identity provider (the account is created on first use, with
// role "host" or "attendee"), and returns the session cookie.
func (p *Portal) SignInUser(site sites.Site, email, firstName, lastName, role string) (users.User, *http.Cookie) {
	p.T.Helper()
	u, token, err := p.App.Users.SignIn(context.Background(), site.ID,
		users.Identity{UID: strings.ToLower(email), Email: email, FirstName: firstName, LastName: lastName},
		users.Policy{AutoCreate: true, Role: role})
	if err != nil {
		p.T.Fatal(err)
	}
	return u, &http.Cookie{Name: users.SessionCookie, Value: token}
}

// Metric is the value of the portal's metric name (a gauge or a counter),
// summed over its labels, as /metrics would show it now.
func (p *Portal) Metric(name string) float64 {
	p.T.Helper()
	families, err := p.App.Metrics.Registry.Gather()
	if err != nil {
		p.T.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range f.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
		return sum
	}
	p.T.Fatalf("no metric %s", name)
	return 0
}

// Cookie returns the non-empty cookie called name that resp sets, or nil.
func Cookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

// Body reads a response's body.
func Body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Clock is the portal's clock in a test: the real time until the test sets
// it, then that time, moved only by Advance.
type Clock struct {
	mu  sync.Mutex
	now time.Time // zero: real time
}

// Now is the current time of the portal.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}

// Set stops the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d (stopping it first if it runs).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		c.now = time.Now()
	}
	c.now = c.now.Add(d)
}

// Logs collects what the portal logs, written from its goroutines and read
// by the test: portaltest.WithLog(slog.New(slog.NewTextHandler(logs, nil))).
type Logs struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// FreePort is a loopback port nothing listens on now, for a server a test
// starts in another process.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
