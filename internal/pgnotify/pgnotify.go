// Package pgnotify listens for PostgreSQL notifications (LISTEN/NOTIFY) on
// a connection of its own, reconnecting when it is lost: how a change made
// by one portal process reaches the others within a moment.
package pgnotify

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Listener is one listening connection and what it does with what it hears.
type Listener struct {
	// Config is the connection's; a copy of a pool's, so that listening
	// never holds a connection the requests need.
	Config *pgx.ConnConfig
	// Channels are LISTENed to on every (re)connection.
	Channels []string
	// Connected is called each time listening (re)starts: a notification
	// sent while nobody listened is lost, so whatever was learnt from them
	// must be re-read.
	Connected func()
	// Disconnected is called when the connection is lost, before the wait
	// to reconnect: until Connected, changes go unheard.
	Disconnected func()
	// Notified is called for every notification, in order.
	Notified func(n *pgconn.Notification)
	// Log says why listening stopped.
	Log *slog.Logger
	// Retry is the wait between connection attempts; 0 means a second.
	Retry time.Duration
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	retry := l.Retry
	if retry == 0 {
		retry = time.Second
	}
	for ctx.Err() == nil {
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if l.Disconnected != nil {
			l.Disconnected()
		}
		l.Log.WarnContext(ctx, "listening for notifications failed; reconnecting", "channels", l.Channels, "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

func (l *Listener) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, l.Config)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, channel := range l.Channels {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", channel, err)
		}
	}
	if l.Connected != nil {
		l.Connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait: %w", err)
		}
		if l.Notified != nil {
			l.Notified(n)
		}
	}
}
