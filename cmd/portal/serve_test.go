package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// servingPortal is `portal serve` running in the test, on ports of its own.
type servingPortal struct {
	t       *testing.T
	addr    string // where the sites are served
	metrics string
	stop    context.CancelFunc // SIGTERM
	done    chan error
	logs    *portaltest.Logs
}

// startServe runs `portal serve args…` with the test's environment (and
// extraEnv) on free loopback ports, and returns once it listens.
func (tc *testCLI) startServe(extraEnv map[string]string, args ...string) *servingPortal {
	tc.t.Helper()
	env := map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_METRICS_ADDR": "127.0.0.1:0"}
	for k, v := range extraEnv {
		env[k] = v
	}
	s := &servingPortal{t: tc.t, done: make(chan error, 1), logs: &portaltest.Logs{}}
	c := tc.cli(env, io.Discard, s.logs)
	listening := make(chan struct{})
	c.listening = func(site, metrics net.Addr) {
		s.addr, s.metrics = site.String(), metrics.String()
		close(listening)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { s.done <- c.run(ctx, append([]string{"serve"}, args...)) }()
	tc.t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			tc.t.Error("serve did not stop")
		}
	})
	select {
	case <-listening:
	case err := <-s.done:
		s.done <- err // for the cleanup
		tc.t.Fatalf("serve ended before listening: %v", err)
	case <-time.After(5 * time.Second):
		tc.t.Fatal("serve is not listening after 5 seconds")
	}
	return s
}

var client = &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// get asks the portal for path with the Host header host; status 0 means
// nothing answered.
func (s *servingPortal) get(host, path string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", "http://"+s.addr+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls path until it answers status with a body containing
// saying, for up to limit.
func (s *servingPortal) waitFor(path string, status int, saying string, limit time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got, body := s.get("localhost:8080", path)
		if got == status && strings.Contains(body, saying) {
			return body
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s still answers %d %q after %v, want %d %q; log:\n%s", path, got, body, limit, status, saying, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forwarder is PostgreSQL coming up at an address of its own: it forwards
// to the test server once started.
type forwarder struct {
	addr     string
	ln       net.Listener
	accepted atomic.Int64 // connections forwarded
}

// freeAddr is a loopback address nothing listens on (yet).
func freeAddr(t *testing.T) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(portaltest.FreePort(t)))
}

func (f *forwarder) start(t *testing.T, target string) {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		t.Fatalf("PostgreSQL's stand-in cannot come up at %s: %v", f.addr, err)
	}
	f.ln = ln
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepted.Add(1)
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func TestServeListensAtOnceWhileTheDatabaseIsDownAndIsReadyWhenItComesUp(t *testing.T) {
	tc := newTestCLI(t)
	// An empty database, reached through an address where nothing answers
	// yet: PostgreSQL is down.
	real, err := pgx.ParseConfig(dbtest.NewEmptyURL(t))
	if err != nil {
		t.Fatal(err)
	}
	db := &forwarder{addr: freeAddr(t)}
	tc.env["DATABASE_URL"] = "postgres://" + real.User + "@" + db.addr + "/" + real.Database + "?sslmode=disable"

	start := time.Now()
	s := tc.startServe(nil)
	if status, body := s.get("localhost:8080", "/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthz with the database down: %d %q", status, body)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("healthz answered %v after start, want at once", elapsed)
	}
	s.waitFor("/readyz", http.StatusServiceUnavailable, "waiting for the database", time.Second)
	if status, body := s.get("acme.localhost:8080", "/admin"); status != http.StatusServiceUnavailable || !strings.Contains(body, "starting") {
		t.Fatalf("a page with the database down: %d %.300s", status, body)
	}

	// It tried, failed and said so before PostgreSQL comes up (on a busy
	// machine the first try may start late: wait for it).
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.logs.String(), "database not reachable yet"); {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say it waited:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// PostgreSQL comes up: migrated and ready within a few seconds (the
	// retry is capped at 3 s).
	db.start(t, net.JoinHostPort(real.Host, strconv.Itoa(int(real.Port))))
	s.waitFor("/readyz", http.StatusOK, "ready", 15*time.Second)
	if status, _ := s.get("nobody.localhost:8080", "/admin"); status != http.StatusNotFound {
		t.Fatalf("an unknown site once ready: %d, want the 404 page", status)
	}
	if out, _, code := tc.run(nil, "migrate", "version"); code != 0 || out == "schema version 0\n" {
		t.Fatalf("serve did not migrate: %d %q", code, out)
	}
}

