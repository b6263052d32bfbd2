// Package database opens the PostgreSQL pool and applies the embedded
// migrations. Domain packages own their tables and queries; this package only
// knows how to reach the server and bring the schema up to date.
package database

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects to url and pings the server. It returns at once on failure;
// OpenWithRetry is for the server's start-up.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
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

// OpenWithRetry keeps trying to open the database with exponential backoff
// (capped at 30 seconds) until it succeeds or ctx ends, logging every failure:
// a portal started before PostgreSQL should wait for it, not crash-loop.
func OpenWithRetry(ctx context.Context, url string, log *slog.Logger) (*pgxpool.Pool, error) {
	if _, err := pgxpool.ParseConfig(url); err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	delay := 500 * time.Millisecond
	for {
		pool, err := Open(ctx, url)
		if err == nil {
			return pool, nil
		}
		log.Warn("database not reachable yet, retrying", "error", err.Error(), "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gave up waiting for the database: %w", err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}
