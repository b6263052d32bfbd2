package sso

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// RecordReplay and RecordEventTx are two of the sign-in's writes, for the
// per-step benchmarks (bench_test.go).
func RecordReplay(ctx context.Context, tx pgx.Tx, siteID int64, assertionID string, expiresAt time.Time) error {
	return recordReplay(ctx, tx, siteID, replayEntry{assertionID: assertionID, expiresAt: expiresAt})
}

func (s *Service) RecordEventTx(ctx context.Context, tx pgx.Tx, e Event) error {
	return s.recordEvent(ctx, tx, e)
}