func TestServeNoMigrateOnAnUnmigratedDatabaseIsNotReadyAndSaysWhy(t *testing.T) {
	tc := newTestCLI(t)
	tc.env["DATABASE_URL"] = dbtest.NewEmptyURL(t)
	s := tc.startServe(nil, "--no-migrate")
	s.waitFor("/readyz", http.StatusServiceUnavailable, "the database is not migrated: run `portal migrate up`", 5*time.Second)
	if status, _ := s.get("localhost:8080", "/healthz"); status != http.StatusOK {
		t.Fatalf("healthz: %d", status)
	}
	// Once someone migrates, the portal becomes ready by itself.
	if _, errOut, code := tc.run(nil, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: %s", errOut)
	}
	s.waitFor("/readyz", http.StatusOK, "ready", 10*time.Second)
}

func TestServeDrainsOnSIGTERM(t *testing.T) {
	tc := newTestCLI(t)
	tc.run(goodPassword, "site", "create", "acme", "--admin-email", "admin@acme.test")
	const grace = 2 * time.Second
	s := tc.startServe(map[string]string{"PORTAL_SHUTDOWN_GRACE": grace.String()})
	s.waitFor("/readyz", http.StatusOK, "ready", 10*time.Second)

	s.stop() // SIGTERM
	stopped := time.Now()
	s.waitFor("/readyz", http.StatusServiceUnavailable, "shutting down", 200*time.Millisecond)
	// During the grace period everything else is still served.
	for time.Since(stopped) < grace-500*time.Millisecond {
		if status, _ := s.get("acme.localhost:8080", "/admin"); status != http.StatusOK {
			t.Fatalf("a site page %v into the grace period: %d", time.Since(stopped), status)
		}
		if status, _ := s.get("localhost:8080", "/healthz"); status != http.StatusOK {
			t.Fatalf("healthz %v into the grace period: %d", time.Since(stopped), status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
		s.done <- nil // for the cleanup
	case <-time.After(grace + 10*time.Second):
		t.Fatal("serve did not stop after the grace period")
	}
	if elapsed := time.Since(stopped); elapsed < grace {
		t.Fatalf("serve stopped %v after SIGTERM, before the %v grace period ended", elapsed, grace)
	}
	if status, _ := s.get("localhost:8080", "/healthz"); status != 0 {
		t.Fatalf("still listening after shutdown: %d", status)
	}
}

func TestEmptyOrMalformedListenAddressesAreConfigurationErrors(t *testing.T) {
	tc := newTestCLI(t)
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"--addr empty", nil, []string{"--addr", ""}, "PORTAL_ADDR"},
		{"--metrics-addr empty", nil, []string{"--metrics-addr", ""}, "PORTAL_METRICS_ADDR"},
		{"PORTAL_ADDR empty", map[string]string{"PORTAL_ADDR": ""}, nil, "PORTAL_ADDR"},
		{"PORTAL_METRICS_ADDR empty", map[string]string{"PORTAL_METRICS_ADDR": ""}, nil, "PORTAL_METRICS_ADDR"},
		{"no port", nil, []string{"--metrics-addr", "127.0.0.1"}, "HOST:PORT"},
		{"port only, no colon", map[string]string{"PORTAL_ADDR": "8080"}, nil, "HOST:PORT"},
		{"named port", nil, []string{"--addr", "localhost:http"}, "a number"},
		{"port out of range", nil, []string{"--metrics-addr", "127.0.0.1:99999"}, "a number"},
		{"bad host", nil, []string{"--addr", "bad host!:8080"}, "neither an IP address nor a host name"},
		{"same address twice", nil, []string{"--addr", "127.0.0.1:8181", "--metrics-addr", "127.0.0.1:8181"}, "an address of its own"},
		{"bad grace", map[string]string{"PORTAL_SHUTDOWN_GRACE": "soon"}, nil, "PORTAL_SHUTDOWN_GRACE"},
		{"bad database URL", map[string]string{"DATABASE_URL": "postgres://%zz"}, nil, "DATABASE_URL"},
		{"bad direct database URL", map[string]string{"PORTAL_DIRECT_DATABASE_URL": "postgres://%zz"}, nil, "PORTAL_DIRECT_DATABASE_URL"},
		{"direct database name not UTF-8", map[string]string{"PORTAL_DIRECT_DATABASE_URL": "postgres://postgres@127.0.0.1:5432/a%FFb"}, nil, "PORTAL_DIRECT_DATABASE_URL"},
		{"database name not UTF-8", map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/a%FFb"}, nil, "DATABASE_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := tc.run(c.env, append([]string{"serve"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("status %d, %q; want 2 and %q", code, errOut, c.want)
			}
		})
	}
}

// TestServeListensAndMigratesThroughTheDirectDatabaseURL: with DATABASE_URL
// on a transaction-pooling proxy, what needs a session of its own (the
// migrations at start, the LISTEN connections) goes to
// PORTAL_DIRECT_DATABASE_URL — here a stand-in that counts connections.
func TestServeListensAndMigratesThroughTheDirectDatabaseURL(t *testing.T) {
	tc := newTestCLI(t)
	cfg, err := pgx.ParseConfig(tc.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	direct := &forwarder{addr: freeAddr(t)}
	direct.start(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	host, port, _ := net.SplitHostPort(direct.addr)
	directURL := "postgres://" + cfg.User + "@" + net.JoinHostPort(host, port) + "/" + cfg.Database + "?sslmode=disable"

	s := tc.startServe(map[string]string{"PORTAL_DIRECT_DATABASE_URL": directURL})
	s.waitFor("/readyz", http.StatusOK, "ready", 15*time.Second)
	// The configuration cache, the meetings' watcher: each LISTENs on a
	// connection of its own to the direct address, and the migrations ran
	// there before them.
	deadline := time.Now().Add(5 * time.Second)
	for direct.accepted.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections reached PORTAL_DIRECT_DATABASE_URL, want the migrations' and two LISTENs at least", direct.accepted.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPprofIsOnlyOnTheMetricsAddressAndOnlyWhenAsked: PORTAL_PPROF=1 serves
// the profiler beside /metrics; never on the site hosts, and not without it.
func TestPprofIsOnlyOnTheMetricsAddressAndOnlyWhenAsked(t *testing.T) {
	for _, on := range []bool{false, true} {
		tc := newTestCLI(t)
		env := map[string]string{}
		if on {
			env["PORTAL_PPROF"] = "1"
		}
		s := tc.startServe(env)
		s.waitFor("/readyz", http.StatusOK, "ready", 15*time.Second)
		resp, err := client.Get("http://" + s.metrics + "/debug/pprof/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{false: http.StatusNotFound, true: http.StatusOK}[on]; resp.StatusCode != want {
			t.Errorf("PORTAL_PPROF %v: /debug/pprof/ on the metrics address answered %d, want %d", on, resp.StatusCode, want)
		}
		for _, host := range []string{"localhost:8080", "acme.localhost:8080"} {
			if status, _ := s.get(host, "/debug/pprof/"); status == http.StatusOK {
				t.Errorf("PORTAL_PPROF %v: /debug/pprof/ answered 200 on %s", on, host)
			}
		}
	}
}
