// Package housekeeping deletes what has expired — sessions, pending
// AuthnRequests, replay-cache entries — and does the other periodic work
// (the daily IdP metadata refresh) on a timer, in bounded batches, and
// safely when several portal processes run it at once.
package housekeeping

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Job does at most limit items of work — by default, deleting expired rows
// — and reports how many it did.
type Job struct {
	Name string
	Run  func(ctx context.Context, limit int) (int64, error)
	// Did is what the log says when Run did something, with the count
	// under Unit: "" means "housekeeping deleted expired rows" and "rows".
	// A job that is not a deletion says what it is, so that the log never
	// calls a certificate change a deletion.
	Did, Unit string
}

// logDone writes the line for a job that did total items of work.
func (j Job) logDone(ctx context.Context, log *slog.Logger, total int64) {
	did, unit := j.Did, j.Unit
	if did == "" {
		did = "housekeeping deleted expired rows"
	}
	if unit == "" {
		unit = "rows"
	}
	log.InfoContext(ctx, did, "job", j.Name, unit, total)
}

// lockKey is the PostgreSQL advisory lock that lets one process at a time
// do a round; the others skip it (they would only contend on the same rows).
const lockKey = 0x706f7274616c // "portal"

// Runner runs jobs every Interval, BatchSize rows per job per round.
type Runner struct {
	Pool *pgxpool.Pool
	// Lock is where the round's lock is taken: straight to PostgreSQL;
	// nil means the pool's server.
	Lock      *pgx.ConnConfig
	Jobs      []Job
	Interval  time.Duration
	BatchSize int
	// Budget bounds how long one job keeps going while its batches come
	// back full; 0 means 30 seconds.
	Budget time.Duration
	Log    *slog.Logger
}

// Run loops until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	ticker := time.NewTicker(r.Interval)
	defer ticker.Stop()
	for {
		if _, err := r.Round(ctx); err != nil && ctx.Err() == nil {
			r.Log.WarnContext(ctx, "housekeeping round failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Round runs every job once if no other process holds the lock, and reports
// whether it ran.
func (r *Runner) Round(ctx context.Context) (bool, error) {
	// The lock is a session's: it is taken on a connection of its own,
	// straight to PostgreSQL (a transaction-pooling proxy would hand the
	// session to someone else between statements).
	config := r.Lock
	if config == nil {
		config = r.Pool.Config().ConnConfig
	}
	conn, err := pgx.ConnectConfig(ctx, config.Copy())
	if err != nil {
		return false, fmt.Errorf("housekeeping: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var locked bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey).Scan(&locked); err != nil {
		return false, fmt.Errorf("housekeeping lock: %w", err)
	}
	if !locked {
		return false, nil
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck
	for _, job := range r.Jobs {
		var total int64
		// A full batch means there may be more: keep going, within a time
		// budget, so a backlog (a flood of abandoned sign-ins) drains in
		// minutes rather than growing by a batch every interval.
		deadline := time.Now().Add(r.budget())
		for {
			n, err := job.Run(ctx, r.BatchSize)
			if err != nil {
				return true, fmt.Errorf("housekeeping %s: %w", job.Name, err)
			}
			total += n
			if n < int64(r.BatchSize) || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
		}
		if total > 0 {
			job.logDone(ctx, r.Log, total)
		}
	}
	return true, nil
}

// budget is how long one job may keep deleting full batches in a round.
func (r *Runner) budget() time.Duration {
	if r.Budget > 0 {
		return r.Budget
	}
	return 30 * time.Second
}
