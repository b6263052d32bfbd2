package server_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/server"
)

// silentDatabase accepts TCP connections and never answers: a PostgreSQL
// that hangs (a full disk, a stuck server, a black-holed network).
func silentDatabase(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// requestTimeout is the deadline of the test portals here; the portal's
// own default is 10 seconds.
const requestTimeout = 1500 * time.Millisecond

func withRequestTimeout(a *app.App) { a.RequestTimeout = requestTimeout }

func TestAHungDatabaseGetsA503WithRetryAfterWithinTheDeadline(t *testing.T) {
	// The pool as the portal builds it (connect_timeout 5 s and the rest),
	// on a database that accepts and never answers.
	cfg, err := database.PoolConfig("postgres://postgres@" + silentDatabase(t) + "/portal?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	p := &portal{Portal: portaltest.New(t, portaltest.WithPool(pool), portaltest.Configure(withRequestTimeout)), t: t}

	for _, path := range []string{"/admin", "/", "/saml/metadata"} {
		resp := answeredWithinTheDeadline(t, p.Portal, portaltest.Host("acme"), path)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "5" ||
			!strings.Contains(body, "Please try again shortly") {
			t.Fatalf("GET %s on a hung database: %d Retry-After %q %.300s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	// The probes: alive, not ready.
	if resp, _ := p.Get("localhost:8080", "/healthz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	if resp, _ := p.Get("localhost:8080", "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %d", resp.StatusCode)
	}
}

func TestADatabaseThatStopsAnsweringMidRunGetsA503AndRecovers(t *testing.T) {
	proxy, pool := proxiedPool(t)
	logs := &portaltest.Logs{}
	p := newPortal(t, portaltest.WithPool(pool), portaltest.Configure(withRequestTimeout),
		portaltest.WithLog(slog.New(slog.NewTextHandler(logs, nil))))
	// A signed-in admin's page reads the session from the database (the
	// site itself may be kept in memory, and the sign-in form needs
	// nothing else).
	admin := p.SignInAdmin(acme, "admin@acme.test")
	if resp := p.do("GET", acme, "/admin", nil, admin); resp.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", resp.StatusCode)
	}

	proxy.freeze()
	resp := answeredWithinTheDeadline(t, p.Portal, acme, "/admin", admin)
	if body := readBody(t, resp); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("while the database hangs: %d %q %.300s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	logged := logs.String()
	if !strings.Contains(logged, "storage unavailable") || strings.Contains(logged, "request failed") {
		t.Fatalf("the log does not call it an outage:\n%s", logged)
	}

	proxy.thaw()
	deadline := time.Now().Add(10 * time.Second)
	for p.do("GET", acme, "/admin", nil, admin).StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the site did not recover once the database answered again")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answeredWithinTheDeadline serves GET path and fails the test unless the
// answer comes within the request deadline (and a second for the rest).
func answeredWithinTheDeadline(t *testing.T, p *portaltest.Portal, host, path string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	answered := make(chan *http.Response, 1)
	go func() { answered <- p.Do("GET", host, path, nil, cookies...) }()
	select {
	case resp := <-answered:
		return resp
	case <-time.After(requestTimeout + time.Second):
		t.Fatalf("GET %s: no answer within the %v deadline", path, requestTimeout)
		return nil
	}
}

func TestFrontAnswersTheProbesBeforeThePortalIsBuiltAndDrains(t *testing.T) {
	front, err := server.NewFront(slog.New(slog.DiscardHandler), false)
	if err != nil {
		t.Fatal(err)
	}
	get := func(host, path string) (*http.Response, string) {
		t.Helper()
		return serveFront(t, front, host, path)
	}

	// Starting: alive, not ready, pages say to come back.
	if resp, body := get("anything.example", "/healthz"); resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthz while starting: %d %q", resp.StatusCode, body)
	}
	front.NotReady(server.ReasonNoDatabase)
	if resp, body := get("anything.example", "/readyz"); resp.StatusCode != http.StatusServiceUnavailable ||
		!strings.Contains(body, "waiting for the database") {
		t.Fatalf("readyz while starting: %d %q", resp.StatusCode, body)
	}
	resp, body := get(acme, "/admin")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "The portal is starting") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("a page while starting: %d %v %.300s", resp.StatusCode, resp.Header, body)
	}
	if m := regexpStylesheet.FindStringSubmatch(body); m == nil {
		t.Fatalf("no stylesheet on the starting page: %.300s", body)
	} else if resp, _ := get(acme, m[1]); resp.StatusCode != http.StatusOK {
		t.Fatalf("the starting page's stylesheet %s: %d", m[1], resp.StatusCode)
	}

	// Built: the portal answers everything.
	p := newPortal(t)
	front.Serve(p.Server)
	if resp, body := get(acme, "/readyz"); resp.StatusCode != http.StatusOK || body != "ready\n" {
		t.Fatalf("readyz once served: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(acme, "/admin"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a page once served: %d", resp.StatusCode)
	}

	// Draining: not ready, still serving.
	front.Drain()
	if resp, body := get(acme, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
		t.Fatalf("readyz while draining: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(acme, "/admin"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a page while draining: %d", resp.StatusCode)
	}
	if resp, _ := get(acme, "/healthz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz while draining: %d", resp.StatusCode)
	}
}
