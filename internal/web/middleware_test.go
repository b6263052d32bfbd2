package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientsBelievesForwardedHeadersOnlyFromTrustedProxies(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote, xff, proto string
		wantIP                   string
		wantHTTPS                bool
	}{
		{"direct client", "203.0.113.5:1234", "", "", "203.0.113.5", false},
		{"direct client forging headers", "203.0.113.5:1234", "1.2.3.4", "https", "203.0.113.5", false},
		{"trusted proxy", "10.1.2.3:1234", "203.0.113.7", "https", "203.0.113.7", true},
		{"trusted proxy, client forged a hop", "10.1.2.3:1234", "6.6.6.6, 203.0.113.7", "https", "203.0.113.7", true},
		{"two trusted proxies", "10.1.2.3:1234", "203.0.113.7, 10.9.9.9", "http", "203.0.113.7", false},
		{"single trusted address", "192.0.2.1:1234", "203.0.113.8", "", "203.0.113.8", false},
		{"garbage hop", "10.1.2.3:1234", "not-an-ip", "", "10.1.2.3", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got Client
			h := proxies.Clients(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientFrom(r.Context()) }))
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = c.remote
			if c.xff != "" {
				req.Header.Set("X-Forwarded-For", c.xff)
			}
			if c.proto != "" {
				req.Header.Set("X-Forwarded-Proto", c.proto)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if got.IP != c.wantIP || got.HTTPS != c.wantHTTPS {
				t.Errorf("got %+v, want IP %s https %v", got, c.wantIP, c.wantHTTPS)
			}
		})
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestRecoverShowsAnErrorPageNotAStackTrace(t *testing.T) {
	rd, err := NewRenderer(discardLogger(), testAssets(t))
	if err != nil {
		t.Fatal(err)
	}
	h := RequestIDs(rd.Recover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom at secret.go:42") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if rec.Code != 500 || !containsAll(body, "Something went wrong", rec.Header().Get("X-Request-ID")) || containsAll(body, "secret.go") {
		t.Fatalf("status %d body %s", rec.Code, body)
	}
}

func TestServerErrorOfARequestTheClientAbandonedIsNotAnError(t *testing.T) {
	var logged strings.Builder
	rd, err := NewRenderer(slog.New(slog.NewTextHandler(&logged, nil)), testAssets(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rd.ServerError(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(ctx), fmt.Errorf("query: %w", context.Canceled))
	if strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), "request abandoned by the client") {
		t.Errorf("log: %s", logged.String())
	}
	// A cancellation while the client is still there is a failure.
	logged.Reset()
	rd.ServerError(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), fmt.Errorf("query: %w", context.Canceled))
	if !strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("log: %s", logged.String())
	}
}
