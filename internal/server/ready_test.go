package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// flakyProxy forwards TCP to PostgreSQL and can be cut and restored, to play
// a database outage, or frozen (connections stay open, nothing is passed
// on), to play a database that stops answering.
type flakyProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	thawed chan struct{} // closed while not frozen
}

func startProxy(t *testing.T, target string) *flakyProxy {
	p := &flakyProxy{t: t, target: target, thawed: make(chan struct{})}
	close(p.thawed)
	p.listen("127.0.0.1:0")
	t.Cleanup(func() { p.thaw(); p.cut() })
	return p
}

func (p *flakyProxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { p.pass(up, c); up.Close() }()
			go func() { p.pass(c, up); c.Close() }()
		}
	}()
}

func (p *flakyProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *flakyProxy) restore() { p.listen(p.addr) }

// pass copies from src to dst, holding what it read while the proxy is
// frozen.
func (p *flakyProxy) pass(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			thawed := p.thawed
			p.mu.Unlock()
			<-thawed
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// freeze stops passing anything on, connections left open: the database
// accepts and never answers.
func (p *flakyProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.thawed = make(chan struct{})
}

func (p *flakyProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

// proxiedPool is a fresh database reached through a flakyProxy, with the
// pool settings the portal uses (connect timeout 1 s).
func proxiedPool(t *testing.T) (*flakyProxy, *pgxpool.Pool) {
	t.Helper()
	cfg, err := database.PoolConfig(dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, "5432"))
	host, port, _ := net.SplitHostPort(proxy.addr)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, parsePort(t, port)
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// Before the pool closes (cleanups run last first): a request still
	// stuck on a frozen proxy would keep it from closing.
	t.Cleanup(proxy.thaw)
	return proxy, pool
}

func TestReadyzFlipsWhileTheDatabaseIsUnreachable(t *testing.T) {
	proxy, pool := proxiedPool(t)
	p := newPortal(t, portaltest.WithPool(pool))

	ready := func() int {
		resp := p.do("GET", "localhost:8080", "/readyz", nil)
		return resp.StatusCode
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("before outage: %d", got)
	}
	proxy.cut()
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Fatalf("during outage: %d, want 503", got)
	}
	if resp := p.do("GET", "localhost:8080", "/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz during outage: %d (the process is alive)", resp.StatusCode)
	}
	// A site page during the outage says to try again shortly: 503 with
	// Retry-After, not a 500.
	resp := p.do("GET", acme, "/admin", nil)
	if body := readBody(t, resp); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "try again") {
		t.Fatalf("site page during outage: %d Retry-After %q %.300s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	proxy.restore()
	deadline := time.Now().Add(10 * time.Second)
	for ready() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func parsePort(t *testing.T, s string) uint16 {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}
