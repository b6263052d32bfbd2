package database_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

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
	_, err = database.OpenWithRetry(ctx, "postgres://postgres@"+addr+"/portal?sslmode=disable&connect_timeout=1", log)
	if err == nil || !strings.Contains(err.Error(), "gave up waiting for the database") {
		t.Fatalf("err = %v", err)
	}
	if n := strings.Count(logs.String(), "database not reachable yet, retrying"); n < 2 {
		t.Fatalf("%d retry lines in the log, want several:\n%s", n, logs.String())
	}
}

func TestOpenWithRetryConnectsToAReachableDatabase(t *testing.T) {
	pool, err := database.OpenWithRetry(context.Background(), dbtest.NewURL(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	if _, err := database.OpenWithRetry(context.Background(), "postgres://%zz", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a malformed URL was retried instead of refused")
	}
}
