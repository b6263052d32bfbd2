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

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// flakyProxy forwards TCP to PostgreSQL and can be cut and restored, to play
// a database outage.
type flakyProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func startProxy(t *testing.T, target string) *flakyProxy {
	p := &flakyProxy{t: t, target: target}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
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
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
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

func TestReadyzFlipsWhileTheDatabaseIsUnreachable(t *testing.T) {
	url := dbtest.NewURL(t)
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, "5432"))
	host, port, _ := net.SplitHostPort(proxy.addr)
	cfg.ConnConfig.Host = host
	cfg.ConnConfig.Port = parsePort(t, port)
	cfg.ConnConfig.ConnectTimeout = time.Second
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
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
	// A site page during the outage is an error page, not a blank 500.
	resp := p.do("GET", acme, "/admin", nil)
	if body := readBody(t, resp); resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "Something went wrong") {
		t.Fatalf("site page during outage: %d %.200s", resp.StatusCode, body)
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
