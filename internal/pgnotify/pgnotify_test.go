package pgnotify_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/pgnotify"
)

func TestListenerHearsNotificationsAndReconnectsAfterALostConnection(t *testing.T) {
	pool := dbtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	connected := make(chan struct{}, 10)
	disconnected := make(chan struct{}, 10)
	heard := make(chan string, 10)
	l := pgnotify.Listener{
		Config: pool.Config().ConnConfig.Copy(), Channels: []string{"test_channel"}, Retry: 50 * time.Millisecond,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Connected:    func() { connected <- struct{}{} },
		Disconnected: func() { disconnected <- struct{}{} },
		Notified:     func(n *pgconn.Notification) { heard <- n.Payload },
	}
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5 s", what)
		}
	}
	hear := func(want string) {
		t.Helper()
		if _, err := pool.Exec(ctx, `SELECT pg_notify('test_channel', $1)`, want); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-heard:
			if got != want {
				t.Fatalf("heard %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q not heard within 5 s", want)
		}
	}
	wait(connected, "connection")
	hear("first")

	// The listening connection is killed (a database restart, a proxy
	// timeout): the listener says so, reconnects, and hears again.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	wait(disconnected, "disconnection")
	wait(connected, "reconnection")
	hear("second")

	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
