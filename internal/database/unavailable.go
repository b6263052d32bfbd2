package database

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err means PostgreSQL could not be used just
// now — unreachable, not answering in time, restarting, out of connections,
// or the connection lost mid-query — rather than that the request itself
// was wrong. Such a failure is worth retrying in a moment: pages answer 503
// with Retry-After instead of 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	// The request's deadline, and pgconn's own timeouts.
	if errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableCode(pgErr.Code)
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed)
}

// unavailableCode tells the SQLSTATEs of a server that cannot serve now
// (PostgreSQL Appendix A) from those of a statement that is wrong.
func unavailableCode(code string) bool {
	switch code {
	case "53300", // too_many_connections
		"57014", // query_canceled: statement_timeout
		"25P03", // idle_in_transaction_session_timeout
		"57P01", // admin_shutdown
		"57P02", // crash_shutdown
		"57P03": // cannot_connect_now: starting up or shutting down
		return true
	}
	return strings.HasPrefix(code, "08") // connection_exception
}
