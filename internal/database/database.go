// Package database opens the PostgreSQL pool and applies the embedded
// migrations. Domain packages own their tables and queries; this package only
// knows how to reach the server, how long to wait for it, when an error means
// it cannot be used just now, and how to bring the schema up to date.
package database

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
)

// What every pool connection gets unless DATABASE_URL says otherwise
// (connect_timeout=…, statement_timeout=…, idle_in_transaction_session_timeout=…
// in the URL win). A database that accepts connections but stops answering
// must not hold a request, a connection or a row lock for the whole outage.
const (
	// DefaultConnectTimeout bounds dialling and the start-up handshake.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultStatementTimeout is enforced by the server: a statement still
	// running after it is cancelled there, even when the client that sent
	// it (a request past its deadline) has gone.
	DefaultStatementTimeout = "10s"
	// DefaultIdleInTransactionTimeout ends a session that holds a
	// transaction open without sending anything, so its locks are released.
	DefaultIdleInTransactionTimeout = "15s"
)

// PoolConfig parses url and applies the defaults above to every setting the
// URL leaves out. The pool's size is pgxpool's (the larger of 4 and the
// number of CPUs) unless the URL sets pool_max_conns.
func PoolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	conn := cfg.ConnConfig
	// PostgreSQL refuses such a name only once connected, with an error
	// that names no setting; `migrate up` would try to create it.
	if !utf8.ValidString(conn.Database) || strings.ContainsRune(conn.Database, 0) {
		return nil, fmt.Errorf("parse database URL: the database name %q is not valid UTF-8 text", conn.Database)
	}
	if conn.ConnectTimeout == 0 {
		conn.ConnectTimeout = DefaultConnectTimeout
	}
	// Runtime parameters are sent in the start-up message, so they hold from
	// the connection's first statement, with no round trip of their own.
	for name, value := range map[string]string{
		"statement_timeout":                   DefaultStatementTimeout,
		"idle_in_transaction_session_timeout": DefaultIdleInTransactionTimeout,
	} {
		if _, set := conn.RuntimeParams[name]; !set {
			conn.RuntimeParams[name] = value
		}
	}
	return cfg, nil
}

// Open connects to url and pings the server. It returns at once on failure;
// OpenWithRetry is for the server's start-up.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := PoolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach database %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// Backoff is the wait between attempts at something that failed because the
// database was not there: doubling from Initial up to Max, each wait drawn
// at random between half and all of it, so processes started together do
// not retry in step.
type Backoff struct {
	Initial, Max time.Duration
	next         time.Duration
}

// NewBackoff is the start-up backoff: from 250 ms, capped at 3 seconds, so a
// portal is ready within a few seconds of PostgreSQL coming back.
func NewBackoff() *Backoff { return &Backoff{Initial: 250 * time.Millisecond, Max: 3 * time.Second} }

// Next is the next wait.
func (b *Backoff) Next() time.Duration {
	if b.next == 0 {
		b.next = b.Initial
	}
	d := b.next
	b.next = min(b.next*2, b.Max)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for the next wait or for ctx to end, and reports whether to go
// on.
func (b *Backoff) Sleep(ctx context.Context) bool {
	t := time.NewTimer(b.Next())
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// OpenWithRetry keeps trying to open the database (NewBackoff) until it
// succeeds or ctx ends, logging every failure and telling waiting, when not
// nil, why it is still waiting: a portal started before PostgreSQL should
// wait for it, not crash-loop.
func OpenWithRetry(ctx context.Context, url string, log *slog.Logger, waiting func(error)) (*pgxpool.Pool, error) {
	if _, err := PoolConfig(url); err != nil {
		return nil, err
	}
	backoff := NewBackoff()
	for {
		pool, err := Open(ctx, url)
		if err == nil {
			return pool, nil
		}
		log.Warn("database not reachable yet, retrying", "error", err.Error())
		if waiting != nil {
			waiting(err)
		}
		if !backoff.Sleep(ctx) {
			return nil, fmt.Errorf("gave up waiting for the database: %w", err)
		}
	}
}
