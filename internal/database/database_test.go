package database_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
)

func TestOpenWithRetryWaitsAndSaysSoWhileTheDatabaseIsDown(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var told []error
	_, err = database.OpenWithRetry(ctx, "postgres://postgres@"+addr+"/portal?sslmode=disable&connect_timeout=1", log,
		func(err error) { told = append(told, err) })
	if err == nil || !strings.Contains(err.Error(), "gave up waiting for the database") {
		t.Fatalf("err = %v", err)
	}
	// The backoff is capped at a few seconds and starts at 250 ms: in two
	// seconds there are several attempts, each logged and reported.
	if n := strings.Count(logs.String(), "database not reachable yet, retrying"); n < 3 {
		t.Fatalf("%d retry lines in the log, want several:\n%s", n, logs.String())
	}
	if len(told) < 3 || !database.Unavailable(told[0]) {
		t.Fatalf("waiting was told %d times (%v), want several unavailable errors", len(told), told)
	}
}

func TestOpenWithRetryConnectsToAReachableDatabase(t *testing.T) {
	pool, err := database.OpenWithRetry(context.Background(), dbtest.NewURL(t), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if _, err := database.OpenWithRetry(context.Background(), "postgres://%zz", slog.New(slog.DiscardHandler), nil); err == nil {
		t.Fatal("a malformed URL was retried instead of refused")
	}
}

func TestBackoffGrowsToItsCapWithJitter(t *testing.T) {
	b := database.NewBackoff()
	var waits []time.Duration
	for range 12 {
		waits = append(waits, b.Next())
	}
	if waits[0] < 125*time.Millisecond || waits[0] > 250*time.Millisecond {
		t.Errorf("first wait %v, want 125–250 ms", waits[0])
	}
	distinct := map[time.Duration]bool{}
	for _, w := range waits[6:] {
		if w < 1500*time.Millisecond || w > 3*time.Second {
			t.Errorf("wait %v after many failures, want 1.5–3 s (capped, jittered)", w)
		}
		distinct[w] = true
	}
	if len(distinct) < 2 {
		t.Errorf("waits %v are all the same: no jitter", waits[6:])
	}
}

func TestPoolConfigSetsTimeoutsUnlessTheURLDoes(t *testing.T) {
	cfg, err := database.PoolConfig("postgres://postgres@127.0.0.1:5432/portal?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ConnConfig.ConnectTimeout; got != database.DefaultConnectTimeout {
		t.Errorf("connect timeout %v, want %v", got, database.DefaultConnectTimeout)
	}
	params := cfg.ConnConfig.RuntimeParams
	if params["statement_timeout"] != database.DefaultStatementTimeout ||
		params["idle_in_transaction_session_timeout"] != database.DefaultIdleInTransactionTimeout {
		t.Errorf("runtime parameters %v lack the default timeouts", params)
	}

	cfg, err = database.PoolConfig("postgres://postgres@127.0.0.1:5432/portal?sslmode=disable" +
		"&connect_timeout=2&statement_timeout=30s&idle_in_transaction_session_timeout=1min")
	if err != nil {
		t.Fatal(err)
	}
	params = cfg.ConnConfig.RuntimeParams
	if cfg.ConnConfig.ConnectTimeout != 2*time.Second || params["statement_timeout"] != "30s" ||
		params["idle_in_transaction_session_timeout"] != "1min" {
		t.Errorf("the URL's own timeouts were not kept: %v %v", cfg.ConnConfig.ConnectTimeout, params)
	}
}

func TestStatementTimeoutIsEnforcedByTheServer(t *testing.T) {
	pool, err := database.Open(context.Background(), dbtest.NewURL(t)+"&statement_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var show string
	if err := pool.QueryRow(context.Background(), "SHOW idle_in_transaction_session_timeout").Scan(&show); err != nil || show != "15s" {
		t.Fatalf("idle_in_transaction_session_timeout = %q, %v; want the default 15s", show, err)
	}
	_, err = pool.Exec(context.Background(), "SELECT pg_sleep(5)")
	if !database.Unavailable(err) {
		t.Fatalf("a statement past statement_timeout: %v, want an error Unavailable recognises", err)
	}
}

func TestUnavailableTellsOutagesFromMistakes(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"deadline", fmt.Errorf("look up site: %w", context.DeadlineExceeded), true},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"lost mid-query", fmt.Errorf("query: %w", io.ErrUnexpectedEOF), true},
		{"connection closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"connection exception", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"undefined table", &pgconn.PgError{Code: "42P01"}, false},
		{"a plain bug", errors.New("template: no such field"), false},
		{"canceled by the client", context.Canceled, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := database.Unavailable(c.err); got != c.want {
				t.Fatalf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}
